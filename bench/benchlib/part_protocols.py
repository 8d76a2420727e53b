"""Parts `h2c`, `h2` and `https1`: the throughput part's measurement (closed
loop, interleaved rounds, req/s and the proxy's CPU time per request) with
the client speaking another protocol to the proxy; the proxy still speaks
HTTP/1.1 to the same upstream.

- h2c: HTTP/2 with prior knowledge on a cleartext port (h2load -cC -mM).
- h2: HTTP/2 over TLS, ALPN h2 (h2load -cC -mM, SNI bench.example).
- https1: HTTP/1.1 over TLS (wrk -c50, as the throughput part): the cost of
  TLS alone, without HTTP/2.

With --h2-rate N, h2c and h2 send N requests a second in all instead of as
fast as they can: a proxy that keeps up with a closed loop better than the
others is otherwise measured less busy (fewer requests per wake-up, so more
CPU per request) than they are; at one rate below every proxy's ceiling,
CPU per request compares like with like.

Every proxy serves one self-signed ECDSA P-256 certificate
(servers.make_certificate) and takes the cipher OpenSSL picks by default;
the table says what was negotiated. Connections are set up once per run (50
handshakes in a 10 s run): this measures requests on kept-alive connections,
not handshakes.
"""

from . import load
from .run import summarize_runs, warmed_rounds


class ProtocolPart:
    def __init__(self, name, title, tool):
        self.name = name
        self.title = title  # for the log and the table
        self.tool = tool  # "h2load" or "wrk"

    def params(self, run):
        a = run.args
        if self.tool == "wrk":
            return "wrk -t1 -c%d --latency, HTTP/1.1 over TLS (closed loop)" % a.connections
        if a.h2_rate:
            return "h2load -c%d -m%d -t1 --rps=%d, %s (fixed rate: %d req/s in all)" % (
                a.h2_clients, a.h2_streams, a.h2_rate // a.h2_clients, self.title, a.h2_rate)
        return "h2load -c%d -m%d -t1, %s (closed loop)" % (a.h2_clients, a.h2_streams, self.title)

    def measure(self, run, server, seconds, raw_path):
        a = run.args
        if self.name == "https1":
            return load.run_wrk(run, run.tools["wrk"], server.tls_port, seconds, a.connections, raw_path, server,
                                host="bench.example", scheme="https")
        if self.name == "h2c":
            url, connect_to = "http://127.0.0.1:%d/" % server.h2c_port, None
        else:  # SNI bench.example, the certificate's name; the connection still goes to 127.0.0.1
            url, connect_to = "https://bench.example:%d/" % server.tls_port, "127.0.0.1:%d" % server.tls_port
        d = load.run_h2load_closed(run, run.tools["h2load"], url, seconds, a.h2_clients, a.h2_streams, raw_path,
                                   server, connect_to=connect_to, rps_per_client=a.h2_rate // a.h2_clients)
        want = "h2c" if self.name == "h2c" else "h2"
        if d.get("alpn") != want:  # h2load fell back to HTTP/1.1, or spoke nothing
            d["errors"] = d.get("errors", 0) + 1
            d["protocol_mismatch"] = "negotiated %r, wanted %r" % (d.get("alpn"), want)
        return d

    def run_part(self, run, proxies):
        a = run.args
        rounds, duration, warmup = (1, 1, 0) if run.quick else (a.rounds, a.duration, a.warmup)
        names = list(proxies)
        runs = warmed_rounds(run, self.name, proxies, rounds, duration, warmup,
                             lambda s, seconds, raw: self.measure(run, s, seconds, raw))
        out = {"params": {"rounds": rounds, "duration_s": duration, "warmup_s": warmup, "tool": self.params(run)},
               "proxies": {}}
        for name in names:
            s = summarize_runs(run, runs[name], ("rps", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req",
                                                 "cpu_pct", "p50_ms", "p99_ms"))
            kept = run.kept(runs[name]) or runs[name]
            s["rps_min"] = min(r["rps"] for r in kept)
            s["rps_max"] = max(r["rps"] for r in kept)
            last = runs[name][-1]
            s["negotiated"] = " ".join(last[k] for k in ("tls", "cipher", "alpn") if last.get(k))
            s["all_runs"] = runs[name]
            out["proxies"][name] = s
        return out


H2C = ProtocolPart("h2c", "HTTP/2 with prior knowledge (h2c)", "h2load")
H2 = ProtocolPart("h2", "HTTP/2 over TLS (ALPN h2)", "h2load")
HTTPS1 = ProtocolPart("https1", "HTTP/1.1 over TLS", "wrk")
