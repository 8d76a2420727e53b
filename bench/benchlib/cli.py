"""bench/compare command line: which parts, which proxies, how long."""

import argparse
import os
import platform
import subprocess
import sys

from . import (deps, part_idle, part_latency, part_protocols, part_reload, part_scale, part_security,
               part_telemetry, part_throughput, part_workloads, report)
from .run import Run

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
PARTS = {"throughput": part_throughput, "latency": part_latency, "idle": part_idle, "scale": part_scale,
         "h2c": part_protocols.H2C, "h2": part_protocols.H2, "https1": part_protocols.HTTPS1,
         "telemetry": part_telemetry, "security": part_security, "reload": part_reload,
         "newconn": part_workloads.NEWCONN, "body64k": part_workloads.BODY64K,
         "conn1000": part_workloads.CONN1000, "workers2": part_workloads.WORKERS2}
# reload last: it changes the proxies' config. The protocol parts after the
# others, so what those measure is what it was before they existed; issue 17's
# workloads (newconn ... workers2) after https1.
ORDER = ("throughput", "latency", "idle", "scale", "h2c", "h2", "https1", "newconn", "body64k", "conn1000",
         "workers2", "telemetry", "security", "reload")
WRK_PARTS = {"throughput", "scale", "https1", "telemetry", "security", "newconn", "body64k", "conn1000", "workers2"}
TORII_ONLY = {"scale", "telemetry", "security"}  # parts that start their own Torii processes


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/compare",
        description="Torii vs nginx vs HAProxy, side by side on this machine (see bench/README.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("parts", nargs="*", default=["all"], metavar="PART",
                   help="any of: %s all" % " ".join(ORDER))
    p.add_argument("--quick", action="store_true",
                   help="tiny durations and sizes for a smoke check (figures mean nothing)")
    p.add_argument("--only", default="torii,nginx,haproxy", help="proxies, comma-separated")
    p.add_argument("--torii", default=os.environ.get("TORII_BIN"),
                   help="torii binary ($TORII_BIN; default: build-bench/torii, built by bench/build.sh "
                        "with link-time optimisation)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (throughput, latency, scale)")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per proxy (throughput)")
    p.add_argument("--connections", type=int, default=50, help="wrk connections")
    p.add_argument("--h2-clients", type=int, default=10, help="h2c, h2: h2load connections (-c)")
    p.add_argument("--h2-streams", type=int, default=10, help="h2c, h2: h2load requests in flight per connection (-m)")
    p.add_argument("--h2-rate", type=int, default=0,
                   help="h2c, h2: a fixed total request rate (req/s, h2load --rps per connection) instead of a "
                        "closed loop; 0 = closed loop")
    p.add_argument("--rate", type=int, default=10000, help="latency: total request rate (req/s)")
    p.add_argument("--rate-clients", type=int, default=50, help="latency: h2load connections sharing --rate")
    p.add_argument("--idle-connections", type=int, default=1000, help="idle: keep-alive connections held")
    p.add_argument("--idle-workers", default="",
                   help="idle: also measure Torii with these --workers counts, comma-separated (e.g. 4), "
                        "each as its own row torii-wN")
    p.add_argument("--scale-objects", type=int, default=10000, help="scale: N hosts / routes / services")
    p.add_argument("--scale-changes", type=int, default=100, help="scale: config changes timed")
    p.add_argument("--reload-changes", type=int, default=100, help="reload: config changes under load")
    p.add_argument("--reload-interval", type=float, default=0.3, help="reload: seconds between changes")
    p.add_argument("--reload-rate", type=int, default=1000, help="reload: h2load request rate (req/s)")
    p.add_argument("--max-others", type=float, default=10.0,
                   help="a run is disturbed when other processes used more than this %% of one core")
    p.add_argument("--upstream-port", type=int, default=18090)
    p.add_argument("--endpoints", type=int, default=1,
                   help="upstream endpoints (127.0.0.1..N, one nginx): each proxy balances over them "
                        "(Torii LEAST_REQUEST, its default; nginx least_conn; HAProxy leastconn)")
    p.add_argument("--proxy-cpu", type=int, default=0)
    p.add_argument("--load-cpu", type=int, default=1)
    p.add_argument("--no-pin", action="store_true", help="do not pin (numbers get noisier)")
    p.add_argument("--no-install", action="store_true", help="do not apt-get install missing tools")
    p.add_argument("--results", default=os.path.join(BENCH, "results"), help="results root")
    a = p.parse_args(argv)
    parts = []
    for part in a.parts:
        if part == "all":
            parts += list(ORDER)
        elif part in PARTS:
            parts.append(part)
        else:
            p.error("unknown part %r (%s, all)" % (part, ", ".join(ORDER)))
    if a.h2_rate < 0 or 0 < a.h2_rate < a.h2_clients:
        p.error("--h2-rate %d: give 0 (closed loop) or at least one request a second per connection "
                "(--h2-clients %d)" % (a.h2_rate, a.h2_clients))
    a.parts = [x for x in ORDER if x in parts]
    a.proxies = [x.strip() for x in a.only.split(",") if x.strip()]
    for x in a.proxies:
        if x not in ("torii", "nginx", "haproxy"):
            p.error("unknown proxy %r in --only (torii, nginx, haproxy)" % x)
    if not a.proxies:
        p.error("no proxy to benchmark")
    a.build_torii = a.torii is None  # the default binary: bench/build.sh brings it up to date
    a.torii = os.path.abspath(a.torii or os.path.join(ROOT, "build-bench", "torii"))
    return a


def build_torii(logger):
    """Runs bench/build.sh (the optimised, LTO-linked build-bench/torii); exits on failure."""
    log = os.path.join(ROOT, "build-bench", "logs", "build.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    logger("building build-bench/torii with link-time optimisation (bench/build.sh; log: %s)" % log)
    with open(log, "w") as f:
        rc = subprocess.run([os.path.join(BENCH, "build.sh")], stdout=f, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        with open(log) as f:
            sys.stderr.write("".join(f.readlines()[-200:]))
        sys.exit("bench/build.sh failed (exit %d); log: %s" % (rc, log))


def env_lines(run, tools):
    a = run.args
    def git(*cmd):
        try:
            return subprocess.run(["git", "-C", ROOT] + list(cmd), capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    cpu_model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    v = deps.versions(tools)
    lines = ["date_utc=%s" % run.stamp,
             "command=bench/compare %s" % " ".join(sys.argv[1:]),
             "host=%s cpus=%d kernel=%s" % (platform.node(), os.cpu_count() or 0, platform.release()),
             "cpu_model=%s" % cpu_model,
             "pinning=%s" % ("proxies on CPU %d, load generators + upstream + harness on CPU %d"
                             % (a.proxy_cpu, a.load_cpu) if run.proxy_cpus else "none"),
             "parts=%s proxies=%s quick=%s" % (",".join(a.parts), ",".join(a.proxies), a.quick)]
    lines += ["%s=%s" % kv for kv in sorted(v.items())]
    if "torii" in a.proxies or TORII_ONLY & set(a.parts):
        dirty = " (uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
        lines.append("torii=%s (%s%s)" % (a.torii, git("rev-parse", "--short", "HEAD") or "?", dirty))
    if a.quick:
        lines.append("NOTE: --quick: tiny runs for a smoke check; the figures mean nothing")
    return lines


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    need = ["nginx", "curl"]  # nginx is the upstream for every part
    if "haproxy" in a.proxies:
        need.append("haproxy")
    if WRK_PARTS & set(a.parts):
        need.append("wrk")
    if {"latency", "reload", "h2c", "h2"} & set(a.parts):
        need.append("h2load")
    if {"h2", "https1"} & set(a.parts):
        need.append("openssl")  # the self-signed certificate
    logger = lambda m: print("[compare] " + m, file=sys.stderr, flush=True)
    tools = deps.ensure(need, not a.no_install, logger)
    if a.build_torii and ("torii" in a.proxies or TORII_ONLY & set(a.parts)):
        build_torii(logger)
    if "conn1000" in a.parts:
        part_workloads.raise_nofile_limit(logger)
    run = Run(a, tools)
    run.log("results in " + run.out)
    try:
        proxies = {}
        wanted = a.proxies if set(a.parts) - TORII_ONLY else []
        # Torii first: if it does not work, say so before spending minutes on the others
        for name in sorted(wanted, key=lambda n: n != "torii"):
            proxies[name] = run.start_proxy(name)
        proxies = {n: proxies[n] for n in a.proxies if n in proxies}
        env = env_lines(run, tools)
        with open(os.path.join(run.out, "env.txt"), "w") as f:
            f.write("\n".join(env) + "\n")
        for part in a.parts:
            if part in TORII_ONLY and "torii" not in a.proxies:
                run.log("%s: skipped (Torii only, and torii is not in --only)" % part)
                continue
            run.log("== %s ==" % part)
            run.results[part] = PARTS[part].run_part(run, proxies)  # reload runs last: it changes config
        summary = report.write(run, list(proxies) or ["torii"], env)
        print(summary, end="")
        run.log("done: " + os.path.join(run.out, "summary.txt"))
    finally:
        run.close()
    return 0
