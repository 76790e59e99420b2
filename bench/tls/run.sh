#!/usr/bin/env bash
# HTTPS benchmark: wrk against nginx and Archway terminating TLS with the same certificate (ECDSA
# P-256), protocol and cipher (TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256), proxying to the same
# upstream, at 1 and 2 workers: keep-alive requests per second, and new connections per second
# (Connection: close, so each request is a full handshake).
# Usage: bench/run tls [seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-10}"
conns="${2:-50}"
. "$root/bench/lib.sh"
need tls wrk nginx openssl

start_upstream
bench_certificate

start_nginx() { # workers port
  local d="$work/nginx-$1"; mkdir -p "$d"
  cat > "$d/nginx.conf" <<CONF
worker_processes $1; daemon off; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream up { server 127.0.0.1:$up; keepalive 320; }
  server { listen 127.0.0.1:$2 ssl;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2; ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
    ssl_session_cache off; ssl_session_tickets off;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
CONF
  nginx -c "$d/nginx.conf" -p "$d" & pids+=($!)
}
archway_pid=""
start_archway() { # workers port
  write_archway_tls_config
  java -Xms128m -Xmx128m -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS -jar "$root/dataplane/target/archway-dataplane.jar" \
    --config "$work/archway-settings.yaml" --standalone "$work/archway.yaml" --bind 127.0.0.1 --http-port "$(free_port)" \
    --https-port "$2" --status-port "$(free_port)" --workers "$1" --access-log off > "$work/archway-$1.log" 2>&1 &
  archway_pid=$!; pids+=($!)
}
measure() { # name port mode -> prints "name/mode rps p50 p99 p999 errors"
  local header=()
  [ "$3" = "handshakes" ] && header=(-H "Connection: close")
  wrk -t1 -c"$conns" -d2s "${header[@]}" "https://127.0.0.1:$2/bench" > /dev/null 2>&1 || true   # warm-up
  local line; line=$(wrk -t1 -c"$conns" -d"${secs}s" "${header[@]}" -s "$root/bench/http/percentiles.lua" "https://127.0.0.1:$2/bench" | grep '^RESULT')
  echo "$1/$3 $line"
}
results="$work/results.txt"
for w in 1 2; do
  p=$(free_port); start_nginx "$w" "$p"; wait_port "$p"
  measure "nginx/$w" "$p" keepalive >> "$results"; measure "nginx/$w" "$p" handshakes >> "$results"
  p=$(free_port); start_archway "$w" "$p"; wait_port "$p"
  grep -o "TLS: .*" "$work/archway-$w.log" | head -1 >&2 || true
  measure "archway/$w" "$p" keepalive >> "$results"; measure "archway/$w" "$p" handshakes >> "$results"
  kill "$archway_pid"; wait "$archway_pid" 2>/dev/null || true
done
python3 - "$results" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    rows[name] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest)}
print("| target / workers / mode | requests/s | p50 ms | p99 ms | errors | vs nginx |")
print("|---|---:|---:|---:|---:|---:|")
for name, r in rows.items():
    target, w, mode = name.split("/")
    n = rows.get(f"nginx/{w}/{mode}")
    print(f"| {name} | {r['rps']:.0f} | {r['p50']/1000:.2f} | {r['p99']/1000:.2f} | {r['errors']:.0f} | {r['rps']/n['rps']:.2f} |")
PY
