#!/usr/bin/env bash
# Builds the real packages with jsii-pacmak (the Python wheel and sdist, the Java jar, the Go module)
# and runs the consumer app of each language against them: examples/python (a venv with the wheel and
# the pinned requirements.txt from PyPI), examples/java (a Maven project: our jar installed into the
# local Maven repository, every other artifact from Maven Central at the versions its pom.xml pins) and
# examples/go (go.mod replaces our module with the built one; every other module comes from the Go
# module proxy, checked against the committed go.sum). Each app synthesizes into its own cdk.out with
# no AWS credentials; build-tools/consumer-templates.ts then checks every template with the same
# assertions and prints `consumers: python ok (N resources), java ok (N), go ok (N)`.
#
# .NET is not built here: no .NET SDK on this project's machines; it stays code-only
# (build-tools/check-bindings.sh).
#
#   bash build-tools/consumers.sh [language...]   (default: python java go; needs the compiled .jsii
#                                                  and the Lambda bundles in assets/)
# jsii-pacmak runs with --no-npmignore, as projen's package tasks do: package.json's files allowlist
# decides what npm packs, and no .npmignore is left behind.
# Caches: pip's, the Go module and build caches and the Maven local repository (~/.m2/repository, or
# $CONSUMERS_MAVEN_REPO) in their default user locations; each only saves downloads: every install
# step below runs on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
languages=("$@")
(($#)) || languages=(python java go)
maven_repo=${CONSUMERS_MAVEN_REPO:-$HOME/.m2/repository}

[[ -f .jsii ]] || { echo 'consumers: no .jsii: compile first (npx projen compile)'; exit 1; }
# A package made without them would fail only when an app synthesizes, naming a missing asset.
[[ -d assets ]] || { echo 'consumers: no assets/: bundle the Lambda handlers first (npx projen bundle)'; exit 1; }

# lap NAME: adds the seconds since the previous lap to the variable NAME.
lap() { printf -v "$1" '%s' $((${!1} + SECONDS - timer)); timer=$SECONDS; }

# mvn with the local repository every Maven step here shares, quiet, never asking anything.
maven() { mvn --batch-mode --quiet "-Dmaven.repo.local=$maven_repo" "$@"; }

# index_aws_cdk_lib VERSION: puts aws-cdk-lib VERSION into the local repository's index of
# aws-cdk-lib releases (maven-metadata-local.xml).
#
# A workaround for the stale index of the Maven Central mirror this project's machines reach. The pom
# jsii-pacmak writes asks for aws-cdk-lib in a range ([2.269.0,3.0.0), from the library's peer
# dependency), and Maven resolves a range from the index of releases (maven-metadata.xml), which that
# mirror lists up to 2.263.0 only, although it serves some later releases as files (2.271.0 and
# 2.272.0; 2.269.0 and 2.270.0 are missing): the range finds nothing and the build stops. Fetched by
# exact coordinates (which need no index) and installed into the local repository, the version the
# Java app pins is listed in the local index, which Maven merges with the remote one, and the range
# resolves to it. Against a complete Maven Central this is harmless: the release is one the app needs
# anyway, and the range still resolves to the newest release Central lists.
index_aws_cdk_lib() {
  local version=$1 staged
  # The release and its dependencies (transitively), from Maven Central.
  maven org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get "-Dartifact=software.amazon.awscdk:aws-cdk-lib:$version"
  # install-file refuses a file that is already in the local repository: install a copy.
  staged=$(mktemp -d)
  cp "$maven_repo/software/amazon/awscdk/aws-cdk-lib/$version/aws-cdk-lib-$version".{jar,pom} "$staged/"
  maven org.apache.maven.plugins:maven-install-plugin:3.1.4:install-file \
    "-Dfile=$staged/aws-cdk-lib-$version.jar" "-DpomFile=$staged/aws-cdk-lib-$version.pom"
  rm -rf "$staged"
}

# build LANGUAGE: packages, installs and synthesizes one language's app (stops at its first failure).
build() {
  local language=$1 app="$root/examples/$1" package=0 install=0 synth=0 bin jar
  case $language in
    python)
      timer=$SECONDS
      npx jsii-pacmak --target python --no-npmignore >/dev/null
      lap package
      rm -rf "$app/.venv"
      python3 -m venv "$app/.venv"
      "$app/.venv/bin/pip" install --quiet --no-input -r "$app/requirements.txt" "$root"/dist/python/cdk_ec2_reset_access-*.whl
      lap install
      (cd "$app" && .venv/bin/python app.py)
      lap synth
      ;;
    java)
      timer=$SECONDS
      index_aws_cdk_lib "$(sed -n 's:.*<cdk.version>\(.*\)</cdk.version>.*:\1:p' "$app/pom.xml")"
      lap install
      # The shared local repository, not pacmak's default (a new empty one per build, which downloads
      # aws-cdk-lib and every Maven plugin again each time and lacks the index above). Its Maven build
      # ends with `deploy` to dist/java, which installs the jar into that repository first: that is
      # where a Maven user's dependencies come from, and our jar is not published yet.
      npx jsii-pacmak --target java --no-npmignore --maven-local-repository "$maven_repo" >/dev/null
      lap package
      jar=$(find "$root/dist/java" -name 'cdk-ec2-reset-access-*.jar' -not -name '*-sources.jar' -not -name '*-javadoc.jar')
      cmp "$jar" "$maven_repo/${jar#"$root/dist/java/"}" || { echo "java: the local Maven repository does not hold the jar in dist/java"; return 1; }
      rm -rf "$app/target"
      (cd "$app" && maven compile exec:java)
      lap synth
      ;;
    go)
      timer=$SECONDS
      npx jsii-pacmak --target go --no-npmignore >/dev/null
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
  echo "$language: package $package s, dependencies $install s, build and synth $synth s"
}

# Every language is tried even when one fails, so that one run shows which consumers a change breaks.
for language in "${languages[@]}"; do
  rm -rf "$root/examples/$language/cdk.out"
  # In the background, so that `set -e` holds inside (bash ignores it in the left side of `||`).
  build "$language" &
  wait $! || echo "$language: FAILED (exit status $?), see above"
done

npx ts-node --transpile-only -P build-tools/tsconfig.json build-tools/consumer-templates.ts "${languages[@]}"
