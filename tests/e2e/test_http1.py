"""HTTP/1.x protocol behaviour on the downstream side (ISTIO_SEMANTICS.md §4.1, §8).

Raw sockets, so exactly what goes on the wire is under the test's control:
keep-alive, pipelining, HTTP/1.0, HEAD, header limits (60 KiB / 100 headers
=> 431), garbage (=> 400), chunked request bodies.

Note on HTTP/1.0: Istio answers 426 by default (§4.1, App. B 29); Torii serves
it by default and offers --reject-http10 for Istio's behaviour (README).
"""

import zlib

import pytest

import harness
from harness import RawConn, http_request


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("h1", host="127.0.0.9")


VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: echo
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /e}}]
    route:
    - destination: {host: echo, port: {number: 80}}
"""


@pytest.fixture
def gw(echo, torii):
    return torii({"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"), "vs.yaml": VS})


def conn(gw):
    return RawConn(gw.listen_port)


def test_keep_alive(gw):
    """Several requests on one HTTP/1.1 connection, each answered, connection left open."""
    with conn(gw) as c:
        for i in range(5):
            c.send(http_request("GET", "/e/%d" % i))
            r = c.read_response()
            assert r.status == 200
            assert r.json()["path"] == "/e/%d" % i
            assert (r.header("connection") or "").lower() != "close"
        assert not c.closed_by_peer(timeout=0.5)


def test_idle_keep_alive_connections_hold_no_parser_or_buffer(gw):
    """Issue 17: an idle keep-alive connection gives its parser and buffer slices back.

    100 connections each get one answer and stay open; /stats then shows them
    open with no request parser (downstream_http1_parsers_active) and no buffer
    slice (buffer_slices_active) held by any worker. A connection with half a
    request head shows the parser gauge counts, and the connections still serve.
    """
    conns = [conn(gw) for _ in range(100)]
    try:
        for i, c in enumerate(conns):
            c.send(http_request("GET", "/e/idle%d" % i))
            assert c.read_response().status == 200
        def idle():
            s = gw.stats()
            return (s["downstream_cx_active"] >= 100 and s["downstream_http1_parsers_active"] == 0
                    and s["buffer_slices_active"] == 0)
        assert harness.poll_until(idle, 10)[0], gw.stats()
        # Half a head: that connection holds a parser until the head is complete.
        conns[0].send(b"GET /e/half HTTP/1.1\r\nHost: x\r\n")
        def one_parser():
            return gw.stats()["downstream_http1_parsers_active"] == 1
        assert harness.poll_until(one_parser, 10)[0], gw.stats()
        conns[0].send(b"\r\n")
        assert conns[0].read_response().json()["path"] == "/e/half"
        for i, c in enumerate(conns[1:]):
            c.send(http_request("GET", "/e/again%d" % i))
            assert c.read_response().json()["path"] == "/e/again%d" % i
        assert harness.poll_until(idle, 10)[0], gw.stats()
    finally:
        for c in conns:
            c.close()


@pytest.fixture
def gw_long_linger(echo, torii):
    """A gateway whose lingering close waits a minute: far longer than any wait below."""
    return torii({"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"), "vs.yaml": VS},
                 extra_args=["--delayed-close-timeout-ms", "60000"])


def test_a_client_that_said_close_is_closed_at_once(gw_long_linger):
    """Issue 17: `Connection: close`, read whole: no lingering close.

    The client keeps its socket open after the answer and the gateway's FIN;
    the gateway's connection is gone anyway (downstream_cx_active back to 0),
    long before the minute a lingering close would wait. HTTP/1.0 without
    keep-alive is the same case.
    """
    g = gw_long_linger
    for version, headers in (("HTTP/1.1", [("Connection", "close")]), ("HTTP/1.0", [])):
        c = RawConn(g.listen_port)
        try:
            c.send(http_request("GET", "/e/last", headers=headers, version=version))
            r = c.read_response()
            assert r.status == 200, version
            assert c.closed_by_peer(timeout=10), version
            assert harness.poll_until(lambda: g.stats()["downstream_cx_active"] == 0, 10)[0], (version, g.stats())
        finally:
            c.close()


def test_a_close_the_gateway_starts_lingers_until_the_client_closes(gw_long_linger):
    """A 400 ends a connection the client did not say it was done with: the
    gateway sends its FIN, then keeps reading (and dropping) what the client
    sends until the client closes (up to --delayed-close-timeout-ms), so bytes
    already on their way cannot turn the close into a reset."""
    g = gw_long_linger
    c = RawConn(g.listen_port)
    try:
        c.send(b"GARBAGE\r\n\r\n")
        assert c.read_response().status == 400
        assert c.closed_by_peer(timeout=10)
        c.send(b"more bytes the client had in flight")
        assert g.stats()["downstream_cx_active"] == 1  # lingering: the minute is far from over
    finally:
        c.close()
    assert harness.poll_until(lambda: g.stats()["downstream_cx_active"] == 0, 10)[0], g.stats()


def test_pipelined_requests_answered_in_order(gw):
    """Requests sent back to back before any response are answered in order (RFC 9112 §9.3.2)."""
    paths = ["/e/p%d" % i for i in range(10)]
    with conn(gw) as c:
        c.send(b"".join(http_request("GET", p) for p in paths))
        got = [c.read_response().json()["path"] for _ in paths]
    assert got == paths


def test_pipelined_with_bodies_and_local_replies(gw):
    """Pipelining across proxied requests with bodies and local 404s keeps the order."""
    reqs = [("POST", "/e/a", b"x" * 1000), ("GET", "/missing", b""), ("POST", "/e/b", b"y" * 70000),
            ("GET", "/e/c", b"")]
    with conn(gw) as c:
        c.send(b"".join(http_request(m, p, body=b) for m, p, b in reqs))
        for m, p, b in reqs:
            r = c.read_response()
            if p == "/missing":
                assert r.status == 404 and r.body == b""
            else:
                assert r.status == 200
                doc = r.json()
                assert doc["path"] == p and doc["body_length"] == len(b)


def test_http10_request_is_served(gw):
    """HTTP/1.0 without keep-alive: served, then the connection is closed."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/old", version="HTTP/1.0"))
        r = c.read_response()
        assert r.status == 200
        assert r.json()["path"] == "/e/old"
        assert r.header("server") == "istio-envoy"
        assert c.closed_by_peer(timeout=10)


def test_http10_rejected_with_426_when_asked(echo, torii):
    """--reject-http10 gives Istio's default behaviour: 426 Upgrade Required (§4.1, §8, App. B 29)."""
    t = torii({"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"), "vs.yaml": VS},
              extra_args=["--reject-http10"])
    with conn(t) as c:
        c.send(http_request("GET", "/e/old", version="HTTP/1.0"))
        r = c.read_response()
        assert r.status == 426
        assert r.header("server") == "istio-envoy"
    with conn(t) as c:
        c.send(http_request("GET", "/e/new"))
        assert c.read_response().status == 200


def test_head_has_no_body(gw):
    """HEAD: headers only; the next response on the connection starts right after them."""
    with conn(gw) as c:
        c.send(http_request("HEAD", "/e/head") + http_request("GET", "/e/after"))
        r = c.read_response(head_request=True)
        assert r.status == 200
        assert r.body == b""
        r2 = c.read_response()  # would fail to parse if HEAD had carried a body
        assert r2.status == 200 and r2.json()["path"] == "/e/after"


def test_request_headers_over_60kib_get_431(gw):
    """§4.1/§8: request headers larger than 60 KiB => 431 (downstream_rq_too_large_headers)."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/big", headers=[("X-Big", "a" * (61 * 1024))]))
        r = c.read_response()
        assert r.status == 431
        assert r.header("server") == "istio-envoy"
        assert r.body == b"Request Header Fields Too Large"  # Envoy: the reason phrase


def test_request_headers_split_over_many_lines_over_60kib_get_431(gw):
    """The 60 KiB limit is on all headers together, not per line."""
    headers = [("X-Part-%d" % i, "b" * 4000) for i in range(16)]  # 16 x ~4 KiB = 64 KiB
    with conn(gw) as c:
        c.send(http_request("GET", "/e/big", headers=headers))
        assert c.read_response().status == 431


def test_request_headers_under_the_limit_pass(gw):
    """40 KiB of headers is within Envoy's 60 KiB default."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/ok", headers=[("X-Big", "c" * (40 * 1024))]))
        r = c.read_response()
        assert r.status == 200
        assert len(harness.header_dict(r.json())["x-big"]) == 40 * 1024


def test_more_than_100_headers_get_431(gw):
    """Envoy's default max_request_headers_count is 100 => 431."""
    headers = [("X-H%d" % i, "v") for i in range(120)]
    with conn(gw) as c:
        c.send(http_request("GET", "/e/many", headers=headers))
        assert c.read_response().status == 431


@pytest.mark.parametrize("garbage", [
    b"GARBAGE\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS ClientHello on the plaintext port
    b"GET /e/x HTTP/1.1\r\nHost: a\r\nBad Header Name: x\r\n\r\n",
    b"GET /e/x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
    b"GET /e/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET ftp://a/e/x HTTP/1.1\r\nHost: a\r\n\r\n",
], ids=["garbage", "tls-hello", "space-in-header-name", "bad-content-length", "cl-and-te", "ftp-scheme"])
def test_garbage_gets_400(gw, garbage):
    """§8 DPE: a malformed request gets 400 and the connection is closed; the gateway lives on."""
    with conn(gw) as c:
        c.send(garbage)
        try:
            r = c.read_response()
        except (EOFError, ConnectionResetError):
            pytest.fail("connection closed without a 400 response")
        assert r.status == 400
        assert c.closed_by_peer(timeout=10)
    with conn(gw) as c:
        c.send(http_request("GET", "/e/still-alive"))
        assert c.read_response().status == 200


def test_chunked_request_body(gw):
    """A chunked request body (several chunks, chunk extension, trailer) reaches the upstream whole."""
    parts = [b"hello ", b"chunked " * 1000, b"world", b"z" * 100000]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
    body = body.replace(b"5\r\nworld", b"5;ext=1\r\nworld", 1)
    body += b"0\r\nX-Trailer: t\r\n\r\n"
    head = (b"POST /e/chunked HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n")
    whole = b"".join(parts)
    with conn(gw) as c:
        # dribble it out in small writes to exercise partial parsing
        data = head + body
        for i in range(0, len(data), 997):
            c.send(data[i:i + 997])
        r = c.read_response()
        assert r.status == 200
        doc = r.json()
        assert doc["body_length"] == len(whole)
        assert doc["body_crc32"] == zlib.crc32(whole)
        # the connection is still usable
        c.send(http_request("GET", "/e/next"))
        assert c.read_response().json()["path"] == "/e/next"


def test_response_header_names_lower_cased(gw):
    """§4.1: HTTP/1 header names are lower-cased (the upstream sends X-Echo-Name, Content-Type)."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/case"))
        r = c.read_response()
    names = [k for k, _ in r.headers]
    assert "x-echo-name" in names and "content-type" in names, names
    assert all(k == k.lower() for k in names), names



# ---- framing and header checks Envoy's HTTP/1 codec makes ----


@pytest.mark.parametrize("te", [
    [b"gzip, chunked"],
    [b"gzip", b"chunked"],
    [b"chunked, gzip"],
    [b"identity"],
], ids=["gzip-comma-chunked", "two-lines", "chunked-not-last", "identity"])
def test_transfer_encoding_other_than_chunked_gets_501(gw, te):
    """Envoy answers 501 to any transfer coding but exactly `chunked`; passed on,
    the gzip label would be lost when the gateway re-frames the body."""
    head = b"POST /e/te HTTP/1.1\r\nHost: a\r\n" + b"".join(b"Transfer-Encoding: %s\r\n" % v for v in te)
    with conn(gw) as c:
        c.send(head + b"\r\n3\r\nabc\r\n0\r\n\r\n")
        r = c.read_response()
        assert r.status == 501
        assert c.closed_by_peer(timeout=10)
    assert gw.stat("downstream_cx_protocol_error") >= 1


@pytest.mark.parametrize("value", ["x-forwarded-for", "close, X-Forwarded-Proto", ":authority",
                                   "a, b, c, d, e, f, g, h, i, j"])
def test_connection_may_not_strip_forwarding_headers(gw, value):
    """Envoy's sanitizeConnectionHeader: naming X-Forwarded-*, a pseudo-header or
    10+ tokens in Connection is a 400 (it would hide where the request came from)."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/conn", headers=[("X-Forwarded-For", "203.0.113.7"), ("Connection", value)]))
        r = c.read_response()
        assert r.status == 400
        assert c.closed_by_peer(timeout=10)


def test_connection_named_fields_are_stripped_but_te_trailers_kept(gw):
    with conn(gw) as c:
        c.send(http_request("GET", "/e/conn", headers=[("X-Secret", "1"), ("TE", "trailers"),
                                                       ("Connection", "x-secret, te")]))
        r = c.read_response()
        assert r.status == 200
    headers = harness.header_dict(r.json())
    assert "x-secret" not in headers
    assert headers.get("te") == "trailers"


@pytest.mark.parametrize("head", [
    b"GET /e/h HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n",  # two Host lines
    b"GET /e/h HTTP/1.1\r\nHost: a.example\r\nhost: a.example\r\n",  # even the same value twice
    b"GET /e/h HTTP/1.1\r\nHost: x y\r\n",  # not a reg-name
    b"GET /e/h HTTP/1.1\r\nHost: evil@x\r\n",  # userinfo
    b"GET /e/h HTTP/1.1\r\nHost: x:99999\r\n",  # port out of range
    b"GET /e/h HTTP/1.1\r\nHost: x:8o\r\n",  # port not numeric
    b"GET /e/h HTTP/1.1\r\nHost:\r\n",  # empty: an http URI needs a host (RFC 9110 4.2.1)
    b"GET /e/h HTTP/1.1\r\nX-Other: 1\r\n",  # HTTP/1.1 without Host
    b"GET http://a.example/e/h HTTP/1.1\r\n",  # absolute-form does not excuse a missing Host on 1.1
    b"GET http://a.example/e/h HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n",
    b"GET http://a:99999/e/h HTTP/1.1\r\nHost: a.example\r\n",  # the target's authority too
])
def test_host_rules_of_rfc_9112_get_400(gw, head):
    """RFC 9112 3.2: 400 for a missing Host on HTTP/1.1, more than one Host line,
    or a Host that is not uri-host [":" port]. Nothing reaches the upstream and the
    connection is closed (its framing can no longer be trusted)."""
    with conn(gw) as c:
        c.send(head + b"\r\n")
        r = c.read_response()
        assert r.status == 400
        assert c.closed_by_peer(timeout=10)


@pytest.mark.parametrize("host", ["a.example:8080", "[::1]:80", "x-y_z~.example", "a.example:", "caf%C3%A9.example"])
def test_valid_host_values_are_served(gw, host):
    with conn(gw) as c:
        c.send(http_request("GET", "/e/ok", host=host))
        r = c.read_response()
        assert r.status == 200
    assert harness.header_dict(r.json())["host"] == host


def test_absolute_form_target_wins_over_host(gw):
    """RFC 9112 3.2.2: with an absolute-form target the Host line is ignored and
    replaced by the target's authority (which is also what routing sees)."""
    with conn(gw) as c:
        c.send(b"GET http://target.example:8080/e/abs?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
    doc = r.json()
    assert doc["path"] == "/e/abs?q=1"
    hosts = [v for k, v in doc["headers"] if k.lower() == "host"]
    assert hosts == ["target.example:8080"]


def test_http10_without_host_gets_400(gw):
    """Envoy's connection manager requires a host on every request, HTTP/1.0 too
    (Istio sets no default_host_for_http_10)."""
    with conn(gw) as c:
        c.send(b"GET /e/old HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status == 400
        assert r.body == b""


@pytest.mark.parametrize("case", ["te-gzip", "te-gzip-chunked", "204-length", "cl-and-te"])
def test_upstream_response_with_bad_framing_gets_502(gw, case):
    """Envoy's client codec: a transfer coding other than chunked, or a non-zero
    Content-Length on a 204, is the upstream's protocol error: 502."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/raw?raw=" + case))
        r = c.read_response()
        assert r.status == 502
        assert "protocol error" in r.body.decode()
        c.send(http_request("GET", "/e/next"))  # the client connection is fine
        assert c.read_response().status == 200


def test_upstream_closing_mid_body_resets_the_client_connection(gw):
    """Headers already went out, so no 502 is possible: like Envoy, the client's
    connection is cut, and the client sees a body shorter than its Content-Length."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/raw?raw=short-body"))
        with pytest.raises((EOFError, ConnectionResetError)):
            c.read_response()


def test_upstream_204_with_content_length_zero_passes_without_it(gw):
    with conn(gw) as c:
        c.send(http_request("GET", "/e/raw?raw=204-length-0"))
        r = c.read_response()
        assert r.status == 204
        assert r.header("x-raw") == "1"
        assert r.header("content-length") is None


def test_upstream_response_headers_limit_is_80_kib(gw):
    """Envoy's HTTP/1 client codec takes up to 80 KiB of response headers
    (MAX_RESPONSE_HEADERS_KB); more is the upstream's protocol error: 502."""
    with conn(gw) as c:
        c.send(http_request("GET", "/e/big?header_kb=70"))
        r = c.read_response()
        assert r.status == 200
        assert len(r.header("x-big")) == 70 * 1024
        c.send(http_request("GET", "/e/big?header_kb=90"))
        assert c.read_response().status == 502


def test_max_response_headers_kb_raises_the_upstream_limit(echo, torii):
    t = torii({"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"), "vs.yaml": VS},
              extra_args=["--max-response-headers-kb", "100"])
    with conn(t) as c:
        c.send(http_request("GET", "/e/big?header_kb=90"))
        assert c.read_response().status == 200
        c.send(http_request("GET", "/e/big?header_kb=110"))
        assert c.read_response().status == 502
