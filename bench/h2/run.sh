#!/usr/bin/env bash
# HTTP/2 benchmark: h2load against nginx (`listen ... http2`) and Archway, both terminating h2 from
# the client and proxying HTTP/1.1 to the same upstream, over TLS (h2 by ALPN; same ECDSA P-256
# certificate, TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256) and cleartext (h2c, prior knowledge), at 1
# and 2 workers: requests per second and latency percentiles from h2load's per-request log.
# Usage: bench/run h2 [seconds] [connections] [streams per connection]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-10}"
conns="${2:-10}"
streams="${3:-10}"
. "$root/bench/lib.sh"
need h2 h2load nginx openssl

start_upstream
bench_certificate

start_nginx() { # workers tls-port h2c-port
  local d="$work/nginx-$1"; mkdir -p "$d"
  cat > "$d/nginx.conf" <<CONF
worker_processes $1; daemon off; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  http2_max_concurrent_streams 128;
  upstream up { server 127.0.0.1:$up; keepalive 320; }
  server { listen 127.0.0.1:$2 ssl http2; listen 127.0.0.1:$3 http2;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2; ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
CONF
  nginx -c "$d/nginx.conf" -p "$d" & nginx_pid=$!; pids+=($!)
}
start_archway() { # workers tls-port h2c-port
  write_archway_tls_config
  java -Xms128m -Xmx128m -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS -jar "$root/dataplane/target/archway-dataplane.jar" \
    --config "$work/archway-settings.yaml" --standalone "$work/archway.yaml" --bind 127.0.0.1 --http-port "$3" --h2c \
    --https-port "$2" --status-port "$(free_port)" --admin-port off --workers "$1" --access-log off > "$work/archway-$1.log" 2>&1 &
  archway_pid=$!; pids+=($!)
}
measure() { # name url -> appends "name rps=… p50=… p99=… p999=… errors=…" (latencies in µs)
  local log="$work/h2load.log"
  h2load -c"$conns" -m"$streams" -t1 -D5 "$2" > /dev/null 2>&1 || true   # warm-up (the JIT)
  rm -f "$log"
  local out; out=$(h2load -c"$conns" -m"$streams" -t1 -D"$secs" --log-file="$log" "$2")
  python3 - "$1" "$log" "$out" >> "$results" <<'PY'
import re, sys
name, log, out = sys.argv[1], sys.argv[2], sys.argv[3]
rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
ok, failed, errored = (int(x) for x in m.groups())
status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
bad = failed + errored + int(status.group(3)) + int(status.group(4))
lat = sorted(int(line.split()[2]) for line in open(log) if line.strip())
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"{name} rps={rps} p50={pick(0.5)} p99={pick(0.99)} p999={pick(0.999)} errors={bad}")
PY
}
results="$work/results.txt"
for w in 1 2; do
  t=$(free_port); c=$(free_port); start_nginx "$w" "$t" "$c"; wait_port "$t"; wait_port "$c"
  measure "nginx/$w/tls" "https://127.0.0.1:$t/bench"; measure "nginx/$w/h2c" "http://127.0.0.1:$c/bench"
  kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
  t=$(free_port); c=$(free_port); start_archway "$w" "$t" "$c"; wait_port "$t"; wait_port "$c"
  measure "archway/$w/tls" "https://127.0.0.1:$t/bench"; measure "archway/$w/h2c" "http://127.0.0.1:$c/bench"
  kill "$archway_pid"; wait "$archway_pid" 2>/dev/null || true
done
echo "h2load -c$conns -m$streams -t1 -D$secs, one upstream nginx (HTTP/1.1 keep-alive)"
python3 - "$results" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    rows[name] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest)}
print("| target / workers / mode | requests/s | p50 ms | p99 ms | p99.9 ms | errors | rps vs nginx | p99 vs nginx |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, r in rows.items():
    target, w, mode = name.split("/")
    n = rows[f"nginx/{w}/{mode}"]
    print(f"| {name} | {r['rps']:.0f} | {r['p50']/1000:.2f} | {r['p99']/1000:.2f} | {r['p999']/1000:.2f} | {r['errors']:.0f} | {r['rps']/n['rps']:.2f} | {r['p99']/n['p99']:.2f} |")
PY
