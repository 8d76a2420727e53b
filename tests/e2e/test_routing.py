"""VirtualService HTTP routing through the real binary (ISTIO_SEMANTICS.md §3.3-§3.6,
§3.11, §3.12, §0.5, §8).

Two echo upstreams ("a" and "b") report the request they received (method, path,
headers), so every test checks what the upstream saw, and the client checks what came
back: matches (headers, withoutHeaders, queryParams, method, authority, scheme),
rewrites (uri, uriRegexRewrite, authority), redirects (curl sees the code and
Location), direct responses, header operations both ways, delegation, and several
VirtualServices merged for one host.
"""

import subprocess
import textwrap

import pytest

import harness


@pytest.fixture(scope="module")
def ab(module_upstreams):
    return module_upstreams.echo("a", host="127.0.0.6"), module_upstreams.echo("b", host="127.0.0.7")


def manifests(a, b, *virtual_services):
    out = {
        "gw.yaml": harness.gateway("gw"),
        "backends.yaml": harness.yaml_docs(harness.backend(a, "svc-a"), harness.backend(b, "svc-b")),
    }
    for i, vs in enumerate(virtual_services):
        out["vs%d.yaml" % i] = textwrap.dedent(vs)
    return out


def headers_of(reply):
    """The echo's view of the request headers: {lower-case name: [values]}."""
    out = {}
    for name, value in reply["headers"]:
        out.setdefault(name.lower(), []).append(value)
    return out


def backend(t, path, **kw):
    r = t.get(path, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])
    return r.json()["name"]


MATCH_VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: matches
spec:
  hosts: ["match.example.com"]
  gateways: [gw]
  http:
  - name: header-exact
    match:
    - headers: {x-user: {exact: alice}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: header-prefix-and-regex
    match:
    - headers:
        x-tenant: {prefix: gold}
        x-id: {regex: "[0-9]+"}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: header-presence
    match:
    - uri: {prefix: /presence}
      headers: {x-flag: {}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: without-header
    match:
    - uri: {prefix: /without}
      withoutHeaders: {x-debug: {exact: "1"}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: query
    match:
    - queryParams: {id: {regex: "\\\\d+"}}
    - queryParams: {debug: {}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: method
    match:
    - method: {exact: DELETE}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: authority
    match:
    - authority: {exact: "match.example.com:8080"}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: scheme-https
    match:
    - uri: {prefix: /scheme}
      scheme: {exact: https}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: case
    match:
    - uri: {prefix: /CaSe}
      ignoreUriCase: true
    - uri: {regex: "/Re.*"}
      ignoreUriCase: true
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: rest
    route: [{destination: {host: svc-a, port: {number: 80}}}]
"""


def test_matches(ab, torii):
    """Every match kind routes to b when it holds and falls through to a when it does not."""
    a, b = ab
    t = torii(manifests(a, b, MATCH_VS))
    h = {"Host": "match.example.com"}

    def host(**extra):
        return dict(h, **extra)

    assert backend(t, "/", headers=host()) == "a"
    assert backend(t, "/", headers=host(**{"X-User": "alice"})) == "b"
    assert backend(t, "/", headers=host(**{"X-User": "alice2"})) == "a"   # exact is exact
    assert backend(t, "/", headers=host(**{"x-tenant": "golden", "x-id": "42"})) == "b"
    assert backend(t, "/", headers=host(**{"x-tenant": "golden", "x-id": "42a"})) == "a"  # regex is a full match
    assert backend(t, "/presence", headers=host(**{"x-flag": ""})) == "b"  # presence: any value, even empty
    assert backend(t, "/presence", headers=host()) == "a"
    assert backend(t, "/without", headers=host()) == "b"                  # App. B 14: missing header matches
    assert backend(t, "/without", headers=host(**{"x-debug": "2"})) == "b"
    assert backend(t, "/without", headers=host(**{"x-debug": "1"})) == "a"
    assert backend(t, "/q?id=123", headers=host()) == "b"
    assert backend(t, "/q?id=a1", headers=host()) == "a"                  # App. B 16
    assert backend(t, "/q?x=1&debug", headers=host()) == "b"               # presence of a query key
    assert t.request("DELETE", "/m", headers=host()).json()["name"] == "b"
    assert backend(t, "/m", headers=host()) == "a"
    assert backend(t, "/", headers={"Host": "match.example.com:8080"}) == "b"  # authority includes the port
    assert backend(t, "/scheme", headers=host()) == "a"                   # plaintext listener: scheme is http
    assert backend(t, "/case/x", headers=host()) == "b"                   # ignoreUriCase on a prefix
    assert backend(t, "/re/x", headers=host()) == "a"                     # App. B 17: not on a regex
    assert backend(t, "/Re/x", headers=host()) == "b"


PSEUDO_VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: pseudo
spec:
  hosts: ["pseudo.example.com"]
  gateways: [gw]
  http:
  - name: path-is-path-and-query
    match:
    - headers: {":path": {exact: "/p?x=1"}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: method
    match:
    - uri: {prefix: /m}
      headers: {":method": {exact: PUT}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: authority
    match:
    - uri: {prefix: /a}
      headers: {":authority": {regex: "pseudo\\\\.example\\\\.com:80[0-9]+"}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: scheme-http
    match:
    - uri: {prefix: /s/plain}
      headers: {":scheme": {exact: http}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: scheme-https
    match:
    - uri: {prefix: /s/tls}
      headers: {":scheme": {exact: https}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: without-path
    match:
    - uri: {prefix: /w}
      withoutHeaders: {":path": {prefix: /w/admin}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: token-name
    match:
    - headers: {"x_weird!#$": {exact: "yes"}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: rest
    route: [{destination: {host: svc-a, port: {number: 80}}}]
"""


def test_pseudo_header_and_token_header_matches(ab, torii):
    """istiod accepts `:method`, `:authority`, `:path`, `:scheme` and any RFC 9110 token as a
    headers/withoutHeaders key (ValidateHTTPHeaderNameOrJwtClaimRoute); Envoy matches the
    pseudo-headers against the request: :path with its query, :authority as the Host."""
    a, b = ab
    t = torii(manifests(a, b, PSEUDO_VS))
    h = {"Host": "pseudo.example.com"}

    assert backend(t, "/p?x=1", headers=h) == "b"
    assert backend(t, "/p?x=2", headers=h) == "a"     # :path carries the query
    assert backend(t, "/p", headers=h) == "a"
    assert t.request("PUT", "/m", headers=h).json()["name"] == "b"
    assert backend(t, "/m", headers=h) == "a"
    assert backend(t, "/a", headers={"Host": "pseudo.example.com:8080"}) == "b"
    assert backend(t, "/a", headers=h) == "a"          # no port: the regex does not hold
    assert backend(t, "/s/plain", headers=h) == "b"    # plaintext listener
    assert backend(t, "/s/tls", headers=h) == "a"
    assert backend(t, "/w/x", headers=h) == "b"
    assert backend(t, "/w/admin/x", headers=h) == "a"
    assert backend(t, "/", headers=dict(h, **{"x_weird!#$": "yes"})) == "b"
    assert backend(t, "/", headers=dict(h, **{"x_weird!#$": "no"})) == "a"
    r = t.get("/", headers=dict(h, **{"x_weird!#$": "yes"})).json()
    assert headers_of(r)["x_weird!#$"] == ["yes"]      # and the header reaches the upstream


REWRITE_VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: rewrites
spec:
  hosts: ["rewrite.example.com"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /api/}}]
    rewrite: {uri: /v2/}
    route: [{destination: {host: svc-a, port: {number: 80}}}]
  - match: [{uri: {prefix: /z2m}}]
    rewrite:
      uriRegexRewrite: {match: "^/z2m(/|$)(.*)", rewrite: "/\\\\2"}
    route: [{destination: {host: svc-a, port: {number: 80}}}]
  - match: [{uri: {prefix: /host}}]
    rewrite: {authority: internal.example}
    route: [{destination: {host: svc-a, port: {number: 80}}}]
  - match: [{uri: {prefix: /foo}}]
    rewrite: {uri: /}
    route: [{destination: {host: svc-a, port: {number: 80}}}]
"""


def test_rewrites(ab, torii):
    """rewrite.uri swaps the matched prefix (query kept), uriRegexRewrite substitutes groups,
    rewrite.authority sets Host; the upstream sees x-envoy-original-path (§3.6, App. B 19)."""
    a, b = ab
    t = torii(manifests(a, b, REWRITE_VS))
    h = {"Host": "rewrite.example.com"}

    r = t.get("/api/users?id=7", headers=h).json()
    assert r["path"] == "/v2/users?id=7"
    assert headers_of(r)["x-envoy-original-path"] == ["/api/users?id=7"]
    assert headers_of(r)["host"] == ["rewrite.example.com"]

    r = t.get("/z2m/devices/1?q=1", headers=h).json()
    assert r["path"] == "/devices/1?q=1"

    r = t.get("/host/x", headers=h).json()
    assert r["path"] == "/host/x"
    assert headers_of(r)["host"] == ["internal.example"]
    assert "x-envoy-original-path" not in headers_of(r)

    assert t.get("/foo/bar", headers=h).json()["request_line"] == "GET //bar HTTP/1.1"  # App. B 19


REDIRECT_VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: redirects
spec:
  hosts: ["redirect.example.com"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /old}}]
    redirect: {uri: /new}
  - match: [{uri: {prefix: /moved}}]
    redirect: {authority: elsewhere.example.com, scheme: https, redirectCode: 308}
  - match: [{uri: {prefix: /port}}]
    redirect: {port: 8443}
    headers:
      response:
        set: {cache-control: no-store}
  - route: [{destination: {host: svc-a, port: {number: 80}}}]
"""


def curl_head(url, host):
    """curl -s -o /dev/null: (status code, Location) as curl sees them."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "--max-time", "30", "-H", "Host: " + host,
         "-w", "%{http_code} %{redirect_url}", url],
        capture_output=True, text=True, timeout=60, check=True)
    code, _, location = out.stdout.partition(" ")
    return int(code), location


def test_redirects(ab, torii):
    """301 by default with the query kept; authority/scheme/308; explicit port; response headers on
    the redirect; curl sees the code and the Location (§3.6, §8)."""
    a, b = ab
    t = torii(manifests(a, b, REDIRECT_VS))
    host = "redirect.example.com"

    assert curl_head(t.url("/old/x?q=1"), host) == (301, "http://redirect.example.com/new?q=1")
    assert curl_head(t.url("/moved/p"), host) == (308, "https://elsewhere.example.com/moved/p")
    r = t.get("/port", headers={"Host": host}, allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == "http://redirect.example.com:8443/port"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["server"] == "istio-envoy"
    assert r.content == b""
    assert "x-envoy-upstream-service-time" not in r.headers
    assert t.get("/other", headers={"Host": host}).json()["name"] == "a"


DIRECT_VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: direct
spec:
  hosts: ["direct.example.com"]
  gateways: [gw]
  http:
  - match: [{uri: {exact: /maintenance}}]
    directResponse:
      status: 503
      body: {string: "down for maintenance"}
  - match: [{uri: {exact: /json}}]
    directResponse:
      status: 200
      body: {bytes: eyJvayI6IHRydWV9}   # base64 of {"ok": true}
    headers:
      response:
        set: {content-type: application/json}
  - match: [{uri: {exact: /empty}}]
    directResponse: {status: 204}
  - route: [{destination: {host: svc-a, port: {number: 80}}}]
"""


def test_direct_response(ab, torii):
    """directResponse: status and body (string or base64 bytes) from the gateway, text/plain unless a
    response header says otherwise; the upstream never sees the request (§3.6)."""
    a, b = ab
    t = torii(manifests(a, b, DIRECT_VS))
    h = {"Host": "direct.example.com"}

    r = t.get("/maintenance", headers=h)
    assert r.status_code == 503
    assert r.text == "down for maintenance"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["server"] == "istio-envoy"

    r = t.get("/json", headers=h)
    assert r.status_code == 200
    assert r.json() == {"ok": True}
    assert r.headers["content-type"] == "application/json"

    r = t.get("/empty", headers=h)
    assert r.status_code == 204
    assert r.content == b""

    r = t.request("HEAD", "/maintenance", headers=h)
    assert r.status_code == 503
    assert r.headers["content-length"] == str(len("down for maintenance"))
    assert t.get("/x", headers=h).json()["name"] == "a"


HEADERS_VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: headers
spec:
  hosts: ["headers.example.com"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /split}}]
    headers:
      request:
        set: {x-level: rule}
    route:
    - destination: {host: svc-a, port: {number: 80}}
      weight: 50
      headers:
        request:
          set: {x-picked: a, x-level: destination}
        response:
          set: {x-picked-response: a}
    - destination: {host: svc-b, port: {number: 80}}
      weight: 50
  - headers:
      request:
        set: {x-set: rule, host: rewritten.example}
        add: {x-add: rule}
        remove: [x-drop]
      response:
        set: {x-resp: rule}
        add: {x-echo-name: added}
        remove: [content-type]
    route:
    - destination: {host: svc-a, port: {number: 80}}
      headers:
        request:
          set: {x-add: destination}
        response:
          set: {x-resp: destination}
"""


def test_header_operations(ab, torii):
    """headers.request/response set/add/remove at rule and destination level, with §3.11's
    precedence: single destination after the rule; weighted destination only when picked."""
    a, b = ab
    t = torii(manifests(a, b, HEADERS_VS))
    h = {"Host": "headers.example.com"}

    r = t.get("/x", headers=dict(h, **{"x-set": "client", "x-drop": "gone", "x-add": "client"}))
    seen = headers_of(r.json())
    assert seen["x-set"] == ["rule"]
    assert "x-drop" not in seen
    assert seen["x-add"] == ["destination"]             # destination set after the rule's add
    assert seen["host"] == ["rewritten.example"]        # `host` in request set is a host rewrite
    assert r.headers["x-resp"] == "destination"
    assert r.headers["x-echo-name"] == "a, added"        # add appends (requests joins repeated fields)
    assert "content-type" not in r.headers

    picked = {"a": 0, "b": 0}
    for _ in range(40):
        r = t.get("/split", headers=h)
        body = r.json()
        seen = headers_of(body)
        picked[body["name"]] += 1
        if body["name"] == "a":
            assert seen["x-picked"] == ["a"]
            assert seen["x-level"] == ["rule"]          # Envoy: route-level ops after the cluster's
            assert r.headers["x-picked-response"] == "a"
        else:
            assert "x-picked" not in seen
            assert seen["x-level"] == ["rule"]
            assert "x-picked-response" not in r.headers
    assert picked["a"] > 0 and picked["b"] > 0, picked


def test_header_values_are_envoy_format_strings(ab, torii):
    """istiod accepts any header-operation name but ':'-prefixed ones and Host, and values that
    are Envoy format strings (docs/validation.md): `%%` is a literal '%', a token name like
    `x.dot!` is sent; a %VARIABLE% (not implemented) and a name that is not a token (cannot be
    sent) leave their operation out, with a warning, and the rest of the rule is served."""
    a, b = ab
    vs = """\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: formats
        spec:
          hosts: ["formats.example.com"]
          gateways: [gw]
          http:
          - headers:
              request:
                set: {x-pct: "100%%", "x.dot!": "yes", x-ip: "%DOWNSTREAM_REMOTE_ADDRESS%", "x y": "no"}
              response:
                add: {x-off: "50%% off"}
            route: [{destination: {host: svc-a, port: {number: 80}}}]
        """
    t = torii(manifests(a, b, vs))
    r = t.get("/", headers={"Host": "formats.example.com"})
    assert r.status_code == 200, r.text
    seen = headers_of(r.json())
    assert seen["x-pct"] == ["100%"]
    assert seen["x.dot!"] == ["yes"]
    assert "x-ip" not in seen
    assert "x y" not in seen and "x" not in seen
    assert r.headers["x-off"] == "50% off"
    text = t.log()
    assert "this operation is not applied" in text, text


def test_response_headers_apply_to_router_local_replies(ab, torii):
    """Envoy's router applies the route's response headers to its own replies too (503 NC here)."""
    a, b = ab
    vs = """\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: missing
        spec:
          hosts: ["*"]
          gateways: [gw]
          http:
          - headers:
              response:
                set: {x-route: missing}
            route: [{destination: {host: nowhere, port: {number: 80}}}]
        """
    t = torii(manifests(a, b, vs))
    r = t.get("/")
    assert r.status_code == 503
    assert r.headers["x-route"] == "missing"


DELEGATE_ROOT = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: root
spec:
  hosts: ["shop.example.com"]
  gateways: [gw]
  http:
  - name: cart
    match: [{uri: {prefix: /cart}}]
    headers:
      request:
        set: {x-root: "yes"}
    delegate: {name: cart, namespace: team-cart}
  - name: missing
    match: [{uri: {prefix: /missing}}]
    delegate: {name: nope}
  - route: [{destination: {host: svc-a.default.svc.cluster.local, port: {number: 80}}}]
"""

DELEGATE_CART = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: cart
  namespace: team-cart
spec:
  http:
  - name: v2
    match: [{uri: {prefix: /cart/v2}}]
    rewrite: {uri: /v2}
    route: [{destination: {host: svc-b.default.svc.cluster.local, port: {number: 80}}}]
  - name: elsewhere
    match: [{uri: {prefix: /checkout}}]       # conflicts with the root's /cart: ignored
    route: [{destination: {host: svc-b.default.svc.cluster.local, port: {number: 80}}}]
  - name: rest
    route: [{destination: {host: svc-a.default.svc.cluster.local, port: {number: 80}}}]
"""


def test_delegate(ab, torii):
    """§3.12: the delegate's rules replace the root rule, matches merged with the root's, root
    fields (headers) inherited; a conflicting delegate rule and a missing delegate are dropped."""
    a, b = ab
    t = torii(manifests(a, b, DELEGATE_ROOT, DELEGATE_CART))
    h = {"Host": "shop.example.com"}

    r = t.get("/cart/v2/items", headers=h).json()
    assert r["name"] == "b"
    assert r["path"] == "/v2/items"
    assert headers_of(r)["x-root"] == ["yes"]              # inherited from the root rule
    r = t.get("/cart/other", headers=h).json()
    assert r["name"] == "a"                                # delegate's catch-all under /cart
    assert headers_of(r)["x-root"] == ["yes"]
    assert t.get("/checkout", headers=h).json()["name"] == "a"  # not under /cart: the root's catch-all
    assert t.get("/missing", headers=h).json()["name"] == "a"   # missing delegate: only that rule dropped
    assert "x-root" not in headers_of(t.get("/", headers=h).json())


def test_delegate_inherits_root_direct_response_and_policies(ab, torii):
    """istiod's mergeHTTPRoute gives delegate rules the root rule's directResponse, fault, mirror
    and corsPolicy when they have none, and a directResponse then wins over the rule's route;
    regexes are allowed in delegating rules since Istio 1.14 (docs/validation.md). Torii used
    to refuse the root (directResponse) and the delegate (regex), and inherited no policies."""
    a, b = ab
    root = """\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: root2
        spec:
          hosts: ["inherit.example.com"]
          gateways: [gw]
          http:
          - match: [{uri: {prefix: /closed}}]
            directResponse: {status: 418, body: {string: "closed by the root"}}
            delegate: {name: closed}
          - match: [{uri: {regex: "/faulty/.*"}}]
            fault: {abort: {httpStatus: 429, percentage: {value: 100}}}
            delegate: {name: faulty}
          - route: [{destination: {host: svc-a, port: {number: 80}}}]
        """
    closed = """\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: closed
        spec:
          http:
          - match: [{uri: {prefix: /closed/own}}]
            directResponse: {status: 200, body: {string: "own answer"}}
          - route: [{destination: {host: svc-b, port: {number: 80}}}]
        """
    faulty = """\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: faulty
        spec:
          http:
          - match: [{headers: {x-ok: {regex: "y.s"}}}]
            fault: {abort: {httpStatus: 202, percentage: {value: 100}}}
            route: [{destination: {host: svc-b, port: {number: 80}}}]
          - route: [{destination: {host: svc-b, port: {number: 80}}}]
        """
    t = torii(manifests(a, b, root, closed, faulty))
    h = {"Host": "inherit.example.com"}
    r = t.get("/closed/x", headers=h)
    assert (r.status_code, r.text) == (418, "closed by the root")   # wins over the delegate's route
    r = t.get("/closed/own", headers=h)
    assert (r.status_code, r.text) == (200, "own answer")
    assert t.get("/faulty/x", headers=h).status_code == 429          # the root's fault
    assert t.get("/faulty/x", headers=dict(h, **{"x-ok": "yes"})).status_code == 202  # its own
    assert t.get("/other", headers=h).json()["name"] == "a"


def test_virtual_services_for_one_host_are_merged(ab, torii):
    """§0.5 / App. B 3: two VSs for one host on one gateway; the older one's catch-all does not
    hide the newer one's specific route."""
    a, b = ab
    older = """\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: shop-old
          creationTimestamp: "2024-01-01T00:00:00Z"
        spec:
          hosts: ["merge.example.com"]
          gateways: [gw]
          http:
          - route: [{destination: {host: svc-a, port: {number: 80}}}]
        """
    newer = """\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: shop-new
          creationTimestamp: "2024-06-01T00:00:00Z"
        spec:
          hosts: ["merge.example.com"]
          gateways: [gw]
          http:
          - match: [{uri: {prefix: /cart}}]
            route: [{destination: {host: svc-b, port: {number: 80}}}]
        """
    t = torii(manifests(a, b, older, newer))
    h = {"Host": "merge.example.com"}
    assert backend(t, "/cart", headers=h) == "b"
    assert backend(t, "/", headers=h) == "a"
