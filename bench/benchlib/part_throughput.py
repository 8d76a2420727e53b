"""Part `throughput`: closed-loop wrk against each proxy, interleaved rounds
(A B C, B C A, ...), requests/s and the proxy's CPU time per request."""

from . import load
from .run import interleaved_rounds, summarize_runs


def run_part(run, proxies):
    a = run.args
    rounds, duration, warmup = (1, 1, 0) if run.quick else (a.rounds, a.duration, a.warmup)
    names = list(proxies)
    for name in names if warmup > 0 else []:
        run.log("throughput: warm-up %s (%ds)" % (name, warmup))
        load.run_wrk(run, run.tools["wrk"], proxies[name].port, warmup, a.connections,
                     run.raw_path("throughput-warmup-%s.txt" % name), proxies[name])
    runs = interleaved_rounds(run, "throughput", proxies, rounds, lambda name, s, r: load.run_wrk(
        run, run.tools["wrk"], s.port, duration, a.connections,
        run.raw_path("throughput-round%d-%s.txt" % (r, name)), s))
    out = {"params": {"rounds": rounds, "duration_s": duration, "warmup_s": warmup, "connections": a.connections,
                      "tool": "wrk -t1 -c%d --latency (closed loop)" % a.connections},
           "proxies": {}}
    for name in names:
        s = summarize_runs(run, runs[name], ("rps", "cpu_us_per_req", "cpu_pct", "p50_ms", "p99_ms"))
        kept = run.kept(runs[name]) or runs[name]
        s["rps_min"] = min(r["rps"] for r in kept)
        s["rps_max"] = max(r["rps"] for r in kept)
        s["all_runs"] = runs[name]
        out["proxies"][name] = s
    return out
