#!/usr/bin/env python3
"""Archway's benchmark harness: the peers of a scenario in one invocation, fairly.

Every scenario starts its peers once (Archway and the proxies it is compared with, all on the
same upstream), warms each up, then measures them in turns over several rounds, each round in a
rotated order, so a slow spell of the machine hits every peer. It reports each figure's median and
the spread (lowest to highest) of the rounds.

- Pinning: with two CPUs or more, the load generator and the upstream run on the first CPU and the
  proxy under test on the others (the same CPUs for every peer). With two CPUs, a 2-worker proxy
  shares the first CPU with the load generator; the table says so.
- Figures per peer: requests/s, p50, p99, p99.9, the proxy's CPU seconds per 100k requests (its
  process and children, from /proc), and its RSS after the run.
- Processes: the harness stops only what it started, by PID, also when it is interrupted.

Usage: bench/run all [--smoke] [--rounds N] [--seconds S] [--only a,b] [--gc] [--variant LABEL=OPTS] [--jar LABEL=PATH]
                     [--profile] [--record]
       bench/run http|tls|plugins|redis [same options]
"""

import argparse
import atexit
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "dataplane", "target", "archway-dataplane.jar")
SCG = os.path.join(ROOT, "bench", "peers", "spring-cloud-gateway")
CLK = os.sysconf("SC_CLK_TCK")
# The dataplane's JVM options in the benchmarks: the collector the image ships (see the Helm
# values), a fixed heap so every run starts alike. Peers that are JVMs get the same heap.
ARCHWAY_JVM = ["-Xms256m", "-Xmx256m", "-XX:+UseParallelGC", "-XX:+AlwaysPreTouch"]
GC_VARIANTS = {
    "parallel": ["-XX:+UseParallelGC"],
    "g1": ["-XX:+UseG1GC"],
    "zgc": ["-XX:+UseZGC", "-XX:+ZGenerational"],
}

work = tempfile.mkdtemp(prefix="archway-bench-")
started = []  # every process this run started (Popen), stopped at exit by PID


def cleanup():
    for p in reversed(started):
        stop(p)
    shutil.rmtree(work, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- machine ---------------------------------------------------------------------------------


class Cpus:
    """Which CPUs the load generator and the proxy under test get."""

    def __init__(self):
        self.all = sorted(os.sched_getaffinity(0))
        self.taskset = shutil.which("taskset") is not None and len(self.all) >= 2

    def load(self):
        return self.all[:1]

    def proxy(self, workers):
        rest = self.all[1:]
        if len(rest) >= workers:
            return rest[:workers]
        return self.all  # fewer CPUs than workers + 1: the proxy shares with the load

    def shared(self, workers):
        return len(self.all) < workers + 1

    def pin(self, cpus, cmd):
        if not self.taskset:
            return cmd
        return ["taskset", "-c", ",".join(map(str, cpus))] + cmd


CPUS = Cpus()


def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None and not os.path.exists("/usr/sbin/" + t)]
    if missing:
        sys.exit(f"bench: {', '.join(missing)} missing (Debian packages: apt-get install them)")


def tool(name):
    return shutil.which(name) or "/usr/sbin/" + name


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: {what} exited with {proc.returncode} before listening; log: {proc.log_path}\n"
                     + tail(proc.log_path))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench: {what} never listened on {port}; log: {proc.log_path}\n" + tail(proc.log_path))


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def start(name, cmd, cpus, env=None):
    path = os.path.join(work, name.replace("/", "-") + ".log")
    out = open(path, "w")
    p = subprocess.Popen(CPUS.pin(cpus, cmd), stdout=out, stderr=subprocess.STDOUT, cwd=work,
                         env=env, start_new_session=True)
    p.log_path = path
    started.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in started:
        started.remove(p)


def tree(pid):
    """The PID and its descendants (nginx's workers are children of its master)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def cpu_seconds(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLK


def rss_mb(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                m = re.search(r"VmRSS:\s+(\d+)", f.read())
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total / 1024


# --- the upstream and the peers --------------------------------------------------------------


def nginx_conf(d, workers, body):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(f"""worker_processes {workers}; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000; client_max_body_size 2m;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
  {body} }}
""")
    return [tool("nginx"), "-c", os.path.join(d, "nginx.conf"), "-p", d]


class Upstream:
    """One nginx worker answering every scenario's paths, on the load generator's CPU."""

    def __init__(self):
        d = os.path.join(work, "upstream")
        files = os.path.join(d, "files")
        os.makedirs(files, exist_ok=True)
        for name, size in (("4k", 4096), ("64k", 65536)):
            with open(os.path.join(files, name), "wb") as f:
                f.write(b"x" * size)
        self.port = free_port()
        cmd = nginx_conf(d, 1, f"""server {{ listen 127.0.0.1:{self.port};
    location / {{ return 200 "hello from the upstream\\n"; }}
    location /files/ {{ root {d}; }}
    location /upload {{ return 200 "stored\\n"; }} }}""")
        self.proc = start("upstream", cmd, CPUS.load())
        wait_port(self.port, self.proc, "the upstream nginx")


class Peer:
    """A proxy under test: a name, its process, the port it listens on and, where one process is
    measured as several peers (one per route), the path prefix of this peer's route."""

    def __init__(self, name, proc, port, scheme="http", prefix=""):
        self.name, self.proc, self.port, self.scheme, self.prefix = name, proc, port, scheme, prefix

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.port}{self.prefix}{path}"


def nginx_peer(up, workers, tls=None):
    port = free_port()
    listen = f"listen 127.0.0.1:{port}"
    ssl = ""
    if tls:
        listen += " ssl"
        ssl = (f"ssl_certificate {tls.cert}; ssl_certificate_key {tls.key}; ssl_protocols TLSv1.2; "
               "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256; ssl_session_cache off; ssl_session_tickets off;")
    d = os.path.join(work, f"nginx-{workers}-{'tls' if tls else 'plain'}")
    cmd = nginx_conf(d, workers, f"""upstream up {{ server 127.0.0.1:{up.port}; keepalive 320; }}
  server {{ {listen}; {ssl}
    location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }} }}""")
    p = start(f"nginx/{workers}", cmd, CPUS.proxy(workers))
    wait_port(port, p, "nginx")
    return Peer("nginx", p, port, "https" if tls else "http")


def haproxy_peer(up, workers):
    port = free_port()
    cfg = os.path.join(work, f"haproxy-{workers}.cfg")
    with open(cfg, "w") as f:
        f.write(f"""global
  nbthread {workers}
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option forwardfor
frontend f
  bind 127.0.0.1:{port}
  default_backend b
backend b
  http-reuse always
  server s1 127.0.0.1:{up.port}
""")
    p = start(f"haproxy/{workers}", [tool("haproxy"), "-f", cfg], CPUS.proxy(workers))
    wait_port(port, p, "haproxy")
    return Peer("haproxy", p, port)


def scg_peer(up, workers):
    jar = subprocess.run([os.path.join(SCG, "build.sh")], check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()[-1]
    if not os.path.exists(jar):
        sys.exit(f"bench: the Spring Cloud Gateway build printed {jar!r}, not a jar")
    port = free_port()
    heap = " ".join(a for a in ARCHWAY_JVM if a.startswith(("-Xms", "-Xmx")))
    p = start(f"scg/{workers}", [os.path.join(SCG, "start.sh"), str(port), str(up.port), str(workers)],
              CPUS.proxy(workers), env={**os.environ, "SCG_HEAP": heap})
    wait_port(port, p, "Spring Cloud Gateway")
    return Peer("spring-cloud-gateway", p, port)


def archway_peer(workers, config, name="archway", jvm=None, args=(), scheme="http", listener="--http-port",
                 port=None, jar=JAR):
    """A standalone dataplane on `config`; measured on `listener` (the others get free ports)."""
    port = port or free_port()
    path = os.path.join(work, f"{name}-{workers}.yaml".replace("/", "-"))
    with open(path, "w") as f:
        f.write(config)
    ports = {"--http-port": free_port(), "--https-port": 0, "--status-port": free_port(), listener: port}
    jfr = []
    if PROFILE.on:
        PROFILE.count += 1
        recording = os.path.join(work, f"{PROFILE.count}-{name}.jfr".replace("/", "-").replace("[", "-").replace("]", ""))
        jfr = [f"-XX:StartFlightRecording=filename={recording},settings=profile,dumponexit=true"]
        PROFILE.recordings.append((recording, name))
    cmd = ["java", *(jvm or ARCHWAY_JVM), *jfr, *os.environ.get("ARCHWAY_JAVA_OPTS", "").split(), "-jar", jar,
           "--standalone", path, "--bind", "127.0.0.1", "--workers", str(workers), "--access-log", "off", "--admin-port",
           "off", *args]
    for flag, value in ports.items():
        cmd += [flag, str(value)]
    p = start(f"{name}/{workers}", cmd, CPUS.proxy(workers))
    wait_port(port, p, name)
    return Peer(name, p, port, scheme)


class Profile:
    """--profile: Archway's peers run with JFR; each scenario's recordings become a text summary
    in bench/profiles/harness-<scenario>.txt (hot methods, allocation sites, GC), never the binary
    (the other files there are hand-written notes of a piece of work)."""

    def __init__(self):
        self.on, self.count, self.recordings = False, 0, []

    def write(self, scenario, head):
        if not self.on or not self.recordings:
            return
        os.makedirs(os.path.join(ROOT, "bench", "profiles"), exist_ok=True)
        path = os.path.join(ROOT, "bench", "profiles", f"harness-{scenario}.txt")
        with open(path, "w") as out:
            out.write(f"{head}\nJFR (settings=profile) of each Archway process of the scenario, warm-up included.\n")
            for recording, name in self.recordings:
                out.write(f"\n==== {name} ====\n")
                for view in ("hot-methods", "allocation-by-site", "gc"):
                    r = subprocess.run(["jfr", "view", "--width", "160", view, recording], capture_output=True,
                                       text=True)
                    out.write("\n".join(r.stdout.splitlines()[:32]) + "\n")
        self.recordings = []
        log(f"  profile summary: {path}")


PROFILE = Profile()


def archway_routes(up):
    return f"""routes:
  - {{id: main, uri: /*, upstream_id: up}}
upstreams:
  - {{id: up, nodes: {{"127.0.0.1:{up.port}": 1}}}}
#END
"""


# --- load generators -------------------------------------------------------------------------

WRK_REPORT = """
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f requests=%d p50=%d p99=%d p999=%d errors=%d\\n",
    summary.requests / secs, summary.requests, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
"""


def wrk_script(method="GET", body_bytes=0):
    path = os.path.join(work, f"wrk-{method}-{body_bytes}.lua")
    with open(path, "w") as f:
        if body_bytes:
            f.write(f'wrk.method = "{method}"\nwrk.body = string.rep("x", {body_bytes})\n'
                    'wrk.headers["Content-Type"] = "application/octet-stream"\n')
        f.write(WRK_REPORT)
    return path


def wrk(url, seconds, conns, script, headers=()):
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "-s", script]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(CPUS.pin(CPUS.load(), cmd + [url]), capture_output=True, text=True).stdout
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if not m:
        raise RuntimeError(f"wrk printed no result for {url}: {out[-400:]}")
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", m.group(1))}


# --- rounds ----------------------------------------------------------------------------------


class Load:
    """What one measurement sends: a path, a wrk script, headers."""

    def __init__(self, path, script, headers=(), conns=None):
        self.path, self.script, self.headers, self.conns = path, script, headers, conns


def rounds(peers, load, opts, label):
    """Measures every peer `opts.rounds` times, rotating the order; returns name -> list of runs."""
    runs = {p.name: [] for p in peers}
    conns = load.conns or opts.connections
    for p in peers:  # the warm-up: JIT, connection pools; left out of the figures
        settle(lambda s: wrk(p.url(load.path), s, conns, load.script, load.headers)["rps"], opts, f"{label}: {p.name}")
    for r in range(opts.rounds):
        order = peers[r % len(peers):] + peers[:r % len(peers)]
        for p in order:
            wrk(p.url(load.path), 1, conns, load.script, load.headers)  # connections anew
            cpu0 = cpu_seconds(p.proc.pid)
            res = wrk(p.url(load.path), opts.seconds, conns, load.script, load.headers)
            res["cpu100k"] = (cpu_seconds(p.proc.pid) - cpu0) / max(res["requests"], 1) * 100000
            res["rss"] = rss_mb(p.proc.pid)
            runs[p.name].append(res)
        log(f"  {label}: round {r + 1} of {opts.rounds} done")
    return runs


# A JVM peer is warm when its rate stops climbing: with the proxy pinned to one busy CPU, the JIT's
# compiler threads share it with the event loop, and a fixed warm-up ended while Archway still ran
# half-compiled code (8 s of load to settle for HTTP, more than one redis-benchmark run for Redis).
SETTLED = 0.05  # two warm-up runs in a row within 5% of each other
MAX_WARMUPS = 8


def settle(run, opts, what):
    """Warm-up: `run(seconds)` (returning a rate) for `opts.warmup` s, then runs of half that
    until two in a row agree within SETTLED, or MAX_WARMUPS runs; a peer already warm (nginx,
    haproxy, redis-server) settles after two. Nothing of it counts."""
    rates = [run(opts.warmup)]
    short = max(1, round(opts.warmup / 2))
    while len(rates) < MAX_WARMUPS and not opts.smoke:
        rates.append(run(short))
        a, b = rates[-2], rates[-1]
        if a > 0 and abs(b - a) / a <= SETTLED:
            break
    log(f"  {what}: warm after {len(rates)} run(s) ({', '.join(f'{r:.0f}' for r in rates)}/s)")
    return rates


def summary(runs):
    """name -> {figure: median} plus rps_lo/rps_hi (the spread)."""
    out = {}
    for name, rs in runs.items():
        s = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        s["rps_lo"], s["rps_hi"] = min(r["rps"] for r in rs), max(r["rps"] for r in rs)
        out[name] = s
    return out


def table(title, results, anchor, note=""):
    lines = [f"### {title}", ""]
    if note:
        lines += [note, ""]
    lines += ["| peer | req/s (median) | spread | p50 ms | p99 ms | p99.9 ms | CPU s / 100k | RSS MB | "
              f"req/s vs {anchor} | p99 vs {anchor} |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    a = results.get(anchor)
    for name, s in results.items():
        rel = f"{s['rps'] / a['rps']:.2f} | {s['p99'] / a['p99']:.2f}" if a else "— | —"
        lines.append(f"| {name} | {s['rps']:.0f} | {s['rps_lo']:.0f}–{s['rps_hi']:.0f} | {s['p50'] / 1000:.2f} | "
                     f"{s['p99'] / 1000:.2f} | {s['p999'] / 1000:.2f} | {s['cpu100k']:.2f} | {s['rss']:.0f} | {rel} |")
    return "\n".join(lines) + "\n"


# --- scenarios -------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.sections, self.rows = [], []

    def section(self, text):
        self.sections.append(text)
        print(text, flush=True)

    def row(self, scenario, figure, target, met):
        """met: True, False, or None (no target)."""
        self.rows.append((scenario, figure, target, met))


def variant_jvm(flags):
    """The base JVM options, then a variant's (a collector in the variant replaces the base one)."""
    own_gc = any(f.endswith("GC") for f in flags.split())
    return [a for a in ARCHWAY_JVM if not (own_gc and a.endswith("GC"))] + flags.split()


def http(opts, rep):
    need("wrk", "nginx", "haproxy")
    up = Upstream()
    loads = [("small body", Load("/bench", wrk_script())),
             ("4 KB response", Load("/files/4k", wrk_script())),
             ("64 KB response", Load("/files/64k", wrk_script())),
             ("1 MB upload", Load("/upload", wrk_script("POST", 1 << 20), conns=min(opts.connections, 16)))]
    for workers in (1, 2):
        peers = [nginx_peer(up, workers), haproxy_peer(up, workers)]
        if opts.scg:
            peers.append(scg_peer(up, workers))
        peers.append(archway_peer(workers, archway_routes(up)))
        for label, jar in opts.jar:  # other builds, e.g. main's, for an A/B in the same run
            peers.append(archway_peer(workers, archway_routes(up), name=f"archway[{label}]", jar=jar))
        variants = list(opts.variant)
        if opts.gc:
            variants += [(gc, " ".join(flags)) for gc, flags in GC_VARIANTS.items()]
        for label, flags in variants if workers == 1 else ():
            peers.append(archway_peer(workers, archway_routes(up), name=f"archway[{label}]",
                                      jvm=variant_jvm(flags)))
        for what, load in (loads if workers == 1 else loads[:1]):
            label = f"HTTP/1.1 keep-alive, {what}, {workers} worker(s)"
            res = summary(rounds(peers, load, opts, label))
            note = "The proxy shares a CPU with the load generator." if CPUS.shared(workers) else ""
            rep.section(table(label, res, "nginx", note))
            a, n = res["archway"], res["nginx"]
            target = 1.05 if what == "small body" else 1.0
            rep.row(f"HTTP {what}, {workers} worker(s): req/s / nginx", f"{a['rps'] / n['rps']:.2f}",
                    f"≥ {target}", a["rps"] / n["rps"] >= target)
            if what == "small body":
                rep.row(f"HTTP p99 / nginx, {workers} worker(s)", f"{a['p99'] / n['p99']:.2f}", "≤ 1.1",
                        a["p99"] / n["p99"] <= 1.1)
            for name, v in res.items():  # other builds and options (--jar, --variant, --gc)
                if name.startswith("archway["):
                    rep.row(f"HTTP {what}, {workers} worker(s): {name} / nginx (req/s, p99)",
                            f"{v['rps'] / n['rps']:.2f}, {v['p99'] / n['p99']:.2f}", "", None)
            if "spring-cloud-gateway" in res:
                s = res["spring-cloud-gateway"]
                rep.row(f"HTTP {what}, {workers} worker(s): Archway / Spring Cloud Gateway",
                        f"{a['rps'] / s['rps']:.2f}", "", None)
        for p in peers:
            stop(p.proc)
    stop(up.proc)


class Certificate:
    def __init__(self):
        self.key, self.cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.key],
                       check=True)
        subprocess.run(["openssl", "req", "-x509", "-new", "-key", self.key, "-subj", "/CN=bench.example.com",
                        "-days", "2", "-addext", "subjectAltName=DNS:bench.example.com", "-out", self.cert],
                       check=True, capture_output=True)


def tls(opts, rep):
    need("wrk", "nginx", "openssl")
    up = Upstream()
    cert = Certificate()
    settings = os.path.join(work, "archway-tls-settings.yaml")
    with open(settings, "w") as f:
        f.write("tls: {protocols: [TLSv1.2], ciphers: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]}\n")
    config = archway_routes(up).replace("#END\n", "") + "ssls:\n  - id: bench\n    snis: [bench.example.com]\n" \
        + f"    cert: {json.dumps(open(cert.cert).read())}\n    key: {json.dumps(open(cert.key).read())}\n#END\n"
    peers = [nginx_peer(up, 1, cert),
             archway_peer(1, config, args=("--config", settings), scheme="https", listener="--https-port")]
    for label, jar in opts.jar:  # other builds, for an A/B in the same run
        peers.append(archway_peer(1, config, name=f"archway[{label}]", jar=jar, args=("--config", settings),
                                  scheme="https", listener="--https-port"))
    for label, flags in opts.variant:
        peers.append(archway_peer(1, config, name=f"archway[{label}]", jvm=variant_jvm(flags), args=("--config", settings),
                                  scheme="https", listener="--https-port"))
    for what, headers, target in (("keep-alive", (), 1.0), ("new handshakes", ("Connection: close",), 2.5)):
        label = f"TLS 1.2 ECDHE-ECDSA, {what}, 1 worker"
        res = summary(rounds(peers, Load("/bench", wrk_script(), headers), opts, label))
        rep.section(table(label, res, "nginx"))
        a, n = res["archway"], res["nginx"]
        rep.row(f"TLS {what}: req/s / nginx", f"{a['rps'] / n['rps']:.2f}", f"≥ {target}",
                a["rps"] / n["rps"] >= target)
        for name, v in res.items():  # other builds and options (--jar, --variant)
            if name.startswith("archway["):
                rep.row(f"TLS {what}: {name} / nginx (req/s, p99)",
                        f"{v['rps'] / n['rps']:.2f}, {v['p99'] / n['p99']:.2f}", "", None)
    for p in peers:
        stop(p.proc)
    stop(up.proc)


PLUGINS = """consumers:
  - username: bench
    plugins:
      key-auth: {{key: bench-key}}
upstreams:
  - {{id: up, nodes: {{"127.0.0.1:{port}": 1}}}}
routes:
  - {{id: plain, uri: /plain/*, upstream_id: up}}
  - id: plugins
    uri: /plugins/*
    upstream_id: up
    plugins:
      key-auth: {{}}
      limit-count: {{count: 1000000000, time_window: 60, key: consumer_name}}
      prometheus: {{}}
#END
"""


def plugins(opts, rep):
    need("wrk", "nginx")
    up = Upstream()
    a = archway_peer(1, PLUGINS.format(port=up.port))
    # One process, two routes: measured in turns as two peers.
    peers = [Peer("no plugins", a.proc, a.port, prefix="/plain"),
             Peer("key-auth + limit-count + prometheus", a.proc, a.port, prefix="/plugins")]
    res = rounds(peers, Load("/x", wrk_script(), ("apikey: bench-key",)), opts, "plugins")
    s = summary(res)
    rep.section(table("Plugins on the route, 1 worker (one dataplane, two routes)", s, "no plugins"))
    ratio = s["key-auth + limit-count + prometheus"]["rps"] / s["no plugins"]["rps"]
    rep.row("key-auth + limit-count + prometheus: req/s / no plugins", f"{ratio:.2f}", "≥ 0.95", ratio >= 0.95)
    stop(a.proc)
    stop(up.proc)


def redis(opts, rep):
    need("redis-server", "redis-benchmark")
    redis_port = free_port()
    server = start("redis-server", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", work], CPUS.load())
    wait_port(redis_port, server, "redis-server")
    peers = [("direct", None, redis_port)]
    twem = None
    if shutil.which("nutcracker") or os.path.exists("/usr/sbin/nutcracker"):
        tport = free_port()
        with open(os.path.join(work, "nutcracker.yml"), "w") as f:
            f.write(f"bench:\n  listen: 127.0.0.1:{tport}\n  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n"
                    f"  server_connections: 1\n  servers:\n    - 127.0.0.1:{redis_port}:1\n")
        twem = start("twemproxy", [tool("nutcracker"), "-c", os.path.join(work, "nutcracker.yml"), "-s",
                                   str(free_port())], CPUS.proxy(1))
        wait_port(tport, twem, "twemproxy")
        peers.append(("twemproxy", twem, tport))
    sport = free_port()
    config = (f"stream_routes:\n  - id: redis\n    server_port: {sport}\n    upstream: {{nodes: {{\"127.0.0.1:{redis_port}\": 1}}}}\n"
              "    protocol:\n      name: redis\n      conf: {}\n#END\n")
    a = archway_peer(1, config, listener="--stream-port", port=sport)
    peers.append(("archway", a.proc, sport))
    results = {}
    for pipeline in (1, 16):
        # Pipelined runs carry more commands per round trip: at -P 16 the same count lasted well
        # under a second (a 50-client connect and a scheduler hiccup weighed as much as the run),
        # so the count grows with the depth, a quarter as fast.
        n = opts.redis_requests * max(1, pipeline // 4)
        runs = {name: [] for name, _, _ in peers}
        for name, _, port in peers:  # warm-up: requests, not seconds (redis-benchmark counts)
            settle(lambda s: sum(bench_redis(port, max(n * s // 10, 1000), pipeline)[k] for k in ("set", "get")),
                   opts, f"redis -P {pipeline}: {name}")
        for r in range(opts.rounds):
            for name, proc, port in peers[r % len(peers):] + peers[:r % len(peers)]:
                pid = (proc or server).pid
                cpu0 = cpu_seconds(pid)
                res = bench_redis(port, n, pipeline)
                res["cpu100k"] = (cpu_seconds(pid) - cpu0) / (2 * n) * 100000
                res["rss"] = rss_mb(pid)
                runs[name].append(res)
            log(f"  redis -P {pipeline}: round {r + 1} of {opts.rounds} done")
        results[pipeline] = {name: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for name, rs in runs.items()}
    lines = ["### Redis: redis-benchmark SET and GET, 50 clients (medians)", "",
             "| peer | pipeline | SET req/s | GET req/s | SET p99 ms | GET p99 ms | CPU s / 100k | RSS MB | vs direct (SET, GET) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for pipeline, res in results.items():
        d = res["direct"]
        for name, s in res.items():
            lines.append(f"| {name} | {pipeline} | {s['set']:.0f} | {s['get']:.0f} | {s['set_p99']:.2f} | "
                         f"{s['get_p99']:.2f} | {s['cpu100k']:.2f} | {s['rss']:.0f} | "
                         f"{s['set'] / d['set']:.2f}, {s['get'] / d['get']:.2f} |")
        low = min(res["archway"]["set"] / d["set"], res["archway"]["get"] / d["get"])
        rep.row(f"Redis -P {pipeline}, GET/SET, 50 clients: Archway / direct (lower of the two)", f"{low:.2f}",
                "≥ 0.9", low >= 0.9)
        if "twemproxy" in res:
            t = min(res["twemproxy"]["set"] / d["set"], res["twemproxy"]["get"] / d["get"])
            rep.row(f"Redis -P {pipeline}: twemproxy / direct (peer)", f"{t:.2f}", "", None)
    lines.append("")
    lines.append("CPU s / 100k and RSS (after each run) are the process in between: redis-server for direct, else"
                 " the proxy.")
    rep.section("\n".join(lines) + "\n")
    for p in (a.proc, twem, server):
        if p:
            stop(p)


def bench_redis(port, n, pipeline):
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", "set,get", "-c", "50", "-n", str(n),
           "-P", str(pipeline), "--csv"]
    out = subprocess.run(CPUS.pin(CPUS.load(), cmd), capture_output=True, text=True)
    res = {}
    for line in out.stdout.splitlines()[1:]:
        cols = [c.strip('"') for c in line.split('","')]
        if len(cols) >= 7 and cols[0] in ("SET", "GET"):
            res[cols[0].lower()] = float(cols[1])
            res[cols[0].lower() + "_p99"] = float(cols[6])
    if "set" not in res or "get" not in res:
        raise RuntimeError(f"redis-benchmark on {port} printed no result: {out.stdout[-300:]} {out.stderr[-300:]}")
    return res


def java_bench(cls, args, what, rep, pin=False):
    """Runs a bench class of bench/ and takes its output as a section; its lines
    `ROW|scenario|figure|target|met` (met: true, false or -) become rows of the table. With `pin`,
    the bench and what it starts run on the load generator's CPU, and the bench moves the proxy it
    starts to the proxy's CPU (BenchSupport.pinProxy)."""
    cp = os.path.join(ROOT, "bench", "target", "classes") + ":" + open(
        os.path.join(ROOT, "bench", "target", "classpath.txt")).read().strip()
    cmd = ["java", "-Xmx2g", "-cp", cp, f"io.archway.bench.{cls}", *map(str, args)]
    env = dict(os.environ)
    if pin and CPUS.taskset:
        cmd = CPUS.pin(CPUS.load(), cmd)
        env["ARCHWAY_BENCH_PROXY_CPUS"] = ",".join(map(str, CPUS.proxy(1)))
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed ({out.returncode}): {out.stdout[-800:]} {out.stderr[-800:]}")
    shown = []
    for line in out.stdout.splitlines():
        if line.startswith("ROW|"):
            _, scenario, figure, target, met = line.split("|")
            rep.row(scenario, figure, target, None if met == "-" else met == "true")
        else:
            shown.append(line)
    rep.section(f"### {what}\n\n" + "\n".join(shown).strip() + "\n")
    return out.stdout


def pubsub(opts, rep):
    messages = 20000 if opts.smoke else 300000
    text = java_bench("PubSubBench", [messages, opts.rounds], "Kafka fetch over WebSocket vs a direct consumer", rep,
                      pin=True)
    if "ROW|" not in text:
        m = re.search(r"gateway / direct .*?: ([\d.]+)%", text)
        if not m:
            raise RuntimeError("PubSubBench printed no gateway / direct ratio")
        ratio = float(m.group(1)) / 100
        rep.row("Kafka fetch over WebSocket / direct consumer", f"{ratio:.2f}", "≥ 0.95", ratio >= 0.95)


def scale(opts, rep):
    """The scale rows (bench/run scale: ScaleBench): 100k routes, put -> served, RSS, idle
    connections, start to ready, the operator at 10k ApisixRoutes (fabric8's mock API server)."""
    if opts.smoke:
        args = [10000, 20, 500, 500, 200, "--seconds=1", "--rounds=1"]
    else:
        args = [f"--seconds={opts.seconds}", f"--rounds={opts.rounds}"]
    java_bench("ScaleBench", args, "Scale: 100,000 routes, idle connections, start, operator", rep)


SCENARIOS = {"http": http, "tls": tls, "plugins": plugins, "redis": redis, "pubsub": pubsub, "scale": scale}


def main():
    ap = argparse.ArgumentParser(prog="bench/run all", description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="all")
    ap.add_argument("--smoke", action="store_true", help="1 round of 1 s each: proves the harness works, no figures")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--redis-requests", type=int, default=200000,
                    help="commands of each redis-benchmark run at -P 1; -P 16 runs 4 times as many")
    ap.add_argument("--only", default="", help="comma-separated scenarios of `all`")
    ap.add_argument("--no-scg", dest="scg", action="store_false", help="leave Spring Cloud Gateway out")
    ap.add_argument("--gc", action="store_true", help="also run Archway with G1, ZGC and Parallel (HTTP, 1 worker)")
    ap.add_argument("--jar", action="append", default=[], type=lambda v: tuple(v.split("=", 1)),
                    metavar="LABEL=PATH", help="also run this dataplane jar as archway[LABEL] (HTTP and TLS; an A/B)")
    ap.add_argument("--variant", action="append", default=[], type=lambda v: tuple(v.split("=", 1)),
                    metavar="LABEL=JVM_OPTIONS", help="also run Archway with these JVM options as archway[LABEL] "
                    "(HTTP 1 worker, and TLS), e.g. io_uring=-Darchway.transport=io_uring")
    ap.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    ap.add_argument("--profile", action="store_true", help="JFR on Archway; summaries in bench/profiles/harness-*.txt")
    opts = ap.parse_args()
    if opts.smoke:
        opts.rounds, opts.seconds, opts.warmup, opts.redis_requests = 1, 1, 1, 5000
    opts.seconds, opts.warmup = max(1, round(opts.seconds)), max(1, round(opts.warmup))
    names = list(SCENARIOS) if opts.scenario == "all" else [opts.scenario]
    if opts.only:
        names = [n for n in opts.only.split(",") if n]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        sys.exit(f"bench: unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    for label, jar in opts.jar:
        if not os.path.exists(jar):
            sys.exit(f"bench: --jar {label}={jar}: no such file")
    if not os.path.exists(JAR):
        sys.exit(f"bench: {JAR} is missing: build it with `mvn -pl dataplane -am package -DskipTests`")
    rep = Report()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    head = (f"Archway benchmark {started_at:%Y-%m-%d %H:%M} UTC, commit "
            f"{commit()}, {len(CPUS.all)} CPUs, load average {os.getloadavg()[0]:.2f}; "
            f"{opts.rounds} round(s) of {opts.seconds} s after a {opts.warmup} s warm-up, "
            f"{opts.connections} connections; load generator on CPU {CPUS.load()}, proxy on CPU "
            f"{CPUS.proxy(1)} (1 worker){'' if CPUS.taskset else '; not pinned (taskset missing or one CPU)'}"
            f"{'; SMOKE RUN: the figures mean nothing' if opts.smoke else ''}")
    print(head + "\n", flush=True)
    PROFILE.on = opts.profile
    for n in names:
        log(f"scenario {n}")
        began = time.monotonic()
        SCENARIOS[n](opts, rep)
        PROFILE.write(n, head)
        log(f"scenario {n}: {time.monotonic() - began:.0f} s")
    out = [f"## Targets ({head})", "", "| scenario | today | target | |", "|---|---:|---:|---|"]
    for scenario, figure, target, met in rep.rows:
        mark = "" if met is None else "(smoke)" if opts.smoke else ("met" if met else "**missed**")
        out.append(f"| {scenario} | {figure} | {target} | {mark} |")
    text = "\n".join(out) + "\n"
    print(text, flush=True)
    if opts.record and not opts.smoke:
        command = " ".join(["bench/run", opts.scenario] + [a for a in sys.argv[1:] if a != opts.scenario])
        rows = "\n".join(out[2:])
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as f:
            f.write(f"\n## `{command}` — {started_at:%Y-%m-%d %H:%M} UTC, commit {commit()}\n\n{head}.\n\n"
                    f"{rows}\n\n" + "\n".join(s.replace("### ", "#### ", 1) for s in rep.sections) + "\n")


def commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip() or "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
