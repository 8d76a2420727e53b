"""HTTP/2 from clients (ISTIO_SEMANTICS.md §4.1, §4.5, §8): h2c with prior
knowledge and h2 by ALPN on HTTPS servers, to HTTP/1.1 upstreams, with the
same routes, local replies and headers HTTP/1.1 gets; the 421 answer to a
coalesced connection; Envoy's edge limits and flood defences, each attack
sent frame by frame.

Clients: curl (--http2-prior-knowledge, --http2), nghttp and h2load
(nghttp2-client), python3-h2, and raw frames (python3-hyperframe/hpack).
"""

import json
import subprocess
import time

import pytest
import hyperframe.frame as hf

import harness
from h2_client import H2Client, RawH2, tls_context

NEWKEY = ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a wildcard certificate for *.example.test (both HTTPS servers use it:
    the setup that lets browsers coalesce), and one for api.example.test."""
    d = tmp_path_factory.mktemp("pki")
    _run(NEWKEY + ["-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test-ca"], d)
    for name, san in [("wild", "DNS:*.example.test"), ("api", "DNS:api.example.test")]:
        (d / (name + ".ext")).write_text("subjectAltName=%s\n" % san)
        _run(NEWKEY + ["-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name], d)
        _run(["openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext"], d)
    return d


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("h2", host="127.0.0.40")


def manifests(pki, echo):
    wild = (pki / "wild.pem", pki / "wild.key")
    return {
        "gw.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.test]
    tls: {mode: SIMPLE, serverCertificate: %s, privateKey: %s}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: [b.example.test]
    tls: {mode: SIMPLE, serverCertificate: %s, privateKey: %s}
""" % (wild + wild),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: plain}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - match: [{uri: {prefix: /e}}, {uri: {prefix: /bytes}}]
    route: [{destination: {host: echo, port: {number: 80}}}]
  - match: [{uri: {prefix: /down}}]
    route: [{destination: {host: nowhere, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [a.example.test]
  gateways: [istio-system/gw]
  http:
  - route: [{destination: {host: echo, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: b}
spec:
  hosts: [b.example.test]
  gateways: [istio-system/gw]
  http:
  - route: [{destination: {host: echo, port: {number: 80}}}]
""",
        "echo.yaml": harness.backend(echo, "echo"),
        "nowhere.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: nowhere}
spec:
  ports: [{name: http, port: 80}]
  selector: {app: nowhere}
""",
    }


@pytest.fixture(scope="module")
def gw(pki, echo, tmp_path_factory):
    """One Torii for the module (the attack tests close only their own connections)."""
    workdir = tmp_path_factory.mktemp("torii")
    http_port, https_port = harness.reserve_port(), harness.reserve_port()
    t = harness.start_torii(workdir, manifests=manifests(pki, echo), port_map={80: http_port, 443: https_port},
                            wait_ready=False)
    harness.wait_ready_or_fail(t, harness.READY_TIMEOUT)
    t.https_port = https_port
    yield t
    rc = t.stop()
    t.proc.cleanup()
    assert rc == 0, t.proc.log_tail(40)


def curl(*args):
    p = subprocess.run(["curl", "-s", "--max-time", "10", "-o", "-", "-w", "\n%{http_code} %{http_version}", *args],
                       capture_output=True, text=True)
    body, _, tail = p.stdout.rpartition("\n")
    status, _, version = tail.partition(" ")
    return p.returncode, status, version, body


def header(doc, name):
    values = [v for k, v in doc["headers"] if k.lower() == name]
    return values[0] if values else None


# ---------------------------------------------------------------------------------------
# working traffic


def test_h2c_prior_knowledge_reaches_an_http1_upstream(gw):
    rc, status, version, body = curl("--http2-prior-knowledge", "-H", "Host: h2c.example", gw.url("/e/x?q=1"))
    assert (rc, status, version) == (0, "200", "2"), body
    doc = json.loads(body)
    assert doc["path"] == "/e/x?q=1"
    assert doc["http_version"] == "HTTP/1.1"
    assert header(doc, "host") == "h2c.example"  # :authority became Host
    assert header(doc, "x-forwarded-proto") == "http"
    assert header(doc, "x-envoy-attempt-count") == "1"
    assert header(doc, "x-request-id")


def test_http1_still_served_on_the_same_port(gw):
    rc, status, version, _ = curl(gw.url("/e/x"))
    assert (rc, status, version) == (0, "200", "1.1")


def test_h2_by_alpn_on_an_https_server(gw, pki):
    base = ["--cacert", str(pki / "ca.pem"), "--resolve", "a.example.test:%d:127.0.0.1" % gw.https_port]
    url = "https://a.example.test:%d/e/tls" % gw.https_port
    rc, status, version, body = curl("--http2", *base, url)
    assert (rc, status, version) == (0, "200", "2"), body
    assert header(json.loads(body), "x-forwarded-proto") == "https"
    rc, status, version, _ = curl("--http1.1", *base, url)
    assert (rc, status, version) == (0, "200", "1.1")


def test_response_headers_and_local_replies_match_http1(gw):
    with H2Client(gw.listen_port) as c:
        r = c.request("GET", "/e/x", authority="any.example")
        assert r.status == 200
        assert r.header("server") == "istio-envoy"
        assert r.header("x-envoy-upstream-service-time") is not None
        assert r.header("connection") is None and r.header("transfer-encoding") is None
        r = c.request("GET", "/nothing-here", authority="any.example")
        assert (r.status, r.body) == (404, b"")
        r = c.request("GET", "/down", authority="any.example")
        assert r.status == 503 and r.body == b"no healthy upstream"
        assert r.header("content-type") == "text/plain"
        r = c.request("HEAD", "/e/head", authority="any.example")
        assert r.status == 200 and r.body == b""


def test_request_and_response_bodies_both_ways(gw):
    payload = bytes(range(256)) * 4096  # 1 MiB, more than the 64 KiB stream window
    with H2Client(gw.listen_port) as c:
        r = c.request("POST", "/e/up", body=payload)
        assert r.status == 200
        doc = json.loads(r.body)
        assert doc["body_length"] == len(payload)
        assert doc["chunked"] is True  # no content-length: chunked to the HTTP/1.1 upstream
        r = c.request("POST", "/e/up", body=payload, headers=[("content-length", str(len(payload)))])
        assert json.loads(r.body)["body_length"] == len(payload)
        r = c.request("GET", "/bytes/5000000")
        assert r.status == 200 and len(r.body) == 5000000


def test_split_cookies_are_joined_for_http1(gw):
    with H2Client(gw.listen_port) as c:
        r = c.request("GET", "/e/c", headers=[("cookie", "a=1"), ("cookie", "b=2")])
    assert header(json.loads(r.body), "cookie") == "a=1; b=2"


def test_many_concurrent_streams_on_one_connection(gw):
    with H2Client(gw.listen_port) as c:
        sids = [c.start("GET", "/e/s%d?sleep_ms=50" % i) for i in range(100)]
        responses = c.wait_all(sids, timeout=30)
    assert [r.status for r in responses] == [200] * 100
    assert [json.loads(r.body)["path"] for r in responses] == ["/e/s%d?sleep_ms=50" % i for i in range(100)]


def test_nghttp_and_h2load(gw):
    p = subprocess.run(["nghttp", "-v", gw.url("/e/nghttp")], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and ":status: 200" in p.stdout, p.stdout[-2000:]
    p = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "25", gw.url("/e/load")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2000 succeeded, 0 failed, 0 errored" in p.stdout, p.stdout
    assert "status codes: 2000 2xx" in p.stdout, p.stdout


def test_expect_100_continue(gw):
    with H2Client(gw.listen_port) as c:
        sid = c.start("POST", "/e/cont", headers=[("expect", "100-continue")], end_stream=False)
        c.pump(until=lambda: c.responses[sid].informational or c.responses[sid].ended)
        assert c.responses[sid].informational[0][0] == (":status", "100")
        c._send_body(sid, b"hello", end_stream=True)
        c.pump(until=lambda: c.responses[sid].ended)
        assert json.loads(c.responses[sid].body)["body_length"] == 5


# ---------------------------------------------------------------------------------------
# 421 Misdirected Request (ISTIO_SEMANTICS §4.5)


def test_coalesced_connection_gets_421(gw, pki):
    """Both HTTPS servers share a wildcard certificate: a browser reuses its
    connection to a.example.test for b.example.test. Envoy would route it on
    a's table (404); Torii answers 421 so the client opens a connection of its own."""
    with H2Client(gw.https_port, tls_context=tls_context(pki / "ca.pem"), server_hostname="a.example.test") as c:
        assert c.request("GET", "/x", authority="a.example.test", scheme="https").status == 200
        r = c.request("GET", "/x", authority="b.example.test", scheme="https")
        assert r.status == 421
        assert c.request("GET", "/x", authority="a.example.test:%d" % gw.https_port, scheme="https").status == 200
    with H2Client(gw.https_port, tls_context=tls_context(pki / "ca.pem"), server_hostname="b.example.test") as c:
        assert c.request("GET", "/x", authority="b.example.test", scheme="https").status == 200
    # The same rule on HTTP/1.1 (a Host unlike the SNI).
    rc, status, _, _ = curl("--http1.1", "--cacert", str(pki / "ca.pem"), "--resolve",
                            "a.example.test:%d:127.0.0.1" % gw.https_port, "-H", "Host: b.example.test",
                            "https://a.example.test:%d/x" % gw.https_port)
    assert (rc, status) == (0, "421")


# ---------------------------------------------------------------------------------------
# limits


def test_settings_are_envoys_edge_values(gw):
    with H2Client(gw.listen_port) as c:
        c.pump(until=lambda: c.remote_settings)
        assert c.remote_settings[hf.SettingsFrame.MAX_CONCURRENT_STREAMS] == 100
        assert c.remote_settings[hf.SettingsFrame.INITIAL_WINDOW_SIZE] == 65536


def test_limits_have_settings(pki, echo, torii):
    t = torii(manifests=manifests(pki, echo), extra_args=["--http2-max-concurrent-streams", "7",
                                                          "--http2-stream-window-kb", "128"])
    with H2Client(t.listen_port) as c:
        c.pump(until=lambda: c.remote_settings)
        assert c.remote_settings[hf.SettingsFrame.MAX_CONCURRENT_STREAMS] == 7
        assert c.remote_settings[hf.SettingsFrame.INITIAL_WINDOW_SIZE] == 128 * 1024


def test_request_headers_beyond_the_limit_get_431(gw):
    with H2Client(gw.listen_port) as c:
        big = [("x-big-%d" % i, "v" * 1000) for i in range(70)]  # > 60 KiB
        r = c.request("GET", "/e/x", headers=big)
        assert r.status == 431
        many = [("x-n-%d" % i, "v") for i in range(120)]  # > 100 fields
        assert c.request("GET", "/e/x", headers=many).status == 431
        assert c.request("GET", "/e/x").status == 200  # the connection is fine


def test_graceful_drain_sends_goaway_and_finishes_streams(pki, echo, torii):
    """SIGTERM: GOAWAY(NO_ERROR) naming the last stream taken; that stream
    still gets its whole response. (Raw frames: python-h2 stops reading at a
    GOAWAY.)"""
    t = torii(manifests=manifests(pki, echo))
    with RawH2(t.listen_port) as raw:
        raw.send(raw.headers(1, path="/e/slow?sleep_ms=1500"))
        # The request is at the upstream once the echo server logged it.
        harness.poll_until(lambda: any(e["path"].startswith("/e/slow") for e in echo_log(echo)), 10)
        t.proc.signal(15)
        seen = {"goaway": None, "ended": False, "status": None}

        def watch(f):
            if isinstance(f, hf.GoAwayFrame):
                seen["goaway"] = f
            elif isinstance(f, hf.HeadersFrame) and f.stream_id == 1:
                seen["status"] = dict(raw.decoder.decode(f.data)).get(":status")
            if f.stream_id == 1 and "END_STREAM" in f.flags:
                seen["ended"] = True
            return seen["goaway"] is not None and seen["ended"]
        raw.read_frames(watch, timeout=20)
    assert seen["status"] == "200"
    assert seen["goaway"].error_code == 0
    assert seen["goaway"].last_stream_id == 1
    t.stopped_by_test = True


def echo_log(echo):
    import requests
    return requests.get(echo.url + "/__log", timeout=5).json()


def test_removed_listener_drains_its_connections(echo, torii):
    """A reload that removes a listener drains its connections as Envoy does:
    HTTP/2 ones get GOAWAY(NO_ERROR), idle HTTP/1.1 ones are closed; new
    connections are refused."""
    gw80 = harness.gateway("gw")
    t = torii(manifests={"gw.yaml": gw80, "echo.yaml": harness.backend(echo, "echo"),
                         "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: e}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route: [{destination: {host: echo, port: {number: 80}}}]
"""}, port_map={80: harness.reserve_port(), 81: harness.reserve_port()})
    with RawH2(t.listen_port) as raw, harness.RawConn(t.listen_port) as h1:
        raw.send(raw.headers(1, path="/e/before"))
        assert raw.read_frames(lambda f: isinstance(f, hf.HeadersFrame) and f.stream_id == 1) is not None
        h1.send(harness.http_request("GET", "/e/h1"))
        assert h1.read_response().status == 200
        t.write("gw.yaml", harness.gateway("gw", port=81))  # port 80's listener goes away
        goaway = raw.wait_goaway(timeout=20)
        assert goaway is not None and goaway.error_code == 0 and goaway.last_stream_id == 1
        assert h1.closed_by_peer(timeout=20)


# ---------------------------------------------------------------------------------------
# attacks: each closes the connection (GOAWAY) or refuses the stream, and the
# gateway serves the next client


def assert_still_serving(gw):
    with H2Client(gw.listen_port) as c:
        assert c.request("GET", "/e/ok").status == 200


def test_rapid_reset(gw, echo):
    """CVE-2023-44487: open a stream and reset it at once, thousands of times."""
    with RawH2(gw.listen_port) as raw:
        sent = 0
        for batch in range(40):
            frames = []
            for i in range(50):
                sid = 1 + 2 * sent
                frames += [raw.headers(sid, path="/e/rr?sleep_ms=200"), hf.RstStreamFrame(sid, error_code=8)]
                sent += 1
            if not raw.send(*frames):
                break
        goaway = raw.wait_goaway()
        assert goaway is not None and goaway.error_code == 11  # ENHANCE_YOUR_CALM
    assert_still_serving(gw)


def test_made_you_reset(gw):
    """CVE-2025-8671: the client makes the server reset streams (here, a
    WINDOW_UPDATE that overflows the stream window), evading counts of
    client resets."""
    with RawH2(gw.listen_port) as raw:
        sent = 0
        for batch in range(40):
            frames = []
            for i in range(50):
                sid = 1 + 2 * sent
                frames += [raw.headers(sid, path="/e/myr?sleep_ms=200"),
                           hf.WindowUpdateFrame(sid, window_increment=0x7fffffff)]
                sent += 1
            if not raw.send(*frames):
                break
        goaway = raw.wait_goaway()
        assert goaway is not None and goaway.error_code == 11
    assert_still_serving(gw)


def test_continuation_flood(gw):
    """CVE-2024-28182: a header block that never ends."""
    with RawH2(gw.listen_port) as raw:
        first = raw.headers(1, end_headers=False)
        raw.send(first)
        for i in range(2000):
            if not raw.send(hf.ContinuationFrame(1, data=raw.encoder.encode([("x-c%d" % i, "v" * 100)]))):
                break
        assert raw.closed()
    assert_still_serving(gw)


def test_hpack_bomb(gw):
    """A small header block that decodes into far more than the header limit
    (one large entry in the dynamic table, referenced again and again)."""
    with RawH2(gw.listen_port) as raw:
        raw.encoder.header_table_size = 4096
        big = ("x-bomb", "b" * 4000)
        block = raw.encoder.encode([(":method", "GET"), (":path", "/e/x"), (":authority", "a"),
                                    (":scheme", "http"), big])
        block += raw.encoder.encode([big] * 1000)  # each repeat: 1 byte on the wire, 4 KB decoded
        f = hf.HeadersFrame(1, block)
        f.flags.add("END_HEADERS")
        f.flags.add("END_STREAM")
        raw.send(f)
        got = raw.read_frames(lambda fr: isinstance(fr, (hf.HeadersFrame, hf.RstStreamFrame, hf.GoAwayFrame))
                              and fr.stream_id in (0, 1))
        assert got is not None
        if isinstance(got, hf.HeadersFrame):
            assert dict(raw.decoder.decode(got.data))[":status"] == "431"
    assert_still_serving(gw)


@pytest.mark.parametrize("flood", ["empty-data", "settings", "ping", "window-update", "priority"])
def test_control_and_empty_frame_floods(gw, flood):
    with RawH2(gw.listen_port) as raw:
        if flood == "empty-data":
            raw.send(raw.headers(1, method="POST", path="/e/x", end_stream=False))
            frames = [hf.DataFrame(1, b"") for _ in range(100)]
        elif flood == "settings":
            frames = [hf.SettingsFrame(0, settings={hf.SettingsFrame.ENABLE_PUSH: 0})] * 400000
        elif flood == "ping":
            # Enough ACKs to fill the socket buffers and the gateway's own
            # output limit: only then do queued ACKs pile up (and count).
            frames = [hf.PingFrame(0, opaque_data=b"12345678")] * 400000
        elif flood == "window-update":
            frames = [hf.WindowUpdateFrame(0, window_increment=1) for _ in range(5000)]
        else:
            frames = [hf.PriorityFrame(3 + 2 * (i % 50), depends_on=0, stream_weight=16) for i in range(5000)]
        # Written without reading what the server answers (the acks pile up).
        for i in range(0, len(frames), 1000):
            if not raw.send(*frames[i:i + 1000]):
                break
        goaway = raw.wait_goaway(timeout=30)
        if goaway is not None:
            assert goaway.error_code in (1, 11)  # PROTOCOL_ERROR or ENHANCE_YOUR_CALM
        else:
            assert raw.closed()
    assert_still_serving(gw)


def test_streams_beyond_the_limit_are_refused(gw):
    """More than 100 open streams: the extra ones get RST_STREAM(REFUSED_STREAM)
    and never reach the upstream."""
    with RawH2(gw.listen_port) as raw:
        frames = [raw.headers(1 + 2 * i, path="/e/lim?sleep_ms=1000") for i in range(150)]
        raw.send(*frames)
        refused = set()

        def count(f):
            if isinstance(f, hf.RstStreamFrame) and f.error_code == 7:
                refused.add(f.stream_id)
            return len(refused) >= 50
        raw.read_frames(count, timeout=10)
        assert len(refused) >= 50
