#!/usr/bin/env python3
"""The Redis proxy's A/B: redis-benchmark (SET and GET, 50 clients) against Redis directly and
through one standalone dataplane per jar (1 worker each), every peer measured in each round in a
rotated order after a warm-up of each; redis-server and redis-benchmark on CPU 0, the dataplanes on
CPU 1, as the harness's redis scenario runs them (which takes one jar only, hence this script).

Prints each run, then per pipeline depth and command: each jar's median req/s, its median ratio
to direct in the same round (and the range), the proxy's CPU seconds per 100k commands, and the
ratio of each jar to the first one per round.

usage: bench/redis-ab.py [--rounds 3] [--requests 200000] [--pipelines 1,16] [--jfr DIR]
                         NAME=JAR [NAME=JAR ...]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

JVM = ["-Xms256m", "-Xmx256m", "-XX:+UseParallelGC", "-XX:+AlwaysPreTouch", "-Darchway.transport=epoll"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"process on port {port} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"port {port} never opened")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(port, n, pipeline):
    out = subprocess.run(["taskset", "-c", "0", "redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t",
                          "set,get", "-c", "50", "-n", str(n), "-P", str(pipeline), "--csv"],
                         capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines()[1:]:
        cols = [c.strip('"') for c in line.split('","')]
        if cols[0] in ("SET", "GET"):
            res[cols[0]] = float(cols[1])
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--jfr", help="a directory: each dataplane records JFR (settings=profile) there")
    ap.add_argument("jars", nargs="+", metavar="NAME=JAR")
    opts = ap.parse_args()
    work = tempfile.mkdtemp()
    procs = []
    try:
        rport = free_port()
        server = subprocess.Popen(["taskset", "-c", "0", "redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", work],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(server)
        wait_port(rport, server)
        peers = [("direct", server, rport)]
        for spec in opts.jars:
            name, jar = spec.split("=", 1)
            port = free_port()
            conf = os.path.join(work, f"{name}.yaml")
            with open(conf, "w") as f:
                f.write(f"stream_routes:\n  - id: redis\n    server_port: {port}\n"
                        f"    upstream: {{nodes: {{\"127.0.0.1:{rport}\": 1}}}}\n    protocol: {{name: redis}}\n#END\n")
            jfr = []
            if opts.jfr:
                os.makedirs(opts.jfr, exist_ok=True)
                jfr = [f"-XX:StartFlightRecording=filename={os.path.join(opts.jfr, name)}.jfr,settings=profile,"
                       "dumponexit=true"]
            p = subprocess.Popen(["taskset", "-c", "1", "java", *JVM, *jfr, "-jar", jar, "--standalone", conf,
                                  "--bind", "127.0.0.1", "--workers", "1", "--access-log", "off", "--admin-port", "off",
                                  "--http-port", str(free_port()), "--https-port", "0", "--status-port",
                                  str(free_port()), "--stream-port", str(port)],
                                 stdout=open(os.path.join(work, f"{name}.log"), "w"), stderr=subprocess.STDOUT)
            procs.append(p)
            wait_port(port, p)
            peers.append((name, p, port))
        print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
        for pipeline in [int(p) for p in opts.pipelines.split(",")]:
            for _, _, port in peers:
                bench(port, opts.requests // 4, pipeline)
            runs = {name: [] for name, _, _ in peers}
            for r in range(opts.rounds):
                k = r % len(peers)
                for name, proc, port in peers[k:] + peers[:k]:
                    cpu0 = cpu_seconds(proc.pid)
                    res = bench(port, opts.requests, pipeline)
                    res["cpu"] = (cpu_seconds(proc.pid) - cpu0) / (2 * opts.requests) * 100000
                    runs[name].append(res)
                    print(f"-P {pipeline} round {r + 1} {name}: SET {res['SET']:.0f} GET {res['GET']:.0f} "
                          f"cpu/100k {res['cpu']:.2f}", flush=True)
            first = peers[1][0]
            for op in ("SET", "GET"):
                d = runs["direct"]
                print(f"-P {pipeline} {op}: direct {statistics.median(x[op] for x in d):.0f}")
                for name, _, _ in peers[1:]:
                    rs = runs[name]
                    ratios = [x[op] / y[op] for x, y in zip(rs, d)]
                    vs = [x[op] / y[op] for x, y in zip(rs, runs[first])]
                    print(f"  {name}: {statistics.median(x[op] for x in rs):.0f} req/s, /direct "
                          f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}), "
                          f"cpu/100k {statistics.median(x['cpu'] for x in rs):.2f}"
                          + (f", /{first} {statistics.median(vs):.2f} ({min(vs):.2f}-{max(vs):.2f})"
                             if name != first else ""), flush=True)
        print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
