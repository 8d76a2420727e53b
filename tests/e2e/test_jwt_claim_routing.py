"""VirtualService routing on validated JWT claims (`@request.auth.claims.*` header
matches), which Istio supports at gateways (ISTIO_SECURITY.md §10; docs/jwt.md).

Each rule sets `x-route` on the request, and the echo upstream shows which
rule took it. Checked: a list claim matches when an element does; nested
claims with dots and with brackets (a dot inside brackets is part of the
name); claim names keep their case; withoutHeaders on a claim holds without
a token; no token means no claim match (the default route); a number claim
does not match a string; a bad token is 401 before any routing.
"""

import pytest

import harness
from test_jwt import Key, claims, inline, jwks, request_authentication


def rule(match, route_name):
    return ("  - match: [%s]\n"
            "    headers: {request: {set: {x-route: %s}}}\n"
            "    route: [{destination: {host: main, port: {number: 80}}}]\n" % (match, route_name))


VS = ("apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: main}\nspec:\n"
      "  hosts: ['*']\n  gateways: [gw]\n  http:\n" +
      rule('{headers: {"@request.auth.claims.groups": {exact: admins}}}', "admins") +
      rule('{headers: {"@request.auth.claims.org.team": {prefix: bl}}}', "team") +
      rule('{headers: {"@request.auth.claims[dotted.name]": {exact: "yes"}}}', "dotted") +
      rule('{headers: {"@request.auth.claims.Level": {exact: "7"}}}', "level") +
      rule('{uri: {prefix: /w}, withoutHeaders: {"@request.auth.claims.role": {exact: guest}}}', "not-guest") +
      "  - headers: {request: {set: {x-route: default}}}\n"
      "    route: [{destination: {host: main, port: {number: 80}}}]\n")


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("main", host="127.0.0.8")


@pytest.fixture()
def gateway(torii, echo):
    key = Key()
    t = torii({"gw.yaml": harness.gateway("gw"), "backend.yaml": harness.backend(echo, "main") + "---\n" + VS,
               "ra.yaml": request_authentication(inline(jwks(key)))})
    return t, key


def route_of(t, path="/", token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    r = t.get(path, headers=headers)
    assert r.status_code == 200, r.text
    return {k.lower(): v for k, v in r.json()["headers"]}["x-route"]


def test_claims_choose_the_route(gateway):
    t, key = gateway
    assert route_of(t, token=key.token(**claims(groups=["users", "admins"]))) == "admins"  # any list element
    assert route_of(t, token=key.token(**claims(groups="admins"))) == "admins"  # a string claim
    assert route_of(t, token=key.token(**claims(groups=["users"], org={"team": "blue"}))) == "team"
    assert route_of(t, token=key.token(**claims(groups=[], **{"dotted.name": "yes"}))) == "dotted"
    assert route_of(t, token=key.token(**claims(groups=[]))) == "default"
    assert route_of(t) == "default"  # no token: no claim


def test_claim_names_keep_their_case_and_types(gateway):
    t, key = gateway
    assert route_of(t, token=key.token(**claims(groups=[], Level="7"))) == "level"
    assert route_of(t, token=key.token(**claims(groups=[], level="7"))) == "default"  # another claim
    assert route_of(t, token=key.token(**claims(groups=[], Level=7))) == "default"  # a number is not "7"


def test_without_headers_on_a_claim(gateway):
    t, key = gateway
    assert route_of(t, "/w") == "not-guest"  # no token: the claim does not match, so withoutHeaders holds
    assert route_of(t, "/w", key.token(**claims(groups=[], role="admin"))) == "not-guest"
    assert route_of(t, "/w", key.token(**claims(groups=[], role="guest"))) == "default"


def test_a_bad_token_is_401_before_routing(gateway):
    t, _ = gateway
    assert t.get("/", headers={"Authorization": "Bearer deadbeef"}).status_code == 401
