"""summary.txt (tables) and summary.json (every figure and every run).

The layout is stable (tests/e2e/test_bench_smoke.py checks it): sections
start with "== <part> ==", table rows start with the proxy / case name.
A figure taken only from disturbed runs (every run had other processes using
more CPU than --max-others) is marked with "*".
"""

import json
import math
import os

PEERS = ("nginx", "haproxy")


def _f(x, fmt):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return fmt % x


def _ratio(a, b):
    if a is None or b is None or not b or a != a or b != b:
        return float("nan")
    return a / b


def _flag(s):
    return "*" if s.get("disturbed") else ""


def overview(results, proxies):
    """One table: per proxy the headline figures, then the ratios to nginx and HAProxy."""
    cols = [("req/s", "throughput", lambda p: p.get("rps"), "%.0f", True),
            ("CPU us/req", "throughput", lambda p: p.get("cpu_us_per_req"), "%.2f", False),
            ("+p50 ms", "latency", lambda p: p.get("added_p50_ms"), "%.3f", False),
            ("+p99 ms", "latency", lambda p: p.get("added_p99_ms"), "%.3f", False),
            ("KiB/idle conn", "idle", lambda p: p.get("kib_per_conn"), "%.2f", False),
            ("reload errors", "reload", lambda p: p.get("errors"), "%d", False),
            ("h2c us/req", "h2c", lambda p: p.get("cpu_us_per_req"), "%.2f", False),
            ("h2 us/req", "h2", lambda p: p.get("cpu_us_per_req"), "%.2f", False),
            ("https1 us/req", "https1", lambda p: p.get("cpu_us_per_req"), "%.2f", False)]
    cols += [("%s us/req" % part, part, lambda p: p.get("cpu_us_per_req"), "%.2f", False) for part in WORKLOADS]
    cols = [c for c in cols if c[1] in results]
    if not cols:
        return []

    def figure(part, getter, name):
        r = results[part]
        entry = (r.get("proxies") or r.get("targets") or {}).get(name)
        return getter(entry) if entry is not None else None

    width = max(15, max(len(c[0]) + 2 for c in cols))
    lines = ["%-16s" % "proxy" + "".join("%*s" % (width, c[0]) for c in cols)]
    lines.append("-" * len(lines[0]))
    for name in proxies:
        row = "%-16s" % name
        for title, part, getter, fmt, _ in cols:
            v = figure(part, getter, name)
            entry = (results[part].get("proxies") or results[part].get("targets") or {}).get(name, {})
            row += "%*s" % (width, _f(v, fmt) + _flag(entry))
        lines.append(row)
    if "torii" in proxies:
        for peer in PEERS:
            if peer not in proxies:
                continue
            row = "%-16s" % ("torii/" + peer)
            for title, part, getter, fmt, _ in cols:
                row += "%*s" % (width, _f(_ratio(figure(part, getter, "torii"), figure(part, getter, peer)), "%.2f"))
            lines.append(row)
        lines.append("(ratios: req/s above 1.00 favours Torii; every other column below 1.00 favours Torii;")
        lines.append(" +p50/+p99: latency added over hitting the upstream directly" + (
            ";\n h2c/h2/https1 us/req: the proxy's CPU per request, client on HTTP/2 cleartext, HTTP/2 over TLS,"
            " HTTP/1.1 over TLS" if {"h2c", "h2", "https1"} & set(results) else "") + (
            ";\n newconn/body64k/conn1000/workers2 us/req: the proxy's CPU per request on issue 17's workloads"
            if set(WORKLOADS) & set(results) else "") + ")")
        best = best_peer_ratios(results, proxies)
        if best:
            lines.append("torii / the better of nginx and HAProxy, CPU per request (issue 17's target: <= 0.70): "
                         + ", ".join("%s %s" % (part, _f(x, "%.2f")) for part, x in best))
            lines.append("torii / the better of nginx and HAProxy, user CPU per request: "
                         + ", ".join("%s %s" % (part, _f(x, "%.2f"))
                                     for part, x in best_peer_ratios(results, proxies, "user_us_per_req")))
    share = kernel_share(results, proxies)
    if share:
        lines.append(share)
    return lines


CPU_PARTS = ("throughput", "https1") + ("newconn", "body64k", "conn1000", "workers2")
WORKLOADS = CPU_PARTS[2:]


def best_peer_ratios(results, proxies, key="cpu_us_per_req"):
    """[(part, Torii's `key` / the better peer's)] for the CPU-per-request parts
    that ran; the better peer is the one of nginx and HAProxy with the lower
    CPU per request (user + sys), whatever `key` is."""
    out = []
    for part in CPU_PARTS:
        got = (results.get(part) or {}).get("proxies") or {}
        peers = [(got[p]["cpu_us_per_req"], p) for p in PEERS if p in proxies and p in got]
        peers = [(x, p) for x, p in peers if x == x]
        if "torii" in got and peers:
            better = min(peers)[1]
            out.append((part, _ratio(got["torii"].get(key), got[better].get(key))))
    return out


def kernel_share(results, proxies):
    """One line: each proxy's kernel share of its CPU per request, sys / (user + sys)
    of the medians, in the throughput part (else the first CPU-per-request part that ran)."""
    for part in CPU_PARTS:
        got = (results.get(part) or {}).get("proxies") or {}
        names = [n for n in proxies if n in got]
        if not names:
            continue
        figures = []
        for n in names:
            user, sys_ = got[n].get("user_us_per_req"), got[n].get("sys_us_per_req")
            share = _ratio(sys_, (user + sys_) if user is not None and sys_ is not None else None)
            figures.append("%s %s" % (n, _f(100.0 * share, "%.0f%%")))
        return "kernel share of CPU per request: %s%s" % (", ".join(figures),
                                                           "" if part == "throughput" else " (%s)" % part)
    return None


def throughput(r, proxies):
    p = r["params"]
    lines = ["%s, %d round(s) of %d s, median over undisturbed runs" % (p["tool"], p["rounds"], p["duration_s"])]
    hdr = "%-10s %10s %17s %11s %8s %8s %7s %9s %9s %7s %6s" % ("proxy", "req/s", "(min..max)", "CPU us/req",
                                                                 "user us", "sys us", "CPU %", "p50 ms", "p99 ms",
                                                                 "errors", "runs")
    lines += [hdr, "-" * len(hdr)]
    # torii-wN rows (--idle-workers) follow the proxies given.
    for name in list(proxies) + [n for n in r["proxies"] if n not in proxies]:
        s = r["proxies"][name]
        lines.append("%-10s %10s %17s %11s %8s %8s %7s %9s %9s %7d %6s" % (
            name, _f(s["rps"], "%.0f") + _flag(s), "(%s..%s)" % (_f(s["rps_min"], "%.0f"), _f(s["rps_max"], "%.0f")),
            _f(s["cpu_us_per_req"], "%.2f"), _f(s.get("user_us_per_req"), "%.2f"), _f(s.get("sys_us_per_req"), "%.2f"),
            _f(s["cpu_pct"], "%.0f"), _f(s["p50_ms"], "%.3f"),
            _f(s["p99_ms"], "%.3f"), s["errors"], "%d/%d" % (s["kept"], s["runs"])))
    lines.append("(CPU %: the proxy's CPU use during the run; well below 100 means the load side was the limit")
    lines.append(" and CPU us/req is the fairer comparison. user us, sys us: CPU us/req split into user space and")
    lines.append(" kernel (medians each). runs: kept/total after the disturbance check)")
    return lines


def protocol(part, r, proxies, results):
    """Parts h2c, h2, https1: the throughput table, then the ratios to the peers and what was negotiated."""
    p = r["params"]
    lines = ["%s, %d round(s) of %d s, median over undisturbed runs; upstream: HTTP/1.1 as in throughput"
             % (p["tool"], p["rounds"], p["duration_s"])]
    hdr = "%-14s %10s %17s %11s %8s %8s %7s %9s %9s %7s %6s" % ("proxy", "req/s", "(min..max)", "CPU us/req",
                                                                 "user us", "sys us", "CPU %", "p50 ms", "p99 ms",
                                                                 "errors", "runs")
    lines += [hdr, "-" * len(hdr)]
    for name in proxies:
        s = r["proxies"][name]
        lines.append("%-14s %10s %17s %11s %8s %8s %7s %9s %9s %7d %6s" % (
            name, _f(s["rps"], "%.0f") + _flag(s), "(%s..%s)" % (_f(s["rps_min"], "%.0f"), _f(s["rps_max"], "%.0f")),
            _f(s["cpu_us_per_req"], "%.2f"), _f(s.get("user_us_per_req"), "%.2f"), _f(s.get("sys_us_per_req"), "%.2f"),
            _f(s["cpu_pct"], "%.0f"), _f(s["p50_ms"], "%.3f"),
            _f(s["p99_ms"], "%.3f"), s["errors"], "%d/%d" % (s["kept"], s["runs"])))
    if "torii" in proxies:
        t = r["proxies"]["torii"]
        for peer in [x for x in PEERS if x in proxies]:
            o = r["proxies"][peer]
            lines.append("%-14s %10s %17s %11s %8s %8s %7s %9s %9s" % (
                "torii/" + peer, _f(_ratio(t["rps"], o["rps"]), "%.2f"), "",
                _f(_ratio(t["cpu_us_per_req"], o["cpu_us_per_req"]), "%.2f"),
                _f(_ratio(t.get("user_us_per_req"), o.get("user_us_per_req")), "%.2f"),
                _f(_ratio(t.get("sys_us_per_req"), o.get("sys_us_per_req")), "%.2f"), "",
                _f(_ratio(t["p50_ms"], o["p50_ms"]), "%.2f"), _f(_ratio(t["p99_ms"], o["p99_ms"]), "%.2f")))
    plain = results.get("throughput", {}).get("proxies", {})
    if plain:
        # what the protocol costs each proxy over the throughput part's plain HTTP/1.1
        lines.append("CPU us/req over plain HTTP/1.1 (throughput part): " + ", ".join(
            "%s %s" % (n, _f(r["proxies"][n]["cpu_us_per_req"] - plain[n]["cpu_us_per_req"], "%+.2f"))
            for n in proxies if n in plain))
    negotiated = [(n, r["proxies"][n].get("negotiated")) for n in proxies if r["proxies"][n].get("negotiated")]
    if negotiated:
        lines.append("negotiated: " + "; ".join("%s %s" % kv for kv in negotiated))
    lines.append("(ratios: req/s above 1.00 favours Torii, the others below 1.00. CPU %: the proxy's use of its core;")
    lines.append(" well below 100 means the load side was the limit and CPU us/req is the fairer comparison;")
    lines.append(" user us, sys us: CPU us/req split into user space and kernel)")
    return lines


def workload(part, r, proxies, results):
    """Parts newconn, body64k, conn1000, workers2: the protocol table, then what
    shows the workload was the one asked for."""
    lines = protocol(part, r, proxies, results)
    lines.insert(0, r["params"]["title"] + ":")
    opens = [(n, r["proxies"][n].get("tcp_opens_per_req")) for n in proxies]
    lines.append("TCP connections accepted on the machine per request (/proc/net/snmp PassiveOpens, proxies and "
                 "upstream): " + ", ".join("%s %s" % (n, _f(x, "%.3f")) for n, x in opens))
    if part == "newconn":
        lines.append("(~1.00 = a new client connection per request, the upstream's kept alive; each proxy was checked "
                     "first to answer `connection: close` and close)")
    if part == "body64k":
        checks = [(n, r["proxies"][n].get("check") or {}) for n in proxies]
        lines.append("checked first: the upstream read a request of %s bytes through each proxy (64 KiB body + "
                     "head), and each returned %s bytes" % (
                         ", ".join("%s %s" % (n, c.get("upstream_request_bytes", "-")) for n, c in checks),
                         ", ".join("%s %s" % (n, c.get("response_bytes", "-")) for n, c in checks)))
        if "nginx" in r["proxies"]:
            lines.append("nginx error log lines about bodies buffered to a temporary file: %d"
                         % r["proxies"]["nginx"].get("temp_file_warnings", 0))
    if part == "workers2":
        lines.append("rows: %s" % ", ".join("%s = %s" % (n, r["proxies"][n].get("server", n)) for n in proxies))
    return lines


def telemetry(r):
    p = r["params"]
    lines = ["Torii only, the same config, telemetry switched by flags; %s, %d round(s) of %d s, median over "
             "undisturbed runs" % (p["tool"], p["rounds"], p["duration_s"])]
    hdr = "%-12s %10s %11s %8s %8s %8s %9s %7s %6s  %s" % ("variant", "req/s", "CPU us/req", "user us", "sys us",
                                                          "vs off", "p99 ms", "errors", "runs", "flags")
    lines += [hdr, "-" * len(hdr)]
    for name, s in r["variants"].items():
        lines.append("%-12s %10s %11s %8s %8s %8s %9s %7d %6s  %s" % (
            name, _f(s["rps"], "%.0f") + _flag(s), _f(s["cpu_us_per_req"], "%.2f"),
            _f(s.get("user_us_per_req"), "%.2f"), _f(s.get("sys_us_per_req"), "%.2f"), _f(s["cpu_vs_off"], "%.3f"),
            _f(s["p99_ms"], "%.3f"), s["errors"], "%d/%d" % (s["kept"], s["runs"]),
            " ".join(p["variants"][name]) or "(defaults)"))
    m = r["variants"].get("metrics", {}).get("cpu_vs_off")
    lines.append("(vs off: CPU per request over `off`'s; budget for Istio's metrics: %.3f, %s this run)"
                 % (p["metrics_budget"], "within" if m == m and m is not None and m <= p["metrics_budget"]
                    else "OVER"))
    return lines


def security(r):
    p = r["params"]
    lines = ["Torii only, the same config plus security manifests; %s, %d round(s) of %d s, median over "
             "undisturbed runs" % (p["tool"], p["rounds"], p["duration_s"])]
    hdr = "%-12s %10s %11s %8s %8s %9s %9s %7s %6s" % ("variant", "req/s", "CPU us/req", "user us", "sys us",
                                                        "vs none", "p99 ms", "errors", "runs")
    lines += [hdr, "-" * len(hdr)]
    for name, s in r["variants"].items():
        lines.append("%-12s %10s %11s %8s %8s %9s %9s %7d %6s" % (
            name, _f(s["rps"], "%.0f") + _flag(s), _f(s["cpu_us_per_req"], "%.2f"),
            _f(s.get("user_us_per_req"), "%.2f"), _f(s.get("sys_us_per_req"), "%.2f"), _f(s["cpu_vs_none"], "%.3f"),
            _f(s["p99_ms"], "%.3f"), s["errors"], "%d/%d" % (s["kept"], s["runs"])))
    lines.append("(none: no policy; jwt: a RequestAuthentication, the token verified once then cached per worker; "
                 "jwt+authz20: plus a 20-rule ALLOW policy whose last rule matches)")
    return lines


def latency(r, proxies):
    p = r["params"]
    lines = ["%s at %d req/s, %d round(s) of %d s; +p50/+p99 = added over `direct` (the upstream itself)"
             % (p["tool"], p["rate"], p["rounds"], p["duration_s"])]
    hdr = "%-10s %9s %9s %9s %9s %9s %10s %7s %6s" % ("target", "p50 ms", "p99 ms", "p99.9 ms", "+p50 ms",
                                                       "+p99 ms", "req/s", "errors", "runs")
    lines += [hdr, "-" * len(hdr)]
    for name in ["direct"] + list(proxies):
        s = r["targets"][name]
        lines.append("%-10s %9s %9s %9s %9s %9s %10s %7d %6s" % (
            name, _f(s["p50_ms"], "%.3f") + _flag(s), _f(s["p99_ms"], "%.3f"), _f(s["p999_ms"], "%.3f"),
            _f(s.get("added_p50_ms"), "%.3f"), _f(s.get("added_p99_ms"), "%.3f"), _f(s["rps"], "%.0f"),
            s["errors"], "%d/%d" % (s["kept"], s["runs"])))
    low = r.get("p99_lower_rounds")
    if low and low["vs"]:
        lines.append("rounds where %s's p99 was the lower (undisturbed pairs): %s" % (
            low["proxy"], ", ".join("vs %s %d of %d" % (n, v["lower"], v["rounds"]) for n, v in low["vs"].items())))
    return lines


def idle(r, proxies):
    lines = ["%d idle keep-alive connections (one request each), VmRSS summed over the proxy's processes"
             % r["params"]["connections"]]
    hdr = "%-10s %12s %12s %10s %9s %12s %8s" % ("proxy", "before KiB", "after KiB", "KiB/conn", "opened",
                                                   "still open", "procs")
    lines += [hdr, "-" * len(hdr)]
    # torii-wN rows (--idle-workers) follow the proxies given.
    for name in list(proxies) + [n for n in r["proxies"] if n not in proxies]:
        s = r["proxies"][name]
        lines.append("%-10s %12d %12d %10s %9d %12d %8d" % (name, s["rss_before_kib"], s["rss_after_kib"],
                                                            _f(s["kib_per_conn"], "%.2f"), s["opened"],
                                                            s["still_open"], s["processes"]))
    return lines


def scale(r):
    p = r["params"]
    lines = ["Torii only; N = %d; wrk as in throughput, %d round(s) of %d s" % (p["objects_n"], p["rounds"],
                                                                               p["duration_s"])]
    hdr = "%-8s %8s %9s %9s %9s %10s %11s %8s %8s %9s %10s %6s" % (
        "case", "objects", "clusters", "ready s", "RSS MiB", "req/s", "CPU us/req", "user us", "sys us", "p99 ms",
        "vs one", "runs")
    lines += [hdr, "-" * len(hdr)]
    for case in ("one", "hosts", "routes"):
        c = r["cases"][case]
        lines.append("%-8s %8d %9s %9.2f %9.1f %10s %11s %8s %8s %9s %10s %6s" % (
            case, c["objects"], c.get("clusters") if c.get("clusters") is not None else "-", c["ready_s"],
            c["rss_kib"] / 1024.0, _f(c["rps"], "%.0f") + _flag(c), _f(c["cpu_us_per_req"], "%.2f"),
            _f(c.get("user_us_per_req"), "%.2f"), _f(c.get("sys_us_per_req"), "%.2f"),
            _f(c["p99_ms"], "%.3f"), _f(c.get("rps_ratio_vs_one"), "%.3f"), "%d/%d" % (c["kept"], c["runs"])))
    lines.append("(one: 1 route; hosts: N VirtualService hosts -> N Services/ServiceEntries with endpoints;")
    lines.append(" routes: 1 VirtualService with N prefix routes; traffic to the last-declared host/route;")
    lines.append(" vs one: req/s ratio to `one`, 1.000 = no cost)")
    ch = r["change"]
    lines.append("config change to serving (%d objects loaded): %d changes, %d served, p50 %s ms, p99 %s ms, "
                 "max %s ms, %d new snapshots" % (ch["objects"], ch["changes"], ch["served"], _f(ch["p50_ms"], "%.0f"),
                                                  _f(ch["p99_ms"], "%.0f"), _f(ch["max_ms"], "%.0f"), ch["snapshots"]))
    split = ch.get("split_p50_ms") or {}
    if split:
        lines.append("  where a change's time goes (Torii's log lines, median ms): " + ", ".join(
            "%s %s" % (name.replace("_", " "), _f(split.get(name), "%.1f"))
            for name in ("read", "parse", "validate", "store", "compile", "publish", "noticed_to_serving")))
    return lines


def reload(r, proxies):
    p = r["params"]
    lines = ["%d config changes every %.2f s; load: h2load %s + %d keep-alive connections (1 request / %.1f s each)"
             % (p["changes"], p["interval_s"], p["h2load"], p["keepalive_connections"],
                p["keepalive_request_interval_s"])]
    hdr = "%-10s %8s %14s %17s %12s %15s %12s %6s" % ("proxy", "errors", "h2load err/req", "keepalive err/req",
                                                       "idle closes", "h2load missing", "last served", "alive")
    lines += [hdr, "-" * len(hdr)]
    for name in proxies:
        s = r["proxies"][name]
        h, k = s["h2load"], s["keepalive"]
        lines.append("%-10s %8d %14s %17s %12d %15s %12s %6s" % (
            name, s["errors"], "%d/%d" % (h.get("errors", -1), h.get("total", 0)),
            "%d/%d" % (k["errors"], k["sent"]), k["idle_closed"], "%d/%d" % (h.get("missing", 0), h.get("expected", 0)),
            "yes" if s["last_change_served"] else "NO",
            "yes" if s["alive"] else "NO"))
        if k["error_kinds"]:
            lines.append("%-10s   keep-alive errors: %s" % ("", ", ".join("%s %d" % kv for kv in sorted(k["error_kinds"].items()))))
    lines.append("(errors: every request a client saw fail. Not counted as errors: idle closes, idle connections the")
    lines.append(" server closed and the client noticed before reusing them; h2load missing, requests h2load never sent")
    lines.append(" because the server closed the connection of one of its clients (h2load does not reconnect))")
    return lines


def disturbance(results, max_others):
    """Every measured run whose others-CPU went over the threshold."""
    lines = []
    def visit(part, label, d):
        dist = d.get("disturbance")
        if dist and dist["others_cpu_pct"] > max_others:
            lines.append("%-10s %-28s others %5.1f%% of a core (steal %.1f%%) %s"
                         % (part, label, dist["others_cpu_pct"], dist["steal_pct"], ", ".join(dist["top_others"])))
    for part, r in results.items():
        for group in ("proxies", "targets", "cases", "variants"):
            for name, s in (r.get(group) or {}).items():
                for run in s.get("all_runs", []):
                    visit(part, "%s round %s" % (name, run.get("round")), run)
                if "all_runs" not in s:
                    visit(part, name, s)
        if "change" in r:
            visit(part, "config changes", r["change"])
    return lines


def write(run, proxies, env_lines):
    results = run.results
    text = []
    text += env_lines
    text.append("")
    sections = [("overview", overview(results, proxies))]
    if "throughput" in results:
        sections.append(("throughput", throughput(results["throughput"], proxies)))
    if "latency" in results:
        sections.append(("latency", latency(results["latency"], proxies)))
    if "idle" in results:
        sections.append(("idle", idle(results["idle"], proxies)))
    if "scale" in results:
        sections.append(("scale", scale(results["scale"])))
    for part in ("h2c", "h2", "https1"):
        if part in results:
            sections.append((part, protocol(part, results[part], proxies, results)))
    for part in WORKLOADS:
        if part in results:
            sections.append((part, workload(part, results[part], proxies, results)))
    if "telemetry" in results:
        sections.append(("telemetry", telemetry(results["telemetry"])))
    if "security" in results:
        sections.append(("security", security(results["security"])))
    if "reload" in results:
        sections.append(("reload", reload(results["reload"], proxies)))
    dist = disturbance(results, run.args.max_others)
    sections.append(("disturbance", [
        "threshold: other processes' CPU <= %.0f%% of one core over a run (--max-others)" % run.args.max_others]
        + (["disturbed runs (left out of the medians; figures marked * come from disturbed runs only):"] + dist
           if dist else ["no run was disturbed"])))
    for title, lines in sections:
        if lines:
            text.append("== %s ==" % title)
            text += lines
            text.append("")
    summary = "\n".join(text).rstrip() + "\n"
    with open(os.path.join(run.out, "summary.txt"), "w") as f:
        f.write(summary)
    with open(os.path.join(run.out, "summary.json"), "w") as f:
        json.dump({"env": env_lines, "proxies": proxies, "max_others_pct": run.args.max_others,
                   "results": results}, f, indent=2, default=str)
    return summary
