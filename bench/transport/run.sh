#!/usr/bin/env bash
# io_uring against epoll on the same dataplane jar: one standalone dataplane per transport (1 worker,
# forced with -Darchway.transport), both pinned to CPU 1; wrk (-t1, keep-alive) and the nginx
# upstream pinned to CPU 0. Both are warmed up first, then measured in turn, the order alternating
# each round. Prints RPS, p99 and the dataplane's CPU seconds per 100k requests for each run, then
# the medians and the io_uring / epoll ratios.
# Usage: bench/transport/run.sh [rounds] [seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
rounds="${1:-4}"
secs="${2:-10}"
conns="${3:-50}"
. "$root/bench/lib.sh"
need transport wrk nginx taskset
jar="${ARCHWAY_JAR:-$root/dataplane/target/archway-dataplane.jar}"

start_upstream
master=${pids[-1]} # nginx's master and its worker, onto CPU 0 (children by parent pid)
for p in "$master" $(ps -o pid= --ppid "$master"); do taskset -p -c 0 "$p" > /dev/null; done
printf 'routes:\n  - {id: main, uri: /*, upstream_id: up}\nupstreams:\n  - {id: up, nodes: {"127.0.0.1:%s": 1}}\n#END\n' "$up" > "$work/archway.yaml"

declare -A port status pid
for t in io_uring epoll; do
  port[$t]=$(free_port); status[$t]=$(free_port)
  taskset -c 1 java -Xms128m -Xmx128m -XX:+UseParallelGC -XX:+AlwaysPreTouch -Darchway.transport="$t" \
    -jar "$jar" --standalone "$work/archway.yaml" --bind 127.0.0.1 --http-port "${port[$t]}" \
    --https-port 0 --status-port "${status[$t]}" --workers 1 --access-log off --admin-port off > "$work/archway-$t.log" 2>&1 &
  pid[$t]=$!; pids+=($!)
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/${port[$t]}") 2>/dev/null && break; sleep 0.1; done
  kill -0 "${pid[$t]}" 2>/dev/null || { echo "dataplane ($t) did not start:" >&2; cat "$work/archway-$t.log" >&2; exit 1; }
  curl -s "http://127.0.0.1:${status[$t]}/metrics" | grep '^archway_transport_info' | sed "s/^/$t: /"
done

cpu() { # utime + stime of a dataplane, in clock ticks
  [[ -r /proc/$1/stat ]] || { echo "dataplane $1 is gone:" >&2; tail -n 20 "$work"/archway-*.log >&2; exit 1; }
  awk '{print $14 + $15}' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)
run() { # transport seconds -> "rps p99us cpu_s_per_100k"
  local t=$1 before after line rps p99
  before=$(cpu "${pid[$t]}")
  line=$(taskset -c 0 wrk -t1 -c"$conns" -d"$2s" -s "$root/bench/http/percentiles.lua" "http://127.0.0.1:${port[$t]}/bench" | grep '^RESULT')
  after=$(cpu "${pid[$t]}")
  rps=$(sed -E 's/.*rps=([0-9]+).*/\1/' <<< "$line"); p99=$(sed -E 's/.* p99=([0-9]+).*/\1/' <<< "$line")
  echo "$rps $p99 $(python3 -c "print(f'{($after - $before) / $hz / ($rps * $2) * 1e5:.3f}')")"
}
echo "load: $(uptime)"
for t in io_uring epoll; do run "$t" "$secs" > /dev/null; run "$t" "$secs" > /dev/null; done # warm-up
results="$work/results.txt"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order="io_uring epoll"; else order="epoll io_uring"; fi
  for t in $order; do
    res=$(run "$t" "$secs"); echo "round $r $t $res" | tee -a "$results"
  done
done
echo "load: $(uptime)"
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    _, _, t, rps, p99, cpu = line.split()
    rows.setdefault(t, []).append((float(rps), float(p99) / 1000, float(cpu)))
med = {}
print("| transport | RPS median (min-max) | p99 ms median (min-max) | CPU s / 100k req median (min-max) |")
print("|---|---:|---:|---:|")
for t, rs in rows.items():
    cols = list(zip(*rs))
    med[t] = [statistics.median(c) for c in cols]
    print(f"| {t} | " + " | ".join(f"{statistics.median(c):.{p}f} ({min(c):.{p}f}-{max(c):.{p}f})"
                                     for c, p in zip(cols, (0, 2, 3))) + " |")
u, e = med["io_uring"], med["epoll"]
print(f"io_uring / epoll: RPS {u[0]/e[0]:.3f}, p99 {u[1]/e[1]:.3f}, CPU per request {u[2]/e[2]:.3f}")
ratios = [a[0] / b[0] for a, b in zip(rows["io_uring"], rows["epoll"])]
print("RPS ratio per round: " + ", ".join(f"{x:.3f}" for x in ratios))
PY
