"""Part `idle`: RSS per idle keep-alive connection.

For each proxy: a little traffic first (so lazy allocations are not charged
to the connections), RSS (VmRSS, summed over the proxy's processes), then N
connections each doing one request and staying open, RSS again after a
settle pause, and (after - before) / N. It also checks the connections are
still open when RSS is read (a proxy that closed them would look cheap).

--idle-connections N sets N (10,000 is issue 17's figure); --idle-workers 4
also starts a Torii with --workers 4 (row torii-w4). Every worker gets its
warm-up: the warm-up connections are spread by the kernel over the workers
(SO_REUSEPORT) like the measured ones.
"""

import time

from . import clients, procs, servers


def measure(run, name, s, n, warm_connections):
    warm = [clients.KeepAliveConn(s.port) for _ in range(warm_connections)]
    for _ in range(max(1, 200 // warm_connections)):
        for c in warm:
            c.request()
    for c in warm:
        c.close()
    time.sleep(0.5)
    dist = procs.Disturbance()
    dist.start()
    before = s.rss_kib()
    conns, failures = clients.open_idle(s.port, n)
    time.sleep(1.0)
    after = s.rss_kib()
    open_now = clients.still_open(conns)
    disturbance = dist.stop()
    for c in conns:
        c.close()
    d = {"rss_before_kib": before, "rss_after_kib": after, "opened": len(conns), "failures": failures,
         "still_open": open_now,
         "kib_per_conn": (after - before) / len(conns) if conns else float("nan"),
         "processes": len(s.pids()), "disturbance": disturbance}
    run.log("idle %s: %d connections, RSS %d -> %d KiB, %.2f KiB/connection%s"
            % (name, len(conns), before, after, d["kib_per_conn"],
               "" if open_now == len(conns) else " (only %d still open!)" % open_now))
    time.sleep(0.5)
    return d


def run_part(run, proxies):
    n = 100 if run.quick else run.args.idle_connections
    workers = [int(w) for w in run.args.idle_workers.split(",") if w.strip()]
    out = {"params": {"connections": n, "torii_workers": workers}, "proxies": {}}
    for name, s in proxies.items():
        out["proxies"][name] = measure(run, name, s, n, 1)
    if "torii" in proxies:
        for w in workers:
            name = "torii-w%d" % w
            s = servers.Torii(run, run.proxy_cpus, run.args.torii, name=name, extra_args=["--workers", str(w)])
            s.start()
            try:
                out["proxies"][name] = measure(run, name, s, n, 4 * w)
            finally:
                s.stop()
    return out
