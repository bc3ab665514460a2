#!/usr/bin/env bash
# Generates the Python, Java, .NET and Go bindings (jsii-pacmak --code-only, offline) and checks
# that every public construct is in each: a construct jsii cannot express in a language, or a
# binding that silently drops one, fails here. Needs the compiled assembly (.jsii).
#   bash build-tools/check-bindings.sh [output dir]   (a temporary directory by default)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
constructs=(ResetAccess RescueVpc ResetWorkflow PasswordRetention RescuePasswordPolicy SessionManagerEncryption)

npx jsii-pacmak --code-only --target python --target java --target dotnet --target go -o "$out"

failed=0
for language in python java dotnet go; do
  case $language in
    python) files=("$out/python/src/cdk_ec2_reset_access/__init__.py"); pattern='^class %s\(' ;;
    java)   files=("$out"/java/src/main/java/io/github/ec2resetaccess/cdk/*.java); pattern='public class %s ' ;;
    dotnet) files=($(find "$out/dotnet" -name '*.cs')); pattern='public class %s ' ;;
    go)     files=($(find "$out/go" -name '*.go')); pattern='func New%s\(' ;;
  esac
  missing=()
  for construct in "${constructs[@]}"; do
    # shellcheck disable=SC2059
    grep -Eq "$(printf "$pattern" "$construct")" "${files[@]}" || missing+=("$construct")
  done
  if ((${#missing[@]})); then
    echo "$language: MISSING ${missing[*]}"; failed=1
  else
    echo "$language: ${constructs[*]}"
  fi
done
[[ -z ${1:-} ]] && rm -rf "$out"
exit $failed
