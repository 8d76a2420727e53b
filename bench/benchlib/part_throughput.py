"""Part `throughput`: closed-loop wrk against each proxy, interleaved rounds
(A B C, B C A, ...), requests/s and the proxy's CPU time per request."""

from . import load
from .run import summarize_runs, warmed_rounds


def run_part(run, proxies):
    a = run.args
    rounds, duration, warmup = (1, 1, 0) if run.quick else (a.rounds, a.duration, a.warmup)
    names = list(proxies)
    runs = warmed_rounds(run, "throughput", proxies, rounds, duration, warmup, lambda s, seconds, raw: load.run_wrk(
        run, run.tools["wrk"], s.port, seconds, a.connections, raw, s))
    out = {"params": {"rounds": rounds, "duration_s": duration, "warmup_s": warmup, "connections": a.connections,
                      "tool": "wrk -t1 -c%d --latency (closed loop)" % a.connections},
           "proxies": {}}
    for name in names:
        s = summarize_runs(run, runs[name], ("rps", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req", "cpu_pct",
                                             "p50_ms", "p99_ms"))
        kept = run.kept(runs[name]) or runs[name]
        s["rps_min"] = min(r["rps"] for r in kept)
        s["rps_max"] = max(r["rps"] for r in kept)
        s["all_runs"] = runs[name]
        out["proxies"][name] = s
    return out
