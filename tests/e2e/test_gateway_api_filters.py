"""Gateway API conformance: HTTPRoute filters, weights, invalid backends and
listener hostnames, ported from kubernetes-sigs/gateway-api conformance/tests
(manifests in gateway_api/, unchanged; expectations from the .go files).
"""

import collections
import urllib.parse

import pytest
import requests

import gateway_api_base as gw
from gateway_api_base import backends, start  # noqa: F401 (backends: the fixture)
import harness

V1, V2, V3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"




def get(t, path, headers=None, host=None):
    h = dict(headers or {})
    if host:
        h["Host"] = host
    return requests.get(t.url(path), headers=h, timeout=harness.HTTP_TIMEOUT, allow_redirects=False)


def test_request_header_modifier(torii, backends):
    """HTTPRouteRequestHeaderModifier: set overwrites, add appends, remove deletes; names case-insensitive."""
    t = start(torii, backends, "httproute-request-header-modifier.yaml")
    cases = [
        ("/set", {"Some-Other-Header": "val"}, {"some-other-header": "val", "x-header-set": "set-overwrites-values"}, []),
        ("/set", {"Some-Other-Header": "val", "X-Header-Set": "some-other-value"},
         {"some-other-header": "val", "x-header-set": "set-overwrites-values"}, []),
        ("/add", {"Some-Other-Header": "val"}, {"some-other-header": "val", "x-header-add": "add-appends-values"}, []),
        ("/add", {"Some-Other-Header": "val", "X-Header-Add": "some-other-value"},
         {"some-other-header": "val", "x-header-add": "some-other-value,add-appends-values"}, []),
        ("/remove", {"X-Header-Remove": "val"}, {}, ["x-header-remove"]),
        ("/multiple", {"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2",
                       "Another-Header": "another-header-val"},
         {"x-header-set-1": "header-set-1", "x-header-set-2": "header-set-2", "x-header-add-1": "header-add-1",
          "x-header-add-2": "add-val-2,header-add-2", "x-header-add-3": "header-add-3",
          "another-header": "another-header-val"}, ["x-header-remove-1", "x-header-remove-2"]),
        ("/case-insensitivity", {"x-header-set": "original-val-set", "x-header-add": "original-val-add",
                                 "x-header-remove": "original-val-remove", "Another-Header": "another-header-val"},
         {"x-header-set": "header-set", "x-header-add": "original-val-add,header-add",
          "another-header": "another-header-val"}, ["x-header-remove"]),
    ]
    for path, sent, want, absent in cases:
        r = get(t, path, sent)
        assert r.status_code == 200 and gw.backend_of(r) == V1, path
        seen = gw.request_headers(r)
        for k, v in want.items():
            assert seen.get(k) == v, (path, k, seen)
        for k in absent:
            assert k not in seen, (path, k)


def test_rewrite_path(torii, backends):
    """HTTPRouteRewritePath: ReplacePrefixMatch (also to '/') and ReplaceFullPath, with header changes."""
    t = start(torii, backends, "httproute-rewrite-path.yaml")
    hdrs = {"X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1", "X-Header-Set": "set-val"}
    cases = [
        ("/prefix/one/two", None, "/one/two"),
        ("/strip-prefix/three", None, "/three"),
        ("/strip-prefix", None, "/"),
        ("/full/one/two", None, "/one"),
        ("/full/rewrite-path-and-modify-headers/test", hdrs, "/test"),
        ("/prefix/rewrite-path-and-modify-headers/one", hdrs, "/prefix/one"),
    ]
    for path, sent, want in cases:
        r = get(t, path, sent)
        assert r.status_code == 200 and gw.backend_of(r) == V1, path
        assert r.json()["path"] == want, path
        if sent:
            seen = gw.request_headers(r)
            assert seen.get("x-header-add") == "header-val-1"
            assert seen.get("x-header-add-append") == "append-val-1,header-val-2"
            assert seen.get("x-header-set") == "set-overwrites-values"
            assert "x-header-remove" not in seen


def location(r):
    return urllib.parse.urlsplit(r.headers["location"])


def test_redirect_host_and_status(torii, backends):
    """HTTPRouteRedirectHostAndStatus: hostname with the default 302 and an explicit 301."""
    t = start(torii, backends, "httproute-redirect-host-and-status.yaml")
    r = get(t, "/hostname-redirect")
    assert r.status_code == 302 and location(r).hostname == "example.org"
    r = get(t, "/host-and-status")
    assert r.status_code == 301 and location(r).hostname == "example.org"


def test_redirect_path(torii, backends):
    """HTTPRouteRedirectPath: ReplacePrefixMatch and ReplaceFullPath, with hostname and status."""
    t = start(torii, backends, "httproute-redirect-path.yaml")
    cases = [
        ("/original-prefix/lemon", 302, None, "/replacement-prefix/lemon"),
        ("/full/path/original", 302, None, "/full-path-replacement"),
        ("/path-and-host", 302, "example.org", "/replacement-prefix"),
        ("/path-and-status", 301, None, "/replacement-prefix"),
        ("/full-path-and-host", 302, "example.org", "/replacement-full"),
        ("/full-path-and-status", 301, None, "/replacement-full"),
    ]
    for path, status, host, want_path in cases:
        r = get(t, path)
        assert r.status_code == status, path
        loc = location(r)
        assert loc.path == want_path, (path, r.headers["location"])
        if host:
            assert loc.hostname == host, path


def test_weight(torii, backends):
    """HTTPRouteWeight: 70/30/0; weight 0 receives nothing (±5 points over 1000 requests)."""
    t = start(torii, backends, "httproute-weight.yaml")
    counts = collections.Counter()
    with requests.Session() as s:
        for i in range(1000):
            r = s.get(t.url("/w/%d" % i), timeout=harness.HTTP_TIMEOUT)
            assert r.status_code == 200
            counts[gw.backend_of(r)] += 1
    assert counts[V3] == 0
    assert abs(counts[V1] - 700) <= 50 and abs(counts[V2] - 300) <= 50, counts


def test_invalid_nonexistent_backendref(torii, backends):
    """HTTPRouteInvalidNonExistentBackendRef: the route is served, its missing backend answers 500."""
    t = start(torii, backends, "httproute-invalid-nonexistent-backendref.yaml")
    r = get(t, "/")
    assert r.status_code == 500 and r.text == ""


def test_listener_hostname_matching(torii, backends):
    """HTTPRouteListenerHostnameMatching: listeners on one port split by hostname; exact beats wildcard."""
    t = start(torii, backends, "httproute-listener-hostname-matching.yaml")
    cases = [
        ("bar.com", V1),
        ("foo.bar.com", V2),
        ("baz.bar.com", V3),
        ("boo.bar.com", V3),
        ("multiple.prefixes.bar.com", V3),
        ("multiple.prefixes.foo.com", V3),
        ("foo.com", 404),
        ("no.matching.host", 404),
    ]
    for host, want in cases:
        r = get(t, "/", host=host)
        if isinstance(want, int):
            assert r.status_code == want, host
        else:
            assert r.status_code == 200 and gw.backend_of(r) == want, host


MIXED = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: half-broken
  namespace: gateway-conformance-infra
spec:
  parentRefs:
  - name: same-namespace
  rules:
  - backendRefs:
    - name: infra-backend-v1
      port: 8080
    - name: nonexistent
      port: 8080
    - name: app-backend-v1
      namespace: gateway-conformance-app-backend
      port: 8080
"""


def test_invalid_backend_share_gets_500(torii, backends):
    """An invalid backend (missing, or across namespaces without a ReferenceGrant) answers 500
    with an empty body for its share of the traffic while the valid one serves the rest
    (GATEWAY_API.md §6; VirtualService destinations get 503 there)."""
    manifests = gw.base_manifests(backends)
    manifests["route.yaml"] = MIXED
    t = torii(manifests=manifests)
    seen = collections.Counter()
    with requests.Session() as s:
        for i in range(300):
            r = s.get(t.url("/m/%d" % i), timeout=harness.HTTP_TIMEOUT)
            if r.status_code == 200:
                seen[gw.backend_of(r)] += 1
            else:
                assert r.status_code == 500 and r.text == "", (r.status_code, r.text[:100])
                seen[500] += 1
    assert set(seen) == {V1, 500}, seen  # app-backend-v1 is never reached: no ReferenceGrant
    assert 50 <= seen[V1] <= 150, seen  # a third of 300


GRANT = """
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata:
  name: allow-infra-routes
  namespace: gateway-conformance-app-backend
spec:
  from:
  - group: gateway.networking.k8s.io
    kind: HTTPRoute
    namespace: gateway-conformance-infra
  to:
  - group: ""
    kind: Service
    name: app-backend-v1
"""


def test_reference_grant_live(torii, backends):
    """A ReferenceGrant permits the cross-namespace backend; deleting it turns its share back into 500."""
    manifests = gw.base_manifests(backends)
    manifests["route.yaml"] = MIXED.replace("""    - name: nonexistent
      port: 8080
""", "").replace("infra-backend-v1", "infra-backend-v1\n      weight: 0")
    manifests["grant.yaml"] = GRANT
    t = torii(manifests=manifests)
    r = t.get("/")
    assert r.status_code == 200 and gw.backend_of(r) == "app-backend-v1"
    (t.config_dir / "grant.yaml").unlink()
    turned, _ = harness.poll_until(lambda: t.get("/").status_code == 500, harness.RELOAD_TIMEOUT)
    assert turned, "still served after the ReferenceGrant was deleted"
    assert t.get("/").text == ""


@pytest.mark.parametrize("manifest,prefix", [
    ("httproute-timeout-request.yaml", "request"),
    ("httproute-timeout-backend-request.yaml", "backend"),
])
def test_timeouts(torii, backends, manifest, prefix):
    """HTTPRouteTimeoutRequest / HTTPRouteTimeoutBackendRequest: 500ms gives 504 on a backend that
    answers after 1 s; '0s' disables the timeout. (The conformance echo server delays on ?delay=1s,
    ours on ?sleep_ms=1000.)"""
    t = start(torii, backends, manifest)
    path = "/request-timeout" if prefix == "request" else "/backend-timeout"
    off = "/disable-request-timeout" if prefix == "request" else "/disable-backend-timeout"
    assert get(t, path).status_code == 200
    r = get(t, path + "?sleep_ms=1000")
    assert r.status_code == 504 and r.text == "upstream request timeout"
    assert get(t, off + "?sleep_ms=1000").status_code == 200


def test_redirect_port(torii, backends):
    """HTTPRouteRedirectPort: an explicit port, with hostname and status."""
    t = start(torii, backends, "httproute-redirect-port.yaml")
    for path, status, host in [("/port", 302, None), ("/port-and-host", 302, "example.org"),
                               ("/port-and-status", 301, None), ("/port-and-host-and-status", 302, "example.org")]:
        r = get(t, path)
        assert r.status_code == status, path
        loc = location(r)
        assert loc.port == 8083, (path, r.headers["location"])
        if host:
            assert loc.hostname == host, path


def test_redirect_scheme(torii, backends):
    """HTTPRouteRedirectScheme: https with the scheme's default port, which is not written. The
    request's Host carries no port, as the suite's requests to a Gateway on port 80 do (Envoy keeps
    a non-default port of the Host header when the filter sets no hostname: GATEWAY_API.md §5)."""
    t = start(torii, backends, "httproute-redirect-scheme.yaml")
    for path, status, host in [("/scheme", 302, None), ("/scheme-and-host", 302, "example.org"),
                               ("/scheme-and-status", 301, None), ("/scheme-and-host-and-status", 302, "example.org")]:
        r = get(t, path, host="gateway.test")
        assert r.status_code == status, path
        loc = location(r)
        assert loc.scheme == "https" and loc.port is None, (path, r.headers["location"])
        if host:
            assert loc.hostname == host, path


@pytest.mark.parametrize("code,method,path", [(303, "POST", "/see-other"), (307, "GET", "/temporary"),
                                              (308, "GET", "/permanent")])
def test_redirect_status_codes(torii, backends, code, method, path):
    """HTTPRoute303Redirect, HTTPRoute307Redirect, HTTPRoute308Redirect: host and path kept."""
    t = start(torii, backends, "httproute-%d-redirect.yaml" % code)
    r = requests.request(method, t.url(path), headers={"Host": "gateway.test"}, timeout=harness.HTTP_TIMEOUT,
                         allow_redirects=False)
    assert r.status_code == code
    loc = location(r)
    assert loc.path == path and loc.hostname == "gateway.test", r.headers["location"]
