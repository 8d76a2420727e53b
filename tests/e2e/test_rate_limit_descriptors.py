"""Local rate limit descriptors (issue 18, docs/rate-limit.md): Envoy's rate limit
actions on a route, virtual host or the filter itself make each request's
descriptors, and a LocalRateLimit config's `descriptors` limit them with buckets
of their own. Manifests are EnvoyFilters as Istio's rate-limit task writes them
(written here as JSON, which is YAML). Every bucket refills once per hour, so
no token comes back during a test: the counts are exact.
"""

import json

import harness
from test_rate_limit import HOST, VS, assert_limited, manifests

TYPE_URL = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
PERCENT_100 = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}


def bucket(n):
    return {"max_tokens": n, "tokens_per_fill": 1, "fill_interval": "3600s"}


def limit_config(prefix, max_tokens=None, descriptors=(), **fields):
    value = {"stat_prefix": prefix, "filter_enabled": PERCENT_100, "filter_enforced": PERCENT_100,
             "response_headers_to_add": [{"append": False, "header": {"key": "x-local-rate-limit", "value": "true"}}]}
    if max_tokens is not None:
        value["token_bucket"] = bucket(max_tokens)
    if descriptors:
        value["descriptors"] = [{"entries": [{"key": k, "value": v} for k, v in entries], "token_bucket": bucket(n)}
                                for entries, n in descriptors]
    value.update(fields)
    return {"@type": "type.googleapis.com/udpa.type.v1.TypedStruct", "type_url": TYPE_URL, "value": value}


def filter_patch(config=None):
    """The HTTP_FILTER patch that puts the filter in the chain (inert without a token bucket)."""
    return {"applyTo": "HTTP_FILTER",
            "match": {"context": "GATEWAY",
                      "listener": {"filterChain": {"filter": {"name": "envoy.filters.network.http_connection_manager"}}}},
            "patch": {"operation": "INSERT_BEFORE",
                      "value": {"name": "envoy.filters.http.local_ratelimit",
                                "typed_config": config or {"@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                                                           "type_url": TYPE_URL,
                                                           "value": {"stat_prefix": "http_local_rate_limiter"}}}}}


def route_patch(route_name=None, rate_limits=None, config=None, include_vh=False, vhost="*:80"):
    route_match = {"name": route_name} if route_name else {"action": "ANY"}
    value = {}
    if rate_limits is not None:
        value["route"] = {"rate_limits": rate_limits}
        if include_vh:
            value["route"]["include_vh_rate_limits"] = True
    if config is not None:
        value["typed_per_filter_config"] = {"envoy.filters.http.local_ratelimit": config}
    return {"applyTo": "HTTP_ROUTE",
            "match": {"context": "GATEWAY", "routeConfiguration": {"vhost": {"name": vhost, "route": route_match}}},
            "patch": {"operation": "MERGE", "value": value}}


def vhost_patch(rate_limits, vhost="*:80"):
    return {"applyTo": "VIRTUAL_HOST",
            "match": {"context": "GATEWAY", "routeConfiguration": {"vhost": {"name": vhost}}},
            "patch": {"operation": "MERGE", "value": {"rate_limits": rate_limits}}}


def envoy_filter(*patches, name="filter-local-ratelimit"):
    return json.dumps({"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter",
                       "metadata": {"name": name, "namespace": "istio-system"},
                       "spec": {"workloadSelector": {"labels": {"istio": "ingressgateway"}},
                                "configPatches": list(patches)}}, indent=1)


def header_action(header, key):
    return {"request_headers": {"header_name": header, "descriptor_key": key}}


def get(t, path="/", **headers):
    return t.get(path, headers={"Host": HOST, **headers})


def codes(t, n, path="/", **headers):
    return [get(t, path, **headers).status_code for _ in range(n)]


def test_descriptor_by_header_on_a_route(upstreams, torii):
    """Istio's task shape: the route's rate_limits turn a header into a descriptor; the
    config's descriptor for one value has its own bucket; the default bucket is taken
    too (always_consume_default_token_bucket defaults to true)."""
    echo = upstreams.echo("echo")
    config = limit_config("scoped", max_tokens=6, descriptors=[([("user", "alice")], 2)])
    ef = envoy_filter(filter_patch(), route_patch("limited", [{"actions": [header_action("x-user", "user")]}], config))
    t = torii(manifests(echo, ef))
    assert codes(t, 2, "/limited", **{"x-user": "alice"}) == [200, 200]
    assert_limited(get(t, "/limited", **{"x-user": "alice"}))  # alice's own bucket is empty
    # bob matches no descriptor: the default bucket, which alice's two requests drew from.
    assert codes(t, 4, "/limited", **{"x-user": "bob"}) == [200] * 4
    assert_limited(get(t, "/limited", **{"x-user": "bob"}))
    assert_limited(get(t, "/limited"))  # no header: no descriptor, the empty default bucket
    assert codes(t, 5, "/free", **{"x-user": "alice"}) == [200] * 5  # another route: the inert filter config
    s = t.stats()
    assert s["scoped.http_local_rate_limit.rate_limited"] == 3
    assert s["scoped.http_local_rate_limit.ok"] == 6


def test_descriptor_without_default_bucket_and_header_value_match(upstreams, torii):
    """always_consume_default_token_bucket: false leaves the default bucket to requests
    no descriptor matched; header_value_match (on :path) makes a fixed descriptor."""
    echo = upstreams.echo("echo")
    rules = [{"actions": [{"header_value_match": {"descriptor_value": "api",
                                                  "headers": [{"name": ":path",
                                                               "string_match": {"prefix": "/limited/api"}}]}}]}]
    config = limit_config("scoped", max_tokens=3, descriptors=[([("header_match", "api")], 1)],
                          always_consume_default_token_bucket=False)
    t = torii(manifests(echo, envoy_filter(filter_patch(), route_patch("limited", rules, config))))
    assert get(t, "/limited/api/1").status_code == 200
    assert_limited(get(t, "/limited/api/2"))
    # The API request did not draw from the default bucket: three left for the rest.
    assert codes(t, 3, "/limited/page") == [200] * 3
    assert_limited(get(t, "/limited/page"))


def test_wildcard_descriptor_gives_each_value_a_bucket(upstreams, torii):
    """A descriptor entry with an empty value: one bucket per value seen (Envoy's dynamic
    descriptors), the least recently used forgotten beyond max_dynamic_descriptors."""
    echo = upstreams.echo("echo")
    config = limit_config("per_user", max_tokens=1000, descriptors=[([("user", "")], 1)],
                          max_dynamic_descriptors=2,
                          rate_limits=[{"actions": [header_action("x-user", "user")]}])
    t = torii(manifests(echo, envoy_filter(filter_patch(config))))
    for user in ("a", "b"):
        assert get(t, "/", **{"x-user": user}).status_code == 200
        assert_limited(get(t, "/", **{"x-user": user}))
    assert get(t, "/", **{"x-user": "c"}).status_code == 200  # a third value evicts "a", the oldest
    assert_limited(get(t, "/", **{"x-user": "b"}))  # "b" is remembered, still empty
    assert get(t, "/", **{"x-user": "a"}).status_code == 200  # "a" comes back with a new, full bucket
    assert get(t, "/").status_code == 200  # no header: no descriptor, the default bucket


def test_filter_rate_limits_by_client_address(upstreams, torii):
    """The filter's own rate_limits (route rate_limits are then ignored): remote_address
    and masked_remote_address, with the address the gateway trusts."""
    echo = upstreams.echo("echo")
    config = limit_config("by_ip", max_tokens=1000,
                          descriptors=[([("remote_address", "127.0.0.1")], 2),
                                       ([("masked_remote_address", "10.1.0.0/16")], 1)],
                          rate_limits=[{"actions": [{"remote_address": {}}]},
                                       {"actions": [{"masked_remote_address": {"v4_prefix_mask_len": 16}}]}])
    ignored_route_rules = route_patch(None, [{"actions": [{"generic_key": {"descriptor_value": "x"}}]}])
    t = torii(manifests(echo, envoy_filter(filter_patch(config), ignored_route_rules)),
              extra_args=["--num-trusted-proxies", "1"])
    # A client the gateway trusts to be 10.1.2.3 (the last X-Forwarded-For hop).
    assert get(t, "/", **{"x-forwarded-for": "10.1.2.3"}).status_code == 200
    assert_limited(get(t, "/", **{"x-forwarded-for": "10.1.200.9"}))  # same /16
    assert get(t, "/", **{"x-forwarded-for": "10.2.0.1"}).status_code == 200  # another /16, another address
    # Without the header the client is the peer, 127.0.0.1: its own bucket of 2.
    assert codes(t, 2, "/") == [200, 200]
    assert_limited(get(t, "/"))


def test_virtual_host_rules_override_and_include(upstreams, torii):
    """Virtual host rate_limits apply to routes that have none (vh_rate_limits OVERRIDE,
    the default); a route with include_vh_rate_limits gets both."""
    echo = upstreams.echo("echo")
    config = limit_config("vh", max_tokens=1000, descriptors=[([("generic_key", "vh")], 2),
                                                              ([("route", "limited")], 3)])
    vh_rules = [{"actions": [{"generic_key": {"descriptor_value": "vh"}}]}]
    route_rules = [{"actions": [{"generic_key": {"descriptor_key": "route", "descriptor_value": "limited"}}]}]
    ef = envoy_filter(filter_patch(config), vhost_patch(vh_rules),
                      route_patch("limited", route_rules, include_vh=True))
    t = torii(manifests(echo, ef))
    # /free has no rules of its own: the virtual host's "vh" descriptor (2 tokens).
    assert codes(t, 1, "/free") == [200]
    # /limited has its own and includes the virtual host's: both buckets are taken.
    assert get(t, "/limited").status_code == 200
    assert_limited(get(t, "/free"))  # "vh" is empty now
    assert_limited(get(t, "/limited"))  # ...and it limits /limited too


def test_invalid_descriptors_are_rejected_and_unsupported_actions_warned(tmp_path):
    config = limit_config("bad", max_tokens=10, descriptors=[([("user", "a")], 1), ([("user", "a")], 2)])
    config["value"]["token_bucket"]["fill_interval"] = "7s"  # 3600 s is not a multiple of 7 s
    bad_regex = {"header_value_match": {"descriptor_value": "v",
                                        "headers": [{"name": "x-user", "safe_regex_match": {"regex": "(unclosed"}}]}}
    rules = [{"actions": [{"destination_cluster": {}}]}, {"actions": [bad_regex]}]
    files = {"gw.yaml": harness.gateway(), "vs.yaml": VS,
             "ef.yaml": envoy_filter(filter_patch(config), route_patch("limited", rules)),
             "ef2.yaml": envoy_filter(route_patch("limited", [{"actions": []}]), name="no-actions")}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    r = harness.run_torii_validate([tmp_path])
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "ef.yaml" in out and "filter-local-ratelimit" in out, out
    assert "descriptors[1].entries" in out and "duplicate descriptor" in out, out
    assert "descriptors[0].token_bucket.fill_interval" in out and "multiple" in out, out
    assert "destination_cluster is not supported" in out, out
    assert "a rate limit needs at least one action" in out, out
    assert "rate_limits[1].actions[0].header_value_match.headers[0]" in out, out
    assert '"(unclosed" is not a valid regex' in out, out


DENY_PRIVATE = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-private
  namespace: istio-system
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/private*"]}}]
"""


def test_filter_position_first_or_before_the_router(upstreams, torii):
    """The task's patch (INSERT_BEFORE, no subFilter) makes the rate limit the first HTTP
    filter: requests RBAC denies still take tokens, and an empty bucket answers 429 before
    RBAC's 403. With subFilter envoy.filters.http.router it runs after RBAC: denied
    requests take nothing."""
    echo = upstreams.echo("echo")
    first = envoy_filter(filter_patch(limit_config("first", max_tokens=2)))
    t = torii({**manifests(echo, first), "authz.yaml": DENY_PRIVATE})
    assert codes(t, 2, "/private") == [403, 403]
    assert_limited(get(t, "/private"))  # 429, not 403: the rate limit runs first
    assert_limited(get(t, "/"))

    patch = filter_patch(limit_config("late", max_tokens=2))
    patch["match"]["listener"]["filterChain"]["filter"]["subFilter"] = {"name": "envoy.filters.http.router"}
    late = envoy_filter(patch)
    t2 = torii({**manifests(echo, late), "authz.yaml": DENY_PRIVATE})
    assert codes(t2, 3, "/private") == [403, 403, 403]
    assert codes(t2, 2, "/") == [200, 200]
    assert_limited(get(t2, "/"))
