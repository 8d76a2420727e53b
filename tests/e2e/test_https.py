"""HTTPS Gateway servers whose TLS Torii terminates (tls.mode SIMPLE / MUTUAL).

Certificates are made per module with the openssl command line; the client is
curl (--resolve keeps traffic on loopback while sending the right SNI).
ISTIO_SEMANTICS.md §2 (Gateway servers), §4.2 (x-forwarded-proto).
"""
import json
import subprocess
from pathlib import Path

import pytest
import requests

import harness

NEWKEY = ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    _run(NEWKEY + ["-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test-ca"], d)
    for name, san in [("api", "DNS:api.example.test"), ("other", "DNS:other.example.test"), ("client", "")]:
        (d / (name + ".ext")).write_text("subjectAltName=%s\n" % san if san else "")
        _run(NEWKEY + ["-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name], d)
        _run(["openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext"], d)
    return d


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("tls", host="127.0.0.30")


def manifests(pki, echo, api_mode="SIMPLE", other_cert=None):
    other_cert = other_cert or str(pki / "other.pem")
    mutual = ("      caCertificates: %s\n" % (pki / "ca.pem")) if api_mode == "MUTUAL" else ""
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
  - port: {number: 443, name: https-api, protocol: HTTPS}
    hosts: [api.example.test]
    tls:
      mode: %s
      serverCertificate: %s
      privateKey: %s
%s  - port: {number: 443, name: https-other, protocol: HTTPS}
    hosts: [other.example.test]
    tls:
      mode: SIMPLE
      serverCertificate: %s
      privateKey: %s
""" % (api_mode, pki / "api.pem", pki / "api.key", mutual, other_cert, pki / "other.key"),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api.example.test]
  gateways: [istio-system/gw]
  http:
  - route: [{destination: {host: echo, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: other}
spec:
  hosts: [other.example.test]
  gateways: [istio-system/gw]
  http:
  - match: [{uri: {prefix: /e}}]
    route: [{destination: {host: echo, port: {number: 80}}}]
""",
        "echo.yaml": harness.backend(echo, "echo"),
    }


def header(echoed, name):
    """A request header as the echo server saw it (its `headers` is a list of pairs)."""
    values = [v for k, v in echoed["headers"] if k.lower() == name]
    return values[0] if values else None


def curl(port, host, path, pki, *extra):
    """(exit code, status, body) of curl https://host:port/path with the test CA."""
    p = subprocess.run(
        ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5", "--cacert", str(pki / "ca.pem"),
         "--resolve", "%s:%d:127.0.0.1" % (host, port), *extra, "https://%s:%d%s" % (host, port, path)],
        capture_output=True, text=True)
    body, _, status = p.stdout.rpartition("\n")
    return p.returncode, status, body


@pytest.fixture
def https_gw(pki, echo, torii):
    def start(**kw):
        port = harness.reserve_port()
        t = torii(manifests=manifests(pki, echo, **kw), port_map={80: harness.reserve_port(), 443: port})
        t.https_port = port
        return t
    return start


def test_https_request_reaches_the_upstream_with_forwarded_proto(https_gw, pki):
    t = https_gw()
    rc, status, body = curl(t.https_port, "api.example.test", "/e/x", pki)
    assert (rc, status) == (0, "200"), body
    seen = json.loads(body)
    assert seen["path"] == "/e/x"
    assert header(seen, "x-forwarded-proto") == "https"


def test_sni_picks_the_server_its_certificate_and_its_routes(https_gw, pki):
    t = https_gw()
    # curl checks the certificate against the name, so success means the right one was served.
    rc, status, _ = curl(t.https_port, "other.example.test", "/e/1", pki)
    assert (rc, status) == (0, "200")
    # Each HTTPS server has its own route table (Istio's https.443.<server>...): a request that
    # came in with SNI other.example.test cannot reach api.example.test's routes by its Host.
    # Envoy answers 404 from the wrong table; Torii says 421 Misdirected Request, since
    # another server of the port serves that host (test_http2.py has the coalescing case).
    assert curl(t.https_port, "api.example.test", "/x", pki)[1] == "200"
    assert curl(t.https_port, "other.example.test", "/x", pki, "-H", "Host: api.example.test")[1] == "421"
    dump = t.config_dump()["snapshot"]["listeners"]
    https = [l for l in dump if l["protocol"] == "HTTPS"]
    assert len(https) == 1
    assert [c["server_names"] for c in https[0]["tls_chains"]] == [["api.example.test"], ["other.example.test"]]
    assert https[0]["tls_chains"][0]["route_config"] == "https.443.https-api.gw.istio-system"


def test_unknown_sni_is_refused_during_the_handshake(https_gw, pki):
    t = https_gw()
    rc, _, _ = curl(t.https_port, "nobody.example.test", "/e/x", pki, "-k")
    assert rc == 35, "expected a TLS handshake failure (curl exit 35), got %d" % rc


def test_plaintext_port_still_serves(https_gw, pki):
    t = https_gw()
    r = t.get("/e/plain", headers={"Host": "api.example.test"})
    assert r.status_code == 200
    assert header(r.json(), "x-forwarded-proto") == "http"


def test_mutual_tls_requires_a_client_certificate(https_gw, pki):
    t = https_gw(api_mode="MUTUAL")
    rc, status, _ = curl(t.https_port, "api.example.test", "/e/x", pki)
    assert rc != 0 or status != "200", "served without a client certificate"
    rc, status, _ = curl(t.https_port, "api.example.test", "/e/x", pki,
                         "--cert", str(pki / "client.pem"), "--key", str(pki / "client.key"))
    assert (rc, status) == (0, "200")
    # The other (SIMPLE) server on the same port asks for no certificate.
    assert curl(t.https_port, "other.example.test", "/e/x", pki)[:2] == (0, "200")


def test_unreadable_certificate_drops_only_its_server(https_gw, pki, tmp_path):
    t = https_gw(other_cert=str(tmp_path / "missing.pem"))
    assert curl(t.https_port, "api.example.test", "/e/x", pki)[:2] == (0, "200")
    assert curl(t.https_port, "other.example.test", "/e/x", pki, "-k")[0] == 35
    diagnostics = "\n".join(t.config_dump()["diagnostics"])
    assert "spec.servers[2].tls" in diagnostics and "missing.pem" in diagnostics, diagnostics


def test_relative_certificate_paths_are_read_from_the_manifest_directory(pki, echo, torii, tmp_path):
    config = tmp_path / "cfg"
    config.mkdir()
    for name in ("api", "other"):
        for ext in ("pem", "key"):
            (config / ("%s.%s" % (name, ext))).write_bytes((pki / ("%s.%s" % (name, ext))).read_bytes())
    for fname, text in manifests(pki, echo).items():
        text = text.replace(str(pki) + "/api.", "api.").replace(str(pki) + "/other.", "other.")
        (config / fname).write_text(text)
    port = harness.reserve_port()
    t = torii(config_paths=[config], port_map={80: harness.reserve_port(), 443: port})
    assert curl(port, "api.example.test", "/e/x", pki)[:2] == (0, "200")


def test_explain_follows_the_sni_to_the_servers_routes(https_gw, pki):
    t = https_gw()

    def explain(url):
        r = requests.get(t.admin + "/explain", params={"method": "GET", "url": url}, timeout=5)
        assert r.status_code == 200, r.text
        return r.json()
    e = explain("https://other.example.test:443/e/x")
    assert e["result"]["reason"].startswith("forwarded upstream"), e["result"]
    assert e["listener"]["route_config"] == "https.443.https-other.gw.istio-system"
    assert explain("https://other.example.test:443/x")["result"]["status"] == 404
    assert "handshake would be refused" in explain("https://nobody.example.test:443/x")["result"]["reason"]


def tls_secret(name, pki, cert, key, extra=None, namespace="istio-system"):
    import base64
    data = {"tls.crt": (pki / cert).read_bytes(), "tls.key": (pki / key).read_bytes()}
    data.update(extra or {})
    lines = "".join("  %s: %s\n" % (k, base64.b64encode(v).decode()) for k, v in data.items())
    return ("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\n"
            "type: kubernetes.io/tls\ndata:\n%s" % (name, namespace, lines))


def test_credential_name_reads_a_kubernetes_tls_secret(pki, echo, torii):
    m = manifests(pki, echo)
    m["gw.yaml"] = m["gw.yaml"].replace(
        "      mode: SIMPLE\n      serverCertificate: %s\n      privateKey: %s\n" % (pki / "api.pem", pki / "api.key"),
        "      mode: SIMPLE\n      credentialName: api-cred\n")
    assert "credentialName: api-cred" in m["gw.yaml"]
    m["secret.yaml"] = tls_secret("api-cred", pki, "api.pem", "api.key")
    port = harness.reserve_port()
    t = torii(manifests=m, port_map={80: harness.reserve_port(), 443: port})
    assert curl(port, "api.example.test", "/e/x", pki)[:2] == (0, "200")
    # The Secret's data never shows in /config_dump.
    assert (pki / "api.key").read_text().splitlines()[1] not in json.dumps(t.config_dump())


def test_credential_name_mutual_with_a_cacert_secret(pki, echo, torii):
    m = manifests(pki, echo, api_mode="MUTUAL")
    m["gw.yaml"] = m["gw.yaml"].replace(
        "      serverCertificate: %s\n      privateKey: %s\n      caCertificates: %s\n"
        % (pki / "api.pem", pki / "api.key", pki / "ca.pem"),
        "      credentialName: api-cred\n")
    assert "credentialName: api-cred" in m["gw.yaml"]
    m["secret.yaml"] = harness.yaml_docs(
        tls_secret("api-cred", pki, "api.pem", "api.key"),
        "apiVersion: v1\nkind: Secret\nmetadata: {name: api-cred-cacert, namespace: istio-system}\n"
        "stringData:\n  ca.crt: |\n" + "".join("    " + l + "\n" for l in (pki / "ca.pem").read_text().splitlines()))
    port = harness.reserve_port()
    t = torii(manifests=m, port_map={80: harness.reserve_port(), 443: port})
    assert curl(port, "api.example.test", "/e/x", pki)[1] != "200"
    assert curl(port, "api.example.test", "/e/x", pki,
                "--cert", str(pki / "client.pem"), "--key", str(pki / "client.key"))[:2] == (0, "200")


def test_credential_names_and_tls_certificates_serve_the_first_certificate(pki, echo, torii):
    """`credentialNames` / `tlsCertificates` (istio/api: up to two certificates) are accepted as
    istiod does; Torii serves the first and warns about a second (docs/validation.md). Torii
    used to refuse such a Gateway for lacking a certificate."""
    m = manifests(pki, echo)
    m["gw.yaml"] = m["gw.yaml"].replace(
        "      serverCertificate: %s\n      privateKey: %s\n" % (pki / "api.pem", pki / "api.key"),
        "      credentialNames: [api-cred, spare-cred]\n", 1).replace(
        "      serverCertificate: %s\n      privateKey: %s\n" % (pki / "other.pem", pki / "other.key"),
        "      tlsCertificates:\n      - {serverCertificate: %s, privateKey: %s}\n" % (pki / "other.pem",
                                                                                  pki / "other.key"), 1)
    assert "credentialNames" in m["gw.yaml"] and "tlsCertificates" in m["gw.yaml"], m["gw.yaml"]
    m["secret.yaml"] = harness.yaml_docs(tls_secret("api-cred", pki, "api.pem", "api.key"),
                                         tls_secret("spare-cred", pki, "other.pem", "other.key"))
    port = harness.reserve_port()
    t = torii(manifests=m, port_map={80: harness.reserve_port(), 443: port})
    assert curl(port, "api.example.test", "/e/x", pki)[:2] == (0, "200")
    assert curl(port, "other.example.test", "/e/x", pki)[:2] == (0, "200")
    diagnostics = "\n".join(t.config_dump()["diagnostics"])
    assert "spec.servers[1].tls.credentialNames: Torii serves the first certificate only" in diagnostics, diagnostics


def test_missing_secret_drops_the_server_with_a_warning(pki, echo, torii):
    m = manifests(pki, echo)
    m["gw.yaml"] = m["gw.yaml"].replace(
        "      serverCertificate: %s\n      privateKey: %s\n" % (pki / "api.pem", pki / "api.key"),
        "      credentialName: nope\n", 1)
    port = harness.reserve_port()
    t = torii(manifests=m, port_map={80: harness.reserve_port(), 443: port})
    diagnostics = "\n".join(t.config_dump()["diagnostics"])
    assert 'spec.servers[1].tls.credentialName: no Secret "nope"' in diagnostics, diagnostics
    assert curl(port, "other.example.test", "/e/x", pki)[:2] == (0, "200")
