"""Part `scale` (Torii only: nginx and HAProxy do not read Istio config).

- Three Torii processes, each with one worker pinned like the others: `one`
  (bench/config: 1 route), `hosts` (N VirtualService hosts, N routes and N
  Services/ServiceEntries with endpoints, N clusters) and `routes` (one
  VirtualService with N routes). wrk runs against each in interleaved rounds,
  to the last-declared host / route; reported: requests/s, CPU us/request,
  and the ratios hosts/one and routes/one.
- RSS of each once loaded (after a short warm-up): the `hosts` one is the
  "RSS with N Services/ServiceEntries and their endpoints".
- Config change to serving, on the `hosts` process: each change writes a file
  with a VirtualService for a new host probe-<k>; the time from the rename to
  the first 200 for that host (polled on a keep-alive connection every ~2 ms;
  404 before) is one sample. p50/p99 over the changes; /stats
  snapshot_version confirms one new snapshot per change.
"""

import os
import re
import time

from . import clients, load, procs, scale_configs, servers
from .load import percentile
from .run import summarize_runs


def run_part(run, _proxies):
    a = run.args
    n = 200 if run.quick else a.scale_objects
    changes = 5 if run.quick else a.scale_changes
    rounds, duration = (1, 1) if run.quick else (a.rounds, a.duration)
    run.start_upstream()
    cases = {}
    for case in ("one", "hosts", "routes"):
        d = os.path.join(run.conf, "torii-scale-" + case)
        if case == "one":
            info = scale_configs.one(d, run.upstream_port)
        elif case == "hosts":
            info = scale_configs.hosts(d, run.upstream_port, n)
        else:
            info = scale_configs.routes(d, run.upstream_port, n)
        run.log("scale: starting torii with config '%s' (%d objects)" % (case, info["objects"]))
        s = servers.Torii(run, run.proxy_cpus, a.torii, config_dir=d, name="torii-" + case)
        s.start(ready_timeout=120.0)
        s.check_serves(info["path"], info["host"])
        info["ready_s"] = s.ready_seconds
        info["clusters"] = s.stats("^snapshot_clusters$").get("snapshot_clusters")
        cases[case] = (s, info)
    # warm-up, then RSS of each, loaded
    for case, (s, info) in cases.items():
        load.run_wrk(run, run.tools["wrk"], s.port, 1, a.connections, run.raw_path("scale-warmup-%s.txt" % case),
                     s, info["host"], info["path"])
        info["rss_kib"] = s.rss_kib()
    runs = {c: [] for c in cases}
    names = list(cases)
    for r in range(rounds):
        order = run.rounds_order(names, r)
        run.log("scale round %d/%d: %s" % (r + 1, rounds, " ".join(order)))
        for case in order:
            s, info = cases[case]
            d = load.run_wrk(run, run.tools["wrk"], s.port, duration, a.connections,
                             run.raw_path("scale-round%d-%s.txt" % (r + 1, case)), s, info["host"], info["path"])
            d["round"] = r + 1
            runs[case].append(d)
            run.log("  %s: %.0f req/s, %.1f us CPU/req" % (case, d["rps"], d["cpu_us_per_req"]))
    out = {"params": {"objects_n": n, "changes": changes, "rounds": rounds, "duration_s": duration}, "cases": {}}
    for case, (s, info) in cases.items():
        summary = summarize_runs(run, runs[case], ("rps", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req",
                                                   "p99_ms"))
        summary.update(info)
        summary["all_runs"] = runs[case]
        out["cases"][case] = summary
    one = out["cases"]["one"]
    for case in ("hosts", "routes"):
        c = out["cases"][case]
        c["rps_ratio_vs_one"] = c["rps"] / one["rps"] if one["rps"] else float("nan")
        c["cpu_ratio_vs_one"] = c["cpu_us_per_req"] / one["cpu_us_per_req"] if one["cpu_us_per_req"] else float("nan")
    # the others are no longer needed: stop them before timing config changes
    cases["one"][0].stop()
    cases["routes"][0].stop()
    out["change"] = _config_changes(run, cases["hosts"][0], changes)
    out["change"]["objects"] = cases["hosts"][1]["objects"] + 1
    cases["hosts"][0].stop()
    return out


def _config_changes(run, torii, changes):
    probe_file = os.path.join(torii.config_dir, "zz-probe.yaml")
    version0 = torii.stats("^snapshot_version$").get("snapshot_version", 0)
    conn = clients.KeepAliveConn(torii.port)
    samples, failures = [], 0
    dist = procs.Disturbance()
    dist.start()
    for k in range(1, changes + 1):
        host = "probe-%d.bench.example" % k
        servers.write_atomic(probe_file, scale_configs.probe_virtualservice(k))
        t0 = time.monotonic()
        deadline = t0 + 60.0
        while True:
            try:
                status, _ = conn.request("/", host)
            except (OSError, ValueError):
                conn.close()
                conn = clients.KeepAliveConn(torii.port)
                status = 0
            if status == 200:
                samples.append(time.monotonic() - t0)
                break
            if time.monotonic() > deadline:
                failures += 1
                break
            time.sleep(0.002)
    disturbance = dist.stop()
    conn.close()
    version1 = torii.stats("^snapshot_version$").get("snapshot_version", 0)
    split = _reload_split(torii.log_path, version0)
    s = sorted(samples)
    result = {"changes": changes, "served": len(samples), "failures": failures,
              "p50_ms": percentile(s, 50) * 1e3, "p99_ms": percentile(s, 99) * 1e3,
              "max_ms": (s[-1] * 1e3) if s else float("nan"),
              "snapshots": version1 - version0, "samples_ms": [round(x * 1e3, 2) for x in samples],
              "split_p50_ms": split, "disturbance": disturbance}
    run.log("scale: config change to serving over %d changes: p50 %.0f ms, p99 %.0f ms (%d snapshots)"
            % (changes, result["p50_ms"], result["p99_ms"], result["snapshots"]))
    return result


# "config version N serving (config): ...; read 41.0 ms (parse 0.1, validate 0.0), store 38.1 ms,
#  compile 90.2 ms (10001 of 10001 cluster(s) shared), publish 0.0 ms; serving 155.3 ms after the change
#  was noticed"
_SPLIT = re.compile(r"config version (\d+) serving \(config\).*; read ([\d.]+) ms \(parse ([\d.]+), "
                    r"validate ([\d.]+)\), store ([\d.]+) ms, compile ([\d.]+) ms(?: \(.*? shared\))?, publish ([\d.]+) ms; "
                    r"serving ([\d.]+) ms after")
_SPLIT_FIELDS = ("read", "parse", "validate", "store", "compile", "publish", "noticed_to_serving")


def _reload_split(log_path, after_version):
    """Median of each part of the reloads after `after_version`, from Torii's log lines."""
    parts = {f: [] for f in _SPLIT_FIELDS}
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                m = _SPLIT.search(line)
                if not m or int(m.group(1)) <= after_version:
                    continue
                for name, value in zip(_SPLIT_FIELDS, m.groups()[1:]):
                    parts[name].append(float(value))
    except OSError:
        return {}
    return {name: percentile(sorted(v), 50) for name, v in parts.items() if v}
