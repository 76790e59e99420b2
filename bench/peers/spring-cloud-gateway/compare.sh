#!/usr/bin/env bash
# Spring Cloud Gateway against Archway and nginx: the same nginx upstream, wrk -t1 -cN, one worker
# each, wrk and the upstream on CPU 0 and the proxy on CPU 1, every proxy warmed up first (not
# counted), then ROUNDS rounds in which the proxies take turns in a rotating order.
# Usage: compare.sh [seconds] [rounds] [connections] [warm-up seconds]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
secs="${1:-10}" rounds="${2:-3}" conns="${3:-50}" warm="${4:-20}"
. "$root/bench/lib.sh"
. "$root/bin/java-env"
need scg wrk nginx taskset
jar="$("$here/build.sh")"
dataplane="${ARCHWAY_JAR:-$root/dataplane/target/archway-dataplane.jar}"
[ -f "$dataplane" ] || { echo "$dataplane is missing: mvn -pl dataplane -am package -DskipTests" >&2; exit 2; }

start_upstream
for p in "${pids[-1]}" $(pgrep -P "${pids[-1]}"); do taskset -pc 0 "$p" > /dev/null; done

declare -A port
port[nginx]=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream up { server 127.0.0.1:$up; keepalive 320; }
  server { listen 127.0.0.1:${port[nginx]};
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
CONF
taskset -c 1 nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=($!)

port[archway]=$(free_port)
printf 'routes:\n  - {id: main, uri: /*, upstream_id: up}\nupstreams:\n  - {id: up, nodes: {"127.0.0.1:%s": 1}}\n#END\n' "$up" > "$work/archway.yaml"
# shellcheck disable=SC2086 # ARCHWAY_JAVA_OPTS holds separate options
taskset -c 1 java -Xms128m -Xmx128m -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS -jar "$dataplane" \
  --standalone "$work/archway.yaml" --bind 127.0.0.1 --http-port "${port[archway]}" --https-port 0 \
  --status-port "$(free_port)" --workers 1 --access-log off > "$work/archway.log" 2>&1 & pids+=($!)

port[scg]=$(free_port)
taskset -c 1 "$here/start.sh" "${port[scg]}" "$up" 1 > "$work/scg.log" 2>&1 & pids+=($!)

for p in nginx archway scg; do wait_port "${port[$p]}"; done
run_wrk() { # peer seconds
  taskset -c 0 wrk -t1 -c"$conns" -d"$2s" -s "$root/bench/http/percentiles.lua" "http://127.0.0.1:${port[$1]}/bench" | grep '^RESULT' || true
}
for p in nginx archway scg; do run_wrk "$p" "$warm" > /dev/null; done   # warm-up, not counted
peers=(nginx archway scg)
results="$work/results.txt"
for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < 3; i++)); do
    p=${peers[$(((i + r) % 3))]}
    echo "$r $p $(run_wrk "$p" "$secs")" | tee -a "$results" >&2
  done
done
python3 - "$results" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, peer, rest = line.split(" ", 2)
    rows.setdefault(peer, {})[int(r)] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest)}
print("| proxy (1 worker) | RPS median | RPS / nginx (median, min-max over rounds) | p50 ms | p99 ms | p99.9 ms | errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
for peer in ("nginx", "archway", "scg"):
    rs = rows[peer]
    ratios = [rs[r]["rps"] / rows["nginx"][r]["rps"] for r in rs]
    med = lambda k: statistics.median(x[k] for x in rs.values())
    print(f"| {peer} | {med('rps'):.0f} | {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | "
          f"{med('p50')/1000:.2f} | {med('p99')/1000:.2f} | {med('p999')/1000:.2f} | {sum(x['errors'] for x in rs.values()):.0f} |")
PY
