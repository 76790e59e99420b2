#!/usr/bin/env bash
# Before/after benchmark of two dataplane builds in one run: the current build (after) against a
# jar given on the command line (before, e.g. built from an earlier commit), each on 1 worker with
# the same config: HTTP through wrk (keep-alive, small GET and a 4 KiB POST) and Redis through
# redis-benchmark (SET and GET, pipelines 1 and 16). The two run side by side and are measured in
# turn, `rounds` times, so a slow spell of the machine hits both; the table gives each figure's
# median and the after/before ratio, for the rate and for the dataplane's CPU time per request.
# Usage: bench/run ab BEFORE_JAR [seconds] [rounds]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
before="${1:?usage: bench/run ab BEFORE_JAR [seconds] [rounds]}"
secs="${2:-10}"
rounds="${3:-3}"
after="$root/dataplane/target/archway-dataplane.jar"
. "$root/bench/lib.sh"
need ab wrk nginx redis-server redis-benchmark
test -f "$before" || { echo "bench ab: $before is not a file" >&2; exit 2; }

start_upstream
redis=$(free_port)
redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" > "$work/redis.log" 2>&1 & pids+=($!)
wait_port "$redis"

start() { # name jar -> sets http_$name and redis_$name ports
  local http stream f="$work/$1.yaml"
  http=$(free_port); stream=$(free_port)
  cat > "$f" <<CONF
routes:
  - {id: main, uri: /*, upstream_id: up}
upstreams:
  - {id: up, nodes: {"127.0.0.1:$up": 1}}
stream_routes:
  - id: redis
    server_port: $stream
    upstream: {nodes: {"127.0.0.1:$redis": 1}}
    protocol: {name: redis, conf: {}}
#END
CONF
  java -Xms128m -Xmx128m -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS -jar "$2" \
    --standalone "$f" --bind 127.0.0.1 --http-port "$http" --https-port 0 --status-port "$(free_port)" --admin-port off \
    --stream-port "$stream" --workers 1 --access-log off > "$work/$1.log" 2>&1 & pids+=($!)
  printf -v "pid_$1" %s "$!"
  wait_port "$http"; wait_port "$stream"
  printf -v "http_$1" %s "$http"; printf -v "redis_$1" %s "$stream"
}
hz=$(getconf CLK_TCK)
ticks() { # name -> CPU ticks (user + system) the dataplane process has used so far
  local pid="pid_$1"; awk '{ print $14 + $15 }' "/proc/${!pid}/stat"
}
start before "$before"
start after "$after"

post="$work/post.lua"
cat > "$post" <<'LUA'
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
LUA
results="$work/results.txt"
# Each line of results: name test requests-per-second dataplane-CPU-microseconds-per-request.
# The CPU figure is what the dataplane itself spent; on a machine whose cores the load generator
# and the upstream share, it is far steadier than the rate.
http() { # name port test [script]
  local args=(-t1 -c50 -d"${secs}s") t0 out
  [ -n "${4:-}" ] && args+=(-s "$4")
  t0=$(ticks "$1")
  out=$(wrk "${args[@]}" "http://127.0.0.1:$2/bench")
  awk -v n="$1" -v t="$3" -v d="$(( $(ticks "$1") - t0 ))" -v hz="$hz" '
    / requests in / { reqs = $1 } /Requests\/sec/ { rps = $2 }
    END { print n, t, rps, d * 1e6 / hz / reqs }' <<< "$out" >> "$results"
}
redis_run() { # name port
  local n t0 rps
  for p in 1 16; do
    n=$((p == 1 ? 200000 : 1000000)) # long enough for the CPU clock's 10 ms ticks
    for t in set get; do
      t0=$(ticks "$1")
      rps=$(redis-benchmark -h 127.0.0.1 -p "$2" -t "$t" -c 50 -n "$n" -P "$p" --csv 2>/dev/null |
        awk -F'","' 'NR > 1 { gsub(/"/, "", $2); print $2 }')
      echo "$1 redis-${t^^}-P$p $rps $(awk -v d="$(( $(ticks "$1") - t0 ))" -v hz="$hz" -v n="$n" 'BEGIN { print d * 1e6 / hz / n }')" >> "$results"
    done
  done
}
for n in before after; do   # warm-up: the JIT of both, on every path that is measured
  port="http_$n"; wrk -t1 -c50 -d5s "http://127.0.0.1:${!port}/bench" > /dev/null
  wrk -t1 -c50 -d3s -s "$post" "http://127.0.0.1:${!port}/bench" > /dev/null
  port="redis_$n"
  for p in 1 16; do
    redis-benchmark -h 127.0.0.1 -p "${!port}" -t set,get -c 50 -n 300000 -P "$p" -q > /dev/null
  done
done
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  order=(before after); [ $((round % 2)) -eq 0 ] && order=(after before)
  for n in "${order[@]}"; do h="http_$n"; http "$n" "${!h}" get; done
  for n in "${order[@]}"; do h="http_$n"; http "$n" "${!h}" post-4k "$post"; done
  for n in "${order[@]}"; do r="redis_$n"; redis_run "$n" "${!r}"; done
done
python3 - "$results" "$rounds" <<'PY'
import statistics, sys
runs, cpu = {}, {}
for line in open(sys.argv[1]):
    name, test, rps, us = line.split()
    runs.setdefault((test, name), []).append(float(rps))
    cpu.setdefault((test, name), []).append(float(us))
tests = []
for (t, _) in runs:
    if t not in tests:
        tests.append(t)
print(f"Medians of {sys.argv[2]} rounds, 1 worker each: requests per second, and the dataplane's")
print("CPU time per request (user + system, microseconds).")
print()
print("| test | rps before | rps after | rps after / before | CPU µs/req before | after | CPU after / before |")
print("|---|---:|---:|---:|---:|---:|---:|")
for t in tests:
    b, a = runs.get((t, "before")), runs.get((t, "after"))
    cb, ca = cpu.get((t, "before")), cpu.get((t, "after"))
    if not a or not b:
        print(f"| {t} | — | — | — | — | — | — |"); continue
    mb, ma = statistics.median(b), statistics.median(a)
    xb, xa = statistics.median(cb), statistics.median(ca)
    print(f"| {t} | {mb:.0f} | {ma:.0f} | {ma/mb:.3f} | {xb:.2f} | {xa:.2f} | {xa/xb:.3f} |")
PY
