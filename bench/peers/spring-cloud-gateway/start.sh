#!/usr/bin/env bash
# Starts the Spring Cloud Gateway peer in the foreground (exec: the PID is the JVM's, so a
# harness can run `start.sh ... & pid=$!` and stop it with `kill $pid`).
# Usage: start.sh PORT UPSTREAM_PORT WORKERS [extra JVM options...]
#   PORT           where it listens, on 127.0.0.1
#   UPSTREAM_PORT  the upstream on 127.0.0.1 that the one route /** goes to
#   WORKERS        Reactor Netty event loop threads (reactor.netty.ioWorkerCount), shared by the
#                  server and the upstream client (Spring Boot uses the global HttpResources)
#   SCG_HEAP       heap options (default -Xms128m -Xmx128m; the harness gives it Archway's)
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 PORT UPSTREAM_PORT WORKERS [extra JVM options...]" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
port="$1" upstream_port="$2" workers="$3"; shift 3
jar="$here/target/spring-cloud-gateway-peer.jar"
[ -f "$jar" ] || { echo "$jar is missing: run $here/build.sh first" >&2; exit 2; }
. "$root/bin/java-env"
# shellcheck disable=SC2086 # SCG_HEAP and ARCHWAY_JAVA_OPTS hold separate options
exec java ${SCG_HEAP:--Xms128m -Xmx128m} -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS \
  --enable-native-access=ALL-UNNAMED -Dreactor.netty.ioWorkerCount="$workers" "$@" \
  -jar "$jar" --server.address=127.0.0.1 --server.port="$port" --upstream="127.0.0.1:$upstream_port"
