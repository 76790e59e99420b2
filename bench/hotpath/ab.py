#!/usr/bin/env python3
"""A/B of dataplane builds on the harness's small-body scenarios: HTTP/1.1 keep-alive (1 worker)
or TLS 1.2 keep-alive, each build a peer next to nginx, with the harness's pinning, warm-up and
rotated rounds. `bench/run tls` takes no `--jar`, and `bench/run http` runs every body size and
both worker counts; this runs the one row being worked on.

Usage: python3 bench/hotpath/ab.py http|tls [--rounds N] [--seconds S] LABEL=JAR LABEL=JAR ...
Each LABEL=JAR runs as `archway[LABEL]`; run it with `. bin/java-env` (JDK 21+).
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness as h  # noqa: E402


def allocated(recording):
    """Thread name -> bytes allocated, first and last reading of the recording."""
    out = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ThreadAllocationStatistics", recording],
                         capture_output=True, text=True, check=True).stdout
    seen = {}
    for e in json.loads(out)["recording"]["events"]:
        v = e["values"]
        name = (v.get("thread") or {}).get("javaName") or "?"
        first, _ = seen.get(name, (v["allocated"], 0))
        seen[name] = (first, v["allocated"])
    return seen


def alloc_per_request(peers, opts):
    """Heap bytes the proxy's threads allocate per request: deterministic where req/s is not on a
    busy machine. Warm-up, then a JFR recording of thread allocation statistics around one run."""
    for p in peers:
        h.wrk(p.url("/bench"), opts.warmup, opts.connections, h.wrk_script())
        rec = os.path.join(h.work, f"alloc-{p.port}.jfr")
        pid = str(p.proc.pid)
        subprocess.run(["jcmd", pid, "JFR.start", "name=alloc",
                        "jdk.ThreadAllocationStatistics#period=200ms"], check=True, capture_output=True)
        res = h.wrk(p.url("/bench"), opts.seconds, opts.connections, h.wrk_script())
        subprocess.run(["jcmd", pid, "JFR.dump", "name=alloc", f"filename={rec}"], check=True, capture_output=True)
        subprocess.run(["jcmd", pid, "JFR.stop", "name=alloc"], check=True, capture_output=True)
        total = sum(last - first for first, last in allocated(rec).values())
        print(f"{p.name}: {total / max(res['requests'], 1):.0f} bytes allocated per request "
              f"({res['requests']:.0f} requests)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=("http", "tls"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--alloc", action="store_true",
                    help="first, each build's heap allocation per request (JFR thread statistics)")
    ap.add_argument("jars", nargs="+", type=lambda v: tuple(v.split("=", 1)))
    opts = ap.parse_args()
    up = h.Upstream()
    config, kw = h.archway_routes(up), {}
    if opts.scenario == "tls":
        cert = h.Certificate()
        settings = os.path.join(h.work, "archway-tls-settings.yaml")
        with open(settings, "w") as f:
            f.write("tls: {protocols: [TLSv1.2], ciphers: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]}\n")
        config = config.replace("#END\n", "") + "ssls:\n  - id: bench\n    snis: [bench.example.com]\n" \
            + f"    cert: {json.dumps(open(cert.cert).read())}\n    key: {json.dumps(open(cert.key).read())}\n#END\n"
        kw = dict(args=("--config", settings), scheme="https", listener="--https-port")
        peers = [h.nginx_peer(up, 1, cert)]
        label = "TLS 1.2 ECDHE-ECDSA, keep-alive, 1 worker"
    else:
        peers = [h.nginx_peer(up, 1)]
        label = "HTTP/1.1 keep-alive, small body, 1 worker(s)"
    for name, jar in opts.jars:
        peers.append(h.archway_peer(1, config, name=f"archway[{name}]", jar=jar, **kw))
    if opts.alloc:
        alloc_per_request(peers[1:], opts)
    before = os.getloadavg()
    res = h.summary(h.rounds(peers, h.Load("/bench", h.wrk_script()), opts, label))
    print(f"load average before {before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(h.table(label, res, "nginx"), flush=True)
    for p in peers:
        h.stop(p.proc)
    h.stop(up.proc)


if __name__ == "__main__":
    main()
