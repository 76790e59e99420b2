# Sourced by the benchmark scripts: a work directory removed on exit with every process started
# (add their pids to `pids`), free loopback ports, waiting for a port, tools that must be there,
# and the nginx upstream the HTTP benchmarks proxy to.
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
need() { # bench-name tool... : exits 2 naming the missing tool
  local name="$1"; shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench $name: $tool is missing (it comes from Debian: apt-get install it)" >&2; exit 2; }
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
start_upstream() { # sets $up: an nginx answering 200 "hello from the upstream" on a free port
  up=$(free_port)
  mkdir -p "$work/up"
  cat > "$work/up/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/up/nginx.pid; error_log $work/up/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$up; location / { return 200 "hello from the upstream\n"; } } }
CONF
  nginx -c "$work/up/nginx.conf" -p "$work/up" & pids+=($!)
  wait_port "$up"
}
bench_certificate() { # an ECDSA P-256 certificate for bench.example.com: $work/cert.pem, $work/key.pem
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
  openssl req -x509 -new -key "$work/key.pem" -subj "/CN=bench.example.com" -days 2 \
    -addext "subjectAltName=DNS:bench.example.com" -out "$work/cert.pem" 2>/dev/null
}
write_archway_tls_config() { # $work/archway.yaml (one route to $up, the bench certificate) and
  # $work/archway-settings.yaml (TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, as the nginx side)
  python3 - "$work" "$up" > "$work/archway.yaml" <<'PY'
import json, sys
work, up = sys.argv[1], sys.argv[2]
print("routes:\n  - {id: main, uri: /*, upstream: {nodes: {\"127.0.0.1:%s\": 1}}}" % up)
print("ssls:\n  - id: bench\n    snis: [bench.example.com]")
print("    cert: " + json.dumps(open(work + "/cert.pem").read()))
print("    key: " + json.dumps(open(work + "/key.pem").read()))
print("#END")
PY
  printf 'tls: {protocols: [TLSv1.2], ciphers: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]}\n' > "$work/archway-settings.yaml"
}
