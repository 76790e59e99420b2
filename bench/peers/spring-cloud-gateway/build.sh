#!/usr/bin/env bash
# Builds the Spring Cloud Gateway peer's fat jar into this directory's target/ and prints its
# path. Skips the build when the jar is newer than pom.xml and every source file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
jar="$here/target/spring-cloud-gateway-peer.jar"
if [ -f "$jar" ] && [ -z "$(find "$here/pom.xml" "$here/src" -newer "$jar" -print -quit)" ]; then
  echo "$jar"; exit 0
fi
. "$root/bin/java-env"
# -f: a project of its own, so the main build's reactor and settings stay out of it.
mvn -B -ntp -q -f "$here/pom.xml" package -DskipTests >&2
echo "$jar"
