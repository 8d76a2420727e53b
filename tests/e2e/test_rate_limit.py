"""Local rate limiting the Istio way (issue 18, docs/rate-limit.md), through the real binary.

The manifests are Istio's task (tasks/policy-enforcement/rate-limit) adapted:
an EnvoyFilter in istio-system selecting the gateway that inserts
envoy.filters.http.local_ratelimit (TypedStruct-wrapped LocalRateLimit), and
HTTP_ROUTE / VIRTUAL_HOST patches with typed_per_filter_config. Every bucket
refills once per hour, so no token can come back during a test: the counts
below are exact, not timing luck.
"""

import concurrent.futures
import json
import re
import textwrap

import requests

import harness

HOST = "rl.example.com"

VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: rl
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - name: limited
    match: [{uri: {prefix: /limited}}]
    route: [{destination: {host: echo, port: {number: 80}}}]
  - name: free
    route: [{destination: {host: echo, port: {number: 80}}}]
"""

VS_OTHER_HOST = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: rl-a
spec:
  hosts: ["a.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: echo, port: {number: 80}}}]
"""

TYPED = """\
"@type": type.googleapis.com/udpa.type.v1.TypedStruct
type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
value:
  stat_prefix: {prefix}
{body}"""

LIMIT_BODY = """\
  token_bucket:
    max_tokens: {max_tokens}
    tokens_per_fill: 1
    fill_interval: 3600s
  filter_enabled:
    runtime_key: local_rate_limit_enabled
    default_value:
      numerator: 100
      denominator: HUNDRED
{enforced}  response_headers_to_add:
  - append: false
    header:
      key: x-local-rate-limit
      value: 'true'
  request_headers_to_add_when_not_enforced:
  - append: false
    header:
      key: x-rate-limited-not-enforced
      value: 'yes'
"""

ENFORCED = """\
  filter_enforced:
    runtime_key: local_rate_limit_enforced
    default_value:
      numerator: 100
      denominator: HUNDRED
"""


def typed(prefix, max_tokens=None, enforced=True, indent=0):
    body = "" if max_tokens is None else LIMIT_BODY.format(max_tokens=max_tokens,
                                                           enforced=ENFORCED if enforced else "")
    return textwrap.indent(TYPED.format(prefix=prefix, body=body), " " * indent)


def gateway_filter(max_tokens=None, enforced=True, prefix="http_local_rate_limiter", name="filter-local-ratelimit"):
    """The task's HTTP_FILTER patch; max_tokens None: only stat_prefix (inert, for per-route configs)."""
    return """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: {name}
  namespace: istio-system
spec:
  workloadSelector:
    labels:
      istio: ingressgateway
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY
      listener:
        filterChain:
          filter:
            name: "envoy.filters.network.http_connection_manager"
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.local_ratelimit
        typed_config:
{typed}
""".format(name=name, typed=typed(prefix, max_tokens, enforced, indent=10))


def scoped_patch(apply_to, vhost, max_tokens, route_name=None, prefix="scoped"):
    route = "\n          route:\n            name: %s" % route_name if route_name else ""
    return """\
  - applyTo: {apply_to}
    match:
      context: GATEWAY
      routeConfiguration:
        vhost:
          name: "{vhost}"{route}
    patch:
      operation: MERGE
      value:
        typed_per_filter_config:
          envoy.filters.http.local_ratelimit:
{typed}
""".format(apply_to=apply_to, vhost=vhost, route=route, typed=typed(prefix, max_tokens, indent=12))


def manifests(echo, *extra):
    files = {"gw.yaml": harness.gateway(), "backend.yaml": harness.backend(echo, "echo"), "vs.yaml": VS}
    for i, text in enumerate(extra):
        files["rl-%d.yaml" % i] = text
    return files


def get(t, path="/", host=HOST):
    return t.get(path, headers={"Host": host})


def statuses(t, n, path="/", host=HOST):
    return [get(t, path, host).status_code for _ in range(n)]


def rl_stats(t, prefix="http_local_rate_limiter"):
    s = t.stats()
    return {k: s.get("%s.http_local_rate_limit.%s" % (prefix, k)) for k in ("enabled", "enforced", "rate_limited", "ok")}


def assert_limited(r):
    assert r.status_code == 429, (r.status_code, r.text[:200])
    assert r.content == b"local_rate_limited"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["x-local-rate-limit"] == "true"
    assert r.headers["server"] == "istio-envoy"
    assert "x-envoy-upstream-service-time" not in r.headers  # the backend was not contacted


def test_gateway_wide_limit(upstreams, torii):
    echo = upstreams.echo("echo")
    t = torii(manifests(echo, gateway_filter(max_tokens=5)))
    assert statuses(t, 5) == [200] * 5
    assert_limited(get(t, "/"))
    assert_limited(get(t, "/limited", host="other.example.com"))
    assert rl_stats(t) == {"enabled": 7, "enforced": 2, "rate_limited": 2, "ok": 5}
    assert t.stat("upstream_rq_total") == 5
    prom = requests.get(t.admin + "/stats/prometheus", timeout=10).text
    assert re.search(r"^envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited(\{\})? 2$", prom, re.M), prom


def test_per_route_bucket_only_affects_that_route(upstreams, torii):
    echo = upstreams.echo("echo")
    ef = gateway_filter() + scoped_patch("HTTP_ROUTE", "*:80", 3, route_name="limited")
    t = torii(manifests(echo, ef))
    assert statuses(t, 3, "/limited") == [200] * 3
    assert_limited(get(t, "/limited"))
    assert statuses(t, 10, "/other") == [200] * 10  # the inert gateway-wide config: never limited
    assert rl_stats(t, "scoped") == {"enabled": 4, "enforced": 1, "rate_limited": 1, "ok": 3}


def test_per_vhost_bucket(upstreams, torii):
    echo = upstreams.echo("echo")
    ef = gateway_filter() + scoped_patch("VIRTUAL_HOST", "a.example.com:80", 2)
    files = manifests(echo, ef)
    files["vs-a.yaml"] = VS_OTHER_HOST
    t = torii(files)
    assert statuses(t, 2, "/x", host="a.example.com") == [200] * 2
    assert_limited(get(t, "/y", host="a.example.com"))
    assert statuses(t, 5, "/x", host="b.example.com") == [200] * 5


def test_limit_holds_across_workers(upstreams, torii):
    echo = upstreams.echo("echo")
    t = torii(manifests(echo, gateway_filter(max_tokens=50)), extra_args=["--workers", "4"])

    def one(_):
        # A new connection per request, so the kernel spreads them over the workers.
        with requests.Session() as s:
            return s.get(t.url("/"), headers={"Host": HOST, "Connection": "close"}, timeout=10).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(120)))
    assert codes.count(200) == 50, codes
    assert codes.count(429) == 70, codes
    assert rl_stats(t) == {"enabled": 120, "enforced": 70, "rate_limited": 70, "ok": 50}


def test_not_enforced_counts_and_forwards(upstreams, torii):
    echo = upstreams.echo("echo")
    t = torii(manifests(echo, gateway_filter(max_tokens=2, enforced=False)))
    seen = []
    for _ in range(6):
        r = get(t, "/")
        assert r.status_code == 200, r.text[:200]
        headers = {k.lower(): v for k, v in json.loads(r.text)["headers"]}
        seen.append(headers.get("x-rate-limited-not-enforced"))
    assert seen == [None, None, "yes", "yes", "yes", "yes"]
    assert rl_stats(t) == {"enabled": 6, "enforced": 0, "rate_limited": 4, "ok": 2}


def test_reload_without_change_does_not_refill(upstreams, torii):
    echo = upstreams.echo("echo")
    t = torii(manifests(echo, gateway_filter(max_tokens=3)))
    assert statuses(t, 2) == [200] * 2
    # An unrelated edit (a new route) reloads the config; the limit is unchanged.
    t.write("vs.yaml", VS.replace("  - name: free", "  - name: new\n    match: [{uri: {prefix: /new}}]\n"
                                  "    directResponse: {status: 204}\n  - name: free"))
    ok, _ = harness.poll_until(lambda: get(t, "/new").status_code in (204, 429), harness.RELOAD_TIMEOUT)
    assert ok, t.describe()
    # That poll took the last token (or found none): no refill happened.
    assert_limited(get(t, "/"))
    assert rl_stats(t)["ok"] == 3
    # A changed limit is a new filter config in Envoy: a new, full bucket.
    t.write("rl-0.yaml", gateway_filter(max_tokens=4))
    ok, _ = harness.poll_until(lambda: get(t, "/").status_code == 200, harness.RELOAD_TIMEOUT)
    assert ok, t.describe()
    assert statuses(t, 3) == [200] * 3
    assert_limited(get(t, "/"))


OTHER_FILTER = """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: lua-filter
  namespace: istio-system
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: GATEWAY}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.lua
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
          inlineCode: "function envoy_on_request(h) h:respond({[':status'] = '403'}, 'no') end"
"""


def test_other_envoy_filter_gets_a_notice_and_no_effect(upstreams, torii, tmp_path):
    echo = upstreams.echo("echo")
    files = manifests(echo, OTHER_FILTER)
    t = torii(files)
    assert statuses(t, 20) == [200] * 20
    assert "no effect" in t.log() and "envoy.filters.http.local_ratelimit" in t.log()
    config = tmp_path / "validate"
    config.mkdir()
    for name, text in files.items():
        (config / name).write_text(text)
    r = harness.run_torii_validate([config])
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "lua-filter" in out and "configPatches[0] (applyTo HTTP_FILTER)" in out and "no effect" in out, out


def test_invalid_filter_is_rejected_and_last_good_keeps_limiting(upstreams, torii):
    echo = upstreams.echo("echo")
    t = torii(manifests(echo, gateway_filter(max_tokens=2)))
    assert statuses(t, 2) == [200] * 2
    t.write("rl-0.yaml", gateway_filter(max_tokens=2).replace("max_tokens: 2", "max_tokens: 0")
            .replace("fill_interval: 3600s", "fill_interval: 10ms"))

    def errors():
        return harness.find_in_json(t.config_dump(), lambda v: isinstance(v, dict)
                                    and v.get("name") == "filter-local-ratelimit" and bool(v.get("errors")))

    found, _ = harness.poll_until(errors, harness.RELOAD_TIMEOUT)
    assert found, t.describe()
    text = " ".join(str(e) for e in found)
    assert "rl-0.yaml" in text, text
    assert "token_bucket.max_tokens" in text and "token_bucket.fill_interval" in text, text
    # The last good limit, with its exhausted bucket, is still in force.
    assert_limited(get(t, "/"))
    assert_limited(get(t, "/"))


def grpc_call(t):
    return t.request("POST", "/pkg.Svc/Method", data=b"\0\0\0\0\0",
                     headers={"Host": HOST, "content-type": "application/grpc", "te": "trailers"})


def test_grpc_requests_get_a_trailers_only_answer(upstreams, torii):
    """Envoy's sendLocalReply for gRPC: HTTP 200, grpc-status 14 (429 maps to UNAVAILABLE),
    or 8 RESOURCE_EXHAUSTED with rate_limited_as_resource_exhausted."""
    echo = upstreams.echo("echo")
    t = torii(manifests(echo, gateway_filter(max_tokens=1)))
    assert grpc_call(t).headers.get("grpc-status") is None  # the one token: proxied to the echo server
    r = grpc_call(t)
    assert r.status_code == 200
    assert r.headers["grpc-status"] == "14"
    assert r.headers["grpc-message"] == "local_rate_limited"
    assert r.headers["content-type"] == "application/grpc"
    assert r.headers["x-local-rate-limit"] == "true"
    assert r.content == b""
    t.write("rl-0.yaml", gateway_filter(max_tokens=1).replace(
        "  stat_prefix: http_local_rate_limiter\n",
        "  stat_prefix: http_local_rate_limiter\n            rate_limited_as_resource_exhausted: true\n"))
    ok, _ = harness.poll_until(lambda: grpc_call(t).headers.get("grpc-status") == "8", harness.RELOAD_TIMEOUT)
    assert ok, t.describe()


def test_x_ratelimit_headers(upstreams, torii):
    echo = upstreams.echo("echo")
    ef = gateway_filter(max_tokens=3).replace(
        "  stat_prefix: http_local_rate_limiter\n",
        "  stat_prefix: http_local_rate_limiter\n            enable_x_ratelimit_headers: DRAFT_VERSION_03\n")
    t = torii(manifests(echo, ef))
    seen = []
    for _ in range(3):
        r = get(t, "/")
        assert r.status_code == 200
        assert r.headers["x-ratelimit-limit"] == "3"
        assert 0 < int(r.headers["x-ratelimit-reset"]) <= 3600
        seen.append(r.headers["x-ratelimit-remaining"])
    assert seen == ["2", "1", "0"]
    assert_limited(get(t, "/"))
