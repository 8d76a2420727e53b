"""JWT signature algorithms, Istio's published sample tokens, and the clock
skew, through the real binary (ISTIO_SECURITY.md §10; docs/jwt.md).

test_jwt.py checks the request flow with RS256 and ES256 keys; this file
signs a token with every other algorithm Envoy's jwt_authn verifies (RS384,
RS512, PS256, PS384, PS512, ES384, ES512, EdDSA) with python3-cryptography,
and checks that each passes with its own key and fails with another key of
the same type. It also sends Istio's sample tokens
(istio/istio security/tools/jwt/samples: demo.jwt, groups-scope.jwt, signed
by the key of its jwks.json), as an Istio user trying the documented task
would, and checks Envoy's 60 s clock skew on `exp` and `nbf` at both sides.
"""

import json
import time

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import harness
from test_jwt import VS, b64, claims, echo, expect_denied, inline, int_b64, seen_headers, start  # noqa: F401 (echo: the fixture)

# Istio's sample key set and tokens (istio/istio security/tools/jwt/samples),
# as published: the tokens expire in 2118 and 2082.
ISTIO_SAMPLE_ISSUER = "testing@secure.istio.io"
ISTIO_SAMPLE_JWKS = (
    '{ "keys":[ {"e":"AQAB","kid":"DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ","kty":"RSA",'
    '"n":"xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHt'
    "OcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTf"
    "URiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0"
    'ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ"}]}'
)
ISTIO_DEMO_JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IkRIRmJwb0lVcXJZOHQyenBBMnFYZkNtcjVWTzVaRXI0UnpIVV8tZW52dlEiLCJ0eXAiOiJKV1QifQ."
    "eyJleHAiOjQ2ODU5ODk3MDAsImZvbyI6ImJhciIsImlhdCI6MTUzMjM4OTcwMCwiaXNzIjoidGVzdGluZ0BzZWN1cmUuaXN0aW8uaW8iLC"
    "JzdWIiOiJ0ZXN0aW5nQHNlY3VyZS5pc3Rpby5pbyJ9."
    "CfNnxWP2tcnR9q0vxyxweaF3ovQYHYZl82hAUsn21bwQd9zP7c-LS9qd_vpdLG4Tn1A15NxfCjp5f7QNBUo-KC9PJqYpgGbaXhaGx7bEdFWj"
    "cwv3nZzvc7M__ZpaCERdwU7igUmJqYGBYQ51vr2njU9ZimyKkfDe3axcyiBZde7G6dabliUosJvvKOPcKIWPccCgefSj_GNfwIip3-SsFdlR"
    "7BtbVUcqR-yv-XOxJ3Uc1MI0tz3uMiiZcyPV7sNCU4KRnemRIMHVOfuvHsU60_GhGbiSFzgPTAa9WTltbnarTbxudb_YEOx12JiwYToeX0DC"
    "Pb43W1tzIBxgm8NxUg"
)
ISTIO_GROUPS_SCOPE_JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IkRIRmJwb0lVcXJZOHQyenBBMnFYZkNtcjVWTzVaRXI0UnpIVV8tZW52dlEiLCJ0eXAiOiJKV1QifQ."
    "eyJleHAiOjM1MzczOTExMDQsImdyb3VwcyI6WyJncm91cDEiLCJncm91cDIiXSwiaWF0IjoxNTM3MzkxMTA0LCJpc3MiOiJ0ZXN0aW5nQHNl"
    "Y3VyZS5pc3Rpby5pbyIsInNjb3BlIjpbInNjb3BlMSIsInNjb3BlMiJdLCJzdWIiOiJ0ZXN0aW5nQHNlY3VyZS5pc3Rpby5pbyJ9."
    "EdJnEZSH6X8hcyEii7c8H5lnhgjB5dwo07M5oheC8Xz8mOllyg--AHCFWHybM48reunF--oGaG6IXVngCEpVF0_P5DwsUoBgpPmK1JOaKN6_"
    "pe9sh0ZwTtdgK_RP01PuI7kUdbOTlkuUi2AO-qUyOm7Art2POzo36DLQlUXv8Ad7NBOqfQaKjE9ndaPWT7aexUsBHxmgiGbz1SyLH879f7uH"
    "YPbPKlpHU6P9S-DaKnGLaEchnoKnov7ajhrEhGXAQRukhDPKUHO9L30oPIr5IJllEQfHYtt6IZvlNUGeLUcif3wpry1R5tBXRicx2sXMQ7Ly"
    "uDremDbcNy_iE76Upg"
)

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
CURVES = {"ES256": (ec.SECP256R1, "P-256", 32), "ES384": (ec.SECP384R1, "P-384", 48),
          "ES512": (ec.SECP521R1, "P-521", 66)}


class AlgKey:
    """A signing key for one JWS algorithm and its public JWK (with `alg`)."""

    def __init__(self, alg, kid):
        self.alg, self.kid = alg, kid
        family = alg[:2]
        if family in ("RS", "PS"):
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pub = self.private.public_key().public_numbers()
            self.jwk = {"kty": "RSA", "n": int_b64(pub.n), "e": int_b64(pub.e)}
        elif family == "ES":
            curve, crv, self.size = CURVES[alg]
            self.private = ec.generate_private_key(curve())
            pub = self.private.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": crv, "x": int_b64(pub.x, self.size), "y": int_b64(pub.y, self.size)}
        else:  # EdDSA
            self.private = ed25519.Ed25519PrivateKey.generate()
            raw = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
        self.jwk.update({"kid": kid, "alg": alg})

    def sign(self, data):
        family, bits = self.alg[:2], self.alg[2:]
        if family == "RS":
            return self.private.sign(data, padding.PKCS1v15(), HASHES[bits]())
        if family == "PS":
            h = HASHES[bits]()
            return self.private.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        if family == "ES":
            r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(HASHES[bits]())))
            return r.to_bytes(self.size, "big") + s.to_bytes(self.size, "big")
        return self.private.sign(data)

    def token(self, **payload):
        header = b64(json.dumps({"alg": self.alg, "kid": self.kid, "typ": "JWT"}).encode())
        signed = "%s.%s" % (header, b64(json.dumps(payload).encode()))
        return "%s.%s" % (signed, b64(self.sign(signed.encode())))


ALGORITHMS = ["RS384", "RS512", "PS256", "PS384", "PS512", "ES384", "ES512", "EdDSA"]


def url(t, path="/get"):
    return "http://127.0.0.1:%d%s" % (t.listen_port, path)


def get(t, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.get(url(t), headers=headers, timeout=10)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_each_algorithm_verifies_with_its_key_and_fails_with_another(torii, echo, alg):
    key = AlgKey(alg, "good")
    # Same algorithm, same kid, another key pair: the signature must not verify.
    forged = AlgKey(alg, "good")
    gw = start(torii, echo, "%s\noutputClaimToHeaders:\n- {header: x-sub, claim: sub}"
               % inline(json.dumps({"keys": [key.jwk]})))
    seen = seen_headers(get(gw, key.token(**claims(sub="alg-" + alg))))
    assert seen["x-sub"] == "alg-" + alg
    assert "authorization" not in seen
    expect_denied(get(gw, forged.token(**claims())), 401, "Jwt verification fails", url(gw))


def test_token_whose_alg_no_key_has_is_rejected(torii, echo):
    # The key set holds only an ES384 key; an RS512 token with the same kid
    # finds no key for its alg (Envoy: kid and alg both select keys).
    es = AlgKey("ES384", "shared")
    rs = AlgKey("RS512", "shared")
    gw = start(torii, echo, inline(json.dumps({"keys": [es.jwk]})))
    assert get(gw, es.token(**claims())).status_code == 200
    expect_denied(get(gw, rs.token(**claims())), 401, "Jwks doesn't have key to match kid or alg from Jwt",
                  url(gw))


def test_unimplemented_algorithm_is_401(torii, echo):
    key = AlgKey("RS256", "k")
    gw = start(torii, echo, inline(json.dumps({"keys": [key.jwk]})))
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = "%s.%s.%s" % (header, b64(json.dumps(claims()).encode()), b64(b"x"))
    expect_denied(get(gw, unsigned), 401, "Jwt header [alg] is not supported", url(gw))


def istio_sample_policy():
    return (
        "apiVersion: security.istio.io/v1\n"
        "kind: RequestAuthentication\n"
        "metadata: {name: jwt-example, namespace: istio-system}\n"
        "spec:\n"
        "  jwtRules:\n"
        "  - issuer: %s\n"
        "    jwks: '%s'\n"
        "    outputClaimToHeaders:\n"
        "    - {header: x-jwt-foo, claim: foo}\n"
        "    - {header: x-jwt-sub, claim: sub}\n"
        "    outputPayloadToHeader: x-jwt-payload\n" % (ISTIO_SAMPLE_ISSUER, ISTIO_SAMPLE_JWKS)
    )


def test_istio_sample_tokens_from_the_published_task(torii, echo):
    gw = torii({"gw.yaml": harness.gateway("gw"),
                "backend.yaml": harness.backend(echo, "main") + "---\n" + VS,
                "ra.yaml": istio_sample_policy()})
    seen = seen_headers(get(gw, ISTIO_DEMO_JWT))
    assert seen["x-jwt-foo"] == "bar"
    assert seen["x-jwt-sub"] == ISTIO_SAMPLE_ISSUER
    # The payload header is the token's payload segment as received.
    assert seen["x-jwt-payload"] == ISTIO_DEMO_JWT.split(".")[1]
    seen = seen_headers(get(gw, ISTIO_GROUPS_SCOPE_JWT))
    assert "x-jwt-foo" not in seen  # that token has no `foo` claim
    assert seen["x-jwt-sub"] == ISTIO_SAMPLE_ISSUER
    # A token with one byte of its signature changed: 401, as in the task
    # ("curl ... -H 'Authorization: Bearer deadbeef'" gets 401 too).
    tampered = ISTIO_DEMO_JWT[:-2] + ("AA" if not ISTIO_DEMO_JWT.endswith("AA") else "BB")
    expect_denied(get(gw, tampered), 401, "Jwt verification fails", url(gw))
    expect_denied(get(gw, "deadbeef"), 401,
                  "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
                  url(gw))
    # No token: allowed, anonymous (RequestAuthentication alone never requires one).
    assert get(gw).status_code == 200




def test_clock_skew_of_sixty_seconds_on_exp_and_nbf(torii, echo):
    # Envoy's jwt_authn default clock_skew_seconds is 60 (Istio sets none).
    # Margins of 30 s on each side keep the test away from the boundary.
    key = AlgKey("ES384", "k")
    gw = start(torii, echo, inline(json.dumps({"keys": [key.jwk]})))
    now = int(time.time())
    assert get(gw, key.token(**claims(exp=now - 30))).status_code == 200
    expect_denied(get(gw, key.token(**claims(exp=now - 90))), 401, "Jwt is expired", url(gw))
    assert get(gw, key.token(**claims(nbf=now + 30))).status_code == 200
    expect_denied(get(gw, key.token(**claims(nbf=now + 90))), 401, "Jwt not yet valid", url(gw))
    # No exp at all: no expiry (Envoy's default; Istio sets no require_expiration).
    no_exp = claims()
    del no_exp["exp"]
    assert get(gw, key.token(**no_exp)).status_code == 200
