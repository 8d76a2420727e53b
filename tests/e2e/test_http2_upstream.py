"""HTTP/2 to the upstream (issue 13, ISTIO_SEMANTICS.md §4.4): which ports get
it, header translation both ways, multiplexing and its limits, GOAWAY and
refused streams, trailers. The upstream is h2_echo_server.py, which speaks
HTTP/2 (h2c) and HTTP/1.1 on one port and says which it got.
"""

import concurrent.futures
import json
import subprocess
import time
from pathlib import Path

import pytest
import requests

import harness
from h2_client import H2Client

HERE = Path(__file__).resolve().parent


def start_h2echo(workdir, name, host, extra_args=()):
    port = harness.reserve_port()
    argv = [harness.PYTHON, "-u", str(HERE / "h2_echo_server.py"), "--name", name, "--host", host,
            "--port", str(port)] + list(extra_args)
    proc = harness.Proc("h2echo-" + name, argv, Path(workdir) / ("h2echo-%s.log" % name))
    if not harness.wait_for_port(host, port, harness.UPSTREAM_START_TIMEOUT, proc):
        proc.cleanup()
        raise RuntimeError("h2 echo server did not start:\n" + proc.log_tail())
    return harness.Upstream(proc, host, port, name)


def service(name, port_name, app_protocol=None):
    ap = "\n    appProtocol: %s" % app_protocol if app_protocol else ""
    return """\
apiVersion: v1
kind: Service
metadata: {name: %s}
spec:
  ports:
  - name: %s
    port: 80%s
  selector: {app: %s}
""" % (name, port_name, ap, name)


def backend(name, port_name, upstream, app_protocol=None):
    return service(name, port_name, app_protocol) + "---\n" + harness.workload_entry(
        name + "-1", upstream.host, {"app": name}, {port_name: upstream.port})


def http_pool_rule(host, settings):
    """A DestinationRule with connectionPool.http `settings` (one YAML flow item)."""
    return """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: %s}
spec:
  host: %s
  trafficPolicy: {connectionPool: {http: {%s}}}
""" % (host, host, settings)


def route(prefix, host):
    return "  - match: [{uri: {prefix: %s}}]\n    route: [{destination: {host: %s, port: {number: 80}}}]\n" % (
        prefix, host)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    up = start_h2echo(tmp_path_factory.mktemp("h2echo"), "h2", "127.0.0.43")
    yield up
    up.proc.terminate(10)
    up.proc.cleanup()


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """A server that allows 3 streams at once per connection."""
    up = start_h2echo(tmp_path_factory.mktemp("h2echo3"), "h2lim", "127.0.0.44", ["--max-concurrent-streams", "3"])
    yield up
    up.proc.terminate(10)
    up.proc.cleanup()


def manifests(up, lim):
    return {
        "gw.yaml": harness.gateway("gw"),
        "svc.yaml": "---\n".join([
            backend("named", "http2-web", up),            # name prefix http2-
            backend("grpcport", "grpc", up),              # name grpc
            backend("plain", "http", up),                 # HTTP/1.1
            backend("h2c", "web", up, "kubernetes.io/h2c"),  # appProtocol
            backend("upgraded", "http-up", up),           # DestinationRule h2UpgradePolicy: UPGRADE
            backend("follows", "http-client", up),        # DestinationRule useClientProtocol
            backend("capped", "http2-capped", up),        # maxConcurrentStreams 2
            backend("overloaded", "http2-over", up),      # http2MaxRequests 2
            backend("serverlimit", "http2-lim", lim),     # the server's own stream limit, 3
            backend("onceper", "http2-once", up),         # maxRequestsPerConnection 1
        ]),
        "se.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: external-h2}
spec:
  hosts: [external.h2.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 80, name: web, protocol: HTTP2}]
  endpoints: [{address: %s, ports: {web: %d}}]
""" % (up.host, up.port),
        "dr.yaml": "---\n".join(http_pool_rule(host, settings) for host, settings in [
            ("upgraded", "h2UpgradePolicy: UPGRADE"),
            ("follows", "useClientProtocol: true"),
            ("capped", "maxConcurrentStreams: 2"),
            ("overloaded", "http2MaxRequests: 2"),
            ("onceper", "maxRequestsPerConnection: 1"),
        ]),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: routes}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /noretry/}}]
    retries: {attempts: 0}
    route: [{destination: {host: named, port: {number: 80}}}]
""" + "".join(route("/%s/" % h, h) for h in ["named", "grpcport", "plain", "h2c", "upgraded", "follows", "capped",
                                             "overloaded", "serverlimit", "onceper"]) + route("/external/", "external.h2.test"),
    }


@pytest.fixture(scope="module")
def gw(upstream, limited, tmp_path_factory):
    t = harness.start_torii(tmp_path_factory.mktemp("torii"), manifests=manifests(upstream, limited),
                            extra_args=["--workers", "1"], wait_ready=False)
    harness.wait_ready_or_fail(t, harness.READY_TIMEOUT)
    yield t
    rc = t.stop()
    t.proc.cleanup()
    assert rc == 0, t.proc.log_tail(40)


def server_stats(up):
    r = requests.get("http://%s:%d/__control/stats" % (up.host, up.port), timeout=10)
    r.raise_for_status()
    return r.json()


def release(up, key):
    r = requests.get("http://%s:%d/__control/release?key=%s" % (up.host, up.port, key), timeout=10)
    r.raise_for_status()
    return r.json()["released"]


def cluster_stat(gw, host, name):
    return gw.stat("cluster.outbound|80||%s.%s" % (host, name))


@pytest.mark.parametrize("prefix,protocol", [
    ("named", "HTTP/2"), ("grpcport", "HTTP/2"), ("h2c", "HTTP/2"), ("upgraded", "HTTP/2"),
    ("external", "HTTP/2"), ("plain", "HTTP/1.1"), ("follows", "HTTP/1.1"),
])
def test_port_protocol_picks_the_upstream_http_version(gw, prefix, protocol):
    r = gw.get("/%s/x" % prefix)
    assert r.status_code == 200, r.text
    assert r.json()["protocol"] == protocol


def test_use_client_protocol_follows_an_http2_client(gw):
    with H2Client(gw.listen_port) as c:
        r = c.request("GET", "/follows/x")
    assert r.status == 200
    assert json.loads(r.body)["protocol"] == "HTTP/2"


def test_http1_request_is_translated_for_http2(gw):
    r = gw.get("/named/path?q=1", headers={"Host": "app.example.com", "Connection": "keep-alive",
                                            "Keep-Alive": "timeout=5", "TE": "trailers", "X-Custom": "Kept",
                                            "Upgrade-Insecure-Requests": "1"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["protocol"] == "HTTP/2"
    assert (doc["method"], doc["path"], doc["authority"], doc["scheme"]) == ("GET", "/named/path?q=1",
                                                                               "app.example.com", "http")
    names = [k for k, _ in doc["headers"]]
    assert all(k == k.lower() for k in names)
    for gone in ("host", "connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"):
        assert gone not in names
    headers = dict(doc["headers"])
    assert headers["te"] == "trailers"
    assert headers["x-custom"] == "Kept"
    # The answer to the HTTP/1.1 client is HTTP/1.1 and whole.
    assert r.raw.version == 11


def test_te_other_than_trailers_is_not_sent(gw):
    r = gw.get("/named/x", headers={"TE": "gzip"})
    assert "te" not in dict(r.json()["headers"])
    # A list naming trailers, in any case, becomes `te: trailers` (Envoy's sanitizeTE).
    r = gw.get("/named/x", headers={"TE": "Trailers, deflate"})
    assert dict(r.json()["headers"])["te"] == "trailers"


def test_max_requests_per_connection_retires_each_connection(gw):
    # Each connection carries one stream, then drains and closes as its
    # stream ends (inside nghttp2's own callbacks: the close must wait).
    docs = [gw.get("/onceper/r%d" % i).json() for i in range(5)]
    assert len({d["connection"] for d in docs}) == 5
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        rs = list(pool.map(lambda i: gw.get("/onceper/c%d" % i, headers={"x-hold-ms": "100"}), range(5)))
    assert [r.status_code for r in rs] == [200] * 5
    assert cluster_stat(gw, "onceper.default.svc.cluster.local", "upstream_cx_max_requests") >= 10


@pytest.mark.parametrize("chunked", [False, True])
def test_request_bodies_reach_an_http2_upstream(gw, chunked):
    body = bytes(range(256)) * 4096  # 1 MiB
    data = iter([body[i:i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    r = gw.request("POST", "/named/upload", data=data)
    assert r.status_code == 200, r.text
    assert r.json()["body_length"] == len(body)


def test_response_trailers_reach_an_http2_client(gw):
    with H2Client(gw.listen_port) as c:
        r = c.request("GET", "/named/t", headers=[("x-trailers", "1"), ("te", "trailers")])
    assert r.status == 200
    assert json.loads(r.body)["protocol"] == "HTTP/2"
    assert ("x-echo-trailer", "yes") in r.trailers


def held_requests(gw, upstream, paths):
    """Sends a GET for each path, all held at the upstream (x-hold) until every
    one of them is in flight there at once, then released: overlap by
    construction, not by how fast the client's threads start. Returns the
    responses' JSON documents, in order."""
    key = "held-%d" % time.monotonic_ns()
    with concurrent.futures.ThreadPoolExecutor(len(paths)) as pool:
        futures = [pool.submit(gw.get, p, headers={"x-hold": key}) for p in paths]
        try:
            all_held, _ = harness.poll_until(lambda: server_stats(upstream)["held"].get(key) == len(paths), 20)
            assert all_held, "the upstream never held all %d: %s" % (len(paths), server_stats(upstream))
        finally:
            release(upstream, key)
        rs = [f.result() for f in futures]
    assert [r.status_code for r in rs] == [200] * len(paths), [r.text for r in rs if r.status_code != 200]
    return [r.json() for r in rs]


def test_requests_share_one_multiplexed_connection(gw, upstream):
    before = server_stats(upstream)
    docs = held_requests(gw, upstream, ["/named/m%d" % i for i in range(20)])
    after = server_stats(upstream)
    assert all(d["protocol"] == "HTTP/2" for d in docs)
    # One worker, one connection: all 20 streams on it at once (it may be a
    # connection opened by an earlier test).
    assert len({d["connection"] for d in docs}) == 1
    assert after["h2_connections"] - before["h2_connections"] <= 1
    assert after["max_streams_on_one_connection"] >= 20


def test_max_concurrent_streams_opens_more_connections(gw, upstream):
    docs = held_requests(gw, upstream, ["/capped/c%d" % i for i in range(8)])
    per_connection = {}
    for d in docs:
        per_connection[d["connection"]] = per_connection.get(d["connection"], 0) + 1
    # 8 streams in flight at once, at most 2 per connection: 4 connections of 2.
    assert sorted(per_connection.values()) == [2, 2, 2, 2], per_connection


def test_server_stream_limit_queues_the_rest(gw, limited):
    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        rs = list(pool.map(lambda i: gw.get("/serverlimit/s%d" % i, headers={"x-hold-ms": "200"}), range(9)))
    assert [r.status_code for r in rs] == [200] * 9
    assert server_stats(limited)["max_streams_on_one_connection"] <= 3


def test_http2_max_requests_overflows_with_503_uo(gw, upstream):
    # Two streams held open at the upstream fill http2MaxRequests (2); every
    # request while they are held is over the limit. Exact, with no timing
    # guess: the test waits until the upstream holds both, then releases them.
    key = "overload-%d" % time.monotonic_ns()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        held = [pool.submit(gw.get, "/overloaded/held%d" % i, headers={"x-hold": key}) for i in range(2)]
        try:
            held_now, _ = harness.poll_until(lambda: server_stats(upstream)["held"].get(key) == 2, 20)
            assert held_now, "the upstream never held both streams: %s" % server_stats(upstream)
            over = [gw.get("/overloaded/o%d" % i) for i in range(4)]
        finally:
            release(upstream, key)
        answered = [f.result() for f in held]
    assert [r.status_code for r in answered] == [200, 200]
    assert [r.status_code for r in over] == [503] * 4, [(r.status_code, r.text) for r in over]
    assert all(r.headers.get("x-envoy-overloaded") == "true" for r in over)
    # Envoy counts a request over http2MaxRequests as a pending overflow.
    assert cluster_stat(gw, "overloaded.default.svc.cluster.local", "upstream_rq_pending_overflow") >= 4


def test_goaway_moves_new_requests_to_a_new_connection(gw, upstream):
    first = gw.get("/named/g", headers={"x-goaway": "1"})
    assert first.status_code == 200
    again = [gw.get("/named/after%d" % i) for i in range(3)]
    assert [r.status_code for r in again] == [200] * 3
    assert all(r.json()["connection"] != first.json()["connection"] for r in again)
    assert cluster_stat(gw, "named.default.svc.cluster.local", "upstream_cx_close_notify") >= 1


def test_refused_stream_is_retried_by_the_default_policy(gw, upstream):
    # Istio's default retryOn includes refused-stream: the request is
    # replayed and succeeds; the client never sees the refusal.
    r = gw.get("/named/refused", headers={"x-reset": "7", "x-key": "refused-1", "x-reset-first": "1"})
    assert r.status_code == 200, r.text


def test_stream_reset_before_headers_is_503_remote_reset(gw):
    r = gw.get("/noretry/reset", headers={"x-reset": "2"})  # INTERNAL_ERROR
    assert r.status_code == 503
    assert r.text == "upstream connect error or disconnect/reset before headers. reset reason: remote reset"
    assert cluster_stat(gw, "named.default.svc.cluster.local", "http2.rx_reset") >= 1


def test_refused_without_retries_is_503_refused(gw):
    r = gw.get("/noretry/refused", headers={"x-reset": "7"})
    assert r.status_code == 503
    assert r.text == ("upstream connect error or disconnect/reset before headers. "
                      "reset reason: remote refused stream reset")


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory):
    """The echo server behind TLS (ALPN h2, http/1.1), certificate for api.h2.test."""
    d = harness.make_pki(tmp_path_factory.mktemp("pki"), {"api": "DNS:api.h2.test"})
    up = start_h2echo(d, "h2tls", "127.0.0.45", ["--tls-cert", str(d / "api.pem"), "--tls-key", str(d / "api.key")])
    yield up, d
    up.proc.terminate(10)
    up.proc.cleanup()


@pytest.mark.parametrize("protocol,expected", [("HTTP2", "HTTP/2"), ("HTTP", "HTTP/1.1")])
def test_tls_origination_offers_alpn_for_the_port_protocol(tls_upstream, tmp_path, protocol, expected):
    up, pki = tls_upstream
    t = harness.start_torii(tmp_path, manifests={
        "gw.yaml": harness.gateway("gw"),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route: [{destination: {host: api.h2.test, port: {number: 443}}}]
""",
        "se.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: api}
spec:
  hosts: [api.h2.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 443, name: web, protocol: %s}]
  endpoints: [{address: %s, ports: {web: %d}}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: api}
spec:
  host: api.h2.test
  trafficPolicy: {tls: {mode: SIMPLE, caCertificates: %s}}
""" % (protocol, up.host, up.port, pki / "ca.pem"),
    })
    try:
        r = t.get("/x", headers={"Host": "api.h2.test"})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["protocol"] == expected
        if expected == "HTTP/2":
            assert doc["scheme"] == "https"
    finally:
        t.stop()
        t.proc.cleanup()


def test_curl_nghttp_and_h2load_through_to_an_http2_upstream(gw, upstream):
    for flags in (["--http2-prior-knowledge"], ["--http1.1"]):
        p = subprocess.run(["curl", "-s", "--max-time", "10", *flags, gw.url("/named/curl")], capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["protocol"] == "HTTP/2"
    p = subprocess.run(["nghttp", "-v", gw.url("/named/nghttp")], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and ":status: 200" in p.stdout, p.stdout[-2000:]
    before = server_stats(upstream)
    p = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "25", gw.url("/named/load")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2000 succeeded, 0 failed, 0 errored" in p.stdout, p.stdout
    assert "status codes: 2000 2xx" in p.stdout, p.stdout
    after = server_stats(upstream)
    assert after["requests"] - before["requests"] == 2000
    # Multiplexed upstream: a handful of connections for 100 concurrent streams.
    assert after["h2_connections"] - before["h2_connections"] <= 2
