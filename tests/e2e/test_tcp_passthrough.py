"""Layer 4: VirtualService `tls:` routes on a TLS PASSTHROUGH Gateway server and
`tcp:` routes on a TCP server (issue 5; ISTIO_SEMANTICS §6, Istio's
"Ingress gateway without TLS termination" and TCP traffic shifting tasks).

Passthrough: the gateway peeks the ClientHello's SNI, picks the route, and
relays the TLS bytes untouched, so the client completes its handshake with the
upstream itself and sees the upstream's own certificate. Unknown SNI: the
connection is closed (Envoy: no matching filter chain).

TCP: tcp_echo_server.py upstreams (echo, plus a trailer after the client's
FIN) behind weighted destinations; half-close, a 50 MiB transfer with bounded
memory, connect failure, tcp.maxConnections and the connection counters.
"""
import hashlib
import json
import socket
import ssl
import subprocess
import threading
import time

import pytest

import harness

NEWKEY = ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
MiB = 1024 * 1024


def _run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    _run(NEWKEY + ["-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=l4-ca"], d)
    for name in ("a", "b", "gw"):
        (d / (name + ".ext")).write_text("subjectAltName=DNS:%s.example.test\n" % name)
        _run(NEWKEY + ["-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=%s.example.test" % name], d)
        _run(["openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext"], d)
    return d


class TcpEchoFactory:
    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def __call__(self, name, host):
        port = harness.reserve_port()
        argv = [harness.PYTHON, "-u", str(harness.HERE / "tcp_echo_server.py"), "--name", name,
                "--host", host, "--port", str(port)]
        proc = harness.Proc("tcp-echo-" + name, argv, self.workdir / ("tcp-echo-%s.log" % name))
        self.procs.append(proc)
        if not harness.wait_for_port(host, port, harness.UPSTREAM_START_TIMEOUT, proc):
            raise RuntimeError("tcp echo %s did not start:\n%s" % (name, proc.log_tail()))
        return harness.Upstream(proc, host, port, name)

    def close(self):
        for p in self.procs:
            try:
                p.terminate(10)
            finally:
                p.cleanup()


@pytest.fixture
def tcp_echo(tmp_path):
    f = TcpEchoFactory(tmp_path)
    yield f
    f.close()


def service_entry(name, host, port, endpoints, protocol="TCP"):
    eps = ", ".join("{address: %s, ports: {p: %d}}" % (h, p) for h, p in endpoints)
    return """\
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: %s}
spec:
  hosts: [%s]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: %d, name: p, protocol: %s}]
  endpoints: [%s]
""" % (name, host, port, protocol, eps)


def l4_gateway(servers):
    lines = ["apiVersion: networking.istio.io/v1beta1", "kind: Gateway", "metadata: {name: gw}", "spec:",
             "  selector: {istio: ingressgateway}", "  servers:"]
    lines += ["  - " + s for s in servers]
    return "\n".join(lines) + "\n"


PASSTHROUGH_SERVER = "{port: {number: 443, name: tls, protocol: TLS}, hosts: ['*.example.test'], tls: {mode: PASSTHROUGH}}"


def passthrough_manifests(a, b):
    return {
        "gw.yaml": l4_gateway([PASSTHROUGH_SERVER]),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: sni}
spec:
  hosts: ["*.example.test"]
  gateways: [gw]
  tls:
  - match: [{port: 443, sniHosts: [a.example.test]}]
    route: [{destination: {host: a.example.test, port: {number: 443}}}]
  - match: [{sniHosts: [b.example.test]}]
    route: [{destination: {host: b.example.test, port: {number: 443}}}]
""",
        "se.yaml": harness.yaml_docs(service_entry("a", "a.example.test", 443, [(a.host, a.port)], "TLS"),
                                     service_entry("b", "b.example.test", 443, [(b.host, b.port)], "TLS")),
    }


def tls_get(port, sni, pki, path="/hello"):
    """GET over TLS through the gateway: (peer certificate subject CN, response JSON)."""
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            cert = s.getpeercert()
            cn = dict(x[0] for x in cert["subject"])["commonName"]
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, sni)).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return cn, json.loads(body)


def closed_without_data(port, payload=b"", timeout=5.0):
    """Connects, sends `payload`, and returns True if the peer closes without sending a byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if payload:
            try:
                s.sendall(payload)
            except OSError:
                return True
        try:
            return s.recv(1) == b""
        except ConnectionResetError:
            return True


def client_hello(sni):
    """A real ClientHello with this SNI (from Python's ssl, via memory BIOs)."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    if not sni:
        ctx.check_hostname = False
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni or None)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


# ---------------------------------------------------------------------------------------
# TLS passthrough


def test_sni_passthrough_reaches_the_upstream_named_by_sni(upstreams, torii, pki):
    a = upstreams.echo("a", host="127.0.0.71",
                       extra_args=["--tls-cert", str(pki / "a.pem"), "--tls-key", str(pki / "a.key")])
    b = upstreams.echo("b", host="127.0.0.72",
                       extra_args=["--tls-cert", str(pki / "b.pem"), "--tls-key", str(pki / "b.key")])
    port = harness.reserve_port()
    t = torii(passthrough_manifests(a, b), port_map={443: port})
    for _ in range(3):
        cn, doc = tls_get(port, "a.example.test", pki)
        # The handshake was with the upstream itself: its certificate, its answer.
        assert cn == "a.example.test" and doc["name"] == "a"
        cn, doc = tls_get(port, "b.example.test", pki, "/other")
        assert cn == "b.example.test" and doc["name"] == "b" and doc["path"] == "/other"
    dump = t.config_dump()["snapshot"]["listeners"]
    chains = [l for l in dump if l.get("l4_filter_chains")][0]["l4_filter_chains"]
    assert [c["server_names"] for c in chains] == [["a.example.test"], ["b.example.test"]]
    stats = t.stats()
    assert stats.get("tcp_downstream_cx_total", 0) >= 6


def test_unknown_sni_and_non_tls_bytes_are_closed(upstreams, torii, pki):
    a = upstreams.echo("a", host="127.0.0.73",
                       extra_args=["--tls-cert", str(pki / "a.pem"), "--tls-key", str(pki / "a.key")])
    port = harness.reserve_port()
    t = torii(passthrough_manifests(a, a), port_map={443: port})
    assert closed_without_data(port, client_hello("c.example.test"))
    assert closed_without_data(port, client_hello(""))  # no SNI at all
    assert closed_without_data(port, b"GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n")
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            ctx.wrap_socket(raw, server_hostname="unknown.example.test")
    assert t.stat("tcp_downstream_cx_no_route") >= 4
    # The known name still works on the same listener.
    assert tls_get(port, "a.example.test", pki)[0] == "a.example.test"


def test_client_hello_split_across_writes_is_reassembled(upstreams, torii, pki):
    a = upstreams.echo("a", host="127.0.0.74",
                       extra_args=["--tls-cert", str(pki / "a.pem"), "--tls-key", str(pki / "a.key")])
    port = harness.reserve_port()
    torii(passthrough_manifests(a, a), port_map={443: port})
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="a.example.test")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outgoing.read()
        for i in range(0, len(hello), 7):  # 7-byte pieces, 20 ms apart
            s.sendall(hello[i:i + 7])
            time.sleep(0.02)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                out = outgoing.read()
                if out:
                    s.sendall(out)
                data = s.recv(65536)
                assert data, "closed during the handshake"
                incoming.write(data)
        s.sendall(outgoing.read())
        tls.write(b"GET /split HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        s.sendall(outgoing.read())
        reply = b""
        while True:
            try:
                while True:  # every record already received
                    piece = tls.read(65536)
                    if not piece:
                        break
                    reply += piece
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
            if reply.rstrip().endswith(b"}"):
                break
            data = s.recv(65536)
            if not data:
                break
            incoming.write(data)
    assert b'"path": "/split"' in reply or b'"path":"/split"' in reply, reply


def test_passthrough_and_terminated_https_share_a_port_by_sni(upstreams, torii, pki, httpbin):
    a = upstreams.echo("a", host="127.0.0.75",
                       extra_args=["--tls-cert", str(pki / "a.pem"), "--tls-key", str(pki / "a.key")])
    port = harness.reserve_port()
    https_server = ("{port: {number: 443, name: https, protocol: HTTPS}, hosts: ['gw.example.test'], "
                    "tls: {mode: SIMPLE, serverCertificate: %s, privateKey: %s}}" % (pki / "gw.pem", pki / "gw.key"))
    m = passthrough_manifests(a, a)
    m["gw.yaml"] = l4_gateway([https_server, PASSTHROUGH_SERVER])
    m["http-vs.yaml"] = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [gw.example.test]
  gateways: [gw]
  http:
  - route: [{destination: {host: httpbin.example.test, port: {number: 80}}}]
"""
    m["httpbin-se.yaml"] = service_entry("httpbin", "httpbin.example.test", 80, [(httpbin.host, httpbin.port)], "HTTP")
    torii(m, port_map={443: port})
    # SNI a.example.test: passed through to the upstream's own TLS.
    assert tls_get(port, "a.example.test", pki)[0] == "a.example.test"
    # SNI gw.example.test: terminated by the gateway with its own certificate.
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="gw.example.test") as s:
            assert dict(x[0] for x in s.getpeercert()["subject"])["commonName"] == "gw.example.test"
            s.sendall(b"GET /status/418 HTTP/1.1\r\nHost: gw.example.test\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    assert data.startswith(b"HTTP/1.1 418"), data[:200]


# ---------------------------------------------------------------------------------------
# TCP routes


def tcp_manifests(destinations, dr=""):
    """destinations: [(upstream, weight)] each behind its own ServiceEntry host echo-<name>.test."""
    route = "\n".join("    - {destination: {host: echo-%s.test, port: {number: 9000}}, weight: %d}" % (u.name, w)
                      for u, w in destinations)
    m = {
        "gw.yaml": l4_gateway(["{port: {number: 9000, name: tcp, protocol: TCP}, hosts: ['*']}"]),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: echo}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
  - match: [{port: 9000}]
    route:
%s
""" % route,
        "se.yaml": harness.yaml_docs(*[service_entry(u.name, "echo-%s.test" % u.name, 9000, [(u.host, u.port)])
                                       for u, _ in destinations]),
    }
    if dr:
        m["dr.yaml"] = dr
    return m


def exchange(port, payload=b"ping"):
    """Sends payload, half-closes, reads to EOF: (echoed bytes, upstream name, bytes the upstream counted)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    body, _, trailer = data.rpartition(b"\nBYE ")
    name, count = trailer.split()
    return body, name.decode(), int(count)


def test_tcp_route_echo_and_half_close(tcp_echo, torii):
    up = tcp_echo("one", "127.0.0.81")
    port = harness.reserve_port()
    t = torii(tcp_manifests([(up, 100)]), port_map={9000: port})
    body, name, count = exchange(port, b"hello over tcp")
    # The reply that the upstream sends after seeing our FIN still arrives.
    assert (body, name, count) == (b"hello over tcp", "one", 14)
    stats = t.stats()
    cluster = "cluster.outbound|9000||echo-one.test."
    assert stats[cluster + "upstream_cx_total"] >= 1
    assert stats[cluster + "upstream_cx_tx_bytes_total"] >= 14
    assert stats[cluster + "upstream_cx_rx_bytes_total"] >= 14 + len(b"\nBYE one 14\n")


def test_tcp_weighted_split(tcp_echo, torii):
    a = tcp_echo("wa", "127.0.0.82")
    b = tcp_echo("wb", "127.0.0.83")
    port = harness.reserve_port()
    torii(tcp_manifests([(a, 80), (b, 20)]), port_map={9000: port})
    n = 400
    counts = {"wa": 0, "wb": 0}
    for _ in range(n):
        counts[exchange(port, b"x")[1]] += 1
    share = counts["wa"] / n
    assert 0.72 <= share <= 0.88, counts


def test_tcp_large_transfer_is_intact_with_bounded_memory(tcp_echo, torii):
    up = tcp_echo("big", "127.0.0.84")
    port = harness.reserve_port()
    t = torii(tcp_manifests([(up, 100)]), port_map={9000: port})
    exchange(port)  # warm up
    total = 50 * MiB
    chunk = bytes(range(256)) * 256  # 64 KiB
    sent_hash, got_hash = hashlib.sha256(), hashlib.sha256()
    received = [0]
    trailer = [b""]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        def reader():
            tail = b""
            while True:
                data = s.recv(1 << 20)
                if not data:
                    break
                # Echoed bytes first, the trailer line last.
                combined = tail + data
                keep = len(b"\nBYE big 52428800\n")
                if len(combined) > keep:
                    got_hash.update(combined[:-keep])
                    received[0] += len(combined) - keep
                    tail = combined[-keep:]
                else:
                    tail = combined
            trailer[0] = tail

        with harness.RssSampler(t.pid) as rss:
            th = threading.Thread(target=reader)
            th.start()
            sent = 0
            while sent < total:
                s.sendall(chunk)
                sent_hash.update(chunk)
                sent += len(chunk)
            s.shutdown(socket.SHUT_WR)
            th.join(120)
    assert received[0] == total
    assert got_hash.hexdigest() == sent_hash.hexdigest()
    assert trailer[0] == b"\nBYE big %d\n" % total
    # Two directions x 1 MiB buffer limit per connection, plus slack.
    assert rss.growth < 20 * MiB, "RSS grew by %d bytes" % rss.growth


def test_upstream_refused_closes_the_client(torii):
    dead = harness.reserve_port()
    port = harness.reserve_port()

    class Dead:
        name, host = "dead", "127.0.0.85"
    Dead.port = dead
    t = torii(tcp_manifests([(Dead, 100)]), port_map={9000: port})
    assert closed_without_data(port, b"anyone there?")
    assert t.stat("cluster.outbound|9000||echo-dead.test.upstream_cx_connect_fail") >= 1


def test_tcp_max_connections_circuit_breaker(tcp_echo, torii):
    up = tcp_echo("cb", "127.0.0.86")
    port = harness.reserve_port()
    dr = """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: cb}
spec:
  host: echo-cb.test
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
"""
    t = torii(tcp_manifests([(up, 100)], dr), port_map={9000: port})
    cluster = "cluster.outbound|9000||echo-cb.test."
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        held.sendall(b"HOLD\n")
        assert held.recv(100) == b"HELD cb\n"
        assert t.stat(cluster + "upstream_cx_active") == 1
        # The second connection is over maxConnections: closed at once.
        assert closed_without_data(port, b"second")
        assert t.stat(cluster + "upstream_cx_overflow") >= 1
    finally:
        held.close()
    # Once the held connection is gone, a new one passes again.
    harness.poll_until(lambda: t.stat(cluster + "upstream_cx_active") == 0, 5)
    assert exchange(port, b"again")[0] == b"again"
    with socket.create_connection((up.host, up.port), timeout=5) as s:
        s.sendall(b"STATS\n")
        assert json.loads(s.makefile().readline())["max_active"] == 1


def test_tcp_idle_timeout_closes_both_sides(tcp_echo, torii):
    up = tcp_echo("idle", "127.0.0.87")
    port = harness.reserve_port()
    t = torii(tcp_manifests([(up, 100)]), port_map={9000: port}, extra_args=["--tcp-idle-timeout-s", "1"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"HOLD\n")
        assert s.recv(100) == b"HELD idle\n"
        start = time.monotonic()
        assert s.recv(100) == b""  # closed by the gateway, not by us
        assert 0.8 <= time.monotonic() - start < 9  # 1 s, not never (the socket timeout is 10 s)
    assert t.stat("tcp_idle_timeout") == 1


def test_explain_names_the_l4_route(tmp_path, pki):
    class Up:
        host, port = "127.0.0.88", 1
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    for name, text in passthrough_manifests(Up, Up).items():
        (cfg / name).write_text(text)
    out = subprocess.run([harness.TORII_BIN, "explain", "--config", str(cfg), "--json", "GET",
                          "https://b.example.test:443/"], capture_output=True, text=True, timeout=30)
    doc = json.loads(out.stdout)
    assert doc["listener"]["l4_route"]["virtual_service"] == "default/sni"
    assert doc["listener"]["l4_route"]["rule"] == "spec.tls[1]"
    assert "relayed to outbound|443||b.example.test" in doc["result"]["reason"]
    out = subprocess.run([harness.TORII_BIN, "explain", "--config", str(cfg), "GET", "https://c.example.test:443/"],
                         capture_output=True, text=True, timeout=30)
    assert "no filter chain takes SNI \"c.example.test\"" in out.stdout + out.stderr


def test_outlier_detection_ejects_an_endpoint_that_refuses(tcp_echo, torii):
    live = tcp_echo("live", "127.0.0.89")
    dead_port = harness.reserve_port()
    port = harness.reserve_port()
    m = tcp_manifests([(live, 100)], dr="""\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: od}
spec:
  host: echo-live.test
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}
""")
    m["se.yaml"] = service_entry("live", "echo-live.test", 9000, [(live.host, live.port), ("127.0.0.90", dead_port)])
    t = torii(m, port_map={9000: port})
    results = []
    for _ in range(12):
        try:
            results.append(exchange(port, b"x")[1])
        except ValueError:
            results.append(None)  # closed without a reply: the dead endpoint
    # The refused connect ejects the dead endpoint at once; everything after goes to the live one.
    assert results.count(None) <= 1, results
    assert results[-8:] == ["live"] * 8, results
    assert t.stat("cluster.outbound|9000||echo-live.test.upstream_cx_connect_fail") <= 1


def test_silent_client_is_closed_after_the_inspector_timeout(upstreams, torii, pki):
    a = upstreams.echo("a", host="127.0.0.76",
                       extra_args=["--tls-cert", str(pki / "a.pem"), "--tls-key", str(pki / "a.key")])
    port = harness.reserve_port()
    t = torii(passthrough_manifests(a, a), port_map={443: port}, extra_args=["--tls-inspector-timeout-s", "1"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        start = time.monotonic()
        s.sendall(client_hello("a.example.test")[:20])  # a ClientHello that never completes
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass  # closed with the peeked bytes unread: the kernel sends a reset
        assert 0.8 <= time.monotonic() - start < 9  # 1 s, not never (the socket timeout is 10 s)
    assert t.stat("tls_inspector_timeout") == 1


def test_tls_server_with_tcp_routes_terminates_and_relays_plaintext(tcp_echo, torii, pki):
    up = tcp_echo("plain", "127.0.0.91")
    port = harness.reserve_port()
    m = tcp_manifests([(up, 100)])
    m["gw.yaml"] = l4_gateway(["{port: {number: 9000, name: tls, protocol: TLS}, hosts: ['gw.example.test'], "
                               "tls: {mode: SIMPLE, serverCertificate: %s, privateKey: %s}}"
                               % (pki / "gw.pem", pki / "gw.key")])
    m["vs.yaml"] = m["vs.yaml"].replace('hosts: ["*"]', "hosts: [gw.example.test]")
    t = torii(m, port_map={9000: port})
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="gw.example.test") as s:
            # The gateway's own certificate: TLS ends here.
            assert dict(x[0] for x in s.getpeercert()["subject"])["commonName"] == "gw.example.test"
            s.sendall(b"HOLD\nsecret bytes")
            got = b""
            while len(got) < len(b"HELD plain\nsecret bytes"):
                chunk = s.recv(65536)
                assert chunk
                got += chunk
    # The upstream saw plaintext.
    assert got == b"HELD plain\nsecret bytes"
    chains = [l for l in t.config_dump()["snapshot"]["listeners"] if l.get("l4_filter_chains")][0]
    assert chains["l4_filter_chains"][0]["terminates_tls"] is True
    assert chains["l4_filter_chains"][0]["server_names"] == ["gw.example.test"]


def test_sigterm_with_an_open_tunnel_exits_after_the_drain_timeout(tcp_echo, torii):
    up = tcp_echo("drain", "127.0.0.92")
    port = harness.reserve_port()
    t = torii(tcp_manifests([(up, 100)]), port_map={9000: port}, extra_args=["--drain-timeout-s", "1"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"HOLD\n")
        assert s.recv(100) == b"HELD drain\n"
        start = time.monotonic()
        rc = t.stop()
        # Tunnels run on through the drain period (as Envoy's tcp_proxy), then the process exits cleanly.
        assert rc == 0
        assert 0.8 <= time.monotonic() - start < 9  # the 1 s drain, not the tunnel's end
        s.settimeout(5)
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass


def test_back_pressure_when_the_client_stops_reading(tcp_echo, torii):
    """The client writes 256 MiB but reads nothing for a while: the echo comes back faster than it
    is read, so the gateway must stop reading the upstream (and, the upstream then blocking, the
    client) instead of buffering; once the client reads, every byte arrives. (The kernel's socket
    buffers on the four legs hold tens of MiB on their own: receive buffers autotune up to
    net.ipv4.tcp_rmem's maximum, 32 MiB on this CI's kernel, so 64 MiB could fit in them and the
    writer finish without any back-pressure; the gateway holds at most its buffer limit per
    direction.)"""
    up = tcp_echo("bp", "127.0.0.94")
    port = harness.reserve_port()
    t = torii(tcp_manifests([(up, 100)]), port_map={9000: port})
    exchange(port)  # warm up
    total = 256 * MiB
    chunk = b"q" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sent = [0]

        def writer():
            while sent[0] < total:
                s.sendall(chunk)
                sent[0] += len(chunk)
            s.shutdown(socket.SHUT_WR)

        with harness.RssSampler(t.pid) as rss:
            th = threading.Thread(target=writer, daemon=True)
            th.start()
            # Not reading: everything stalls at the buffer limits (no progress for 0.5 s).
            def stalled():
                before = sent[0]
                time.sleep(0.5)
                return sent[0] == before
            assert harness.poll_until(stalled, 30)[0]
            assert sent[0] < total, "the writer was not held back (%d bytes sent)" % sent[0]
            assert t.stat("tcp_flow_paused_reading") >= 1
            received = 0
            while True:
                data = s.recv(1 << 20)
                if not data:
                    break
                received += len(data)
            th.join(30)
    assert received == total + len(b"\nBYE bp %d\n" % total)
    assert rss.growth < 20 * MiB, "RSS grew by %d bytes" % rss.growth
    assert t.stat("tcp_flow_resumed_reading") >= 1
