"""Part `latency`: open loop at a fixed request rate (h2load --h1 --rps),
p50/p99 per proxy, and the latency each adds over hitting the upstream
directly (measured in the same interleaved rounds as `direct`).

h2load sends each client's requests on a timer (clients x rps-per-client
requests/s) whether or not the previous answers were fast; a client with a
request still outstanding waits for it (HTTP/1.1, no pipelining), so if a
proxy falls behind its latencies are understated, not overstated: check
that the achieved req/s matches the target (it is in the table).
"""

from . import load
from .run import summarize_runs


def run_part(run, proxies):
    a = run.args
    rate, clients, duration, rounds = (1000, 10, 1, 1) if run.quick else (a.rate, a.rate_clients, a.duration, a.rounds)
    per_client = max(1, rate // clients)
    targets = {"direct": run.start_upstream()}
    targets.update(proxies)
    names = list(targets)
    # warm-up: 1 s per target, not counted (connections, caches, JIT-free but lazy allocations)
    for name in names:
        load.run_h2load(run, run.tools["h2load"], targets[name].port, 1, clients, per_client,
                        run.raw_path("latency-warmup-%s.txt" % name))
    runs = {n: [] for n in names}
    for r in range(rounds):
        order = run.rounds_order(names, r)
        run.log("latency round %d/%d at %d req/s: %s" % (r + 1, rounds, per_client * clients, " ".join(order)))
        for name in order:
            s = targets[name]
            d = load.run_h2load(run, run.tools["h2load"], s.port, duration, clients, per_client,
                                run.raw_path("latency-round%d-%s.txt" % (r + 1, name)),
                                server=None if name == "direct" else s)
            d["round"] = r + 1
            runs[name].append(d)
            run.log("  %s: p50 %.3f ms, p99 %.3f ms, %.0f req/s, others %.0f%% of a core"
                    % (name, d["p50_ms"], d["p99_ms"], d.get("rps", 0), d["disturbance"]["others_cpu_pct"]))
    out = {"params": {"rate": per_client * clients, "clients": clients, "duration_s": duration, "rounds": rounds,
                      "tool": "h2load --h1 -c%d --rps=%d (open loop)" % (clients, per_client)},
           "targets": {}}
    for name in names:
        s = summarize_runs(run, runs[name], ("p50_ms", "p99_ms", "p999_ms", "rps"))
        s["all_runs"] = runs[name]
        out["targets"][name] = s
    # p99 is a noisy statistic (the upstream's own p99 moves by 2x between
    # runs): round by round, how often the first proxy's p99 was below each
    # other proxy's says more than the medians alone (a sign test). Only
    # rounds where neither run was disturbed count.
    first, pairs = names[1] if len(names) > 1 else None, {}
    for other in list(proxies)[1:]:
        lower = counted = 0
        for a, b in zip(runs[first], runs[other]):
            if len(run.kept([a, b])) == 2:
                counted += 1
                lower += a["p99_ms"] < b["p99_ms"]
        pairs[other] = {"lower": lower, "rounds": counted}
    out["p99_lower_rounds"] = {"proxy": first, "vs": pairs}
    direct = out["targets"]["direct"]
    for name in proxies:
        t = out["targets"][name]
        t["added_p50_ms"] = t["p50_ms"] - direct["p50_ms"]
        t["added_p99_ms"] = t["p99_ms"] - direct["p99_ms"]
    return out
