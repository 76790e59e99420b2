#!/usr/bin/env python3
# A/B benchmark of dataplane jars against nginx, for the HTTP/1.1 hot path: one worker each, wrk
# -t1 -c50 keep-alive. The upstream nginx and wrk run on CPU 0, the proxies under test (nginx as
# bench/http/run.sh configures it, and each jar) on CPU 1. After a warm-up of every peer, the peers
# take turns over the rounds (the order reversed every other round); the table gives medians, the
# RPS range, and the proxy's CPU seconds per 100k requests (utime + stime from /proc).
# Scenarios: small (24-byte answer), 4k, 64k (answers), upload (1 MB POST), plugins (key-auth +
# limit-count + prometheus; the jars only).
# Usage: bench/http/ab.py SECONDS ROUNDS SCENARIO,... JAR... (JOPTS: extra JVM options)
import subprocess, sys, os, time, re, socket, statistics, signal, tempfile, shutil
secs=int(sys.argv[1]); rounds=int(sys.argv[2]); scen=sys.argv[3].split(","); jars=sys.argv[4:]
def free_port():
    s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; s.close(); return p
W=tempfile.mkdtemp(prefix="archway-ab-"); UP=free_port()
os.chmod(W, 0o755)  # nginx workers (another user) read the answers from here
HERE=os.path.dirname(os.path.abspath(__file__))
done_lua=open(os.path.join(HERE,"percentiles.lua")).read()
for n,size,ch in (("4k",4096,b"a"),("64k",65536,b"b"),("1m",1<<20,b"c")):
    open(f"{W}/{n}","wb").write(ch*size)
open(f"{W}/post.lua","w").write(f'''local f = io.open("{W}/1m", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/octet-stream"
'''+done_lua)
open(f"{W}/plug.lua","w").write('wrk.headers["apikey"] = "bench-key"\n'+done_lua)
procs=[]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
def port_open(p):
    s=socket.socket()
    try: s.connect(("127.0.0.1",p)); return True
    except: return False
    finally: s.close()
def wait(p):
    for _ in range(1200):
        if port_open(p): return
        time.sleep(0.05)
    raise SystemExit(f"port {p}")
def start(cmd, cpu, log):
    p=subprocess.Popen(["taskset","-c",str(cpu)]+cmd, stdout=open(log,"w"), stderr=subprocess.STDOUT)
    procs.append(p); return p
try:
    os.makedirs(W+"/up",exist_ok=True); os.makedirs(W+"/px",exist_ok=True)
    open(W+"/up/nginx.conf","w").write(f"""worker_processes 1; daemon off; pid {W}/up/nginx.pid; error_log {W}/up/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000; client_max_body_size 10m;
  server {{ listen 127.0.0.1:{UP};
   location /4k {{ alias {W}/4k; default_type text/plain; }}
   location /64k {{ alias {W}/64k; default_type text/plain; }}
   location / {{ return 200 "hello from the upstream\\n"; }} }} }}
""")
    start(["nginx","-c",W+"/up/nginx.conf","-p",W+"/up"],0,W+"/up.log"); wait(UP)
    NP=free_port()
    open(W+"/px/nginx.conf","w").write(f"""worker_processes 1; daemon off; pid {W}/px/nginx.pid; error_log {W}/px/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000; client_max_body_size 10m;
  upstream up {{ server 127.0.0.1:{UP}; keepalive 320; }}
  server {{ listen 127.0.0.1:{NP};
    location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }} }} }}
""")
    ng=start(["nginx","-c",W+"/px/nginx.conf","-p",W+"/px"],1,W+"/px.log"); wait(NP)
    # nginx master forks? daemon off + worker_processes 1 -> master + worker; use worker pid for cpu
    time.sleep(0.3)
    kids=subprocess.run(["pgrep","-P",str(ng.pid)],capture_output=True,text=True).stdout.split()
    targets=[("nginx",NP,[ng.pid]+[int(k) for k in kids])]
    cfg=W+"/archway.yaml"
    open(cfg,"w").write(f"""consumers:
  - username: bench
    plugins:
      key-auth: {{key: bench-key}}
upstreams:
  - {{id: up, nodes: {{"127.0.0.1:{UP}": 1}}}}
routes:
  - id: plugins
    uri: /plugins/*
    upstream_id: up
    plugins:
      key-auth: {{}}
      limit-count: {{count: 1000000000, time_window: 60, key: consumer_name}}
      prometheus: {{}}
  - {{id: main, uri: /*, upstream_id: up}}
#END
""")
    extra=os.environ.get("JOPTS","").split()
    for i,j in enumerate(jars):
        p=free_port()
        a=start(["java","-Xms256m","-Xmx256m","-XX:+UseParallelGC","-XX:+AlwaysPreTouch"]+extra+["-jar",j,"--standalone",cfg,"--bind","127.0.0.1","--http-port",str(p),"--https-port","0","--status-port",str(free_port()),"--workers","1","--access-log","off","--admin-port","off"],1,f"{W}/a{i}.log")
        wait(p); targets.append((os.path.basename(j),p,[a.pid]))
    def ticks(pids):
        t=0
        for pid in pids:
            f=open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split()
            t+=int(f[11])+int(f[12])
        return t
    def url(port,s):
        return {"small":f"http://127.0.0.1:{port}/bench","4k":f"http://127.0.0.1:{port}/4k","64k":f"http://127.0.0.1:{port}/64k",
                "upload":f"http://127.0.0.1:{port}/up","plain":f"http://127.0.0.1:{port}/plain/x","plugins":f"http://127.0.0.1:{port}/plugins/x"}[s]
    def script(s):
        return f"{W}/post.lua" if s=="upload" else f"{W}/plug.lua"
    def run(t,s,d):
        name,port,pids=t
        if s=="plugins" and name=="nginx": return None
        t0=ticks(pids)
        out=subprocess.run(["taskset","-c","0","wrk","-t1","-c50",f"-d{d}s","-s",script(s),url(port,s)],capture_output=True,text=True).stdout
        t1=ticks(pids)
        m=re.search(r"RESULT (.*)",out)
        if not m: print("WRK FAILED",name,s,out,flush=True); return None
        r={k:float(v) for k,v in re.findall(r"(\w+)=([\d.]+)",m.group(1))}
        r["cpu100k"]=(t1-t0)/os.sysconf("SC_CLK_TCK")/(r["rps"]*d)*1e5
        # non-2xx
        n=re.search(r"Non-2xx or 3xx responses: (\d+)",out); r["non2xx"]=int(n.group(1)) if n else 0
        return r
    for s in scen:
        for t in targets: run(t,s,5)  # warm-up
    res={}
    for rd in range(rounds):
        order=targets if rd%2==0 else targets[::-1]
        for s in scen:
            for t in order:
                r=run(t,s,secs)
                if r: res.setdefault((s,t[0]),[]).append(r); print(rd,s,t[0],{k:round(v,3) for k,v in r.items()},flush=True)
    print("\nscenario target rps(med,min-max) p50ms p99ms p999ms cpu_s/100k  rps/nginx p99/nginx rps/first-jar")
    for s in scen:
        base=res.get((s,"nginx")); first=res.get((s,targets[1][0]))
        for t in targets:
            rs=res.get((s,t[0]))
            if not rs: continue
            med=lambda k,x=rs: statistics.median([r[k] for r in x])
            line=f"{s:8} {t[0]:14} {med('rps'):8.0f} ({min(r['rps'] for r in rs):.0f}-{max(r['rps'] for r in rs):.0f}) {med('p50')/1000:6.2f} {med('p99')/1000:6.2f} {med('p999')/1000:6.2f} {med('cpu100k'):6.2f}"
            if base: line+=f"  {med('rps')/med('rps',base):.3f} {med('p99')/med('p99',base):.2f}"
            if first: line+=f"  {med('rps')/med('rps',first):.3f}"
            errs=sum(r['errors']+r['non2xx'] for r in rs)
            if errs: line+=f" ERR={errs}"
            print(line)
finally:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try: p.wait(10)
        except: p.kill()
    shutil.rmtree(W, ignore_errors=True)
