#!/usr/bin/env bash
# The Redis proxy on io_uring against epoll, one jar: redis-benchmark (SET and GET, 50 clients)
# through two standalone dataplanes, one per transport (1 worker each), alternating the order each
# round after a warm-up of each; redis-server and redis-benchmark on CPU 0, the dataplanes on CPU 1.
# The harness's redis scenario takes no variants, hence this script.
#
# usage: bench/redis-transport.sh [rounds=3] [requests=100000] [pipelines="1 16"] [jar]
set -euo pipefail
cd "$(dirname "$0")/.."
. bin/java-env
rounds=${1:-3}
requests=${2:-100000}
pipelines=${3:-"1 16"}
jar=${4:-dataplane/target/archway-dataplane.jar}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

redis_port=$(free_port)
taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  > "$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$redis_port"

declare -A port
for t in io_uring epoll; do
  port[$t]=$(free_port)
  printf 'stream_routes:\n  - id: redis\n    server_port: %s\n    upstream: {nodes: {"127.0.0.1:%s": 1}}\n    protocol: {name: redis}\n#END\n' \
    "${port[$t]}" "$redis_port" > "$work/$t.yaml"
  taskset -c 1 java -Xms256m -Xmx256m -XX:+UseParallelGC -XX:+AlwaysPreTouch -Darchway.transport="$t" \
    -jar "$jar" --standalone "$work/$t.yaml" --bind 127.0.0.1 --workers 1 --access-log off --admin-port off \
    --http-port "$(free_port)" --https-port 0 --status-port "$(free_port)" --stream-port "${port[$t]}" \
    > "$work/$t.log" 2>&1 &
  pids+=($!)
  wait_port "${port[$t]}"
  grep -m1 -o 'transport: [a-z_]* ([a-z]*)' "$work/$t.log" || true
done

# SET and GET requests per second, space-separated.
bench() {
  taskset -c 0 redis-benchmark -h 127.0.0.1 -p "$1" -t set,get -c 50 -n "$2" -P "$3" --csv |
    awk -F'","' 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); r[$1] = $2 } END { print r["SET"], r["GET"] }'
}

echo "uptime: $(uptime)"
for p in $pipelines; do
  for t in io_uring epoll; do bench "${port[$t]}" $((requests / 4)) "$p" > /dev/null; done
  : > "$work/rows-$p"
  for r in $(seq 1 "$rounds"); do
    order="io_uring epoll"
    if ((r % 2 == 0)); then order="epoll io_uring"; fi
    for t in $order; do
      read -r set get < <(bench "${port[$t]}" "$requests" "$p")
      echo "-P $p round $r $t SET $set GET $get"
      echo "$r $t $set $get" >> "$work/rows-$p"
    done
  done
  python3 - "$work/rows-$p" "$p" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {t: {int(r): (float(s), float(g)) for r, tt, s, g in rows if tt == t} for t in ("io_uring", "epoll")}
for i, op in enumerate(("SET", "GET")):
    ratios = [by["io_uring"][r][i] / by["epoll"][r][i] for r in by["epoll"]]
    med = {t: statistics.median(v[i] for v in by[t].values()) for t in by}
    print(f"-P {sys.argv[2]} {op}: io_uring {med['io_uring']:.0f}, epoll {med['epoll']:.0f} req/s (medians); "
          f"io_uring/epoll per round {', '.join(f'{x:.2f}' for x in ratios)}, median {statistics.median(ratios):.2f}")
EOF
done
echo "uptime: $(uptime)"
