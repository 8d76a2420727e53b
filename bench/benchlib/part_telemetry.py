"""Part `telemetry` (Torii only): what Torii's own telemetry costs per request.

Issue 14 budgets Istio's standard metrics at under 3% of the CPU per request.
This part runs the throughput part's measurement (wrk closed loop, interleaved
rounds, the proxy's CPU time per request) against Torii processes that differ
only in their flags, on the bench config:

- `off`: `--no-istio-metrics` (Envoy's own cluster/listener stats stay; they
  are what every proxy here keeps, and what Torii had before issue 14);
- `metrics`: the default, Istio's standard metrics recorded per request;
- `metrics+log`: the default plus `--access-log FILE` (Istio's text format),
  lines written by the writer thread to a file on the run's temp dir.

Each variant's CPU per request is reported with its ratio to `off`.
"""

import os

from . import load, servers
from .run import interleaved_rounds, summarize_variants

# (name, extra `torii run` flags); {tmp} is the run's temp dir
VARIANTS = (("off", ["--no-istio-metrics"]),
            ("metrics", []),
            ("metrics+log", ["--access-log", "{tmp}/telemetry-access.log"]))
METRICS_BUDGET = 1.03  # issue 14: metrics cost under 3% CPU per request


def run_part(run, _proxies):
    a = run.args
    rounds, duration, warmup = (1, 1, 0) if run.quick else (a.rounds, a.duration, a.warmup)
    run.start_upstream()
    started = {}
    try:
        for name, flags in VARIANTS:
            s = servers.Torii(run, run.proxy_cpus, a.torii, name="torii-telemetry-" + name,
                              extra_args=[f.replace("{tmp}", run.tmp) for f in flags])
            s.start()
            s.check_serves()
            started[name] = s
            run.log("telemetry: torii %s on 127.0.0.1:%d (pid %d)" % (name, s.port, s.proc.pid))
        names = [n for n, _ in VARIANTS]
        for name in names if warmup > 0 else []:
            load.run_wrk(run, run.tools["wrk"], started[name].port, warmup, a.connections,
                         run.raw_path("telemetry-warmup-%s.txt" % name), started[name])
        runs = interleaved_rounds(run, "telemetry", started, rounds, lambda name, s, r: load.run_wrk(
            run, run.tools["wrk"], s.port, duration, a.connections,
            run.raw_path("telemetry-round%d-%s.txt" % (r, name)), s))
        log_path = os.path.join(run.tmp, "telemetry-access.log")
        out = {"params": {"rounds": rounds, "duration_s": duration, "warmup_s": warmup,
                          "tool": "wrk -t1 -c%d --latency (closed loop)" % a.connections,
                          "variants": {n: f for n, f in VARIANTS}, "metrics_budget": METRICS_BUDGET,
                          "access_log_bytes": os.path.getsize(log_path) if os.path.exists(log_path) else 0},
               "variants": summarize_variants(run, runs, names, "off", "cpu_vs_off")}
        return out
    finally:
        for s in started.values():
            s.stop()
