"""Gateway API conformance: HTTPRoute matching, ported from
kubernetes-sigs/gateway-api conformance/tests (manifests in gateway_api/,
unchanged; expectations from the .go file of the same name). Each request is
sent through the real binary to echo backends, and the backend that answered
is checked, as http.MakeRequestAndExpectEventuallyConsistentResponse does.
"""

import pytest
import requests

import gateway_api_base as gw
import harness


@pytest.fixture(scope="module")
def backends(module_upstreams):
    return gw.start_backends(module_upstreams)


def start(torii, backends, *files):
    manifests = gw.base_manifests(backends)
    for f in files:
        manifests[f] = gw.manifest(f)
    return torii(manifests=manifests)


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
