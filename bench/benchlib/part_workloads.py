"""Parts `newconn`, `body64k`, `conn1000` and `workers2`: issue 17's CPU per
request workloads beyond small keep-alive requests (`throughput`) and HTTPS
keep-alive (`https1`). Each is the throughput part's measurement (wrk closed
loop, warm-up, interleaved rounds, req/s and the proxy's CPU time per request,
the disturbance check) on another workload:

- newconn: a new TCP connection per request. wrk sends `Connection: close`;
  the proxy answers and closes, and wrk reconnects (it keeps a connection
  only when the response lets it). CPU per request includes accept and
  close. Before the rounds each proxy is checked to say `connection: close`
  and close; during them, the TCP connections the machine accepted
  (/proc/net/snmp PassiveOpens) per request show that every request had its
  own (1.00 = one client connection each, upstream connections kept).
- body64k: POST with a 64 KiB body (a wrk Lua script) to /body64k, which the
  upstream answers with 64 KiB. Before the rounds each proxy is checked to
  forward the whole body (the upstream's /body64k-check reads it and logs its
  length) and to return all 64 KiB; after them, that nginx wrote no temp file.
- conn1000: the throughput workload on 1,000 concurrent keep-alive
  connections (wrk -c1000; the harness raises its open-files limit).
- workers2: the throughput workload against a second set of proxies with two
  workers each (Torii --workers 2, nginx worker_processes 2, HAProxy
  nbthread 2), pinned to both cores (see proxy_cpus_for_workers2).
"""

import os
import resource
import socket
import time

from . import load, servers
from .run import summarize_runs, warmed_rounds

CONN1000_CONNECTIONS = 1000


def raise_nofile_limit(log, want=4 * CONN1000_CONNECTIONS):
    """Soft RLIMIT_NOFILE up to `want` (at most the hard limit), before the
    upstream and the proxies start: they, and wrk, inherit it. conn1000 needs
    1,000 client and up to 1,000 upstream connections in a proxy."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(max(soft, want), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < want:
        log("open-files limit %d < %d: the conn1000 part may see connect errors" % (target, want))


def body_script(run):
    """The wrk Lua script of part body64k: every request a POST with a 64 KiB body."""
    path = os.path.join(run.tmp, "post64k.lua")
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n'
                'wrk.body = string.rep("b", %d)\n'
                'wrk.headers["Content-Type"] = "application/octet-stream"\n' % servers.BODY64K_SIZE)
    return path


def _request(port, path, method="GET", body=b"", headers=()):
    """(head text, body bytes, closed by the server) of one request sent with
    `Connection: close`, read until the server closes (5 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as s:
        head = "%s %s HTTP/1.1\r\nHost: bench.example\r\nConnection: close\r\n" % (method, path)
        if body:
            head += "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n" % len(body)
        head += "".join(h + "\r\n" for h in headers) + "\r\n"
        s.sendall(head.encode() + body)
        chunks, closed = [], False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
    data = b"".join(chunks)
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest, closed


def check_closes(run, s):
    """newconn: the proxy answers a `Connection: close` request with the body,
    says `connection: close`, and closes the connection."""
    head, body, closed = _request(s.port, "/")
    status = head.split("\r\n")[0]
    says_close = any(line.lower().replace(" ", "") == "connection:close" for line in head.split("\r\n")[1:])
    if " 200 " not in status + " " or body.decode("latin-1").strip() != servers.BODY or not closed or not says_close:
        raise SystemExit("bench/compare: newconn: %s on a Connection: close request: %r, body %r, %s, %s"
                         % (s.name, status, body[:60], "closed" if closed else "NOT closed",
                            "says close" if says_close else "no connection: close header"))
    return {"says_close": says_close, "closed": closed}


def check_body(run, s):
    """body64k: the proxy forwards a whole 64 KiB request body (the upstream
    read it: its check log has the length) and returns the 64 KiB response."""
    payload = b"c" * servers.BODY64K_SIZE
    before = run.upstream.body_checks()
    head, body, _ = _request(s.port, servers.BODY64K_PATH + "-check", "POST", payload)
    got, deadline = None, time.monotonic() + 5.0
    while got is None and time.monotonic() < deadline:  # nginx logs the request after it answered
        got = run.upstream.body_received(before)
        time.sleep(0.02)
    status = head.split("\r\n")[0]
    if " 200 " not in status + " " or len(body) != servers.BODY64K_SIZE or not got or got[0] < len(payload):
        raise SystemExit("bench/compare: body64k: %s: %r, %d response bytes (want %d); the upstream read %s"
                         % (s.name, status, len(body), servers.BODY64K_SIZE,
                            "a %d-byte request" % got[0] if got else "nothing"))
    return {"upstream_request_bytes": got[0], "response_bytes": len(body)}


def nginx_temp_file_warnings(s):
    """How often nginx said it buffered a body to a temporary file (its error log)."""
    try:
        with open(s.error_log, errors="replace") as f:
            return sum(1 for line in f if "buffered to a temporary file" in line)
    except (OSError, AttributeError):
        return 0


def proxy_cpus_for_workers2(run):
    """workers2: both cores for the proxy (two workers on one core would measure
    one core shared by two); the load, the upstream and the harness stay on
    the load CPU, which the proxy's second worker shares with them."""
    if run.proxy_cpus is None:
        return None
    return set(run.proxy_cpus) | set(run.load_cpus)


def worker_count(s):
    """What the proxy was started with: Torii's last --workers, nginx's
    worker_processes, HAProxy's nbthread."""
    if isinstance(s, servers.Torii):
        args = s.argv_used
        return int([args[i + 1] for i, x in enumerate(args) if x == "--workers"][-1])
    return s.workers if isinstance(s, servers.Nginx) else s.threads


def start_workers2(run, names):
    """The workers2 proxies: name -> server (the same names, so the ratios line up)."""
    cpus = proxy_cpus_for_workers2(run)
    out = {}
    for name in sorted(names, key=lambda n: n != "torii"):
        if name == "torii":
            s = servers.Torii(run, cpus, run.args.torii, name="torii-w2", extra_args=["--workers", "2"])
        elif name == "nginx":
            s = servers.Nginx(run, cpus, run.tools["nginx"], workers=2, name="nginx-w2")
        else:
            s = servers.Haproxy(run, cpus, run.tools["haproxy"], threads=2, name="haproxy-w2")
        s.start()
        if name == "torii":
            s.check_serves()
        out[name] = s
        run.log("workers2: %s on 127.0.0.1:%d (pid %d), CPUs %s" % (s.name, s.port, s.proc.pid,
                                                                  sorted(cpus) if cpus else "any"))
    return {n: out[n] for n in names}


class WorkloadPart:
    def __init__(self, name, title):
        self.name = name
        self.title = title  # one line for the table's heading

    def connections(self, run):
        if self.name == "conn1000":
            return 100 if run.quick else CONN1000_CONNECTIONS  # --quick: a smoke check, not the figure
        return run.args.connections

    def params(self, run):
        c = self.connections(run)
        return {"newconn": "wrk -t1 -c%d -H 'Connection: close' (a new connection per request)" % c,
                "body64k": "wrk -t1 -c%d -s post64k.lua: POST %s, 64 KiB request and response bodies"
                           % (c, servers.BODY64K_PATH),
                "conn1000": "wrk -t1 -c%d --latency (%d concurrent keep-alive connections)" % (c, c),
                "workers2": "wrk -t1 -c%d --latency, proxies with 2 workers on CPUs %s"
                            % (c, ",".join(map(str, sorted(proxy_cpus_for_workers2(run) or ["any"]))))}[self.name]

    def measure(self, run, s, seconds, raw_path):
        kw = {}
        if self.name == "newconn":
            kw["headers"] = ("Connection: close",)
        elif self.name == "body64k":
            kw["path"], kw["script"] = servers.BODY64K_PATH, self.script
        return load.run_wrk(run, run.tools["wrk"], s.port, seconds, self.connections(run), raw_path, s, **kw)

    def run_part(self, run, proxies):
        a = run.args
        rounds, duration, warmup = (1, 1, 0) if run.quick else (a.rounds, a.duration, a.warmup)
        checks = {}
        started = {}
        if self.name == "workers2":
            started = proxies = start_workers2(run, list(proxies))
        try:
            if self.name == "body64k":
                self.script = body_script(run)
            for name, s in proxies.items():
                if self.name == "newconn":
                    checks[name] = check_closes(run, s)
                elif self.name == "body64k":
                    checks[name] = check_body(run, s)
            names = list(proxies)
            runs = warmed_rounds(run, self.name, proxies, rounds, duration, warmup,
                                 lambda s, seconds, raw: self.measure(run, s, seconds, raw))
            out = {"params": {"rounds": rounds, "duration_s": duration, "warmup_s": warmup,
                              "connections": self.connections(run), "tool": self.params(run), "title": self.title},
                   "proxies": {}}
            for name in names:
                s = summarize_runs(run, runs[name], ("rps", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req",
                                                     "cpu_pct", "p50_ms", "p99_ms", "tcp_opens_per_req"))
                kept = run.kept(runs[name]) or runs[name]
                s["rps_min"] = min(r["rps"] for r in kept)
                s["rps_max"] = max(r["rps"] for r in kept)
                s["check"] = checks.get(name)
                s["server"] = proxies[name].name
                if self.name == "workers2":
                    s["workers"] = worker_count(proxies[name])
                if name == "nginx" and self.name == "body64k":
                    s["temp_file_warnings"] = nginx_temp_file_warnings(proxies[name])
                s["all_runs"] = runs[name]
                out["proxies"][name] = s
            return out
        finally:
            for s in started.values():
                s.stop()


NEWCONN = WorkloadPart("newconn", "a new TCP connection per request")
BODY64K = WorkloadPart("body64k", "64 KiB request and response bodies")
CONN1000 = WorkloadPart("conn1000", "1,000 concurrent keep-alive connections")
WORKERS2 = WorkloadPart("workers2", "small keep-alive requests, 2 workers per proxy")
