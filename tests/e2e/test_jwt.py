"""RequestAuthentication (JWT) through the real binary (ISTIO_SECURITY.md §10; docs/jwt.md).

Keys and tokens are made here with python3-cryptography; the echo upstream
shows which headers reached it. Checked: a valid token passes and the
upstream sees outputPayloadToHeader / outputClaimToHeaders and no
Authorization (unless forwardOriginalToken); expired, bad signature, unknown
issuer, malformed -> 401 with Envoy's body and www-authenticate; audience
mismatch -> 403; no token passes; fromHeaders with a prefix; fromParams (the
token leaves the query); client copies of output headers are dropped; a
rotated key in a file:// JWKS is picked up without a config change.
"""

import base64
import json
import time

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import harness

ISSUER = "https://issuer.example.com"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64(n.to_bytes(size, "big"))


class Key:
    """An RSA (RS256) or EC P-256 (ES256) signing key and its public JWK."""

    def __init__(self, kind="RSA", kid="k1"):
        self.kind, self.kid = kind, kid
        if kind == "RSA":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pub = self.private.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "kid": kid, "n": int_b64(pub.n), "e": int_b64(pub.e)}
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            pub = self.private.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256", "kid": kid, "x": int_b64(pub.x, 32), "y": int_b64(pub.y, 32)}

    def token(self, **claims):
        alg = "RS256" if self.kind == "RSA" else "ES256"
        header = b64(json.dumps({"alg": alg, "kid": self.kid, "typ": "JWT"}).encode())
        payload = b64(json.dumps(claims).encode())
        signed = ("%s.%s" % (header, payload)).encode()
        if self.kind == "RSA":
            sig = self.private.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(self.private.sign(signed, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return "%s.%s" % (signed.decode(), b64(sig))


def jwks(*keys):
    return json.dumps({"keys": [k.jwk for k in keys]})


def claims(**extra):
    c = {"iss": ISSUER, "sub": "alice", "exp": int(time.time()) + 3600, "groups": ["a"], "team": "blue",
         "nested": {"level": 7}}
    c.update(extra)
    return c


VS = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: main
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route:
    - destination: {host: main, port: {number: 80}}
"""


def request_authentication(rule_lines, name="jwt"):
    body = "\n".join("    " + line for line in rule_lines.strip("\n").splitlines())
    return (
        "apiVersion: security.istio.io/v1\n"
        "kind: RequestAuthentication\n"
        "metadata:\n"
        "  name: %s\n"
        "  namespace: istio-system\n"
        "spec:\n"
        "  jwtRules:\n"
        "  - issuer: %s\n%s\n" % (name, ISSUER, body)
    )


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("main", host="127.0.0.8")


def start(torii, echo, rule_lines):
    return torii({"gw.yaml": harness.gateway("gw"), "backend.yaml": harness.backend(echo, "main") + "---\n" + VS,
                  "ra.yaml": request_authentication(rule_lines)})


def inline(key_set):
    return "jwks: '%s'" % key_set


def seen_headers(response):
    assert response.status_code == 200, response.text
    return {k.lower(): v for k, v in response.json()["headers"]}


def expect_denied(response, status, body, url):
    assert response.status_code == status, response.text
    assert response.text == body
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["www-authenticate"] == 'Bearer realm="%s", error="invalid_token"' % url


def test_valid_token_passes_with_output_headers_and_token_removed(torii, echo):
    key = Key()
    t = start(torii, echo, inline(jwks(key)) + """
outputPayloadToHeader: x-jwt-payload
outputClaimToHeaders:
- header: x-jwt-sub
  claim: sub
- header: x-jwt-level
  claim: nested.level
- header: x-jwt-groups
  claim: groups
""")
    token = key.token(**claims())
    h = seen_headers(t.get("/anything", headers={"Authorization": "Bearer " + token,
                                                 "x-jwt-sub": "forged", "x-jwt-groups": "forged"}))
    assert "authorization" not in h
    assert h["x-jwt-payload"] == token.split(".")[1]
    assert h["x-jwt-sub"] == "alice"
    assert h["x-jwt-level"] == "7"
    assert "x-jwt-groups" not in h  # a list claim gives no header; the client's copy is dropped
    # The same token again (the worker's cache) still passes; no token passes too,
    # and client copies of the output headers never get through.
    assert seen_headers(t.get("/anything", headers={"Authorization": "Bearer " + token}))["x-jwt-sub"] == "alice"
    h = seen_headers(t.get("/anything", headers={"x-jwt-sub": "forged"}))
    assert "x-jwt-sub" not in h
    assert sum(v for k, v in t.stats().items() if k.endswith("jwt_authn_allowed")) >= 2


def test_failures_answer_envoys_401_and_403(torii, echo):
    key, other = Key(), Key()
    t = start(torii, echo, inline(jwks(key)) + "\naudiences: [bookstore]")
    url = "http://127.0.0.1:%d/p?q=1" % t.listen_port
    cases = [
        (key.token(**claims(aud="bookstore", exp=int(time.time()) - 120)), 401, "Jwt is expired"),
        (other.token(**claims(aud="bookstore")), 401, "Jwt verification fails"),
        (key.token(**claims(aud="bookstore", iss="https://other.example.com")), 401, "Jwt issuer is not configured"),
        (key.token(**claims(aud="elsewhere")), 403, "Audiences in Jwt are not allowed"),
        ("deadbeef", 401, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"),
    ]
    for token, status, body in cases:
        r = requests.get(url, headers={"Authorization": "Bearer " + token}, timeout=10)
        expect_denied(r, status, body, url)
    # An expired token within the 60 s clock skew still passes.
    ok = key.token(**claims(aud="https://bookstore/", exp=int(time.time()) - 30))
    assert requests.get(url, headers={"Authorization": "Bearer " + ok}, timeout=10).status_code == 200
    # No token: allowed, anonymous.
    assert requests.get(url, timeout=10).status_code == 200
    # A bad token gets its 401 even where no route would match (jwt_authn runs before the router).
    r = requests.get("http://127.0.0.1:%d/x" % t.listen_port,
                     headers={"Authorization": "Bearer deadbeef", "Host": "nowhere.example"}, timeout=10)
    assert r.status_code == 401


def test_forward_original_token(torii, echo):
    key = Key("EC")
    t = start(torii, echo, inline(jwks(key)) + "\nforwardOriginalToken: true")
    token = key.token(**claims())
    h = seen_headers(t.get("/", headers={"Authorization": "Bearer " + token}))
    assert h["authorization"] == "Bearer " + token


def test_from_headers_with_prefix_and_from_params(torii, echo):
    key = Key()
    t = start(torii, echo, inline(jwks(key)) + """
fromHeaders:
- name: x-token
  prefix: "Token "
fromParams: [jwt]
""")
    token = key.token(**claims())
    h = seen_headers(t.get("/h", headers={"x-token": "Token " + token}))
    assert "x-token" not in h
    # The default Authorization: Bearer location is off once fromHeaders is set:
    # a bad token there is not looked at.
    assert t.get("/h", headers={"Authorization": "Bearer deadbeef"}).status_code == 200
    # A header without the prefix carries no token.
    assert t.get("/h", headers={"x-token": "deadbeef"}).status_code == 200
    assert t.get("/h", headers={"x-token": "Token deadbeef"}).status_code == 401
    r = t.get("/q?a=1&jwt=%s&b=2" % token)
    assert r.status_code == 200
    assert r.json()["path"] == "/q?a=1&b=2"  # the verified token is not forwarded
    assert t.get("/q?jwt=%s" % Key().token(**claims())).status_code == 401


def test_jwks_file_rotation(torii, echo, tmp_path):
    old, new = Key(kid="old"), Key(kid="new")
    jwks_path = tmp_path / "jwks.json"
    jwks_path.write_text(jwks(old))
    t = start(torii, echo, "jwksUri: file://%s" % jwks_path)
    assert t.get("/", headers={"Authorization": "Bearer " + old.token(**claims())}).status_code == 200
    new_token = new.token(**claims())
    assert t.get("/", headers={"Authorization": "Bearer " + new_token}).status_code == 401
    harness.write_atomic(str(jwks_path), jwks(new))
    status, _ = harness.poll_until(
        lambda: t.get("/", headers={"Authorization": "Bearer " + new_token}).status_code == 200 or None,
        harness.RELOAD_TIMEOUT)
    assert status
    assert t.get("/", headers={"Authorization": "Bearer " + old.token(**claims())}).status_code == 401


def test_invalid_rule_is_rejected_and_last_good_config_serves(torii, echo):
    key = Key()
    t = start(torii, echo, inline(jwks(key)))
    t.write("ra.yaml", request_authentication("jwks: 'not json'\noutputClaimToHeaders:\n- header: 'bad header'\n  claim: sub"))
    log, _ = harness.poll_until(lambda: "spec.jwtRules[0].jwks" in t.log() and t.log() or None, harness.RELOAD_TIMEOUT)
    assert "RequestAuthentication" in log and "ra.yaml" in log
    assert "spec.jwtRules[0].outputClaimToHeaders[0].header" in log
    # The last good rule still rejects a bad token.
    assert t.get("/", headers={"Authorization": "Bearer deadbeef"}).status_code == 401


def test_cookies_and_cors_preflight_bypass(torii, echo):
    key = Key()
    t = start(torii, echo, inline(jwks(key)) + "\nfromCookies: [session]")
    token = key.token(**claims())
    h = seen_headers(t.get("/", headers={"Cookie": "a=1; session=%s" % token}))
    assert "session=" in h["cookie"]  # cookies are left as they are
    assert t.get("/", headers={"Cookie": "session=deadbeef"}).status_code == 401
    # A CORS preflight is not checked, even with a bad token; a plain OPTIONS is.
    preflight = {"Cookie": "session=deadbeef", "Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    assert t.request("OPTIONS", "/", headers=preflight).status_code == 200
    assert t.request("OPTIONS", "/", headers={"Cookie": "session=deadbeef"}).status_code == 401


def test_policy_for_another_workload_or_namespace_does_not_apply(torii, echo):
    key = Key()
    other_workload = request_authentication(inline(jwks(key))).replace(
        "spec:\n", "spec:\n  selector:\n    matchLabels: {app: other}\n")
    other_namespace = request_authentication(inline(jwks(key)), name="elsewhere").replace(
        "namespace: istio-system", "namespace: default")
    t = torii({"gw.yaml": harness.gateway("gw"), "backend.yaml": harness.backend(echo, "main") + "---\n" + VS,
               "ra.yaml": other_workload + "---\n" + other_namespace})
    assert t.get("/", headers={"Authorization": "Bearer deadbeef"}).status_code == 200
    # Selecting this gateway's labels turns it on.
    t.write("ra.yaml", request_authentication(inline(jwks(key))).replace(
        "spec:\n", "spec:\n  selector:\n    matchLabels: {istio: ingressgateway}\n"))
    status, _ = harness.poll_until(
        lambda: t.get("/", headers={"Authorization": "Bearer deadbeef"}).status_code == 401 or None,
        harness.RELOAD_TIMEOUT)
    assert status
