"""Load generators: wrk (closed loop, max throughput; also over TLS), h2load
--h1 (open loop at a fixed rate, per-request latencies from its --log-file),
and h2load over HTTP/2 (closed loop; h2c with prior knowledge, or TLS with
ALPN h2).

Both run pinned on the load CPU, as children of the harness (so their CPU
counts as part of the run, not as a disturbance).
"""

import math
import os
import re
import subprocess

from . import procs

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNIT_MS[m.group(2)] if m else float("nan")


def parse_wrk(text):
    d = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    d["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m),", text)
    d["requests"] = int(m.group(1)) if m else 0
    d["seconds"] = float(m.group(2)) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)] if m else float("nan")
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+(\S+)" % pct, text, re.M)
        d["p" + pct + "_ms"] = _ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    d["errors"] = non2xx + (sum(map(int, m.groups())) if m else 0)
    return d


def tcp_passive_opens():
    """TCP connections accepted so far in this network namespace (/proc/net/snmp
    Tcp: PassiveOpens): by the proxies and the upstream, and by anything else
    running on the machine."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [line.split() for line in f if line.startswith("Tcp:")]
        return int(rows[1][rows[0].index("PassiveOpens")])
    except (OSError, IndexError, ValueError):
        return 0


def run_wrk(run, wrk, port, seconds, connections, raw_path, server=None, host=None, path="/", threads=1,
            scheme="http", headers=(), script=None):
    """One wrk run; with `server`, also its CPU ticks over the run (in all,
    and user/kernel apart) and the disturbance. Returns the parsed figures
    (see parse_wrk) plus cpu/disturbance
    and the TCP connections accepted on the machine per request (tcp_opens_per_req).
    scheme "https": HTTP/1.1 over TLS (wrk offers no ALPN); script: a wrk Lua
    script (-s), e.g. to POST a body."""
    argv = [wrk, "-t%d" % threads, "-c%d" % connections, "-d%ss" % _secs(seconds), "--timeout", "5s", "--latency"]
    if host:
        argv += ["-H", "Host: " + host]
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", script]
    argv.append("%s://127.0.0.1:%d%s" % (scheme, port, path))
    dist = procs.Disturbance()
    before = server.cpu_ticks_split() if server else (0, 0)
    opens_before = tcp_passive_opens()
    dist.start()
    r = _run_bounded(argv, seconds, run.load_cpus)
    disturbance = dist.stop()
    opens = tcp_passive_opens() - opens_before
    after = server.cpu_ticks_split() if server else (0, 0)
    user, sys_ = after[0] - before[0], after[1] - before[1]
    with open(raw_path, "w") as f:
        f.write(" ".join(argv) + "\n" + r.stdout + r.stderr)
        f.write("cpu_ticks %d clk_tck %d\n" % (user + sys_, procs.CLK_TCK))
        f.write("user_ticks %d sys_ticks %d\n" % (user, sys_))
        f.write("tcp_passive_opens %d\n" % opens)
        f.write("disturbance %r\n" % disturbance)
    d = parse_wrk(r.stdout)
    if r.returncode != 0 or d["requests"] == 0:
        d["errors"] = d.get("errors", 0) + 1
        d["wrk_failed"] = (r.stderr or r.stdout).strip()[-300:]
    cpu_s = (user + sys_) / procs.CLK_TCK
    d["cpu_us_per_req"] = cpu_s * 1e6 / d["requests"] if d["requests"] else float("nan")
    _split_per_req(d, user, sys_)
    d["cpu_pct"] = 100.0 * cpu_s / d["seconds"] if d["seconds"] == d["seconds"] and d["seconds"] else float("nan")
    d["tcp_opens_per_req"] = opens / d["requests"] if d["requests"] else float("nan")
    d["disturbance"] = disturbance
    d["raw"] = os.path.relpath(raw_path, run.out)
    return d


def _split_per_req(d, user_ticks, sys_ticks):
    """user_us_per_req and sys_us_per_req: the proxy's user-space and kernel
    CPU time per request (utime and stime apart; they add up to cpu_us_per_req)."""
    for key, ticks in (("user_us_per_req", user_ticks), ("sys_us_per_req", sys_ticks)):
        d[key] = ticks / procs.CLK_TCK * 1e6 / d["requests"] if d["requests"] else float("nan")


def _run_bounded(argv, seconds, cpus):
    """Runs a load generator; one that overruns its duration by 30 s is killed
    and its run counted as failed (rather than hanging the harness)."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, preexec_fn=_pin(cpus), timeout=seconds + 30)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return subprocess.CompletedProcess(argv, 124, out, "killed: still running 30 s after its duration\n")


def _secs(seconds):
    return "%d" % max(1, round(seconds))


def _pin(cpus):
    def setup():
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
    return setup


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def parse_h2load(text):
    d = {}
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", text)
    if m:
        total, started, done, ok, failed, errored, timeout = map(int, m.groups())
        d.update(total=total, started=started, done=done, succeeded=ok, failed=failed, errored=errored,
                 timeout=timeout)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        d["non2xx"] = sum(map(int, m.groups()[1:]))
    # h2load prints the duration with a unit: "1.00s", but "999.87ms" (or
    # "us") when a run ends under a second, as a 1 s --quick run can.
    m = re.search(r"finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", text)
    if m:
        scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
        d["seconds"], d["rps"] = float(m.group(1)) * scale, float(m.group(3))
    d["errors"] = d.get("failed", 0) + d.get("non2xx", 0) if "total" in d else 1
    return d


def h2load_argv(h2load, port, seconds, clients, rps_per_client, path="/", host="bench.example", log_file=None):
    argv = [h2load, "--h1", "-c%d" % clients, "-t1", "--rps=%d" % rps_per_client, "-D%d" % max(1, round(seconds)),
            "-H", ":authority: " + host]  # h2load's way to set Host (a "host:" header would be a second one)
    if log_file:
        argv.append("--log-file=" + log_file)
    return argv + ["http://127.0.0.1:%d%s" % (port, path)]


def latencies_ms(log_file):
    """Sorted latencies (ms) of the 2xx requests in an h2load --log-file."""
    lat = []
    try:
        with open(log_file) as f:
            for line in f:
                cols = line.split("\t")
                if len(cols) >= 3 and cols[1].strip().isdigit() and 200 <= int(cols[1]) < 300:
                    lat.append(int(cols[2]) / 1000.0)
    except OSError:
        pass
    lat.sort()
    return lat


def run_h2load(run, h2load, port, seconds, clients, rps_per_client, raw_path, server=None, path="/",
               host="bench.example"):
    """h2load --h1 at a fixed rate (clients x rps_per_client requests/s) for
    `seconds`; latency percentiles from the per-request log (time from sending
    the request to the end of the response)."""
    log_file = raw_path + ".requests.tsv"
    argv = h2load_argv(h2load, port, seconds, clients, rps_per_client, path, host, log_file)
    dist = procs.Disturbance()
    before = server.cpu_ticks() if server else 0
    dist.start()
    r = _run_bounded(argv, seconds, run.load_cpus)
    disturbance = dist.stop()
    after = server.cpu_ticks() if server else 0
    with open(raw_path, "w") as f:
        f.write(" ".join(argv) + "\n" + r.stdout + r.stderr)
        f.write("disturbance %r\n" % disturbance)
    d = parse_h2load(r.stdout)
    if r.returncode != 0:
        d["errors"] = d.get("errors", 0) + 1
        d["h2load_failed"] = (r.stderr or r.stdout).strip()[-300:]
    lat = latencies_ms(log_file)
    d["samples"] = len(lat)
    d["p50_ms"] = percentile(lat, 50)
    d["p99_ms"] = percentile(lat, 99)
    d["p999_ms"] = percentile(lat, 99.9)
    d["max_ms"] = lat[-1] if lat else float("nan")
    cpu_s = (after - before) / procs.CLK_TCK
    d["cpu_pct"] = 100.0 * cpu_s / d["seconds"] if d.get("seconds") else float("nan")
    d["disturbance"] = disturbance
    d["raw"] = os.path.relpath(raw_path, run.out)
    return d


def parse_h2load_tls(text):
    """What h2load negotiated: TLS version, cipher, application protocol (h2, http/1.1, h2c)."""
    d = {}
    for key, pattern in (("tls", r"^TLS Protocol: (\S+)"), ("cipher", r"^Cipher: (\S+)"),
                         ("alpn", r"^Application protocol: (\S+)")):
        m = re.search(pattern, text, re.M)
        if m:
            d[key] = m.group(1)
    return d


def run_h2load_closed(run, h2load, url, seconds, clients, streams, raw_path, server, host="bench.example",
                      connect_to=None, rps_per_client=0):
    """h2load as fast as it goes (closed loop: `clients` connections, `streams`
    requests in flight on each) for `seconds`; the proxy's CPU ticks over the
    run, the disturbance, and p50/p99 from the per-request log (which is
    deleted once read: ~1M lines a run). HTTP/2 over TLS (https URL, ALPN h2)
    or with prior knowledge (http URL, h2c). rps_per_client > 0: each
    connection sends at most that many requests a second (h2load --rps), so
    every proxy gets the same load when all of them can keep up."""
    log_file = os.path.join(run.tmp, os.path.basename(raw_path) + ".requests.tsv")
    argv = [h2load, "-c%d" % clients, "-m%d" % streams, "-t1", "-D%s" % _secs(seconds),
            "-H", ":authority: " + host, "--log-file=" + log_file]
    if url.startswith("https:"):
        argv.append("--tls13-ciphers=TLS_AES_256_GCM_SHA384")  # what wrk (https1) and HAProxy pick: one cipher for all
    if connect_to:
        argv.append("--connect-to=" + connect_to)
    if rps_per_client > 0:
        argv.append("--rps=%d" % rps_per_client)
    argv.append(url)
    dist = procs.Disturbance()
    before = server.cpu_ticks_split()
    dist.start()
    r = _run_bounded(argv, seconds, run.load_cpus)
    disturbance = dist.stop()
    after = server.cpu_ticks_split()
    user, sys_ = after[0] - before[0], after[1] - before[1]
    lat = latencies_ms(log_file)
    try:
        os.unlink(log_file)
    except OSError:
        pass
    with open(raw_path, "w") as f:
        f.write(" ".join(argv) + "\n" + r.stdout + r.stderr)
        f.write("cpu_ticks %d clk_tck %d\n" % (user + sys_, procs.CLK_TCK))
        f.write("user_ticks %d sys_ticks %d\n" % (user, sys_))
        f.write("latencies: %d 2xx, p50 %.3f ms, p99 %.3f ms\n" % (len(lat), percentile(lat, 50), percentile(lat, 99)))
        f.write("disturbance %r\n" % disturbance)
    d = parse_h2load(r.stdout)
    d.update(parse_h2load_tls(r.stdout))
    d["requests"] = d.get("succeeded", 0)
    d.setdefault("rps", 0.0)
    if r.returncode != 0 or not d["requests"]:
        d["errors"] = d.get("errors", 0) + 1
        d["h2load_failed"] = (r.stderr or r.stdout).strip()[-300:]
    d["samples"] = len(lat)
    d["p50_ms"] = percentile(lat, 50)
    d["p99_ms"] = percentile(lat, 99)
    cpu_s = (user + sys_) / procs.CLK_TCK
    d["cpu_us_per_req"] = cpu_s * 1e6 / d["requests"] if d["requests"] else float("nan")
    _split_per_req(d, user, sys_)
    d["cpu_pct"] = 100.0 * cpu_s / d["seconds"] if d.get("seconds") else float("nan")
    d["disturbance"] = disturbance
    d["raw"] = os.path.relpath(raw_path, run.out)
    return d
