#!/usr/bin/env bash
# Redis proxy benchmark: redis-benchmark (SET and GET, 50 clients) against Redis directly,
# twemproxy (nutcracker) and Archway's Redis stream route, with pipelines of 1 and 16, all in one
# run; then Archway with a fault rule on an unused command and a syslog logger enabled. The whole
# sequence runs `rounds` times (interleaved, so a slow spell of the machine hits every target) and
# the table reports each figure's median.
# Usage: bench/run redis [requests] [rounds]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
requests="${1:-200000}"
rounds="${2:-3}"
. "$root/bench/lib.sh"
need redis redis-server redis-benchmark nutcracker

redis=$(free_port)
redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" > "$work/redis.log" 2>&1 & pids+=($!)
wait_port "$redis"

twem=$(free_port)
cat > "$work/nutcracker.yml" <<CONF
bench:
  listen: 127.0.0.1:$twem
  redis: true
  hash: fnv1a_64
  distribution: ketama
  server_connections: 1
  servers:
    - 127.0.0.1:$redis:1
CONF
nutcracker -c "$work/nutcracker.yml" -o "$work/nutcracker.log" -s "$(free_port)" & pids+=($!)
wait_port "$twem"

archway_pid=""
start_archway() { # name workers port extra-protocol-yaml
  local f="$work/archway-$1.yaml"
  {
    echo "stream_routes:"
    echo "  - id: redis"
    echo "    server_port: $3"
    echo "    upstream: {nodes: {\"127.0.0.1:$redis\": 1}}"
    echo "    protocol:"
    echo "      name: redis"
    printf '%s\n' "$4"
    echo "#END"
  } > "$f"
  java -Xms128m -Xmx128m -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS -jar "$root/dataplane/target/archway-dataplane.jar" \
    --standalone "$f" --bind 127.0.0.1 --http-port "$(free_port)" --https-port 0 --status-port "$(free_port)" \
    --stream-port "$3" --workers "$2" --access-log off --admin-port off > "$work/archway-$1.log" 2>&1 & archway_pid=$!; pids+=($!)
  wait_port "$3"
}
results="$work/results.txt"
failures="$work/failures.txt"
touch "$failures"
measure() { # name port; a run that fails (a connection reset, say) is reported and left out
  for p in 1 16; do
    redis-benchmark -h 127.0.0.1 -p "$2" -t set,get -c 50 -n 50000 -P "$p" -q > /dev/null 2>&1 || true   # warm-up
    if redis-benchmark -h 127.0.0.1 -p "$2" -t set,get -c 50 -n "$requests" -P "$p" --csv > "$work/run.csv" 2> "$work/run.err"; then
      awk -F'","' -v name="$1" -v p="$p" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print name, p, $1, $2 }' "$work/run.csv" >> "$results"
    else
      echo "$1, pipeline $p, round $round: $(grep -v 'Could not fetch' "$work/run.err" | tail -1)" >> "$failures"
    fi
  done
}
syslog_port=$(free_port)
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  measure direct "$redis"
  measure twemproxy "$twem"
  for w in 1 2; do
    port=$(free_port); start_archway "plain-$w" "$w" "$port" "      conf: {}"
    measure "archway/$w" "$port"
    kill "$archway_pid"; wait "$archway_pid" 2>/dev/null || true
  done
  port=$(free_port)
  start_archway faults-logger 1 "$port" "      conf:
        faults: [{commands: [flushall], delay: 1}]
      logger:
        - name: syslog
          filter: [[\"rpc_time\", \">=\", 1]]
          conf: {host: 127.0.0.1, port: $syslog_port, sock_type: udp}"
  measure "archway-faults-logger/1" "$port"
  kill "$archway_pid"; wait "$archway_pid" 2>/dev/null || true
done

python3 - "$results" "$failures" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, p, test, rps = line.split()
    runs.setdefault((name, int(p), test), []).append(float(rps))
rows = {k: statistics.median(v) for k, v in runs.items()}
names = []
for (n, _, _) in rows:
    if n not in names:
        names.append(n)
print(f"Medians of {max(len(v) for v in runs.values())} rounds.")
print()
print("| target | pipeline | SET rps | GET rps | SET vs direct | GET vs direct |")
print("|---|---:|---:|---:|---:|---:|")
for p in (1, 16):
    for n in names:
        s, g = rows.get((n, p, "SET")), rows.get((n, p, "GET"))
        ds, dg = rows[("direct", p, "SET")], rows[("direct", p, "GET")]
        if None in (s, g, ds, dg):
            print(f"| {n} | {p} | — | — | — | — |")
            continue
        print(f"| {n} | {p} | {s:.0f} | {g:.0f} | {s/ds:.2f} | {g/dg:.2f} |")
failed = [l.strip() for l in open(sys.argv[2]) if l.strip()]
if failed:
    print()
    print("Runs that failed and are left out:")
    for l in failed:
        print(f"- {l}")
PY
