"""TLS origination: DestinationRule `tls` SIMPLE / MUTUAL to a real TLS upstream.

The client speaks plain HTTP to the gateway; Torii opens TLS to the upstream
(echo_server.py with --tls-cert), verifying the chain against caCertificates
and the certificate's SAN against subjectAltNames or, without them, the
request's host (Istio's auto_sni + auto_san_validation). A failed handshake
is a 503 with Envoy's transport failure reason and no request reaches the
upstream. ISTIO_SEMANTICS.md §5.7; Istio's egress TLS origination task.
"""
import subprocess

import pytest
import requests

import harness

NEWKEY = ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        _run(NEWKEY + ["-x509", "-days", "2", "-keyout", ca + ".key", "-out", ca + ".pem", "-subj", "/CN=" + ca], d)
    for name, san in [("api", "DNS:api.example.test"), ("client", "")]:
        (d / (name + ".ext")).write_text("subjectAltName=%s\n" % san if san else "")
        _run(NEWKEY + ["-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name], d)
        _run(["openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
              "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext"], d)
    # The api certificate again, expired yesterday (notAfter in the past).
    _run(["openssl", "x509", "-req", "-in", "api.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
          "-CAcreateserial", "-days", "-1", "-out", "api-expired.pem", "-extfile", "api.ext"], d)
    return d


def tls_upstream(upstreams, pki, host, mutual=False):
    args = ["--tls-cert", str(pki / "api.pem"), "--tls-key", str(pki / "api.key")]
    if mutual:
        args += ["--tls-client-ca", str(pki / "ca.pem")]
    return upstreams.echo("tls", host=host, extra_args=args)


def manifests(up, tls_yaml):
    return {
        "gw.yaml": harness.gateway("gw", hosts=["*"]),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route: [{destination: {host: api.example.test, port: {number: 443}}}]
""",
        "se.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: api}
spec:
  hosts: [api.example.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 443, name: http-tls, protocol: HTTP}]
  endpoints: [{address: %s, ports: {http-tls: %d}}]
""" % (up.host, up.port),
        "dr.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: api}
spec:
  host: api.example.test
  trafficPolicy:
    tls:
%s""" % "".join("      %s\n" % line for line in tls_yaml.splitlines()),
    }


def upstream_requests(up, pki):
    """Requests the TLS upstream has served (its control endpoint, over HTTPS)."""
    import urllib3
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    r = requests.get("https://%s:%d/__control/stats" % (up.host, up.port), verify=False,
                     cert=(str(pki / "client.pem"), str(pki / "client.key")), timeout=5)
    return r.json()["requests"]


def get(t):
    return t.get("/x", headers={"Host": "api.example.test"})


def test_simple_origination_verifies_chain_and_host(upstreams, torii, pki):
    up = tls_upstream(upstreams, pki, "127.0.0.60")
    t = torii(manifests(up, "mode: SIMPLE\ncaCertificates: %s" % (pki / "ca.pem")))
    r = get(t)
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/x"
    policy = [c for c in t.config_dump()["snapshot"]["clusters"] if c["service_host"] == "api.example.test"]
    assert policy[0]["traffic_policy"]["tls"]["mode"] == "SIMPLE"


def test_wrong_san_fails_the_handshake_with_503_and_sends_nothing(upstreams, torii, pki):
    up = tls_upstream(upstreams, pki, "127.0.0.61")
    t = torii(manifests(up, "mode: SIMPLE\ncaCertificates: %s\nsubjectAltNames: [wrong.example.test]"
                        % (pki / "ca.pem")))
    r = get(t)
    assert r.status_code == 503
    assert r.text.startswith("upstream connect error or disconnect/reset before headers. reset reason: "
                             "connection failure, transport failure reason: TLS_error:"), r.text
    assert "CERTIFICATE_VERIFY_FAILED" in r.text
    assert upstream_requests(up, pki) == 0


def test_untrusted_ca_is_503(upstreams, torii, pki):
    up = tls_upstream(upstreams, pki, "127.0.0.62")
    t = torii(manifests(up, "mode: SIMPLE\ncaCertificates: %s" % (pki / "other-ca.pem")))
    r = get(t)
    assert r.status_code == 503 and "CERTIFICATE_VERIFY_FAILED" in r.text, r.text


def test_expired_certificate_is_503(upstreams, torii, pki):
    """Right CA, right SAN, but expired: the handshake fails, the request is never sent."""
    up = upstreams.echo("tls", host="127.0.0.68", extra_args=[
        "--tls-cert", str(pki / "api-expired.pem"), "--tls-key", str(pki / "api.key")])
    t = torii(manifests(up, "mode: SIMPLE\ncaCertificates: %s" % (pki / "ca.pem")))
    r = get(t)
    assert r.status_code == 503, r.text
    assert "TLS_error:" in r.text and "CERTIFICATE_VERIFY_FAILED" in r.text, r.text
    assert "expired" in r.text, r.text


def test_host_that_the_certificate_does_not_name_is_503(upstreams, torii, pki):
    """No subjectAltNames and no sni: the SNI is the request's host and the certificate must
    name it (Istio's auto_sni + auto_san_validation); an explicit sni turns that check off."""
    up = tls_upstream(upstreams, pki, "127.0.0.63")
    t = torii(manifests(up, "mode: SIMPLE\ncaCertificates: %s" % (pki / "ca.pem")))
    assert get(t).status_code == 200
    r = t.get("/x", headers={"Host": "alias.example.test"})
    assert r.status_code == 503 and "CERTIFICATE_VERIFY_FAILED" in r.text, r.text
    t.write("dr.yaml", manifests(up, "mode: SIMPLE\ncaCertificates: %s\nsni: api.example.test"
                                 % (pki / "ca.pem"))["dr.yaml"])
    ok, _ = harness.poll_until(lambda: t.get("/x", headers={"Host": "alias.example.test"}).status_code == 200,
                               harness.RELOAD_TIMEOUT)
    assert ok


def test_insecure_skip_verify(upstreams, torii, pki):
    up = tls_upstream(upstreams, pki, "127.0.0.64")
    t = torii(manifests(up, "mode: SIMPLE\ninsecureSkipVerify: true"))
    assert get(t).status_code == 200


def test_insecure_skip_verify_with_a_ca_is_refused_as_by_istiod(upstreams, torii, pki):
    """istiod's ValidateTLS refuses caCertificates (or credentialName, subjectAltNames) beside
    insecureSkipVerify with SIMPLE, and caCertificates beside credentialName; Torii used to
    accept both (docs/validation.md). The rule is rejected: no TLS origination, so the TLS
    upstream cannot answer."""
    up = tls_upstream(upstreams, pki, "127.0.0.64")
    for tls in ("mode: SIMPLE\ncaCertificates: %s\ninsecureSkipVerify: true" % (pki / "other-ca.pem"),
                "mode: SIMPLE\ncredentialName: some-secret\ncaCertificates: %s" % (pki / "ca.pem")):
        t = torii(manifests(up, tls))
        errors = harness.find_in_json(t.config_dump()["resources"]["rejected"],
                                      lambda v: isinstance(v, dict) and v.get("kind") == "DestinationRule")
        assert errors, t.config_dump()["resources"]
        assert "spec.trafficPolicy.tls: cannot specify" in str(errors), errors
        assert get(t).status_code != 200


def test_mutual_presents_the_client_certificate(upstreams, torii, pki):
    up = tls_upstream(upstreams, pki, "127.0.0.65", mutual=True)
    t = torii(manifests(up, "mode: SIMPLE\ncaCertificates: %s" % (pki / "ca.pem")))
    assert get(t).status_code == 503  # the upstream wants a client certificate
    t.write("dr.yaml", manifests(up, "mode: MUTUAL\ncaCertificates: %s\nclientCertificate: %s\nprivateKey: %s"
                                 % (pki / "ca.pem", pki / "client.pem", pki / "client.key"))["dr.yaml"])
    ok, _ = harness.poll_until(lambda: get(t).status_code == 200, harness.RELOAD_TIMEOUT)
    assert ok


def secret_yaml(name, namespace, data):
    """A Secret as kubectl would store it (base64 `data`)."""
    import base64
    lines = "".join("  %s: %s\n" % (k, base64.b64encode(v.encode()).decode()) for k, v in data.items())
    return ("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: Opaque\ndata:\n%s"
            % (name, namespace, lines))


def test_mutual_origination_from_a_credential_name_secret(upstreams, torii, pki):
    """Istio's egress TLS origination task: DR `credentialName` names a Secret in the gateway's
    namespace holding the client certificate, its key and the CA that verifies the server."""
    up = tls_upstream(upstreams, pki, "127.0.0.66", mutual=True)
    files = manifests(up, "mode: MUTUAL\ncredentialName: client-credential")
    files["secret.yaml"] = secret_yaml("client-credential", "istio-system", {
        "tls.crt": (pki / "client.pem").read_text(), "tls.key": (pki / "client.key").read_text(),
        "ca.crt": (pki / "ca.pem").read_text()})
    t = torii(files)
    r = get(t)
    assert r.status_code == 200, r.text
    # The Secret is read from the gateway's namespace only: moved elsewhere, it is not found,
    # and the connection made with the old certificate is not reused either.
    t.write("secret.yaml", files["secret.yaml"].replace("namespace: istio-system", "namespace: default"))
    # Wait for the new config itself (its warning), not for a 503: on a loaded machine a
    # handshake with the Python upstream can time out (503) before the reload is in.
    def warned():
        return [d for d in t.config_dump()["diagnostics"] if "client-credential" in str(d)]
    warnings, _ = harness.poll_until(warned, harness.RELOAD_TIMEOUT)
    assert warnings, t.config_dump()["diagnostics"]
    ok, _ = harness.poll_until(lambda: get(t).status_code == 503, harness.RELOAD_TIMEOUT)
    assert ok
    before = upstream_requests(up, pki)
    assert get(t).status_code == 503
    assert upstream_requests(up, pki) == before  # nothing reached the upstream


def test_simple_origination_with_a_cacert_secret(upstreams, torii, pki):
    """SIMPLE needs only the CA: a Secret <name>-cacert is enough; the wrong CA is a 503."""
    up = tls_upstream(upstreams, pki, "127.0.0.67")
    files = manifests(up, "mode: SIMPLE\ncredentialName: api-credential")
    files["secret.yaml"] = secret_yaml("api-credential-cacert", "istio-system",
                                       {"cacert": (pki / "other-ca.pem").read_text()})
    t = torii(files)
    assert get(t).status_code == 503
    t.write("secret.yaml", secret_yaml("api-credential-cacert", "istio-system",
                                       {"cacert": (pki / "ca.pem").read_text()}))
    ok, _ = harness.poll_until(lambda: get(t).status_code == 200, harness.RELOAD_TIMEOUT)
    assert ok


def test_credential_name_secret_without_a_ca_says_which_cas_verify(upstreams, torii, pki):
    """A SIMPLE credentialName Secret with no CA (and no <name>-cacert): the server is checked
    against the system's CAs, which do not know the test CA (503), and the config says so."""
    up = tls_upstream(upstreams, pki, "127.0.0.68")
    files = manifests(up, "mode: SIMPLE\ncredentialName: no-ca")
    files["secret.yaml"] = secret_yaml("no-ca", "istio-system", {"tls.crt": (pki / "client.pem").read_text(),
                                                                  "tls.key": (pki / "client.key").read_text()})
    t = torii(files)
    assert get(t).status_code == 503
    notes = " ".join(str(d) for d in t.config_dump()["diagnostics"])
    assert "system's trusted CAs" in notes, notes
