"""Part `security` (Torii only): what RequestAuthentication and a 20-rule
AuthorizationPolicy cost per request (issue 18).

The throughput part's measurement (wrk closed loop, interleaved rounds, the
proxy's CPU time per request) against Torii processes on the bench config
that differ only in their security manifests; every variant gets the same
requests, each with `Authorization: Bearer <a valid RS256 token>`:

- `none`: no policy (the header is forwarded, nothing checks it);
- `jwt`: a RequestAuthentication for the token's issuer (after the first
  request, each token is a hit in the worker's cache of verified tokens);
- `jwt+authz20`: the same plus an ALLOW AuthorizationPolicy of 20 rules, of
  which only the last matches (19 rules on other principals, paths, methods
  and a header condition are evaluated and fail first).

Each variant's CPU per request is reported with its ratio to `none`.
"""

import base64
import json
import time

from . import load, servers
from .servers import http_get
from .run import interleaved_rounds, summarize_variants

ISSUER = "https://issuer.bench.example"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token():
    """(jwks json, token): a fresh RS256 key pair and a token valid for a day."""
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:
        raise SystemExit("bench/compare security: needs python3-cryptography (apt-get install python3-cryptography)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_numbers()
    n = pub.n.to_bytes((pub.n.bit_length() + 7) // 8, "big")
    jwks = json.dumps({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "n": _b64(n),
                                 "e": _b64(pub.e.to_bytes(3, "big"))}]})
    header = _b64(json.dumps({"alg": "RS256", "kid": "bench", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"iss": ISSUER, "sub": "alice", "exp": int(time.time()) + 86400}).encode())
    signed = ("%s.%s" % (header, payload)).encode()
    return jwks, "%s.%s" % (signed.decode(), _b64(key.sign(signed, padding.PKCS1v15(), hashes.SHA256())))


def manifests(jwks):
    ra = ("apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: bench-jwt, namespace: "
          "istio-system}\nspec:\n  jwtRules:\n  - issuer: %s\n    jwks: '%s'\n" % (ISSUER, jwks))
    rules = [{"from": [{"source": {"requestPrincipals": ["%s/user-%d" % (ISSUER, i)]}}],
              "to": [{"operation": {"methods": ["GET", "POST"], "paths": ["/api/v%d/*" % i]}}],
              "when": [{"key": "request.headers[x-tenant]", "values": ["tenant-%d" % i]}]} for i in range(19)]
    rules.append({"from": [{"source": {"requestPrincipals": [ISSUER + "/alice"]}}]})
    ap = json.dumps({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                     "metadata": {"name": "bench-authz", "namespace": "istio-system"},
                     "spec": {"action": "ALLOW", "rules": rules}}) + "\n"
    return {"none": {}, "jwt": {"security-ra.yaml": ra}, "jwt+authz20": {"security-ra.yaml": ra,
                                                                          "security-ap.yaml": ap}}


def run_part(run, _proxies):
    a = run.args
    rounds, duration, warmup = (1, 1, 0) if run.quick else (a.rounds, a.duration, a.warmup)
    run.start_upstream()
    jwks, token = make_token()
    headers = ["Authorization: Bearer " + token]
    variants = manifests(jwks)
    started = {}
    try:
        for name, files in variants.items():
            s = servers.Torii(run, run.proxy_cpus, a.torii, name="torii-security-" + name.replace("+", "-"),
                              extra_files=files)
            s.start()
            s.check_serves(headers=headers)
            if name == "jwt+authz20" and http_get(s.port)[0] != 403:
                raise SystemExit("bench/compare security: the policy does not deny a request without a token")
            started[name] = s
            run.log("security: torii %s on 127.0.0.1:%d (pid %d)" % (name, s.port, s.proc.pid))
        for name in variants if warmup > 0 else []:
            load.run_wrk(run, run.tools["wrk"], started[name].port, warmup, a.connections,
                         run.raw_path("security-warmup-%s.txt" % name), started[name], headers=headers)
        runs = interleaved_rounds(run, "security", started, rounds, lambda name, s, r: load.run_wrk(
            run, run.tools["wrk"], s.port, duration, a.connections,
            run.raw_path("security-round%d-%s.txt" % (r, name.replace("+", "-"))), s, headers=headers))
        out = {"params": {"rounds": rounds, "duration_s": duration, "warmup_s": warmup,
                          "tool": "wrk -t1 -c%d --latency (closed loop), a bearer token on every request"
                                  % a.connections},
               "variants": summarize_variants(run, runs, list(variants), "none", "cpu_vs_none")}
        return out
    finally:
        for s in started.values():
            s.stop()
