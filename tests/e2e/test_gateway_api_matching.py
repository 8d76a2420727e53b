"""Gateway API conformance: HTTPRoute matching, ported from
kubernetes-sigs/gateway-api conformance/tests (manifests in gateway_api/,
unchanged; expectations from the .go file of the same name). Each request is
sent through the real binary to echo backends, and the backend that answered
is checked, as http.MakeRequestAndExpectEventuallyConsistentResponse does.
"""

import pytest
import requests
import yaml

import gateway_api_base as gw
from gateway_api_base import backends, start  # noqa: F401 (backends: the fixture)
import harness




def expect(t, cases):
    """cases: (method, path, headers, host, backend or status)."""
    with requests.Session() as s:
        for method, path, headers, host, want in cases:
            h = dict(headers or {})
            if host:
                h["Host"] = host
            r = s.request(method, t.url(path), headers=h, timeout=harness.HTTP_TIMEOUT, allow_redirects=False)
            what = "%s %s %s %s" % (method, path, headers or "", host or "")
            if isinstance(want, int):
                assert r.status_code == want, what
            else:
                assert r.status_code == 200, "%s: %d %s" % (what, r.status_code, r.text[:200])
                assert gw.backend_of(r) == want, what


V1, V2, V3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"


def test_simple_same_namespace(torii, backends):
    """HTTPRouteSimpleSameNamespace."""
    t = start(torii, backends, "httproute-simple-same-namespace.yaml")
    expect(t, [("GET", "/", None, None, V1)])


def test_matching(torii, backends):
    """HTTPRouteMatching: PathPrefix is segment-aware, longest prefix wins, OR across matches."""
    t = start(torii, backends, "httproute-matching.yaml")
    expect(t, [
        ("GET", "/", None, None, V1),
        ("GET", "/example", None, None, V1),
        ("GET", "/", {"Version": "one"}, None, V1),
        ("GET", "/v2", None, None, V2),
        ("GET", "/v2/example", None, None, V2),
        ("GET", "/", {"Version": "two"}, None, V2),
        ("GET", "/v2/", None, None, V2),
        ("GET", "/v2example", None, None, V1),
        ("GET", "/foo/v2/example", None, None, V1),
    ])


def test_matching_across_routes(torii, backends):
    """HTTPRouteMatchingAcrossRoutes: two routes on one hostname merge under one precedence order."""
    t = start(torii, backends, "httproute-matching-across-routes.yaml")
    expect(t, [
        ("GET", "/", None, "example.com", V1),
        ("GET", "/example", None, "example.com", V1),
        ("GET", "/example", None, "example.net", V1),
        ("GET", "/example", {"Version": "one"}, "example.com", V1),
        ("GET", "/v2", None, "example.com", V2),
        ("GET", "/v2", None, "example.net", V1),  # v2 matches are limited to example.com
        ("GET", "/v2/example", None, "example.com", V2),
        ("GET", "/", {"Version": "two"}, "example.com", V2),
    ])


def test_exact_path_matching(torii, backends):
    """HTTPRouteExactPathMatching: exact and case-sensitive; no match is 404."""
    t = start(torii, backends, "httproute-exact-path-matching.yaml")
    expect(t, [
        ("GET", "/one", None, None, V1),
        ("GET", "/two", None, None, V2),
        ("GET", "/", None, None, 404),
        ("GET", "/one/example", None, None, 404),
        ("GET", "/two/", None, None, 404),
        ("GET", "/Two", None, None, 404),
    ])


def test_header_matching(torii, backends):
    """HTTPRouteHeaderMatching: AND within a match, OR across matches, more headers first."""
    t = start(torii, backends, "httproute-header-matching.yaml")
    expect(t, [
        ("GET", "/", {"Version": "one"}, None, V1),
        ("GET", "/", {"Version": "two"}, None, V2),
        ("GET", "/", {"Version": "two", "Color": "orange"}, None, V1),
        ("GET", "/", {"Version": "two", "Color": "blue"}, None, V2),
        ("GET", "/", {"Color": "orange"}, None, 404),
        ("GET", "/", {"Some-Other-Header": "one"}, None, 404),
        ("GET", "/", {"Color": "blue"}, None, V1),
        ("GET", "/", {"Color": "green"}, None, V1),
        ("GET", "/", {"Color": "red"}, None, V2),
        ("GET", "/", {"Color": "yellow"}, None, V2),
        ("GET", "/", {"Color": "purple"}, None, 404),
    ])


def test_query_param_matching(torii, backends):
    """HTTPRouteQueryParamMatching: names and values case-sensitive; path > headers > queries."""
    t = start(torii, backends, "httproute-query-param-matching.yaml")
    expect(t, [
        ("GET", "/?animal=whale", None, None, V1),
        ("GET", "/?animal=dolphin", None, None, V2),
        ("GET", "/?animal=dolphin&color=blue", None, None, V3),
        ("GET", "/?ANIMAL=Whale", None, None, V3),
        ("GET", "/?animal=whale&otherparam=irrelevant", None, None, V1),
        ("GET", "/?animal=dolphin&color=yellow", None, None, V2),
        ("GET", "/?color=blue", None, None, 404),
        ("GET", "/?animal=dog", None, None, 404),
        ("GET", "/?animal=whaledolphin", None, None, 404),
        ("GET", "/", None, None, 404),
        ("GET", "/path1?animal=whale", None, None, V1),
        ("GET", "/?animal=whale", {"version": "one"}, None, V2),
        ("GET", "/path2?animal=whale", {"version": "two"}, None, V3),
        ("GET", "/path3?animal=shark", None, None, V1),
        ("GET", "/path4?animal=kraken", {"version": "three"}, None, V1),
        ("GET", "/?animal=shark", None, None, 404),
        ("GET", "/path4?animal=kraken", None, None, 404),
        ("GET", "/path5?animal=hydra", None, None, V1),
        ("GET", "/?animal=hydra", {"version": "four"}, None, V3),
    ])


def test_method_matching(torii, backends):
    """HTTPRouteMethodMatching: method with path/headers; method beats header count."""
    t = start(torii, backends, "httproute-method-matching.yaml")
    expect(t, [
        ("POST", "/", None, None, V1),
        ("GET", "/", None, None, V2),
        ("HEAD", "/", None, None, 404),
        ("GET", "/path1", None, None, V1),
        ("PUT", "/", {"version": "one"}, None, V2),
        ("POST", "/path2", {"version": "two"}, None, V3),
        ("PATCH", "/path3", None, None, V1),
        ("DELETE", "/path4", {"version": "three"}, None, V1),
        ("PUT", "/", None, None, 404),
        ("DELETE", "/path4", None, None, 404),
        ("PATCH", "/path5", None, None, V1),
        ("PATCH", "/", {"version": "four"}, None, V2),
    ])


def test_path_match_order(torii, backends):
    """HTTPRoutePathMatchOrder: Exact beats every prefix; longer prefix first, whatever the rule order."""
    t = start(torii, backends, "httproute-path-match-order.yaml")
    expect(t, [
        ("GET", "/match/exact/one", None, None, V3),
        ("GET", "/match/exact", None, None, V2),
        ("GET", "/match", None, None, V1),
        ("GET", "/match/prefix/one/any", None, None, V2),
        ("GET", "/match/prefix/any", None, None, V1),
        ("GET", "/match/any", None, None, V3),
    ])


def test_hostname_intersection(torii, backends):
    """HTTPRouteHostnameIntersection: a route serves only the intersection of its hostnames with
    the listener's; the port of the Host header is ignored."""
    t = start(torii, backends, "httproute-hostname-intersection.yaml")
    expect(t, [
        ("GET", "/s1", None, "very.specific.com", V1),
        ("GET", "/s1", None, "very.specific.com:1234", V1),
        ("GET", "/s1", None, "non.matching.com", 404),
        ("GET", "/s1", None, "foo.nonmatchingwildcard.io", 404),
        ("GET", "/s1", None, "foo.wildcard.io", 404),
        ("GET", "/non-matching-prefix", None, "very.specific.com", 404),
        ("GET", "/s2", None, "foo.wildcard.io", V2),
        ("GET", "/s2", None, "bar.wildcard.io", V2),
        ("GET", "/s2", None, "foo.bar.wildcard.io", V2),
        ("GET", "/s2", None, "non.matching.com", 404),
        ("GET", "/s2", None, "wildcard.io", 404),
        ("GET", "/s2", None, "very.specific.com", 404),
        ("GET", "/non-matching-prefix", None, "foo.wildcard.io", 404),
        ("GET", "/s3", None, "very.specific.com", V3),
        ("GET", "/s3", None, "non.matching.com", 404),
        ("GET", "/s3", None, "foo.specific.com", 404),
        ("GET", "/s3", None, "foo.wildcard.io", 404),
        ("GET", "/s4", None, "foo.anotherwildcard.io", V1),
        ("GET", "/s4", None, "bar.anotherwildcard.io", V1),
        ("GET", "/s4", None, "foo.bar.anotherwildcard.io", V1),
        ("GET", "/s4", None, "anotherwildcard.io", 404),
        ("GET", "/s4", None, "foo.wildcard.io", 404),
        ("GET", "/s4", None, "very.specific.com", 404),
        ("GET", "/non-matching-prefix", None, "foo.anotherwildcard.io", 404),
        ("GET", "/s5", None, "specific.but.wrong.com", 404),
        ("GET", "/s5", None, "wildcard.io", 404),
    ])
    # HTTPRoutes count in attachedRoutes only where they are Accepted; the one whose hostnames
    # meet no listener's is NoMatchingListenerHostname.
    docs = list(yaml.safe_load_all(requests.get(t.admin + "/status", timeout=harness.HTTP_TIMEOUT).text))
    gateway = next(d for d in docs if d["kind"] == "Gateway" and d["metadata"]["name"] == "httproute-hostname-intersection")
    assert {x["name"]: x["attachedRoutes"] for x in gateway["status"]["listeners"]} == \
        {"listener-1": 2, "listener-2": 1, "listener-3": 1}
    route = next(d for d in docs if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == "no-intersecting-hosts")
    accepted = next(c for c in route["status"]["parents"][0]["conditions"] if c["type"] == "Accepted")
    assert (accepted["status"], accepted["reason"]) == ("False", "NoMatchingListenerHostname")


def test_http_listener_isolation(torii, backends):
    """GatewayHTTPListenerIsolation: a request is answered only by the routes of the most
    specific listener whose hostname matches its Host."""
    t = start(torii, backends, "gateway-http-listener-isolation.yaml")
    paths = ["/empty-hostname", "/wildcard-example-com", "/wildcard-foo-example-com", "/abc-foo-example-com"]
    owner = {"bar.com": 0, "bar.example.com": 1, "bar.foo.example.com": 2, "abc.foo.example.com": 3}
    cases = []
    for host, own in owner.items():
        for i, path in enumerate(paths):
            cases.append(("GET", path, None, host, V1 if i == own else 404))
    expect(t, cases)


ISOLATION_BY_HOSTNAME = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: isolation
  namespace: gateway-conformance-infra
spec:
  gatewayClassName: istio
  listeners:
  - {name: any, port: 80, protocol: HTTP}
  - {name: example, port: 80, protocol: HTTP, hostname: "*.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: on-any-listener
  namespace: gateway-conformance-infra
spec:
  parentRefs: [{name: isolation, sectionName: any}]
  hostnames: ["*.example.com", "other.org"]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"""


def test_listener_isolation_drops_hostnames_of_more_specific_listener(torii, backends):
    """Istio's second isolation mechanism (hostnameAllowedByIsolation): a route on the `*` listener
    listing `*.example.com` is not served for that hostname when a more specific listener owns it,
    even with no route attached there; its other hostnames still are."""
    manifests = gw.base_manifests(backends)
    manifests["isolation.yaml"] = ISOLATION_BY_HOSTNAME
    t = torii(manifests=manifests)
    expect(t, [
        ("GET", "/", None, "other.org", V1),
        ("GET", "/", None, "a.example.com", 404),
    ])


def test_explain_names_the_httproute_rule(torii, backends):
    """`torii explain` (here /explain) shows which HTTPRoute rule and match took the request, and
    why the routes before it in the spec's precedence order did not."""
    t = start(torii, backends, "httproute-matching.yaml")
    params = {"url": "http://x.example/v2/x", "header": "version:two"}
    e = requests.get(t.admin + "/explain", params=params, timeout=harness.HTTP_TIMEOUT).json()
    assert e["route"]["http_route"] == "HTTPRoute gateway-conformance-infra/matching spec.rules[1].matches[0]"
    # PathPrefix /v2 is the exact path /v2, then the prefix /v2/: the first did not match.
    skipped = e["skipped_routes"]
    assert [s["http_route"] for s in skipped] == ["HTTPRoute gateway-conformance-infra/matching spec.rules[1].matches[0]"]
    assert skipped[0]["failed"] == 'uri exact "/v2": path is "/v2/x"'
    text = requests.get(t.admin + "/explain", params={**params, "format": "text"}, timeout=harness.HTTP_TIMEOUT).text
    assert "matched:      #1 HTTPRoute gateway-conformance-infra/matching spec.rules[1].matches[0]" in text, text
    assert "skipped     #0 HTTPRoute gateway-conformance-infra/matching spec.rules[1].matches[0]" in text, text
    # The header match of rule 0 (its second match) comes later in precedence than /v2's path.
    e = requests.get(t.admin + "/explain", params={"url": "http://x.example/", "header": "version:one"},
                     timeout=harness.HTTP_TIMEOUT).json()
    assert e["route"]["http_route"].startswith("HTTPRoute gateway-conformance-infra/matching spec.rules[0]")
