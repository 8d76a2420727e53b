"""Gateway API HTTPS listeners: tls.mode Terminate with certificateRefs to
Secrets (ReferenceGrant across namespaces), ported from kubernetes-sigs/gateway-api
conformance/tests (manifests in gateway_api/, unchanged; expectations from the
.go files). The suite's programmatic Secrets (a self-signed certificate for
`*`, `*.org`, `*.wildcard.org`, and one for `*` in the web-backend namespace)
are made here with openssl; the client is curl with --resolve, so the SNI is
the host under test while traffic stays on loopback.
"""

import base64
import subprocess

import pytest
import requests
import yaml

import gateway_api_base as gw
import harness
from test_tcp_passthrough import tcp_echo, tls_get  # noqa: F401 (tcp_echo: the fixture)

# conformance/base/manifests.yaml's Gateway with HTTPS listeners (it needs the Secret below),
# copied unchanged into gateway_api/base-https-gateway.yaml.
HTTPS_GATEWAY = gw.manifest("base-https-gateway.yaml")


def self_signed(d, name, sans):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=" + name, "-keyout", str(d / (name + ".key")),
                    "-out", str(d / (name + ".pem")), "-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d / (name + ".pem"), d / (name + ".key")


def secret(name, namespace, cert, key):
    return ("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\n"
            "data:\n  tls.crt: %s\n  tls.key: %s\n"
            % (name, namespace, base64.b64encode(cert.read_bytes()).decode(),
               base64.b64encode(key.read_bytes()).decode()))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("gwapi-pki")
    return {"validity": self_signed(d, "validity", ["*", "*.org", "*.wildcard.org"]),
            "web": self_signed(d, "web", ["*"])}


@pytest.fixture(scope="module")
def backends(module_upstreams):
    return gw.start_backends(module_upstreams)


def start(torii, backends, pki, *files, https_base=True, extra=None):
    """Torii on the conformance base (with its HTTPS Gateway unless `https_base` is false: Torii
    serves every Gateway in one process, so two listeners without hostname on port 443 would
    share one server name, where the suite gives each Gateway its own address)."""
    manifests = gw.base_manifests(backends, gw.GATEWAYS + ("---\n" + HTTPS_GATEWAY if https_base else ""))
    manifests["secrets.yaml"] = harness.yaml_docs(
        secret("tls-validity-checks-certificate", gw.INFRA, *pki["validity"]),
        secret("certificate", gw.WEB, *pki["web"]))
    for f in files:
        manifests[f] = gw.manifest(f)
    manifests.update(extra or {})
    ports = {80: harness.reserve_port(), 443: harness.reserve_port(), 8443: harness.reserve_port()}
    t = torii(manifests=manifests, port_map=ports)
    t.tls_port = ports[443]
    t.ports = ports
    return t


def https_get(t, host, path="/"):
    """curl with SNI and Host `host`. Not verified: OpenSSL refuses the suite's wildcard `*.org` (a
    wildcard right above a top-level domain), which the suite's Go client takes; served_cn checks
    which certificate answers."""
    p = subprocess.run(["curl", "-sk", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5",
                        "--resolve", "%s:%d:127.0.0.1" % (host, t.tls_port),
                        "https://%s:%d%s" % (host, t.tls_port, path)], capture_output=True, text=True)
    body, _, status = p.stdout.rpartition("\n")
    return p.returncode, status, body


def served_cn(t, sni):
    """The subject CN of the certificate Torii presents for `sni`."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % t.tls_port, "-servername", sni],
                       input="", capture_output=True, text=True, timeout=10)
    for line in p.stdout.splitlines():
        if line.startswith("subject="):
            return line.split("CN", 1)[1].lstrip(" =").split(",")[0].strip()
    return None


def tls_echo(port, sni, payload, cafile=None):
    """Sends `payload` over TLS (SNI `sni`; verified against `cafile` if given) and reads as many
    bytes back: (bytes read, peer certificate CN or None when unverified)."""
    import socket
    import ssl

    ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if cafile is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            cert = s.getpeercert() if cafile else None
            cn = dict(x[0] for x in cert["subject"])["commonName"] if cert else None
            s.sendall(payload)
            data = b""
            while len(data) < len(payload):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    return data, cn


def listener_status(t, gateway, listener="https"):
    r = requests.get(t.admin + "/status", timeout=harness.HTTP_TIMEOUT)
    docs = {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d["status"]
            for d in yaml.safe_load_all(r.text)}
    listeners = docs[("Gateway", gw.INFRA, gateway)]["listeners"]
    return next(x for x in listeners if x["name"] == listener)


def condition(status, kind):
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_https_listener(torii, backends, pki):
    """HTTPRouteHTTPSListener: routes on HTTPS listeners, picked by SNI and Host."""
    t = start(torii, backends, pki, "httproute-https-listener.yaml")
    assert served_cn(t, "example.org") == "validity"
    rc, status, body = https_get(t, "example.org")
    assert (rc, status) == (0, "200") and '"name": "infra-backend-v1"' in body, (rc, status, body[:200])
    rc, status, _ = https_get(t, "unknown-example.org")
    assert (rc, status) == (0, "404")
    rc, status, body = https_get(t, "second-example.org")
    assert (rc, status) == (0, "200") and '"name": "infra-backend-v2"' in body, (rc, status, body[:200])
    ls = listener_status(t, "same-namespace-with-https-listener")
    assert condition(ls, "Programmed")["status"] == "True"
    assert condition(ls, "ResolvedRefs")["status"] == "True"
    assert {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"} in ls["supportedKinds"]


@pytest.mark.parametrize("gateway", ["gateway-certificate-nonexistent-secret", "gateway-certificate-unsupported-group",
                                     "gateway-certificate-unsupported-kind", "gateway-certificate-malformed-secret"])
def test_invalid_tls_configuration(torii, backends, pki, gateway):
    """GatewayInvalidTLSConfiguration: ResolvedRefs=False InvalidCertificateRef, no route attached."""
    t = start(torii, backends, pki, "gateway-invalid-tls-configuration.yaml")
    ls = listener_status(t, gateway)
    resolved = condition(ls, "ResolvedRefs")
    assert (resolved["status"], resolved["reason"]) == ("False", "InvalidCertificateRef"), ls
    assert condition(ls, "Programmed")["status"] == "False"
    assert ls["attachedRoutes"] == 0
    assert {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"} in ls["supportedKinds"]


@pytest.mark.parametrize("manifest,gateway,programmed", [
    ("gateway-secret-missing-reference-grant.yaml", "gateway-secret-missing-reference-grant", False),
    ("gateway-secret-invalid-reference-grant.yaml", "gateway-secret-invalid-reference-grant", False),
    ("gateway-secret-reference-grant-all-in-namespace.yaml", "gateway-secret-reference-grant-all-in-namespace", True),
    ("gateway-secret-reference-grant-specific.yaml", "gateway-secret-reference-grant-specific", True),
])
def test_secret_reference_grants(torii, backends, pki, manifest, gateway, programmed):
    """GatewaySecret{Missing,Invalid}ReferenceGrant: ResolvedRefs=False RefNotPermitted;
    GatewaySecretReferenceGrant{AllInNamespace,Specific}: programmed, and it serves TLS with the
    granted certificate."""
    t = start(torii, backends, pki, manifest, https_base=False)
    ls = listener_status(t, gateway)
    resolved = condition(ls, "ResolvedRefs")
    if programmed:
        assert resolved["status"] == "True" and condition(ls, "Programmed")["status"] == "True", ls
        assert served_cn(t, "any.example") == "web"  # the granted Secret's certificate
    else:
        assert (resolved["status"], resolved["reason"]) == ("False", "RefNotPermitted"), ls
        assert condition(ls, "Programmed")["status"] == "False"


def https_get_sni(t, sni, host, path):
    """curl with SNI `sni` and a Host header `host` (unverified, as https_get)."""
    p = subprocess.run(["curl", "-sk", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5",
                        "--resolve", "%s:%d:127.0.0.1" % (sni, t.tls_port), "-H", "Host: " + host,
                        "https://%s:%d%s" % (sni, t.tls_port, path)], capture_output=True, text=True)
    body, _, status = p.stdout.rpartition("\n")
    return p.returncode, status, body


def test_https_listener_detect_misdirected_requests(torii, backends, pki):
    """HTTPRouteHTTPSListenerDetectMisdirectedRequests: a request whose Host belongs to another
    HTTPS listener of the port than the one its SNI picked gets 421 Misdirected Request."""
    t = start(torii, backends, pki, "httproute-https-listener-detect-misdirected-requests.yaml")
    v1, v2, v3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"
    cases = [("example.org", "example.org", "200", v1), ("example.org", "second-example.org", "421", None),
             ("example.org", "unknown-example.org", "404", None),
             ("second-example.org", "second-example.org", "200", v2),
             ("second-example.org", "example.org", "421", None),
             ("second-example.org", "unknown-example.org", "421", None),
             ("third-example.wildcard.org", "third-example.wildcard.org", "200", v3),
             ("third-example.wildcard.org", "fith-example.wildcard.org", "200", v3),
             ("third-example.wildcard.org", "fourth-example.wildcard.org", "421", None),
             ("third-example.wildcard.org", "second-example.org", "421", None),
             ("third-example.wildcard.org", "unknown-example.org", "421", None),
             ("fourth-example.wildcard.org", "fourth-example.wildcard.org", "200", v1),
             ("fourth-example.wildcard.org", "fith-example.wildcard.org", "421", None),
             ("unknown-example.org", "example.org", "200", v1),
             ("unknown-example.org", "unknown-example.org", "404", None)]
    for sni, host, want, backend in cases:
        rc, status, body = https_get_sni(t, sni, host, "/detect-misdirected-requests")
        assert (rc, status) == (0, want), (sni, host, status, body[:200])
        if backend:
            assert '"name": "%s"' % backend in body, (sni, host, body[:200])
        # /explain agrees: the URL's host is the SNI, a Host header the request's host.
        e = requests.get(t.admin + "/explain", params={"url": "https://%s/detect-misdirected-requests" % sni,
                                                       "header": "Host:" + host}, timeout=harness.HTTP_TIMEOUT).json()
        if want == "421":
            assert e["result"]["status"] == 421, (sni, host, e["result"])
        else:
            assert e["result"]["status"] != 421, (sni, host, e["result"])


MUTUAL_GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: mutual, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: istio
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: api.example.test
    tls:
      certificateRefs: [{name: mutual-cert}]
      options: {gateway.istio.io/tls-terminate-mode: MUTUAL}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mutual, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: mutual}]
  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]
"""


def test_tls_terminate_mode_mutual_option(torii, backends, pki, tmp_path):
    """Istio's tls.options gateway.istio.io/tls-terminate-mode: MUTUAL: clients must present a
    certificate signed by the Secret's ca.crt."""
    run = lambda *a: subprocess.run(list(a), cwd=tmp_path, check=True, stdout=subprocess.DEVNULL,  # noqa: E731
                                    stderr=subprocess.DEVNULL)
    newkey = ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(*newkey, "-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=mutual-ca")
    for name, ext in (("server", "subjectAltName=DNS:api.example.test"), ("client", "")):
        (tmp_path / (name + ".ext")).write_text(ext + "\n")
        run(*newkey, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext")
    data = {k: base64.b64encode((tmp_path / f).read_bytes()).decode()
            for k, f in (("tls.crt", "server.pem"), ("tls.key", "server.key"), ("ca.crt", "ca.pem"))}
    secret_yaml = ("apiVersion: v1\nkind: Secret\nmetadata: {name: mutual-cert, namespace: %s}\n"
                   "type: kubernetes.io/tls\ndata:\n%s" % (gw.INFRA, "".join("  %s: %s\n" % kv for kv in data.items())))
    manifests = gw.base_manifests(backends)
    manifests.update({"mutual.yaml": MUTUAL_GATEWAY, "secret.yaml": secret_yaml})
    port = harness.reserve_port()
    torii(manifests=manifests, port_map={80: harness.reserve_port(), 443: port})

    def curl(*extra):
        p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "--cacert",
                            str(tmp_path / "ca.pem"), "--resolve", "api.example.test:%d:127.0.0.1" % port, *extra,
                            "https://api.example.test:%d/" % port], capture_output=True, text=True)
        return p.returncode, p.stdout

    assert curl("--cert", str(tmp_path / "client.pem"), "--key", str(tmp_path / "client.key")) == (0, "200")
    rc, _ = curl()  # no client certificate: the handshake (or the first read) fails
    assert rc != 0


def test_gateway_modify_listeners(torii, backends, pki):
    """GatewayModifyListeners: a listener added to a live Gateway becomes served, with its route
    attached; a listener removed goes from the status, the route stays on the rest."""
    t = start(torii, backends, pki, "gateway-modify-listeners.yaml", https_base=False)
    docs = list(yaml.safe_load_all(gw.manifest("gateway-modify-listeners.yaml")))
    for d in docs:
        if d["kind"] == "Gateway" and d["metadata"]["name"] == "gateway-add-listener":
            d["spec"]["listeners"].append({"name": "http", "port": 80, "protocol": "HTTP", "hostname": "data.test.com",
                                           "allowedRoutes": {"namespaces": {"from": "All"}}})
        if d["kind"] == "Gateway" and d["metadata"]["name"] == "gateway-remove-listener":
            d["spec"]["listeners"] = [x for x in d["spec"]["listeners"] if x["name"] != "https"]
    t.write("gateway-modify-listeners.yaml", yaml.safe_dump_all(docs))

    def listeners(gateway):
        r = requests.get(t.admin + "/status", timeout=harness.HTTP_TIMEOUT)
        for d in yaml.safe_load_all(r.text):
            if d["kind"] == "Gateway" and d["metadata"]["name"] == gateway:
                return {x["name"]: x for x in d["status"]["listeners"]}
        return {}

    ok, _ = harness.poll_until(lambda: set(listeners("gateway-add-listener")) == {"https", "http"} and
                               set(listeners("gateway-remove-listener")) == {"http"} or None, harness.RELOAD_TIMEOUT)
    assert ok, (listeners("gateway-add-listener"), listeners("gateway-remove-listener"))
    added = listeners("gateway-add-listener")
    for name in ("https", "http"):
        conditions = {c["type"]: c["status"] for c in added[name]["conditions"]}
        assert conditions["Accepted"] == "True" and conditions["Programmed"] == "True", (name, conditions)
        assert added[name]["attachedRoutes"] == 1
    assert listeners("gateway-remove-listener")["http"]["attachedRoutes"] == 1
    r = requests.get(t.url("/"), headers={"Host": "data.test.com"}, timeout=harness.HTTP_TIMEOUT)
    assert r.status_code == 200 and gw.backend_of(r) == "infra-backend-v1"


def test_tlsroute_listener_terminate_supported_kinds(torii, backends, pki):
    """TLSRouteListenerTerminateSupportedKinds: a TLS listener in Terminate mode lists TLSRoute and
    is Accepted (the suite's tls-terminate-checks-certificate made here like its other Secrets)."""
    t = start(torii, backends, pki, "tlsroute-listener-terminate-supported-kinds.yaml", https_base=False)
    t.write("terminate-secret.yaml", secret("tls-terminate-checks-certificate", gw.INFRA, *pki["validity"]))

    def listener():
        return listener_status(t, "gateway-tlsroute-terminate-supported", "tls-terminate")

    ok, _ = harness.poll_until(lambda: condition(listener(), "ResolvedRefs")["status"] == "True" or None,
                               harness.RELOAD_TIMEOUT)
    assert ok, listener()
    ls = listener()
    assert [k["kind"] for k in ls["supportedKinds"]] == ["TLSRoute"]
    accepted = condition(ls, "Accepted")
    assert (accepted["status"], accepted["reason"]) == ("True", "Accepted")
    assert ls["attachedRoutes"] == 0


def test_redirect_port_and_scheme(torii, backends, pki):
    """HTTPRouteRedirectPortAndScheme: a redirect's Location keeps the request's scheme and port
    unless the filter sets them, and leaves out the scheme's default port. The suite's requests
    name the gateway address with its port; here the Host carries the Gateway port the listener
    is on (8080), since --port-map binds it elsewhere."""
    manifests_port = {80: harness.reserve_port(), 8080: harness.reserve_port(), 443: harness.reserve_port()}
    manifests = gw.base_manifests(backends, gw.GATEWAYS + "---\n" + HTTPS_GATEWAY)
    manifests["secrets.yaml"] = harness.yaml_docs(
        secret("tls-validity-checks-certificate", gw.INFRA, *pki["validity"]))
    manifests["route.yaml"] = gw.manifest("httproute-redirect-port-and-scheme.yaml")
    t = torii(manifests=manifests, port_map=manifests_port)

    def location(port, host, path, tls=False):
        if tls:
            p = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--max-time",
                                "5", "--resolve", "example.org:%d:127.0.0.1" % port,
                                "https://example.org:%d%s" % (port, path), "-H", "Host: " + host],
                               capture_output=True, text=True)
            status, _, where = p.stdout.partition(" ")
            return int(status), where
        r = requests.get("http://127.0.0.1:%d%s" % (port, path), headers={"Host": host}, allow_redirects=False,
                         timeout=harness.HTTP_TIMEOUT)
        return r.status_code, r.headers.get("location", "")

    p80, p8080, p443 = manifests_port[80], manifests_port[8080], manifests_port[443]
    cases = [
        (p80, "example.org", False, "/scheme-nil-and-port-nil", "http://example.org/scheme-nil-and-port-nil"),
        (p80, "example.org", False, "/scheme-nil-and-port-80", "http://example.org/scheme-nil-and-port-80"),
        (p80, "example.org", False, "/scheme-nil-and-port-8080", "http://example.org:8080/scheme-nil-and-port-8080"),
        (p80, "example.org", False, "/scheme-https-and-port-nil", "https://example.org/scheme-https-and-port-nil"),
        (p80, "example.org", False, "/scheme-https-and-port-443", "https://example.org/scheme-https-and-port-443"),
        (p80, "example.org", False, "/scheme-https-and-port-8443",
         "https://example.org:8443/scheme-https-and-port-8443"),
        (p8080, "example.org:8080", False, "/scheme-nil-and-port-nil", "http://example.org:8080/scheme-nil-and-port-nil"),
        (p8080, "example.org:8080", False, "/scheme-nil-and-port-80", "http://example.org/scheme-nil-and-port-80"),
        (p8080, "example.org:8080", False, "/scheme-https-and-port-nil", "https://example.org/scheme-https-and-port-nil"),
        (p443, "example.org", True, "/scheme-nil-and-port-nil", "https://example.org/scheme-nil-and-port-nil"),
        (p443, "example.org", True, "/scheme-nil-and-port-443", "https://example.org/scheme-nil-and-port-443"),
        (p443, "example.org", True, "/scheme-nil-and-port-8443", "https://example.org:8443/scheme-nil-and-port-8443"),
        (p443, "example.org", True, "/scheme-http-and-port-nil", "http://example.org/scheme-http-and-port-nil"),
        (p443, "example.org", True, "/scheme-http-and-port-80", "http://example.org/scheme-http-and-port-80"),
        (p443, "example.org", True, "/scheme-http-and-port-8080", "http://example.org:8080/scheme-http-and-port-8080"),
    ]
    for port, host, tls, path, want in cases:
        assert location(port, host, path, tls) == (302, want), (port, host, path)


def test_tlsroute_terminate_simple_same_namespace(torii, backends, pki, tcp_echo):
    """TLSRouteTerminateSimpleSameNamespace: a TLSRoute on a Terminate listener reaches the
    plaintext tcp-backend (the suite's L4 echo backend is tcp_echo_server.py here; the client
    does not verify the suite-style self-signed certificate, which does not name tls.example.com)."""
    import socket
    import ssl

    up = tcp_echo("tcp-backend", "127.0.0.97")
    t = start(torii, backends, pki, "tlsroute-terminate-simple-same-namespace.yaml", https_base=False,
              extra={"tcp-backend.yaml": gw.service_with_endpoint("tcp-backend", up, 3000, "tcp", namespace=gw.INFRA),
                     "terminate-secret.yaml": secret("tls-terminate-checks-certificate", gw.INFRA, *pki["validity"])})

    def echoed():
        try:
            return tls_echo(t.ports[8443], "tls.example.com", b"plain text behind TLS")[0] == b"plain text behind TLS" \
                or None
        except OSError:
            return None

    ok, _ = harness.poll_until(echoed, harness.RELOAD_TIMEOUT)
    assert ok, t.log()[-2000:]


def test_tlsroute_mixed_termination_same_namespace(torii, backends, pki, tcp_echo, upstreams, tmp_path):
    """TLSRouteMixedTerminationSameNamespace: one port, two TLS listeners told apart by SNI: Terminate
    for tls.example.com (plaintext to tcp-backend:3000) and Passthrough for abc.example.com (the
    client's TLS to tcp-backend:8443, whose certificate names abc.example.com). The suite's L4 backend
    serves both ports; here tcp_echo_server.py and a TLS echo_server.py on one address."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=abc.example.com", "-keyout", str(tmp_path / "abc.key"),
                    "-out", str(tmp_path / "ca.pem"), "-addext", "subjectAltName=DNS:abc.example.com"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    plain = tcp_echo("tcp-backend", "127.0.0.98")
    tls_up = upstreams.echo("tcp-backend-tls", host="127.0.0.98",
                            extra_args=["--tls-cert", str(tmp_path / "ca.pem"), "--tls-key", str(tmp_path / "abc.key")])
    backend = """
apiVersion: v1
kind: Service
metadata: {name: tcp-backend, namespace: %(ns)s}
spec:
  selector: {app: tcp-backend}
  ports: [{name: plain, port: 3000}, {name: tls, port: 8443}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: tcp-backend, namespace: %(ns)s}
spec:
  address: 127.0.0.98
  labels: {app: tcp-backend}
  ports: {plain: %(plain)d, tls: %(tls)d}
""" % {"ns": gw.INFRA, "plain": plain.port, "tls": tls_up.port}
    port = harness.reserve_port()
    manifests = gw.base_manifests(backends)
    manifests.update({"route.yaml": gw.manifest("tlsroute-mixed-termination-same-namespace.yaml"),
                      "backend.yaml": backend,
                      "secret.yaml": secret("tls-terminate-checks-certificate", gw.INFRA, *pki["validity"])})
    torii(manifests=manifests, port_map={80: harness.reserve_port(), 8883: port})

    # Terminated: the gateway's certificate, plaintext relayed to port 3000.
    assert tls_echo(port, "tls.example.com", b"terminated")[0] == b"terminated"
    # Passthrough: the backend's own (self-signed) certificate and answer.
    cn, doc = tls_get(port, "abc.example.com", tmp_path, "/x")
    assert cn == "abc.example.com" and doc["name"] == "tcp-backend-tls"
