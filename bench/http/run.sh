#!/usr/bin/env bash
# HTTP proxy benchmark: wrk against the upstream directly, nginx, haproxy and Archway, same
# upstream, same wrk threads and connections, at 1 and 2 workers; then Archway with 10,000 routes.
# Usage: bench/run http [seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-10}"
conns="${2:-50}"
. "$root/bench/lib.sh"
need http wrk nginx haproxy

start_upstream

start_nginx() { # workers port
  local d="$work/nginx-$1"; mkdir -p "$d"
  cat > "$d/nginx.conf" <<CONF
worker_processes $1; daemon off; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream up { server 127.0.0.1:$up; keepalive 320; }
  server { listen 127.0.0.1:$2;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
CONF
  nginx -c "$d/nginx.conf" -p "$d" & pids+=($!)
}
start_haproxy() { # workers port
  local d="$work/haproxy-$1"; mkdir -p "$d"
  cat > "$d/haproxy.cfg" <<CONF
global
  nbthread $1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option forwardfor
frontend f
  bind 127.0.0.1:$2
  default_backend b
backend b
  http-reuse always
  server s1 127.0.0.1:$up
CONF
  haproxy -f "$d/haproxy.cfg" & pids+=($!)
}
routes_file() { # count file
  {
    echo "routes:"
    for ((i = 1; i < $1; i++)); do
      echo "  - {id: r$i, uri: /svc$i/*, host: h$((i % 50)).example.com, upstream_id: up}"
    done
    echo "  - {id: main, uri: /*, upstream_id: up}"
    echo "upstreams:"
    echo "  - {id: up, nodes: {\"127.0.0.1:$up\": 1}}"
    echo "#END"
  } > "$2"
}
archway_pid=""
start_archway() { # workers port routes
  local f="$work/archway-$3.yaml"; routes_file "$3" "$f"
  java -Xms128m -Xmx128m -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS -jar "$root/dataplane/target/archway-dataplane.jar" \
    --standalone "$f" --bind 127.0.0.1 --http-port "$2" --https-port 0 --status-port "$(free_port)" \
    --workers "$1" --access-log off > "$work/archway-$1-$3.log" 2>&1 & archway_pid=$!; pids+=($!)
}
measure() { # name port -> prints "name rps p50 p99 p999 errors"
  wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$2/bench" > /dev/null 2>&1 || true   # warm-up
  local line; line=$(wrk -t1 -c"$conns" -d"${secs}s" -s "$root/bench/http/percentiles.lua" "http://127.0.0.1:$2/bench" | grep '^RESULT')
  echo "$1 $line"
}
results="$work/results.txt"
for w in 1 2; do
  measure "upstream-direct/$w" "$up" >> "$results"
  p=$(free_port); start_nginx "$w" "$p"; wait_port "$p"; measure "nginx/$w" "$p" >> "$results"
  p=$(free_port); start_haproxy "$w" "$p"; wait_port "$p"; measure "haproxy/$w" "$p" >> "$results"
  p=$(free_port); start_archway "$w" "$p" 1; wait_port "$p"; measure "archway/$w" "$p" >> "$results"
  kill "$archway_pid"; wait "$archway_pid" 2>/dev/null || true
  p=$(free_port); start_archway "$w" "$p" 10000; wait_port "$p"; measure "archway-10k-routes/$w" "$p" >> "$results"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$archway_pid/status")
  echo "rss-10k-routes/$w ${rss} kB" >> "$results"
  kill "$archway_pid"; wait "$archway_pid" 2>/dev/null || true
done
python3 - "$results" <<'PY'
import re, sys
rows, rss = {}, {}
for line in open(sys.argv[1]):
    if line.startswith("rss-"):
        k, v, _ = line.split(); rss[k] = int(v); continue
    name, rest = line.split(" ", 1)
    rows[name] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest)}
print("| target / workers | RPS | p50 ms | p99 ms | p99.9 ms | errors | RPS vs nginx | p99 vs nginx |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, r in rows.items():
    w = name.split("/")[1]
    n = rows.get("nginx/" + w)
    print(f"| {name} | {r['rps']:.0f} | {r['p50']/1000:.2f} | {r['p99']/1000:.2f} | {r['p999']/1000:.2f} | {r['errors']:.0f} | "
          f"{r['rps']/n['rps']:.2f} | {r['p99']/n['p99']:.2f} |")
for k, v in rss.items():
    print(f"\n{k}: dataplane RSS {v/1024:.0f} MB", end="")
print()
for w in ("1", "2"):
    a, b = rows.get("archway/" + w), rows.get("archway-10k-routes/" + w)
    if a and b:
        print(f"10,000 routes vs 1 route at {w} worker(s): RPS ratio {b['rps']/a['rps']:.3f}")
PY
