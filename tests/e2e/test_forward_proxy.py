"""Forward-proxy mode (--forward-proxy-port) and the outbound traffic policy.

Apps without a sidecar point HTTP_PROXY at a Gateway port; Torii then routes
their absolute-form requests (GET http://host[:port]/path) as the app's
sidecar would: the target must be a ServiceEntry/Service host (exact or
`*.suffix`) with that port, else 403; VirtualServices bound to `mesh` route
it; --outbound-traffic-policy decides what a route to a host nobody knows
gets (ALLOW_ANY: passthrough by DNS; REGISTRY_ONLY: 502 BlackHoleCluster).
Names are served by a real dnsmasq (tests/e2e/test_dns.py's helper).
ISTIO_SEMANTICS.md §6.1, §7 (outboundTrafficPolicy), §10 #16; docs/forward_proxy.md.
"""
import concurrent.futures
import os
import socket
import subprocess
import time

import pytest
import urllib3

import harness
from test_dns import DNSMASQ, Dnsmasq


@pytest.fixture
def dns(tmp_path):
    if not os.path.exists(DNSMASQ):
        pytest.fail("dnsmasq is not installed (scripts/install-deps.sh installs dnsmasq-base)")
    d = Dnsmasq(tmp_path / "dns")
    yield d
    d.close()


def service_entry(name, hosts, port, resolution="STATIC", endpoints=(), target_port=None):
    """A ServiceEntry with one HTTP port; endpoints: [(address, endpoint port)]."""
    eps = ""
    if endpoints:
        eps = "  endpoints:\n" + "".join("  - {address: %s, ports: {http: %d}}\n" % e for e in endpoints)
    tp = ", targetPort: %d" % target_port if target_port else ""
    return ("apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: %s}\nspec:\n"
            "  hosts: [%s]\n  location: MESH_EXTERNAL\n  resolution: %s\n"
            "  ports: [{number: %d, name: http, protocol: HTTP%s}]\n%s"
            % (name, ", ".join('"%s"' % h for h in hosts), resolution, port, tp, eps))


def curl_x(t, url, *extra):
    """curl through the forward proxy: (status, body)."""
    out = subprocess.run(["curl", "-sS", "-x", "http://127.0.0.1:%d" % t.listen_port, "--max-time", "20",
                          "-o", "-", "-w", "\n%{http_code}", *extra, url],
                         capture_output=True, text=True, timeout=30)
    body, _, code = out.stdout.rpartition("\n")
    return int(code or 0), body


def fp_torii(torii, manifests, *args):
    return torii(manifests=dict(manifests, **{"gw.yaml": harness.gateway("fp", hosts=["*"])}),
                 extra_args=("--forward-proxy-port", "80") + args)


def test_allowed_host_is_proxied_unlisted_host_gets_403(upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.41")
    t = fp_torii(torii, {"se.yaml": service_entry("api", ["api.example.test"], 80,
                                                  endpoints=[("127.0.0.41", a.port)])})
    status, body = curl_x(t, "http://api.example.test/hello?x=1")
    assert status == 200, body
    doc = harness.json.loads(body)
    assert doc["name"] == "a"
    # The upstream gets origin-form and the target's authority as Host.
    assert doc["request_line"].startswith("GET /hello?x=1 HTTP/1.1"), doc["request_line"]
    assert harness.header_dict(doc)["host"] == "api.example.test"

    # Not in the registry, or not on a port its ServiceEntry declares: refused.
    assert curl_x(t, "http://other.example.test/")[0] == 403
    assert curl_x(t, "http://api.example.test:8080/")[0] == 403
    assert curl_x(t, "http://127.0.0.41:%d/" % a.port)[0] == 403  # an address is no loophole
    assert t.stat("forward_proxy_denied") == 3
    # Explicit port 80 is the same target.
    assert curl_x(t, "http://api.example.test:80/")[0] == 200
    # Origin-form requests on the same port are ordinary gateway traffic
    # (Host routing; no VirtualService for the gw here => 404).
    assert t.get("/", headers={"Host": "api.example.test"}).status_code == 404


def test_absolute_form_without_forward_proxy_mode_is_host_routing(upstreams, torii):
    """A normal ingress gateway routes absolute-form by the URI's authority as Host (Envoy); no 403."""
    a = upstreams.echo("a", host="127.0.0.42")
    vs = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api.example.test]
  gateways: [gw]
  http:
  - route:
    - destination: {host: api.example.test}
"""
    t = torii(manifests={"gw.yaml": harness.gateway("gw"), "vs.yaml": vs,
                         "se.yaml": service_entry("api", ["api.example.test"], 80,
                                                  endpoints=[("127.0.0.42", a.port)])})
    assert curl_x(t, "http://api.example.test/")[0] == 200
    assert curl_x(t, "http://other.example.test/")[0] == 404


def test_virtual_service_bound_to_mesh_routes_forward_proxy_traffic(upstreams, torii):
    """VirtualServices bound to `mesh` are what the app's sidecar would apply: they route here."""
    a = upstreams.echo("a", host="127.0.0.43")
    b = upstreams.echo("b", host="127.0.0.44")
    vs = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api.example.test]
  http:
  - match: [{uri: {prefix: /b}}]
    route:
    - destination: {host: b.example.test}
  - route:
    - destination: {host: api.example.test}
"""
    t = fp_torii(torii, {"vs.yaml": vs,
                         "se.yaml": harness.yaml_docs(
                             service_entry("api", ["api.example.test"], 80, endpoints=[("127.0.0.43", a.port)]),
                             service_entry("b", ["b.example.test"], 80, endpoints=[("127.0.0.44", b.port)]))})
    assert harness.json.loads(curl_x(t, "http://api.example.test/a")[1])["name"] == "a"
    assert harness.json.loads(curl_x(t, "http://api.example.test/b")[1])["name"] == "b"


def test_wildcard_service_entry_is_a_dynamic_forward_proxy(dns, upstreams, torii):
    """`*.wild.example.test` with resolution NONE: each requested name is resolved by DNS per request."""
    one = upstreams.echo("one", host="127.0.0.45")
    two = upstreams.echo("two", host="127.0.0.46", port=one.port)
    dns.set("one.wild.example.test", "127.0.0.45")
    dns.set("two.wild.example.test", "127.0.0.46")
    t = fp_torii(torii, {"se.yaml": service_entry("wild", ["*.wild.example.test"], one.port, resolution="NONE")},
                 "--dns-server", dns.server)
    for name, who in (("one", "one"), ("two", "two"), ("one", "one")):
        status, body = curl_x(t, "http://%s.wild.example.test:%d/" % (name, one.port))
        assert status == 200, body
        assert harness.json.loads(body)["name"] == who
    # A request body waits (held) while the name resolves, then streams on.
    dns.set("body.wild.example.test", "127.0.0.45")
    body = "x" * 300000
    ok, _ = harness.poll_until(lambda: curl_x(t, "http://body.wild.example.test:%d/" % one.port)[0] == 200, 5,
                               interval=0.1)
    assert ok
    t.write("se.yaml", service_entry("wild", ["*.wild.example.test"], one.port, resolution="NONE") + "\n# v2\n")
    payload = t.workdir / "payload"
    payload.write_text(body)
    # After the reload the cached answer belongs to the old cluster: the name is resolved again.
    harness.poll_until(lambda: t.config_dump().get("snapshot", {}).get("version", 0) >= 2, 3)
    status, out = curl_x(t, "http://one.wild.example.test:%d/post" % one.port, "--data-binary", "@%s" % payload)
    assert status == 200, out
    assert harness.json.loads(out)["body_length"] == len(body)
    # A deeper name is covered too (Istio/Envoy wildcard semantics) but does not resolve.
    status, body = curl_x(t, "http://nope.wild.example.test:%d/" % one.port)
    assert (status, body) == (503, "DNS resolution failure")
    # The suffix itself is not covered by its wildcard.
    assert curl_x(t, "http://wild.example.test:%d/" % one.port)[0] == 403
    # Record changes are followed after the TTL (1 s, --dns-min-ttl-s 1).
    dns.set("one.wild.example.test", "127.0.0.46")
    ok, _ = harness.poll_until(
        lambda: harness.json.loads(curl_x(t, "http://one.wild.example.test:%d/" % one.port)[1])["name"] == "two", 5,
        interval=0.2)
    assert ok


def passthrough_manifests(api, legacy_port):
    vs = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api.example.test]
  http:
  - route:
    - destination: {host: legacy.example.test, port: {number: %d}}
""" % legacy_port
    return {"vs.yaml": vs, "se.yaml": service_entry("api", ["api.example.test"], 80,
                                                    endpoints=[("127.0.0.47", api.port)])}


def test_allow_any_passes_unknown_destinations_through(dns, upstreams, torii):
    api = upstreams.echo("api", host="127.0.0.47")
    legacy = upstreams.echo("legacy", host="127.0.0.48")
    dns.set("legacy.example.test", "127.0.0.48")
    t = fp_torii(torii, passthrough_manifests(api, legacy.port), "--dns-server", dns.server)
    status, body = curl_x(t, "http://api.example.test/x")
    assert status == 200, body
    doc = harness.json.loads(body)
    assert doc["name"] == "legacy"
    assert harness.header_dict(doc)["host"] == "api.example.test"
    dump = t.config_dump()
    routes = dump["snapshot"]["listeners"][0]["forward_proxy"]["80"][0]["routes"]
    assert routes[0]["clusters"][0]["via"] == "PassthroughCluster"
    assert routes[0]["clusters"][0]["resolved_per_request"] == "legacy.example.test"


def test_registry_only_blocks_unknown_destinations_with_502(dns, upstreams, torii):
    api = upstreams.echo("api", host="127.0.0.47")
    legacy = upstreams.echo("legacy", host="127.0.0.48")
    dns.set("legacy.example.test", "127.0.0.48")
    t = fp_torii(torii, passthrough_manifests(api, legacy.port), "--dns-server", dns.server,
                 "--outbound-traffic-policy", "REGISTRY_ONLY")
    status, body = curl_x(t, "http://api.example.test/x")
    assert (status, body) == (502, "")
    control = harness.json.loads(
        harness.requests.get("http://127.0.0.48:%d/__control/stats" % legacy.port, timeout=5).text)
    assert control["requests"] == 0, control
    assert t.stat("forward_proxy_blackhole") == 1
    # Registry hosts are unaffected.
    t.write("vs.yaml", "")
    ok, _ = harness.poll_until(lambda: curl_x(t, "http://api.example.test/x")[0] == 200, 5, interval=0.1)
    assert ok


def test_bad_outbound_traffic_policy_is_rejected():
    out = subprocess.run([harness.TORII_BIN, "run", "--config", "/nonexistent", "--outbound-traffic-policy", "ANY"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "--outbound-traffic-policy: expected ALLOW_ANY or REGISTRY_ONLY, got 'ANY'" in out.stderr


# --------------------------------------------------------------------------------------
# CONNECT (HTTPS_PROXY): tunnels to allowed hosts, TLS end to end between client and upstream


NEWKEY = ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")

    def run(cmd):
        subprocess.run(cmd, cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run(NEWKEY + ["-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=ca"])
    (d / "srv.ext").write_text("subjectAltName=DNS:secure.example.test,DNS:one.tls.example.test\n")
    run(NEWKEY + ["-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=secure"])
    run(["openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "2", "-out", "srv.pem", "-extfile", "srv.ext"])
    return d


def curl_connect(t, url, pki, *extra):
    """curl -x through CONNECT: (CONNECT status, final status, body, stderr)."""
    out = subprocess.run(["curl", "-sS", "-x", "http://127.0.0.1:%d" % t.listen_port, "--max-time", "20",
                          "--cacert", str(pki / "ca.pem"), "-o", "-", "-w", "\n%{http_connect} %{http_code}",
                          *extra, url], capture_output=True, text=True, timeout=30)
    body, _, codes = out.stdout.rpartition("\n")
    connect, _, final = codes.partition(" ")
    return int(connect or 0), int(final or 0), body, out.stderr


def test_connect_tunnels_tls_to_an_allowed_host(upstreams, torii, pki):
    tls = upstreams.echo("tls", host="127.0.0.61",
                         extra_args=["--tls-cert", str(pki / "srv.pem"), "--tls-key", str(pki / "srv.key")])
    closed_port = harness.reserve_port()
    t = fp_torii(torii, {"se.yaml": harness.yaml_docs(
        service_entry("secure", ["secure.example.test"], tls.port, endpoints=[("127.0.0.61", tls.port)]),
        service_entry("down", ["down.example.test"], 443, endpoints=[("127.0.0.62", closed_port)]))})
    # Allowed: 200 to CONNECT, then the client's own TLS to the upstream (its
    # certificate, verified by curl against the test CA) and HTTP inside.
    connect, status, body, err = curl_connect(t, "https://secure.example.test:%d/inside?x=1" % tls.port, pki)
    assert (connect, status) == (200, 200), err
    doc = harness.json.loads(body)
    assert doc["name"] == "tls" and doc["request_line"].startswith("GET /inside?x=1 HTTP/1.1")
    # 10 MiB through the tunnel, both ways.
    payload = t.workdir / "payload"
    payload.write_bytes(os.urandom(10 * 1024 * 1024))
    connect, status, body, err = curl_connect(t, "https://secure.example.test:%d/post" % tls.port, pki,
                                              "--data-binary", "@%s" % payload)
    assert status == 200, err
    assert harness.json.loads(body)["body_length"] == 10 * 1024 * 1024
    # Not allowed (host, or port): 403, nothing tunnelled.
    assert curl_connect(t, "https://other.example.test:%d/" % tls.port, pki)[0] == 403
    assert curl_connect(t, "https://secure.example.test:9/", pki)[0] == 403
    # Allowed but the upstream refuses: 503.
    connect, status, body, err = curl_connect(t, "https://down.example.test/", pki)
    assert connect == 503, err
    # The cluster saw the tunnels.
    assert t.stat("cluster.outbound|%d||secure.example.test.upstream_cx_total" % tls.port) >= 2


def test_connect_without_a_port_is_a_bad_request(upstreams, torii):
    """RFC 9110 9.3.6: the CONNECT target is host:port; none is assumed."""
    t = fp_torii(torii, {"se.yaml": service_entry("secure", ["secure.example.test"], 443,
                                                  endpoints=[("127.0.0.64", 443)])})
    for target in ("secure.example.test", "secure.example.test:", "[]:443"):
        with socket.create_connection(("127.0.0.1", t.listen_port), timeout=10) as s:
            s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
            status_line = s.recv(4096).split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 400"), (target, status_line)
    # With the port the same host is tunnelled to (a closed port here: 503, not 400).
    with socket.create_connection(("127.0.0.1", t.listen_port), timeout=10) as s:
        s.sendall(b"CONNECT secure.example.test:443 HTTP/1.1\r\nHost: secure.example.test:443\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 503")


def test_connect_to_a_wildcard_host_resolves_the_name(dns, upstreams, torii, pki):
    tls = upstreams.echo("tls", host="127.0.0.63",
                         extra_args=["--tls-cert", str(pki / "srv.pem"), "--tls-key", str(pki / "srv.key")])
    dns.set("one.tls.example.test", "127.0.0.63")
    t = fp_torii(torii, {"se.yaml": service_entry("wild", ["*.tls.example.test"], tls.port, resolution="NONE")},
                 "--dns-server", dns.server)
    connect, status, body, err = curl_connect(t, "https://one.tls.example.test:%d/" % tls.port, pki)
    assert (connect, status) == (200, 200), err
    assert harness.json.loads(body)["name"] == "tls"
    connect, _, body, _ = curl_connect(t, "https://nope.tls.example.test:%d/" % tls.port, pki)
    assert connect == 503


def test_connect_is_refused_on_ordinary_gateways(upstreams, torii, pki):
    t = torii(manifests={"gw.yaml": harness.gateway("gw"),
                         "se.yaml": service_entry("secure", ["secure.example.test"], 443,
                                                  endpoints=[("127.0.0.64", 443)])})
    assert curl_connect(t, "https://secure.example.test/", pki)[0] == 403


def test_connect_honours_the_hosts_circuit_breaker(upstreams, torii, pki):
    """DestinationRule tcp.maxConnections 1 on the target host: while one tunnel is open, the
    next CONNECT gets 503 with x-envoy-overloaded at once."""
    tls = upstreams.echo("tls", host="127.0.0.65",
                         extra_args=["--tls-cert", str(pki / "srv.pem"), "--tls-key", str(pki / "srv.key")])
    dr = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure}
spec:
  host: secure.example.test
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 1}}
"""
    t = fp_torii(torii, {"dr.yaml": dr, "se.yaml": service_entry(
        "secure", ["secure.example.test"], tls.port, endpoints=[("127.0.0.65", tls.port)])})
    url = "https://secure.example.test:%d" % tls.port
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(curl_connect, t, url + "/slow?sleep_ms=10000", pki)
        urllib3.disable_warnings()  # the control endpoint is reached by IP, which the certificate does not name
        ok, _ = harness.poll_until(
            lambda: harness.json.loads(harness.requests.get(
                "https://127.0.0.65:%d/__control/stats" % tls.port, verify=False, timeout=5).text)["active"] == 1, 5)
        assert ok
        started = time.monotonic()
        out = subprocess.run(["curl", "-sS", "-v", "-x", "http://127.0.0.1:%d" % t.listen_port, "--max-time", "10",
                              "--cacert", str(pki / "ca.pem"), url + "/"], capture_output=True, text=True, timeout=20)
        assert time.monotonic() - started < 8  # not queued behind the slow request (10 s)
        assert "< HTTP/1.1 503" in out.stderr, out.stderr
        assert "x-envoy-overloaded: true" in out.stderr, out.stderr
        assert slow.result()[:2] == (200, 200)
