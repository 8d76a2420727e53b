"""One harness run: its output directory, its processes, its parameters,
pinning, the shared upstream, and starting the proxies it compares."""

import os
import statistics
import sys
import time

from . import procs, servers


class Run:
    def __init__(self, args, tools):
        self.args = args
        self.tools = tools
        self.quick = args.quick
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.stamp = stamp
        self.out = os.path.join(os.path.abspath(args.results), stamp)
        n = 1
        while os.path.exists(self.out):
            n += 1
            self.out = os.path.join(os.path.abspath(args.results), "%s-%d" % (stamp, n))
        self.raw, self.logs, self.conf, self.tmp = (os.path.join(self.out, d) for d in ("raw", "logs", "conf", "tmp"))
        for d in (self.raw, self.logs, self.conf, self.tmp):
            os.makedirs(d)
        self.procs = procs.Processes()
        self.upstream_port = args.upstream_port
        # The upstream addresses proxies balance over (--endpoints).
        self.upstream_addresses = ["127.0.0.%d" % (i + 1) for i in range(max(1, args.endpoints))]
        ncpu = os.cpu_count() or 1
        if ncpu >= 2 and not args.no_pin:
            self.proxy_cpus, self.load_cpus = {args.proxy_cpu}, {args.load_cpu}
        else:
            self.proxy_cpus = self.load_cpus = None
            self.log("not pinning (%d CPU%s%s): numbers will be noisier"
                     % (ncpu, "" if ncpu == 1 else "s", ", --no-pin" if args.no_pin else ""))
        procs.pin_self(self.load_cpus)
        self.results = {}  # part -> its figures (summary.json)
        # The proxies get their h2c and TLS listeners only when a part uses them.
        self.want_h2c = "h2c" in args.parts
        self.want_tls = bool({"h2", "https1"} & set(args.parts))
        self.upstream = None

    def log(self, msg):
        print("[compare] " + msg, file=sys.stderr, flush=True)

    def raw_path(self, name):
        return os.path.join(self.raw, name)

    def start_upstream(self):
        if self.upstream is None:
            if not servers.wait_http(self.upstream_port, 0.2) and not servers.reserved_ports.is_bindable(
                    self.upstream_port):
                raise SystemExit("bench/compare: 127.0.0.1:%d is in use; pick another with --upstream-port"
                                 % self.upstream_port)
            self.upstream = servers.Upstream(self, self.load_cpus, self.upstream_port, self.tools["nginx"])
            self.upstream.start()
            self.log("upstream nginx on 127.0.0.1:%d (pid %d)" % (self.upstream_port, self.upstream.proc.pid))
        return self.upstream

    def start_proxy(self, name, **torii_kwargs):
        """Starts one proxy (Torii first when all are wanted: if it does not
        work, say so before spending minutes on the others)."""
        self.start_upstream()
        if name == "torii":
            s = servers.Torii(self, self.proxy_cpus, self.args.torii, **torii_kwargs)
        elif name == "nginx":
            s = servers.Nginx(self, self.proxy_cpus, self.tools["nginx"])
        elif name == "haproxy":
            s = servers.Haproxy(self, self.proxy_cpus, self.tools["haproxy"])
        else:
            raise ValueError(name)
        s.start()
        if name == "torii":
            s.check_serves()
        s.check_protocols()
        self.log("%s on 127.0.0.1:%d (pid %d) serves the upstream's body" % (s.name, s.port, s.proc.pid)
                 + "".join(", %s on :%d" % kv for kv in (("h2c", s.h2c_port), ("TLS", s.tls_port)) if kv[1]))
        return s

    def kept(self, runs):
        """Runs not disturbed by other processes (others' CPU <= --max-others)."""
        return [r for r in runs if r["disturbance"]["others_cpu_pct"] <= self.args.max_others]

    def rounds_order(self, names, r):
        n = len(names)
        return [names[(i + r) % n] for i in range(n)]

    def close(self):
        self.procs.stop_all()


def warmed_rounds(run, label, servers, rounds, duration, warmup, measure):
    """A warm-up of `warmup` s per server (not counted), then
    interleaved_rounds of `duration` s: measure(server, seconds, raw_path)
    gives one run's figures; raw files are <label>-warmup-<name>.txt and
    <label>-round<r>-<name>.txt."""
    for name in list(servers) if warmup > 0 else []:
        run.log("%s: warm-up %s (%ds)" % (label, name, warmup))
        measure(servers[name], warmup, run.raw_path("%s-warmup-%s.txt" % (label, name)))
    return interleaved_rounds(run, label, servers, rounds, lambda name, s, r: measure(
        s, duration, run.raw_path("%s-round%d-%s.txt" % (label, r, name))))


def interleaved_rounds(run, label, servers, rounds, measure):
    """`rounds` rounds over `servers` (name -> server), each in a rotated
    order (A B C, B C A, ...): measure(name, server, round) gives one run's
    figures. Returns name -> [figures of each round]; stops the harness if a
    server died during its run."""
    names = list(servers)
    runs = {n: [] for n in names}
    for r in range(rounds):
        order = run.rounds_order(names, r)
        run.log("%s round %d/%d: %s" % (label, r + 1, rounds, " ".join(order)))
        for name in order:
            s = servers[name]
            d = measure(name, s, r + 1)
            if not s.alive():
                raise SystemExit("bench/compare: %s died during the run (logs in %s)" % (s.name, run.logs))
            d["round"] = r + 1
            runs[name].append(d)
            run.log("  %s: %.0f req/s, %.2f us CPU/req, %d errors, others %.0f%% of a core"
                    % (name, d["rps"], d["cpu_us_per_req"], d.get("errors", 0), d["disturbance"]["others_cpu_pct"]))
    return runs


def median_of(runs, key, kept_only_from=None):
    xs = [r[key] for r in runs if r.get(key) == r.get(key)]
    return statistics.median(xs) if xs else float("nan")


def summarize_variants(run, runs, names, base, ratio_key):
    """Torii-only parts comparing variants of one config: per variant the
    summarize_runs medians (req/s, CPU us/req, p99), its runs, and its CPU
    per request over `base`'s as `ratio_key`."""
    variants = {}
    for name in names:
        s = summarize_runs(run, runs[name], ("rps", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req", "p99_ms"))
        s["all_runs"] = runs[name]
        variants[name] = s
    reference = variants[base]["cpu_us_per_req"]
    for v in variants.values():
        v[ratio_key] = v["cpu_us_per_req"] / reference if reference and reference == reference else float("nan")
    return variants


def summarize_runs(run, runs, keys):
    """Medians over the undisturbed runs; over all runs (flagged) when every run was disturbed."""
    kept = run.kept(runs)
    use = kept if kept else runs
    s = {k: median_of(use, k) for k in keys}
    s["runs"] = len(runs)
    s["kept"] = len(kept)
    s["disturbed"] = not kept and bool(runs)
    s["errors"] = sum(r.get("errors", 0) for r in runs)
    return s
