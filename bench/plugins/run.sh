#!/usr/bin/env bash
# Plugin benchmark: wrk against one Archway dataplane serving four routes to the same nginx
# upstream: no plugins; key-auth + limit-count + prometheus; five plugins as a flat chain; the same
# five as a PluginFlow (a straight line of "code == 200" edges). Each is measured twice, the
# routes taking turns, and the better run counts, so drift on a shared machine hits all alike.
# Usage: bench/run plugins [seconds] [connections] [workers]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-10}"
conns="${2:-50}"
workers="${3:-1}"
. "$root/bench/lib.sh"
need plugins wrk nginx curl

start_upstream

five='request-id: {}
      proxy-rewrite: {headers: {set: {X-Bench: "1"}}}
      key-auth: {}
      limit-count: {count: 1000000000, time_window: 60, key: consumer_name}
      prometheus: {}'
cat > "$work/bench.yaml" <<YAML
consumers:
  - username: bench
    plugins:
      key-auth: {key: bench-key}
upstreams:
  - {id: up, nodes: {"127.0.0.1:$up": 1}}
plugin_flows:
  - id: five
    rule:
      root: n1
      n1: [["code == 200", "n2"]]
      n2: [["code == 200", "n3"]]
      n3: [["code == 200", "n4"]]
      n4: [["code == 200", "n5"]]
    conf:
      n1: {name: request-id, conf: {}}
      n2: {name: proxy-rewrite, conf: {headers: {set: {X-Bench: "1"}}}}
      n3: {name: key-auth, conf: {}}
      n4: {name: limit-count, conf: {count: 1000000000, time_window: 60, key: consumer_name}}
      n5: {name: prometheus, conf: {}}
routes:
  - {id: plain, uri: /plain/*, upstream_id: up}
  - id: plugins
    uri: /plugins/*
    upstream_id: up
    plugins:
      key-auth: {}
      limit-count: {count: 1000000000, time_window: 60, key: consumer_name}
      prometheus: {}
  - id: chain
    uri: /chain/*
    upstream_id: up
    plugins:
      $five
  - {id: flow, uri: /flow/*, upstream_id: up, plugin_flow_id: five}
#END
YAML
port=$(free_port)
status=$(free_port)
java -Xms256m -Xmx256m -XX:+UseParallelGC -XX:+AlwaysPreTouch $ARCHWAY_JAVA_OPTS -jar "$root/dataplane/target/archway-dataplane.jar" \
  --standalone "$work/bench.yaml" --bind 127.0.0.1 --http-port "$port" --https-port 0 --status-port "$status" \
  --workers "$workers" --access-log off > "$work/archway.log" 2>&1 & pids+=($!)
wait_port "$port"
for path in plain plugins chain flow; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'apikey: bench-key' "http://127.0.0.1:$port/$path/x")
  [ "$code" = 200 ] || { echo "route $path answered $code" >&2; cat "$work/archway.log" >&2; exit 1; }
done

measure() { # route -> "route RESULT ..."
  local line; line=$(wrk -t1 -c"$conns" -d"${secs}s" -H 'apikey: bench-key' -s "$root/bench/http/percentiles.lua" "http://127.0.0.1:$port/$1/x" | grep '^RESULT')
  echo "$1 $line"
}
for path in plain plugins chain flow; do   # warm-up: JIT every path
  wrk -t1 -c"$conns" -d3s -H 'apikey: bench-key' "http://127.0.0.1:$port/$path/x" > /dev/null 2>&1 || true
done
results="$work/results.txt"
for round in 1 2; do
  for path in plain plugins chain flow; do
    measure "$path" >> "$results"
  done
done
python3 - "$results" "$secs" "$conns" "$workers" <<'PY'
import re, sys
best = {}
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    r = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", rest)}
    if name not in best or r["rps"] > best[name]["rps"]:
        best[name] = r
print(f"wrk -t1 -c{sys.argv[3]} -d{sys.argv[2]}s, dataplane --workers {sys.argv[4]}, best of 2 runs each")
print("| route | plugins | RPS | p50 ms | p99 ms | errors |")
print("|---|---|---:|---:|---:|---:|")
what = {"plain": "none", "plugins": "key-auth, limit-count, prometheus",
        "chain": "5 plugins, flat chain", "flow": "the same 5 as a PluginFlow"}
for name in ("plain", "plugins", "chain", "flow"):
    r = best[name]
    print(f"| {name} | {what[name]} | {r['rps']:.0f} | {r['p50']/1000:.2f} | {r['p99']/1000:.2f} | {r['errors']:.0f} |")
print(f"\nkey-auth + limit-count + prometheus keep {best['plugins']['rps']/best['plain']['rps']:.1%} of the plain route's throughput (target >= 90%)")
print(f"5-node PluginFlow vs the same 5 plugins as a chain: {best['flow']['rps']/best['chain']['rps']:.1%} of the chain's throughput (target >= 90%)")
PY
