#!/usr/bin/env bash
# Builds the real packages with jsii-pacmak (the Python wheel and sdist, the Go module) and runs the
# consumer app of each language against them: examples/python (a venv with the wheel and the pinned
# requirements.txt from PyPI) and examples/go (go.mod replaces our module with the built one; every
# other module comes from the Go module proxy, checked against the committed go.sum). Each app
# synthesizes into its own cdk.out with no AWS credentials; build-tools/consumer-templates.ts then
# checks every template with the same assertions and prints `consumers: python ok (N resources), go ok (N)`.
#
# Java is not built here: jsii-pacmak's pom asks Maven for aws-cdk-lib in the range [2.269.0,3.0.0),
# and the index Maven Central serves to this project's machines (maven-metadata.xml) lists releases up
# to 2.263.0 only, so the range cannot be resolved. .NET has no SDK here. Both stay code-only
# (build-tools/check-bindings.sh).
#
#   bash build-tools/consumers.sh [language...]   (default: python go; needs the compiled .jsii)
# Caches: pip's, the Go module and build caches in their default user locations; nothing else is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
languages=("$@")
(($#)) || languages=(python go)

[[ -f .jsii ]] || { echo 'consumers: no .jsii: compile first (npx projen compile)'; exit 1; }

# lap NAME: seconds since the previous lap, into the variable NAME.
lap() { printf -v "$1" '%s s' $((SECONDS - timer)); timer=$SECONDS; }

# build LANGUAGE: packages, installs and synthesizes one language's app (stops at its first failure).
build() {
  local language=$1 app="$root/examples/$1" package install synth bin
  case $language in
    python)
      timer=$SECONDS
      npx jsii-pacmak --target python >/dev/null
      lap package
      rm -rf "$app/.venv"
      python3 -m venv "$app/.venv"
      "$app/.venv/bin/pip" install --quiet --no-input -r "$app/requirements.txt" "$root"/dist/python/cdk_ec2_reset_access-*.whl
      lap install
      (cd "$app" && .venv/bin/python app.py)
      lap synth
      ;;
    go)
      timer=$SECONDS
      npx jsii-pacmak --target go >/dev/null
      lap package
      (cd "$app" && go mod download)
      lap install
      bin=$(mktemp -d)/consumer
      (cd "$app" && go build -o "$bin" . && "$bin")
      rm -rf "$(dirname "$bin")"
      lap synth
      ;;
    *) echo "consumers: no consumer app for '$language'"; return 2 ;;
  esac
  echo "$language: package $package, dependencies $install, build and synth $synth"
}

# Every language is tried even when one fails, so that one run shows which consumers a change breaks.
for language in "${languages[@]}"; do
  rm -rf "$root/examples/$language/cdk.out"
  # In the background, so that `set -e` holds inside (bash ignores it in the left side of `||`).
  build "$language" &
  wait $! || echo "$language: FAILED (exit status $?), see above"
done

npx ts-node --transpile-only -P build-tools/tsconfig.json build-tools/consumer-templates.ts "${languages[@]}"
