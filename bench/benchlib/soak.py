"""bench/soak: Torii under a steady load for a long time, with a config change
every few seconds, to show that nothing creeps: resident memory, open file
descriptors and p99 latency are sampled once a window and compared between
the first and last windows (issue 17). Long by design (30 min by default):
it is not part of CI, nor of bench/compare.

Load: h2load --h1 at a fixed rate on keep-alive connections (the same client
as bench/compare's latency part), one run per window so that each window has
its own latency percentiles. Changes: a thread rewrites the VirtualService
every --change-interval s (a new route each time, as bench/compare's reload
part does); the last one is checked in force at the end.
"""

import argparse
import json
import os
import sys
import threading
import time

from . import cli, deps, load, servers
from .run import Run


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/soak", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--torii", default=os.environ.get("TORII_BIN"),
                   help="torii binary (default: build-bench/torii, built by bench/build.sh)")
    p.add_argument("--duration", type=int, default=1800, help="seconds of load in all")
    p.add_argument("--window", type=int, default=60, help="seconds per sample (one h2load run)")
    p.add_argument("--rate", type=int, default=2000, help="requests per second in all")
    p.add_argument("--clients", type=int, default=20, help="keep-alive connections sharing --rate")
    p.add_argument("--change-interval", type=float, default=10.0, help="seconds between config changes")
    p.add_argument("--workers", type=int, default=1, help="torii --workers")
    p.add_argument("--upstream-port", type=int, default=18090)
    p.add_argument("--no-pin", action="store_true", help="do not pin the proxy and the load to CPUs")
    p.add_argument("--no-install", action="store_true", help="do not apt-get install missing tools")
    p.add_argument("--results", default=os.path.join(cli.BENCH, "results"), help="results root")
    a = p.parse_args(argv)
    if a.window > a.duration or a.window < 5:
        p.error("--window must be between 5 s and --duration")
    if a.rate < a.clients:
        p.error("--rate must give each of the --clients at least one request a second")
    return a


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


class Changer(threading.Thread):
    """Rewrites Torii's VirtualService every `interval` s until stopped."""

    def __init__(self, torii, interval):
        super().__init__(daemon=True)
        self.torii, self.interval = torii, interval
        self.count = 0
        self.failures = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(self.interval):
            try:
                self.torii.reload(self.count + 1)
                self.count += 1
            except OSError:
                self.failures += 1


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    logger = lambda m: print("[soak] " + m, file=sys.stderr, flush=True)
    tools = deps.ensure(["nginx", "curl", "h2load"], not a.no_install, logger)
    # The harness's Run wants bench/compare's arguments: its defaults, plus ours.
    compare_argv = ["reload", "--only", "torii", "--upstream-port", str(a.upstream_port), "--results", a.results]
    if a.torii:
        compare_argv += ["--torii", a.torii]
    if a.no_pin:
        compare_argv.append("--no-pin")
    ca = cli.parse_args(compare_argv)
    if ca.build_torii:
        cli.build_torii(logger)
    run = Run(ca, tools)
    logger("results in " + run.out)
    windows = []
    try:
        run.start_upstream()
        torii = servers.Torii(run, run.proxy_cpus, ca.torii, extra_args=["--workers", str(a.workers)])
        torii.start()
        torii.check_serves()
        pid = torii.proc.pid
        changer = Changer(torii, a.change_interval)
        changer.start()
        per_client = max(1, a.rate // a.clients)
        n = a.duration // a.window
        print("%6s %9s %7s %8s %8s %9s %5s %8s" % ("t(s)", "requests", "errors", "p50 ms", "p99 ms", "RSS MiB",
                                                 "fds", "changes"), flush=True)
        for i in range(n):
            d = load.run_h2load(run, run.tools["h2load"], torii.port, a.window, a.clients, per_client,
                                run.raw_path("soak-%03d.txt" % i), server=torii)
            try:
                os.remove(run.raw_path("soak-%03d.txt" % i) + ".requests.tsv")  # ~100k lines a window
            except OSError:
                pass
            w = {"t_s": (i + 1) * a.window, "requests": d.get("succeeded", 0), "errors": d.get("errors", 0),
                 "p50_ms": d["p50_ms"], "p99_ms": d["p99_ms"], "rss_mib": torii.rss_kib() / 1024.0,
                 "fds": fd_count(pid), "changes": changer.count, "cpu_pct": d.get("cpu_pct")}
            windows.append(w)
            print("%6d %9d %7d %8.2f %8.2f %9.1f %5d %8d" % (w["t_s"], w["requests"], w["errors"], w["p50_ms"],
                                                          w["p99_ms"], w["rss_mib"], w["fds"], w["changes"]),
                  flush=True)
        changer.stopping.set()
        changer.join()
        last_change_served = changer.count == 0 or torii.applied(changer.count)
        first, last = windows[0], windows[-1]
        # The first window includes warm-up (allocator arenas, connection
        # buffers); growth is judged from the second window when there is one.
        base = windows[1] if len(windows) > 2 else first
        summary = {
            "params": vars(a), "windows": windows, "changes": changer.count, "change_failures": changer.failures,
            "last_change_served": last_change_served,
            "errors": sum(w["errors"] for w in windows),
            "rss_growth_mib": last["rss_mib"] - base["rss_mib"],
            "fd_growth": last["fds"] - base["fds"],
            "p99_first_ms": first["p99_ms"], "p99_last_ms": last["p99_ms"],
        }
        with open(os.path.join(run.out, "soak.json"), "w") as f:
            json.dump(summary, f, indent=1)
        print("\n%d s, %d changes (last one served: %s), %d errors; RSS %+.1f MiB and fds %+d from t=%d s to the "
              "end; p99 %.2f ms in the first window, %.2f ms in the last"
              % (a.duration, changer.count, "yes" if last_change_served else "NO", summary["errors"],
                 summary["rss_growth_mib"], summary["fd_growth"], base["t_s"], first["p99_ms"], last["p99_ms"]))
        return 0 if last_change_served and summary["errors"] == 0 else 1
    finally:
        run.close()
