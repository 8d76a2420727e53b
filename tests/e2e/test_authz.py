"""AuthorizationPolicy through the real binary (ISTIO_SECURITY.md §1-§9; docs/authorization.md).

The echo upstream answers 200 to whatever reaches it; a denied request never
gets there and is answered 403 `RBAC: access denied` by the gateway. Checked:
ALLOW / DENY / AUDIT / CUSTOM in Istio's order, `spec: {}` and `rules: [{}]`,
every operation field with its not-form, hosts with and without a port,
headers, ipBlocks vs remoteIpBlocks with X-Forwarded-For and
--num-trusted-proxies, requestPrincipals and JWT claims (list, nested,
space-delimited scope), peer identities that never exist at a gateway,
dry-run, live edits, validation errors keeping the last good policy, and the
403 for a host without a route.
"""

import json
import socket
import ssl
import threading
import time

import pytest
import requests

import harness
from test_jwt import ISSUER, VS, Key, claims, inline, jwks
from test_tcp_passthrough import tcp_echo, tcp_manifests  # noqa: F401 (tcp_echo: the fixture)



@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("main", host="127.0.0.8")


def policy(spec, name="authz", namespace="istio-system", annotations=None):
    meta = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return json.dumps({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                       "metadata": meta, "spec": spec}) + "\n"


def start(torii, echo, *policies, extra=None, extra_args=(), port_map=None):
    files = {"gw.yaml": harness.gateway("gw"), "backend.yaml": harness.backend(echo, "main") + "---\n" + VS,
             "authz.yaml": "---\n".join(policies) if policies else ""}
    files.update(extra or {})
    return torii(files, extra_args=extra_args, port_map=port_map)


def request_authentication(key):
    return ("apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: "
            "istio-system}\nspec:\n  jwtRules:\n  - issuer: %s\n    %s\n" % (ISSUER, inline(jwks(key))))


def status(t, path="/", method="GET", **kw):
    return t.request(method, path, **kw).status_code


def expect_rbac_denied(r):
    assert r.status_code == 403, r.text
    assert r.text == "RBAC: access denied"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["server"] == "istio-envoy"
    assert "x-envoy-upstream-service-time" not in r.headers


def test_allow_paths_and_deny_first(torii, echo):
    allow = policy({"action": "ALLOW", "rules": [{"to": [{"operation": {"paths": ["/public/*", "/exact"]}}]}]},
                   name="allow")
    deny = policy({"action": "DENY", "rules": [{"to": [{"operation": {"methods": ["POST"],
                                                                     "paths": ["/public/admin*"]}}]}]},
                  name="deny")
    t = start(torii, echo, allow, deny)
    assert status(t, "/public/a") == 200
    assert status(t, "/exact") == 200
    assert status(t, "/exact?query=ignored") == 200  # paths match without the query
    expect_rbac_denied(t.get("/exactly"))
    expect_rbac_denied(t.get("/private"))
    assert status(t, "/public/admin/x") == 200  # GET: the DENY wants POST
    expect_rbac_denied(t.request("POST", "/public/admin/x"))  # DENY before ALLOW
    # Denied even where no route exists: RBAC runs before the router.
    expect_rbac_denied(t.get("/private", headers={"Host": "nowhere.example"}))
    stats = t.stats()
    assert stats["rbac_denied"] >= 4 and stats["rbac_allowed"] >= 4
    # /config_dump lists the policies in force, DENY first, as evaluated.
    dumped = t.config_dump()["snapshot"]["authorization"]
    assert [(p["name"], p["action"], p["rules"]) for p in dumped] == [("deny", "DENY", 1), ("allow", "ALLOW", 1)]
    # explain says which policy and rule decided, and what each rule made of the request.
    e = requests.get(t.admin + "/explain", params={"method": "POST", "url": "http://x.example/public/admin/1"},
                     timeout=10).json()
    assert e["authorization"]["allowed"] is False
    assert e["authorization"]["decided_by"] == "istio-system/deny rules[0]"
    assert e["result"]["status"] == 403
    e = requests.get(t.admin + "/explain", params={"url": "http://x.example/private"}, timeout=10).json()
    assert e["authorization"]["decided_by"] == "no ALLOW rule matched"
    assert [p["rules_matching"] for p in e["authorization"]["policies"]] == [[False], [False]]


def test_empty_spec_denies_all_and_empty_rule_allows_all(torii, echo):
    t = start(torii, echo, policy({}, name="nothing"))
    expect_rbac_denied(t.get("/"))
    t.write("authz.yaml", policy({"rules": [{}]}, name="nothing"))
    ok, _ = harness.poll_until(lambda: status(t, "/") == 200 or None, harness.RELOAD_TIMEOUT)
    assert ok


def test_audit_only_is_not_default_deny_and_custom_fails_closed(torii, echo):
    audit = policy({"action": "AUDIT", "rules": [{"to": [{"operation": {"paths": ["/audited"]}}]}]}, name="audit")
    custom = policy({"action": "CUSTOM", "provider": {"name": "ext-authz"},
                     "rules": [{"to": [{"operation": {"paths": ["/ext/*"]}}]}]}, name="custom")
    t = start(torii, echo, audit, custom)
    assert status(t, "/audited") == 200
    assert status(t, "/other") == 200
    # No external authorizer: the CUSTOM rules deny what they match (istiod fails closed).
    expect_rbac_denied(t.get("/ext/thing"))
    assert "no external authorizer" in t.log()


def test_operation_fields_and_not_forms(torii, echo):
    t = start(torii, echo, policy({"rules": [{"to": [{"operation": {
        "hosts": ["allowed.example", "*.wild.example"], "notMethods": ["DELETE"],
        "notPaths": ["/secret*"]}}]}]}))
    assert status(t, "/", headers={"Host": "allowed.example"}) == 200
    assert status(t, "/", headers={"Host": "ALLOWED.example"}) == 200  # hosts: case-insensitive
    assert status(t, "/", headers={"Host": "a.wild.example"}) == 200
    # The Host header is compared with its port, as Envoy's RBAC sees it.
    expect_rbac_denied(t.get("/", headers={"Host": "allowed.example:8080"}))
    expect_rbac_denied(t.get("/", headers={"Host": "other.example"}))
    expect_rbac_denied(t.request("DELETE", "/", headers={"Host": "allowed.example"}))
    expect_rbac_denied(t.get("/secret/x", headers={"Host": "allowed.example"}))


def test_ports(torii, echo):
    # ports: the local port the connection arrived on (the one Torii listens on).
    t = start(torii, echo, policy({"action": "DENY", "rules": [{"to": [{"operation": {"ports": ["1"]}}]}]}))
    assert status(t, "/") == 200
    t.write("authz.yaml", policy({"action": "DENY", "rules": [{"to": [{"operation": {
        "ports": [str(t.listen_port)]}}]}]}))
    ok, _ = harness.poll_until(lambda: status(t, "/") == 403 or None, harness.RELOAD_TIMEOUT)
    assert ok


def test_header_conditions(torii, echo):
    t = start(torii, echo, policy({"rules": [{"when": [
        {"key": "request.headers[X-Token]", "values": ["good-*"]},
        {"key": "request.headers[x-debug]", "notValues": ["on"]}]}]}))
    assert status(t, "/", headers={"x-token": "good-1"}) == 200
    expect_rbac_denied(t.get("/", headers={"x-token": "bad"}))
    expect_rbac_denied(t.get("/"))  # values: the header must be there
    expect_rbac_denied(t.get("/", headers={"x-token": "good-1", "x-debug": "on"}))
    assert status(t, "/", headers={"x-token": "good-1", "x-debug": "off"}) == 200  # notValues: absent or other


def test_ip_blocks_and_remote_ip_blocks_with_trusted_proxies(torii, echo):
    deny_peer = policy({"action": "DENY", "rules": [{"from": [{"source": {"ipBlocks": ["127.0.0.0/8"]}}],
                                                     "to": [{"operation": {"paths": ["/peer"]}}]}]}, name="peer")
    deny_remote = policy({"action": "DENY", "rules": [{"from": [{"source": {
        "remoteIpBlocks": ["203.0.113.0/24"]}}]}]}, name="remote")
    # No trusted proxy: X-Forwarded-For is ignored, remote.ip is the peer.
    t = start(torii, echo, deny_peer, deny_remote)
    expect_rbac_denied(t.get("/peer"))
    assert status(t, "/x", headers={"X-Forwarded-For": "203.0.113.9"}) == 200
    t.stop()
    # One trusted proxy: the client is the rightmost X-Forwarded-For entry.
    t = start(torii, echo, deny_peer, deny_remote, extra_args=("--num-trusted-proxies", "1"))
    expect_rbac_denied(t.get("/x", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}))
    r = t.get("/x", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.1"})
    assert r.status_code == 200
    seen = {k.lower(): v for k, v in r.json()["headers"]}
    assert seen["x-envoy-external-address"] == "198.51.100.1"
    assert seen["x-forwarded-for"].startswith("203.0.113.9, 198.51.100.1") and seen["x-forwarded-for"].endswith(
        "127.0.0.1")
    assert status(t, "/x") == 200  # no XFF: the peer


def test_request_principals_and_claims(torii, echo):
    key = Key()
    ra = request_authentication(key)
    allow = policy({"rules": [
        {"from": [{"source": {"requestPrincipals": [ISSUER + "/alice"]}}]},
        {"to": [{"operation": {"paths": ["/groups"]}}],
         "when": [{"key": "request.auth.claims[groups]", "values": ["admins"]}]},
        {"to": [{"operation": {"paths": ["/nested"]}}],
         "when": [{"key": "request.auth.claims[org][team]", "values": ["blue"]}]},
        {"to": [{"operation": {"paths": ["/scope"]}}],
         "when": [{"key": "request.auth.claims[scope]", "values": ["write"]}]},
        {"to": [{"operation": {"paths": ["/anyone-signed"]}}], "from": [{"source": {"requestPrincipals": ["*"]}}]},
    ]})
    t = start(torii, echo, allow, extra={"ra.yaml": ra})

    def get(path, **c):
        token = key.token(**claims(**c))
        return t.get(path, headers={"Authorization": "Bearer " + token})

    assert get("/anything", sub="alice").status_code == 200
    expect_rbac_denied(get("/anything", sub="bob"))
    expect_rbac_denied(t.get("/anything"))  # anonymous: no principal
    assert get("/groups", sub="bob", groups=["users", "admins"]).status_code == 200  # a list claim
    expect_rbac_denied(get("/groups", sub="bob", groups=["users"]))
    assert get("/nested", sub="bob", org={"team": "blue"}).status_code == 200
    expect_rbac_denied(get("/nested", sub="bob", org={"team": "red"}))
    assert get("/scope", sub="bob", scope="read write").status_code == 200  # space-delimited
    expect_rbac_denied(get("/scope", sub="bob", scope="read"))
    assert get("/anyone-signed", sub="carol").status_code == 200
    expect_rbac_denied(t.get("/anyone-signed"))
    # A bad token is 401 from jwt_authn first, whatever the policy says.
    assert t.get("/anything", headers={"Authorization": "Bearer deadbeef"}).status_code == 401

    # explain verifies the request's token as the gateway does, and evaluates the policy with it.
    def explain(path, token=None):
        params = {"url": "http://x.example" + path}
        if token:
            params["header"] = "Authorization:Bearer " + token
        return requests.get(t.admin + "/explain", params=params, timeout=10).json()

    e = explain("/anything", key.token(**claims(sub="alice")))
    assert e["jwt"]["status"] == "verified" and e["jwt"]["subject"] == "alice"
    assert e["authorization"]["allowed"] is True
    assert e["result"]["status"] == 0  # forwarded upstream: the status is the upstream's
    e = explain("/anything", key.token(**claims(sub="bob")))
    assert e["authorization"]["allowed"] is False and e["result"]["status"] == 403
    e = explain("/anything")
    assert e["jwt"]["status"] == "no token (anonymous)" and e["result"]["status"] == 403
    e = explain("/anything", "deadbeef")
    assert e["jwt"]["rejected"] is True and e["result"]["status"] == 401
    assert "authorization" not in e


def test_peer_identities_never_match_at_a_gateway(torii, echo):
    allow = policy({"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/a/sa/b"]}}]}]}, name="allow")
    t = start(torii, echo, allow)
    expect_rbac_denied(t.get("/"))  # the only ALLOW rule can never match: everything is denied
    t.write("authz.yaml", policy({"action": "DENY", "rules": [{"from": [{"source": {"notPrincipals": ["*"]}}]}]},
                                 name="allow"))
    # notPrincipals: ["*"] matches every plaintext request (no peer identity): all denied.
    ok, _ = harness.poll_until(lambda: "rbac" in t.get("/").text.lower() or None, harness.RELOAD_TIMEOUT)
    assert ok
    expect_rbac_denied(t.get("/"))


def test_dry_run_is_counted_not_enforced(torii, echo):
    t = start(torii, echo, policy({"action": "DENY", "rules": [{}]}, annotations={"istio.io/dry-run": "true"}))
    assert status(t, "/") == 200
    assert t.stat("rbac_shadow_denied") >= 1


def test_invalid_policy_keeps_the_last_good_one(torii, echo):
    good = policy({"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/blocked"]}}]}]})
    t = start(torii, echo, good)
    expect_rbac_denied(t.get("/blocked"))
    t.write("authz.yaml", policy({"action": "DENY", "rules": [{"from": []}]}))
    log, _ = harness.poll_until(lambda: "`from` must not be empty" in t.log() and t.log() or None,
                                harness.RELOAD_TIMEOUT)
    assert "AuthorizationPolicy" in log and "authz.yaml" in log and "spec.rules[0].from" in log
    expect_rbac_denied(t.get("/blocked"))  # the last good version is in force
    # DENY without rules is refused too (it could never trigger).
    t.write("authz.yaml", policy({"action": "DENY"}))
    log, _ = harness.poll_until(lambda: "DENY action without" in t.log() and t.log() or None, harness.RELOAD_TIMEOUT)
    assert log
    expect_rbac_denied(t.get("/blocked"))


def test_policy_for_another_namespace_or_workload_does_not_apply(torii, echo):
    elsewhere = policy({}, name="elsewhere", namespace="default")
    other_workload = policy({"selector": {"matchLabels": {"app": "other"}}}, name="other")
    t = start(torii, echo, elsewhere, other_workload)
    assert status(t, "/") == 200


def test_validate_warns_about_peer_identities(tmp_path):
    (tmp_path / "p.yaml").write_text(policy({"rules": [{"from": [{"source": {"namespaces": ["prod"]}}]}]}))
    out = harness.run_torii_validate([str(tmp_path)])
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "needs an mTLS peer identity" in text


def tcp_reply(port):
    """What a TCP client gets back for b"ping" (b"" when the gateway closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        data = b""
        try:
            s.sendall(b"ping")
            s.shutdown(socket.SHUT_WR)
            while chunk := s.recv(4096):
                data += chunk
        except OSError:  # reset, or already closed by the gateway
            pass
        return data


def test_tcp_servers_get_network_rbac(tcp_echo, torii):
    """A TCP server gets the policies as istiod builds network RBAC (ISTIO_SECURITY.md §6): an
    ALLOW rule with an HTTP-only field is dropped (the policy allows less), a DENY rule only
    loses that field (it matches more); a deny closes the connection without a byte."""
    up = tcp_echo("rbac", "127.0.0.95")
    port = harness.reserve_port()
    files = tcp_manifests([(up, 100)])
    files["authz.yaml"] = policy({"rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]})
    t = torii(files, port_map={9000: port})
    assert tcp_reply(port) == b""  # the only ALLOW rule needs HTTP: nothing is allowed on TCP
    t.write("authz.yaml", policy({"action": "DENY", "rules": [{"to": [{"operation": {
        "ports": [str(port + 1)], "paths": ["/x"]}}]}]}))
    ok, _ = harness.poll_until(lambda: tcp_reply(port).startswith(b"ping") or None, harness.RELOAD_TIMEOUT)
    assert ok  # another port: not denied
    t.write("authz.yaml", policy({"action": "DENY", "rules": [{"to": [{"operation": {
        "ports": [str(port)], "paths": ["/x"]}}]}]}))
    ok, _ = harness.poll_until(lambda: tcp_reply(port) == b"" or None, harness.RELOAD_TIMEOUT)
    assert ok  # `paths` dropped on TCP: the port alone denies
    # destination.ip is the address the client connected to, on TCP too.
    t.write("authz.yaml", policy({"action": "DENY", "rules": [{"when": [
        {"key": "destination.ip", "values": ["10.0.0.0/8"]}]}]}))
    ok, _ = harness.poll_until(lambda: tcp_reply(port).startswith(b"ping") or None, harness.RELOAD_TIMEOUT)
    assert ok
    t.write("authz.yaml", policy({"action": "DENY", "rules": [{"when": [
        {"key": "destination.ip", "values": ["127.0.0.1"]}]}]}))
    ok, _ = harness.poll_until(lambda: tcp_reply(port) == b"" or None, harness.RELOAD_TIMEOUT)
    assert ok
    assert t.stat("rbac_denied") >= 3


def test_path_templates(torii, echo):
    """{*} is one path segment, {**} any number (the last operator), as Envoy's uri_template
    matcher that istiod builds from them; compared with the normalised path without the query."""
    t = start(torii, echo, policy({"rules": [{"to": [{"operation": {"paths": ["/api/{*}/info", "/files/{**}"]}}]},
                                             {"to": [{"operation": {"notPaths": ["/{**}/private"],
                                                                    "methods": ["PUT"]}}]}]}))
    assert status(t, "/api/v1/info") == 200
    assert status(t, "/api/v1/info?verbose=1") == 200
    assert status(t, "/api/v1/x/../info") == 200  # normalised to /api/v1/info first
    expect_rbac_denied(t.get("/api/v1/v2/info"))  # {*}: a single segment
    expect_rbac_denied(t.get("/api/info"))
    assert status(t, "/files/") == 200
    assert status(t, "/files/a/b/c.txt") == 200
    expect_rbac_denied(t.get("/files"))  # {**} comes after a '/'
    assert status(t, "/x/y", method="PUT") == 200
    expect_rbac_denied(t.request("PUT", "/x/y/private"))
    # A template istiod refuses is refused here too, naming the field; the last good policy stays.
    t.write("authz.yaml", policy({"rules": [{"to": [{"operation": {"paths": ["/{**}/a/{*}"]}}]}]}))
    log, _ = harness.poll_until(lambda: "not the last operator" in t.log() and t.log() or None,
                                harness.RELOAD_TIMEOUT)
    assert "spec.rules[0].to[0].operation.paths[0]" in log
    assert status(t, "/api/v1/info") == 200


def test_request_principal_split_and_auth_conditions(torii, echo):
    """requestPrincipals and request.auth.principal are split at the value's last '/' into an
    issuer and a subject (istiod's generator.go); audiences and presenter are list-aware."""
    key = Key()
    allow = policy({"rules": [
        # The issuer is a URL: ".../team/*" asks for the issuer ".../team", which no token has.
        {"to": [{"operation": {"paths": ["/team"]}}],
         "from": [{"source": {"requestPrincipals": [ISSUER + "/team/*"]}}]},
        {"to": [{"operation": {"paths": ["/issuer"]}}], "from": [{"source": {"requestPrincipals": [ISSUER + "/*"]}}]},
        {"to": [{"operation": {"paths": ["/suffix"]}}], "from": [{"source": {"requestPrincipals": ["*alice"]}}]},
        {"to": [{"operation": {"paths": ["/principal"]}}],
         "when": [{"key": "request.auth.principal", "values": [ISSUER + "/bob"]}]},
        {"to": [{"operation": {"paths": ["/aud"]}}], "when": [{"key": "request.auth.audiences", "values": ["api-*"]}]},
        {"to": [{"operation": {"paths": ["/azp"]}}], "when": [{"key": "request.auth.presenter", "values": ["web"]}]},
        {"to": [{"operation": {"paths": ["/anonymous"]}}],
         "from": [{"source": {"notRequestPrincipals": ["*"]}}]},
    ]})
    t = start(torii, echo, allow, extra={"ra.yaml": request_authentication(key)})

    def get(path, **c):
        return t.get(path, headers={"Authorization": "Bearer " + key.token(**claims(**c))})

    expect_rbac_denied(get("/team", sub="team/alice"))
    assert get("/issuer", sub="team/alice").status_code == 200
    assert get("/suffix", sub="team/alice").status_code == 200  # no '/' in the value: a subject suffix
    expect_rbac_denied(get("/suffix", sub="alice-2"))
    assert get("/principal", sub="bob").status_code == 200
    expect_rbac_denied(get("/principal", sub="bobby"))
    assert get("/aud", aud=["web", "api-1"]).status_code == 200
    assert get("/aud", aud="api-2").status_code == 200
    expect_rbac_denied(get("/aud", aud="web"))
    expect_rbac_denied(get("/aud"))  # no aud claim
    assert get("/azp", azp="web").status_code == 200
    expect_rbac_denied(get("/azp", azp="mobile"))
    assert t.get("/anonymous").status_code == 200  # notRequestPrincipals: no token, no principal
    expect_rbac_denied(get("/anonymous"))
    expect_rbac_denied(get("/anonymous", sub="x/y"))


def test_ip_and_port_conditions(torii, echo):
    """when: source.ip is the TCP peer, remote.ip the client X-Forwarded-For names behind
    --num-trusted-proxies, destination.port the port Torii listens on, destination.ip the
    address the client connected to."""
    port = harness.reserve_port()
    t = start(torii, echo, policy({"rules": [
        {"to": [{"operation": {"paths": ["/src"]}}], "when": [{"key": "source.ip", "values": ["127.0.0.1"]}]},
        {"to": [{"operation": {"paths": ["/not-src"]}}],
         "when": [{"key": "source.ip", "notValues": ["127.0.0.0/8"]}]},
        {"to": [{"operation": {"paths": ["/remote"]}}],
         "when": [{"key": "remote.ip", "values": ["198.51.100.0/24", "2001:db8::/32"]}]},
        {"to": [{"operation": {"paths": ["/port"]}}], "when": [{"key": "destination.port", "values": [str(port)]}]},
        {"to": [{"operation": {"paths": ["/other-port"]}}],
         "when": [{"key": "destination.port", "values": [str(port + 1)]}]},
        {"to": [{"operation": {"paths": ["/dst"]}}], "when": [{"key": "destination.ip", "values": ["127.0.0.0/8"]}]},
        {"to": [{"operation": {"paths": ["/other-dst"]}}],
         "when": [{"key": "destination.ip", "values": ["10.0.0.0/8"]}]},
    ]}), extra_args=("--num-trusted-proxies", "1"), port_map={80: port})
    assert status(t, "/src") == 200
    expect_rbac_denied(t.get("/not-src"))
    assert status(t, "/remote", headers={"X-Forwarded-For": "198.51.100.7"}) == 200
    assert status(t, "/remote", headers={"X-Forwarded-For": "10.0.0.1, 2001:db8::5"}) == 200
    expect_rbac_denied(t.get("/remote", headers={"X-Forwarded-For": "198.51.100.7, 10.0.0.1"}))
    expect_rbac_denied(t.get("/remote"))  # no XFF: the peer, 127.0.0.1
    # source.ip never reads X-Forwarded-For.
    expect_rbac_denied(t.get("/not-src", headers={"X-Forwarded-For": "198.51.100.7"}))
    assert status(t, "/port") == 200
    expect_rbac_denied(t.get("/other-port"))
    assert status(t, "/dst") == 200  # the address the client connected to
    expect_rbac_denied(t.get("/other-dst"))


def https_get(port, sni, path, cafile):
    """Status of GET `path` over TLS to 127.0.0.1:`port` with `sni` (also the Host)."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, sni)).encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_connection_sni(torii, echo, tmp_path):
    """connection.sni is the SNI of the TLS connection the request came on; plaintext has none,
    so only a notValues condition matches there."""
    (tmp_path / "pki").mkdir()
    pki = harness.make_pki(tmp_path / "pki", {"api": "DNS:api.example.test"})
    gw = """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [api.example.test]
    tls: {mode: SIMPLE, serverCertificate: %s, privateKey: %s}
""" % (pki / "api.pem", pki / "api.key")
    deny = policy({"action": "DENY", "rules": [
        {"to": [{"operation": {"paths": ["/tls-secret"]}}], "when": [{"key": "connection.sni", "values": ["api.*"]}]},
        {"to": [{"operation": {"paths": ["/tls-only"]}}], "when": [{"key": "connection.sni", "notValues": ["*"]}]},
    ]})
    tls_port = harness.reserve_port()
    t = start(torii, echo, deny, extra={"gw.yaml": gw}, port_map={80: harness.reserve_port(), 443: tls_port})
    code, body = https_get(tls_port, "api.example.test", "/tls-secret", pki / "ca.pem")
    assert (code, body) == (403, b"RBAC: access denied")
    assert https_get(tls_port, "api.example.test", "/tls-only", pki / "ca.pem")[0] == 200
    assert status(t, "/tls-secret") == 200  # plaintext: no SNI
    expect_rbac_denied(t.get("/tls-only"))


def test_live_edits_apply_whole(torii, echo):
    """A policy change reaches requests whole: two policies swap their actions in one write, and
    a request evaluated against half the change (both DENY, no ALLOW) would get 200 for /other.
    Under traffic, every answer is the old or the new policy set's: 403 for /other, 200 for /r."""
    def version(n):
        first = ({"action": "ALLOW", "rules": [{"to": [{"operation": {"paths": ["/r"]}}]}]},
                 {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/x"]}}]}]})
        a, b = first if n % 2 == 0 else first[::-1]
        return policy(a, name="p1") + "---\n" + policy(b, name="p2")

    t = start(torii, echo, version(0))
    seen = {"/other": {}, "/r": {}}
    stop = threading.Event()

    def hammer():
        with requests.Session() as s:
            while not stop.is_set():
                for path in seen:
                    code = s.get(t.url(path), timeout=10).status_code
                    seen[path][code] = seen[path].get(code, 0) + 1

    workers = [threading.Thread(target=hammer) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for n in range(1, 9):
            t.write("authz.yaml", version(n))
            want = ["p2", "p1"] if n % 2 == 0 else ["p1", "p2"]  # DENY first in the dump
            ok, _ = harness.poll_until(
                lambda: [p["name"] for p in t.config_dump()["snapshot"]["authorization"]] == want or None,
                harness.RELOAD_TIMEOUT)
            assert ok, "version %d never applied" % n
            time.sleep(0.1)  # some traffic on each version
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert set(seen["/other"]) == {403}, seen
    assert set(seen["/r"]) == {200}, seen
    assert seen["/other"][403] >= 20, seen
