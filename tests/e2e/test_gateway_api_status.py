"""Gateway API status, as a controller would write it, read from the admin
endpoint's /status and from `torii validate`: ports of the conformance
tests' status checks (kubernetes-sigs/gateway-api conformance/tests,
manifests in gateway_api/), plus the traffic they expect.
"""

import os
import subprocess

import pytest
import requests
import yaml

import gateway_api_base as gw
import harness


@pytest.fixture(scope="module")
def backends(module_upstreams):
    return gw.start_backends(module_upstreams)


def start(torii, backends, *files, port_map=None):
    manifests = gw.base_manifests(backends)
    for f in files:
        manifests[f] = gw.manifest(f)
    return torii(manifests=manifests, port_map=port_map)


def status(t):
    r = requests.get(t.admin + "/status", timeout=harness.HTTP_TIMEOUT)
    assert r.status_code == 200
    return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d["status"]
            for d in yaml.safe_load_all(r.text)}


def condition(conditions, kind):
    return next(c for c in conditions if c["type"] == kind)


def listener(gateway_status, name):
    return next(l for l in gateway_status["listeners"] if l["name"] == name)


def test_gateway_with_attached_routes(torii, backends):
    """GatewayWithAttachedRoutes: attachedRoutes counts accepted routes; a route whose hostname
    matches no listener is Accepted=False NoMatchingListenerHostname and not counted. (The part
    with an HTTPS listener waits for HTTPS listeners.)"""
    t = start(torii, backends, "gateway-with-attached-routes.yaml")
    s = status(t)
    one = s[("Gateway", gw.INFRA, "gateway-with-one-attached-route")]
    assert listener(one, "http")["attachedRoutes"] == 1
    assert condition(listener(one, "http")["conditions"], "Accepted")["status"] == "True"
    assert listener(one, "http")["supportedKinds"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}]
    two = s[("Gateway", gw.INFRA, "gateway-with-two-attached-routes")]
    assert listener(two, "http")["attachedRoutes"] == 2
    na = s[("HTTPRoute", gw.INFRA, "http-route-not-accepted")]
    accepted = condition(na["parents"][0]["conditions"], "Accepted")
    assert accepted["status"] == "False" and accepted["reason"] == "NoMatchingListenerHostname"
    assert na["parents"][0]["controllerName"] == "istio.io/gateway-controller"
    # Traffic: the routes of the foo.example.com listener answer for that host.
    r = requests.get(t.url("/"), headers={"Host": "foo.example.com"}, timeout=harness.HTTP_TIMEOUT)
    assert r.status_code == 200 and gw.backend_of(r) == "infra-backend-v1"


def test_invalid_parentref_section_name(torii, backends):
    """HTTPRouteInvalidParentRefNotMatchingSectionName: Accepted=False NoMatchingParent, not served."""
    t = start(torii, backends, "httproute-invalid-parentref-not-matching-section-name.yaml")
    s = status(t)
    route = s[("HTTPRoute", gw.INFRA, "httproute-listener-not-matching-section-name")]
    accepted = condition(route["parents"][0]["conditions"], "Accepted")
    assert accepted["status"] == "False" and accepted["reason"] == "NoMatchingParent"
    assert listener(s[("Gateway", gw.INFRA, "same-namespace")], "http")["attachedRoutes"] == 0
    assert t.get("/").status_code == 404


def test_invalid_nonexistent_backendref_status(torii, backends):
    """HTTPRouteInvalidNonExistentBackendRef: Accepted=True, ResolvedRefs=False BackendNotFound."""
    t = start(torii, backends, "httproute-invalid-nonexistent-backendref.yaml")
    route = status(t)[("HTTPRoute", gw.INFRA, "invalid-nonexistent-backend-ref")]
    conditions = route["parents"][0]["conditions"]
    assert condition(conditions, "Accepted")["status"] == "True"
    resolved = condition(conditions, "ResolvedRefs")
    assert resolved["status"] == "False" and resolved["reason"] == "BackendNotFound"
    assert "nonexistent.gateway-conformance-infra.svc.cluster.local" in resolved["message"]


def test_validate_prints_status(tmp_path, module_upstreams, backends):
    """`torii validate` prints the same status after the diagnostics, and warns about the route."""
    manifests = gw.base_manifests(backends)
    manifests["route.yaml"] = gw.manifest("httproute-invalid-parentref-not-matching-section-name.yaml")
    for name, text in manifests.items():
        (tmp_path / name).write_text(text)
    out = subprocess.run([os.environ["TORII_BIN"], "validate", "--config", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "spec.parentRefs[0]: not attached: sectionName \"http1\" not found (Accepted=False NoMatchingParent)" \
        in out.stdout
    text = out.stdout.split("# Gateway API status\n", 1)[1].rsplit("\n", 2)[0]
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(text)}
    assert docs["same-namespace"]["kind"] == "Gateway"
    assert docs["httproute-listener-not-matching-section-name"]["status"]["parents"][0]["conditions"][0]["reason"] \
        == "NoMatchingParent"


def resolved_refs(t, name, ns=gw.INFRA):
    return condition(status(t)[("HTTPRoute", ns, name)]["parents"][0]["conditions"], "ResolvedRefs")


def test_omitted_backendrefs(torii, backends):
    """HTTPRouteNoBackendRefs: rules with omitted or empty backendRefs answer 500."""
    t = start(torii, backends, "httproute-omitted-backendrefs.yaml")
    r = t.get("/forward")
    assert r.status_code == 200 and gw.backend_of(r) == "infra-backend-v1"
    assert t.get("/omitted-no-forward").status_code == 500
    assert t.get("/empty-no-forward").status_code == 500


@pytest.mark.parametrize("manifest,name,path,reason", [
    ("httproute-invalid-cross-namespace-backend-ref.yaml", "invalid-cross-namespace-backend-ref", "/",
     "RefNotPermitted"),
    ("httproute-invalid-backendref-unknown-kind.yaml", "invalid-backend-ref-unknown-kind", "/v2", "InvalidKind"),
    # HTTPRouteInvalidReferenceGrant: seven grants, each wrong in one field, permit nothing.
    ("httproute-invalid-reference-grant.yaml", "reference-grant", "/", "RefNotPermitted"),
    ("httproute-partially-invalid-via-invalid-reference-grant.yaml", "invalid-reference-grant", "/v2",
     "RefNotPermitted"),
])
def test_invalid_backend_refs(torii, backends, manifest, name, path, reason):
    """HTTPRouteInvalidCrossNamespaceBackendRef, HTTPRouteInvalidBackendRefUnknownKind:
    ResolvedRefs=False with the reason, the route Accepted, requests 500."""
    t = start(torii, backends, manifest)
    assert condition(status(t)[("HTTPRoute", gw.INFRA, name)]["parents"][0]["conditions"],
                     "Accepted")["status"] == "True"
    resolved = resolved_refs(t, name)
    assert resolved["status"] == "False" and resolved["reason"] == reason
    assert t.get(path).status_code == 500
    if name == "invalid-reference-grant":
        # HTTPRoutePartiallyInvalidViaInvalidReferenceGrant: the sibling rule's backend, which
        # the grant does cover, still serves.
        r = t.get("/")
        assert r.status_code == 200 and gw.backend_of(r) == "app-backend-v1"


def test_reference_grant(torii, backends):
    """HTTPRouteReferenceGrant: the grant permits the cross-namespace backend; without it, 500."""
    t = start(torii, backends, "httproute-reference-grant.yaml")
    r = t.get("/")
    assert r.status_code == 200 and gw.backend_of(r) == "web-backend"
    assert resolved_refs(t, "reference-grant")["status"] == "True"
    # Delete the grant (the route stays): its backend is no longer permitted.
    route_only = gw.manifest("httproute-reference-grant.yaml").split("---\n")
    t.write("httproute-reference-grant.yaml", "---\n".join(d for d in route_only if "kind: ReferenceGrant" not in d))
    turned, _ = harness.poll_until(lambda: t.get("/").status_code == 500, harness.RELOAD_TIMEOUT)
    assert turned
    assert resolved_refs(t, "reference-grant")["reason"] == "RefNotPermitted"


def test_cross_namespace(torii, backends):
    """HTTPRouteCrossNamespace: a route in another namespace attaches through a from: Selector listener."""
    t = start(torii, backends, "httproute-cross-namespace.yaml")
    r = t.get("/")
    assert r.status_code == 200 and gw.backend_of(r) == "web-backend"


def test_invalid_cross_namespace_parent_ref(torii, backends):
    """HTTPRouteInvalidCrossNamespaceParentRef: Accepted=False NotAllowedByListeners, not served."""
    t = start(torii, backends, "httproute-invalid-cross-namespace-parent-ref.yaml")
    route = status(t)[("HTTPRoute", gw.WEB, "invalid-cross-namespace-parent-ref")]
    accepted = condition(route["parents"][0]["conditions"], "Accepted")
    assert accepted["status"] == "False" and accepted["reason"] == "NotAllowedByListeners"
    assert listener(status(t)[("Gateway", gw.INFRA, "same-namespace")], "http")["attachedRoutes"] == 0
    assert t.get("/").status_code == 404


def test_disallowed_kind(torii, backends):
    """HTTPRouteDisallowedKind: an HTTPRoute on a TLSRoute-only listener is Accepted=False
    NotAllowedByListeners and not counted (the TLS listener itself is not served by Torii yet)."""
    t = start(torii, backends, "httproute-disallowed-kind.yaml")
    s = status(t)
    route = s[("HTTPRoute", gw.INFRA, "disallowed-kind")]
    accepted = condition(route["parents"][0]["conditions"], "Accepted")
    assert accepted["status"] == "False" and accepted["reason"] == "NotAllowedByListeners"
    tls = listener(s[("Gateway", gw.INFRA, "tlsroutes-only")], "tls")
    assert tls["attachedRoutes"] == 0
    assert tls["supportedKinds"] == [{"group": "gateway.networking.k8s.io", "kind": "TLSRoute"}]


def test_named_rule(torii, backends):
    """HTTPRouteNamedRule: a rule's `name` changes nothing about what it serves."""
    t = start(torii, backends, "httproute-named-rule.yaml")
    assert resolved_refs(t, "http-named-rules")["status"] == "True"
    assert gw.backend_of(t.get("/named")) == "infra-backend-v1"
    assert gw.backend_of(t.get("/unnamed")) == "infra-backend-v2"


def test_invalid_parentref_not_matching_listener_port(torii, backends):
    """HTTPRouteInvalidParentRefNotMatchingListenerPort: parentRef port 81 names no listener:
    Accepted=False NoMatchingParent, no accepted parent, no route attached to the Gateway."""
    t = start(torii, backends, "httproute-invalid-parentref-not-matching-listener-port.yaml")
    st = status(t)
    route = st[("HTTPRoute", gw.INFRA, "httproute-listener-not-matching-route-port")]
    assert resolved_refs(t, "httproute-listener-not-matching-route-port")["status"] == "True"
    accepted = condition(route["parents"][0]["conditions"], "Accepted")
    assert accepted["status"] == "False" and accepted["reason"] == "NoMatchingParent"
    assert all(condition(p["conditions"], "Accepted")["status"] == "False" for p in route["parents"])
    gateway = st[("Gateway", gw.INFRA, "same-namespace")]
    assert all(listener_status["attachedRoutes"] == 0 for listener_status in gateway["listeners"])


def test_listener_port_matching(torii, backends):
    """HTTPRouteListenerPortMatching: parentRef `port` (and sectionName) attach each route to the
    listeners of that port only; bar.com on 8090 has no route there (404)."""
    ports = {80: harness.reserve_port(), 8080: harness.reserve_port(), 8090: harness.reserve_port()}
    t = start(torii, backends, "httproute-listener-port-matching.yaml", port_map=ports)
    for gateway_port, host, want in ((80, "foo.com", "infra-backend-v1"), (8080, "foo.com:8080", "infra-backend-v2"),
                                     (8080, "bar.com:8080", "infra-backend-v2"),
                                     (8090, "foo.com:8090", "infra-backend-v3"), (8090, "bar.com:8090", None)):
        r = requests.get("http://127.0.0.1:%d/" % ports[gateway_port], headers={"Host": host},
                         timeout=harness.HTTP_TIMEOUT)
        if want is None:
            assert r.status_code == 404, (host, r.status_code)
        else:
            assert r.status_code == 200 and gw.backend_of(r) == want, (host, r.status_code, r.text[:200])
    for name in ("backend-v1", "backend-v2", "backend-v3"):
        assert resolved_refs(t, name)["status"] == "True"
        accepted = condition(status(t)[("HTTPRoute", gw.INFRA, name)]["parents"][0]["conditions"], "Accepted")
        assert accepted["status"] == "True", (name, accepted)


def test_invalid_route_kind(torii, backends):
    """GatewayInvalidRouteKind: an unknown kind in allowedRoutes.kinds: ResolvedRefs=False
    InvalidRouteKinds; the valid kinds it lists stay supported."""
    t = start(torii, backends, "gateway-invalid-route-kind.yaml")
    st = status(t)
    only = st[("Gateway", gw.INFRA, "gateway-only-invalid-route-kind")]["listeners"][0]
    assert only.get("supportedKinds", []) == []
    resolved = condition(only["conditions"], "ResolvedRefs")
    assert (resolved["status"], resolved["reason"]) == ("False", "InvalidRouteKinds")
    both = st[("Gateway", gw.INFRA, "gateway-supported-and-invalid-route-kind")]["listeners"][0]
    assert both["supportedKinds"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}]
    resolved = condition(both["conditions"], "ResolvedRefs")
    assert (resolved["status"], resolved["reason"]) == ("False", "InvalidRouteKinds")


def test_listener_unsupported_protocol(torii, backends):
    """GatewayInvalidListenersUnsupportedProtocol: the listener Accepted=False UnsupportedProtocol
    with no supportedKinds; the Gateway Accepted=False ListenersNotValid when it has no other
    listener, Accepted=True ListenersNotValid when another one is valid."""
    t = start(torii, backends, "gateway-invalid-listeners-unsupported-protocol.yaml",
              port_map={80: harness.reserve_port(), 1111: harness.reserve_port()})
    st = status(t)
    only = st[("Gateway", gw.INFRA, "gateway-only-unsupported-protocols")]
    accepted = condition(only["conditions"], "Accepted")
    assert (accepted["status"], accepted["reason"]) == ("False", "ListenersNotValid")
    invalid = only["listeners"][0]
    assert invalid.get("supportedKinds", []) == []
    assert (condition(invalid["conditions"], "Accepted")["status"],
            condition(invalid["conditions"], "Accepted")["reason"]) == ("False", "UnsupportedProtocol")
    mixed = st[("Gateway", gw.INFRA, "gateway-supported-and-unsupported-protocols")]
    accepted = condition(mixed["conditions"], "Accepted")
    assert (accepted["status"], accepted["reason"]) == ("True", "ListenersNotValid")
    listeners = {x["name"]: x for x in mixed["listeners"]}
    assert condition(listeners["http"]["conditions"], "Accepted")["status"] == "True"
    assert condition(listeners["invalid"]["conditions"], "Accepted")["reason"] == "UnsupportedProtocol"
