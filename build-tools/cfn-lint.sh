#!/usr/bin/env bash
# Runs cfn-lint, AWS's CloudFormation linter, over the sample stack's template (cdk.out, from
# `npx cdk synth`) and the integration test's templates (test/reset-access.integ.snapshot), for
# every Region cfn-lint knows (it checks that each resource type and property exists there).
# Fails on any error, and on any warning not listed in ALLOWED below with the reason it stays.
# Prints `cfn-lint: 0 errors, N warnings (RULE×N ...)`.
#
# cfn-lint comes from PyPI at the versions pinned in build-tools/requirements-cfn-lint.txt, in a venv
# under .tmp/ (rebuilt whenever that file changes). It lints offline; where this machine lets us
# create a network namespace (unshare -n, as root), it runs with no network at all to prove it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Warnings that stay, by rule, each with its reason.
declare -A ALLOWED=(
  # CDK makes every Lambda function (and state machine) DependsOn its role and the role's default
  # policy. The role is also read with Fn::GetAtt, so that half of the DependsOn is redundant: it
  # orders nothing CloudFormation would not order anyway. It is aws-cdk-lib's output, not ours.
  [W3005]='redundant DependsOn on a role that CDK also references with GetAtt'
)

templates=(cdk.out/Ec2ResetAccessSample.template.json test/reset-access.integ.snapshot/*.template.json)
for template in "${templates[@]}"; do
  [[ -f $template ]] || { echo "cfn-lint: $template is missing (run npx cdk synth first)"; exit 1; }
done

venv=.tmp/cfn-lint
requirements=build-tools/requirements-cfn-lint.txt
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-input -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi

offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); fi

status=0
output=$("${offline[@]}" "$venv/bin/cfn-lint" --format parseable --regions ALL_REGIONS -- "${templates[@]}") || status=$?
# Exit status bits: 2 errors, 4 warnings, 8 informational; anything else is cfn-lint failing to run.
if ((status & ~14)); then
  echo "$output"
  echo "cfn-lint: failed to run (exit status $status)"
  exit 1
fi

declare -A counts=()
errors=0 warnings=0 unexplained=()
while IFS= read -r line; do
  [[ -z $line ]] && continue
  rule=$(cut -d: -f6 <<<"$line")
  counts[$rule]=$((${counts[$rule]:-0} + 1))
  case $rule in
    E*) errors=$((errors + 1)); echo "$line" ;;
    W*) warnings=$((warnings + 1)); [[ -n ${ALLOWED[$rule]:-} ]] || { unexplained+=("$rule"); echo "$line"; } ;;
  esac
done <<<"$output"

breakdown=$(for rule in $(printf '%s\n' "${!counts[@]}" | sort); do
  printf '%s×%s%s; ' "$rule" "${counts[$rule]}" "${ALLOWED[$rule]:+: ${ALLOWED[$rule]}}"
done | sed 's/; $//')
echo "cfn-lint: $errors errors, $warnings warnings${breakdown:+ ($breakdown)}${offline:+, run with no network}"
if ((errors)) || ((${#unexplained[@]})); then
  ((${#unexplained[@]})) && echo "Fix these warnings, or list the rule in ALLOWED in $0 with the reason it stays."
  exit 1
fi
