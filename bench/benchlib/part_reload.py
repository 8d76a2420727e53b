"""Part `reload`: config changes under load, counting every error a client sees.

For each proxy in turn: h2load --h1 at a fixed rate (its connections are kept
alive) plus KeepAliveLoad (50 keep-alive HTTP/1.1 connections, each sending a
request every 100 ms, so they sit idle between requests as real clients' pooled
connections do: that is where reloads bite). Meanwhile the config changes
`--reload-changes` times, `--reload-interval` s apart (see servers.py for how each
proxy is reloaded and what changes). Afterwards the harness checks the last
change is in force (nginx/HAProxy: the response header x-bench-reload; Torii:
its route in /config_dump), so a proxy that ignored the reloads cannot look
good.

Errors counted: h2load's failed requests and non-2xx; KeepAliveLoad's errors
(see clients.KeepAliveLoad). Reported beside them, not counted as errors:
server-side closes of idle connections that a client notices before reusing
them, and h2load's missing requests (h2load does not reconnect: when the
server closes one of its connections, that client stops, and the requests it
should have sent at the fixed rate are never sent).
"""

import os
import subprocess
import time

from . import clients, load, procs


def run_part(run, proxies):
    a = run.args
    if run.quick:
        changes, interval, ka_conns, rate, h2_clients = 5, 0.2, 10, 200, 5
    else:
        changes, interval, ka_conns, rate, h2_clients = a.reload_changes, a.reload_interval, 50, a.reload_rate, 10
    per_client = max(1, rate // h2_clients)
    seconds = int(changes * interval + 3)
    out = {"params": {"changes": changes, "interval_s": interval, "keepalive_connections": ka_conns,
                      "keepalive_request_interval_s": 0.1, "h2load": "--h1 -c%d --rps=%d -D%d"
                      % (h2_clients, per_client, seconds)},
           "proxies": {}}
    for name, s in proxies.items():
        run.log("reload %s: %d changes every %.2f s under load" % (name, changes, interval))
        raw = run.raw_path("reload-%s.txt" % name)
        argv = load.h2load_argv(run.tools["h2load"], s.port, seconds, h2_clients, per_client)
        h2 = run.procs.start(argv, raw, run.load_cpus)
        ka = clients.KeepAliveLoad(s.port, ka_conns, 0.1)
        dist = procs.Disturbance()
        dist.start()
        ka.start()
        time.sleep(1.0)
        reload_failures = 0
        for i in range(1, changes + 1):
            t = time.monotonic()
            try:
                s.reload(i)
            except (OSError, subprocess.SubprocessError) as e:
                reload_failures += 1
                run.log("  reload %d failed: %s" % (i, e))
            time.sleep(max(0.0, interval - (time.monotonic() - t)))
        try:
            h2.wait(seconds + 30)
        except subprocess.TimeoutExpired:
            run.procs.stop(h2)
        ka_counts = ka.stop()
        disturbance = dist.stop()
        applied = s.applied(changes)
        h2d = load.parse_h2load(open(raw).read())
        # h2load does not reconnect: a client whose connection the server closed
        # stops, and the requests it would have sent at the fixed rate are missing
        h2d["expected"] = h2_clients * per_client * seconds
        h2d["missing"] = max(0, h2d["expected"] - h2d.get("total", 0))
        d = {"changes": changes, "reload_failures": reload_failures, "last_change_served": applied,
             "h2load": h2d, "keepalive": ka_counts,
             "errors": h2d.get("errors", 1) + ka_counts["errors"] + reload_failures,
             "alive": s.alive(), "disturbance": disturbance}
        out["proxies"][name] = d
        run.log("  %s: %d errors (h2load %d of %d, keep-alive %d of %d %s), idle closes %d, last change served: %s"
                % (name, d["errors"], h2d.get("errors", -1), h2d.get("total", 0), ka_counts["errors"],
                   ka_counts["sent"], ka_counts["error_kinds"] or "", ka_counts["idle_closed"], applied))
        if not s.alive():
            raise SystemExit("bench/compare: %s died during the reload run (logs in %s)" % (name, run.logs))
    return out
