"""Part `idle`: RSS per idle keep-alive connection.

For each proxy: a little traffic first (so lazy allocations are not charged
to the connections), RSS (VmRSS, summed over the proxy's processes), then N
connections each doing one request and staying open, RSS again after a
settle pause, and (after - before) / N. It also checks the connections are
still open when RSS is read (a proxy that closed them would look cheap).
"""

import time

from . import clients, procs


def run_part(run, proxies):
    n = 100 if run.quick else run.args.idle_connections
    out = {"params": {"connections": n}, "proxies": {}}
    for name, s in proxies.items():
        warm = clients.KeepAliveConn(s.port)
        for _ in range(200):
            warm.request()
        warm.close()
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
        out["proxies"][name] = d
        run.log("idle %s: %d connections, RSS %d -> %d KiB, %.2f KiB/connection%s"
                % (name, len(conns), before, after, d["kib_per_conn"],
                   "" if open_now == len(conns) else " (only %d still open!)" % open_now))
        time.sleep(0.5)
    return out
