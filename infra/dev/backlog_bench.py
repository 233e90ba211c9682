#!/usr/bin/env python3
"""A backlog on one slow destination beside a healthy tenant: does the backlog slow the others?

    infra/dev/backlog_bench.py BINARY [BACKLOG] [RATE] [SECONDS] [SLOW_MS]
    (NO_DRAIN=1 to skip waiting for the backlog to drain)

Starts `BINARY serve` (embedded, a temporary data directory) and two receivers on 127.0.0.1
(nothing else is contacted). Workspace A sends BACKLOG events to a destination that answers
after SLOW_MS (slow, never long enough to count as hanging); then workspace B sends RATE
events/s to a destination that answers at once, for SECONDS. Prints B's ingest->receipt
p50/p99, the server's CPU seconds in that phase, and how long A's backlog took to drain.
Run it against two builds, alternating, to compare them (docs/benchmarks.md).
"""
import base64, hashlib, hmac, json, os, shutil, subprocess, sys, tempfile, threading, time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

binary = sys.argv[1]
backlog = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 50
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20
slow_ms = int(sys.argv[5]) if len(sys.argv) > 5 else 1000

lat, lock = [], threading.Lock()
slow_done = [0]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/slow":
            time.sleep(slow_ms / 1000)
            with lock:
                slow_done[0] += 1
        else:
            sent = json.loads(body)["payload"]["sent"]
            with lock:
                lat.append(time.time() - sent)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


ThreadingHTTPServer.daemon_threads = True
recv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=recv.serve_forever, daemon=True).start()
rurl = f"http://127.0.0.1:{recv.server_address[1]}"

data = tempfile.mkdtemp()
server = subprocess.Popen(
    [binary, "serve", "--listen", "127.0.0.1:0", "--allow-loopback-http", "--data-dir", data],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "error"},
    text=True)
for line in server.stdout:
    if line.startswith("listening on "):
        break
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
creds = json.load(open(os.path.join(data, "credentials.json")))
base = creds["api_url"] + "/api/v1"


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token():
    now = int(time.time())
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": creds["access_key"]}).encode())
    c = b64(json.dumps({"iss": "urn:meshes:m2m:" + creds["access_key"], "aud": "meshes-api",
                        "org": creds["org_id"], "iat": now, "exp": now + 30}).encode())
    sig = hmac.new(creds["secret_key"].encode(), f"{h}.{c}".encode(), hashlib.sha256).digest()
    return f"{h}.{c}.{b64(sig)}"


def post(path, body, headers):
    req = urllib.request.Request(base + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json", **headers})
    return json.load(urllib.request.urlopen(req))


def machine(path, body):
    return post(path, body, {"Authorization": "Bearer " + token()})


def rule(ws, url, event):
    c = machine("/connections", {"workspace": ws, "type": "webhook", "name": url,
                                 "metadata": {"url": url}})
    machine("/rules", {"workspace": ws, "connection": c["connection"]["id"], "event": event,
                       "metadata": {"action": "send_webhook"}})


b = machine("/workspaces", {"name": "healthy"})["workspace"]
rule(creds["workspace_id"], rurl + "/slow", "bl.slow")
rule(b["id"], rurl + "/ok", "bl.ok")
key_a, key_b = creds["publishable_key"], b["publishable_key"]["public_key"]


def send(key, event):
    post("/events", {"event": event, "payload": {"sent": time.time()}},
         {"X-Meshes-Publishable-Key": key})


def burst(n):
    for _ in range(n):
        send(key_a, "bl.slow")


t_burst = time.time()
threads = [threading.Thread(target=burst, args=(backlog // 8,)) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]


def cpu():
    f = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


cpu0, t0, n = cpu(), time.time(), 0
while time.time() - t0 < seconds:
    due = t0 + n / rate
    if due > time.time():
        time.sleep(due - time.time())
    threading.Thread(target=send, args=(key_b, "bl.ok")).start()
    n += 1
deadline = time.time() + 30
while len(lat) < n and time.time() < deadline:
    time.sleep(0.05)
cpu1 = cpu()
with lock:
    got = sorted(lat)
    slow = slow_done[0]
# Then the backlog's drain: how long until every slow event was delivered.
deadline = time.time() + (0 if os.environ.get("NO_DRAIN") else 600)
while slow_done[0] < backlog // 8 * 8 and time.time() < deadline:
    time.sleep(0.05)
drained = time.time() - t_burst


def pct(p):
    return got[min(len(got) - 1, int(p * len(got)))] * 1000 if got else float("nan")


print(json.dumps({"binary": binary, "healthy_sent": n, "healthy_received": len(got),
                  "p50_ms": round(pct(0.5), 1), "p99_ms": round(pct(0.99), 1),
                  "server_cpu_s": round(cpu1 - cpu0, 2), "slow_delivered_in_phase": slow,
                  "backlog_drained_s": round(drained, 1), "server_cpu_total_s": round(cpu(), 2)}))
server.kill()
server.wait()
shutil.rmtree(data, ignore_errors=True)
