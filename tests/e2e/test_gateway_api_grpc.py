"""Gateway API GRPCRoute (v1), translated as istiod does: method matches become
path matches on /<service>/<method> (Exact service and method, service only,
method only, RegularExpression), with header matches, attached to HTTP
listeners next to HTTPRoutes. Real gRPC traffic (grpcio) through the real
binary to two gRPC servers (tests/e2e/grpc_server.py), over HTTP/2 both ways.
"""

import json

import grpc
import pytest
import requests
import yaml

import gateway_api_base as gw
import harness
from test_grpc_upstream import start_grpc

GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP}
"""

ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches:
    - method: {service: test.Echo, method: Unary}
      headers: [{name: x-version, value: two}]
    backendRefs: [{name: g2, port: 80}]
  - matches:
    - method: {type: RegularExpression, method: "Server.*"}
    backendRefs: [{name: g2, port: 80}]
  - matches:
    - method: {service: test.Echo, method: Unary}
    backendRefs: [{name: g1, port: 80}]
"""

# A service-only match is a prefix on /<service>/ at istiod, ahead of regexes in
# precedence, so it gets a route of its own here.
SERVICE_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: whole-service, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches:
    - method: {service: test.Echo}
    backendRefs: [{name: g2, port: 80}]
"""


def service(name, up):
    return gw.service_with_endpoint(name, up, 80, "grpc")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    d = tmp_path_factory.mktemp("grpc")
    ups = {"g1": start_grpc(d, "g1", "127.0.0.45"), "g2": start_grpc(d, "g2", "127.0.0.46")}
    yield ups
    for up in ups.values():
        up.proc.terminate(10)
        up.proc.cleanup()


def served_by(channel, method, metadata=()):
    response, call = channel.unary_unary(method).with_call(b"x", metadata=list(metadata), timeout=10)
    return dict(call.initial_metadata()).get("x-served-by")


def calls(up):
    """The calls a gRPC server counted, by method (asked directly, not through Torii)."""
    with grpc.insecure_channel("%s:%d" % (up.host, up.port)) as ch:
        return json.loads(ch.unary_unary("/test.Echo/Unary")(b"", metadata=[("x-stats", "1")], timeout=10))["calls"]


def test_grpcroute_method_and_header_matches(torii, servers):
    t = torii(manifests={"gw.yaml": GATEWAY, "route.yaml": ROUTE,
                         "svc.yaml": service("g1", servers["g1"]) + "---\n" + service("g2", servers["g2"])})
    with grpc.insecure_channel("127.0.0.1:%d" % t.listen_port) as ch:
        assert served_by(ch, "/test.Echo/Unary") == "g1"  # exact service and method
        assert served_by(ch, "/test.Echo/Unary", [("x-version", "two")]) == "g2"  # exact method + header
        # RegularExpression on the method, any service: ServerStream goes to g2.
        assert list(ch.unary_stream("/test.Echo/ServerStream")(b"2", timeout=10)) == [b"msg 0", b"msg 1"]
        assert calls(servers["g2"]).get("ServerStream") == 1 and "ServerStream" not in calls(servers["g1"])
        # No rule for another service: the gateway's 404, as a gRPC status (UNIMPLEMENTED).
        with pytest.raises(grpc.RpcError) as e:
            ch.unary_unary("/other.Svc/Call")(b"x", timeout=10)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    st = {(d["kind"], d["metadata"]["name"]): d["status"]
          for d in yaml.safe_load_all(requests.get(t.admin + "/status", timeout=10).text)}
    parent = st[("GRPCRoute", "echo")]["parents"][0]
    assert {c["type"]: c["status"] for c in parent["conditions"]} == {"Accepted": "True", "ResolvedRefs": "True"}
    listener = st[("Gateway", "gw")]["listeners"][0]
    assert listener["attachedRoutes"] == 1
    assert {k["kind"] for k in listener["supportedKinds"]} == {"HTTPRoute", "GRPCRoute"}
    # explain names the GRPCRoute rule.
    e = requests.get(t.admin + "/explain", params={"method": "POST", "url": "http://x/test.Echo/Unary"},
                     timeout=10).json()
    assert e["route"]["http_route"] == "GRPCRoute default/echo spec.rules[2].matches[0]"


def test_grpcroute_service_only_match(torii, servers):
    t = torii(manifests={"gw.yaml": GATEWAY, "route.yaml": SERVICE_ROUTE,
                         "svc.yaml": service("g1", servers["g1"]) + "---\n" + service("g2", servers["g2"])})
    before = calls(servers["g2"]).get("ClientStream", 0)
    with grpc.insecure_channel("127.0.0.1:%d" % t.listen_port) as ch:
        assert ch.stream_unary("/test.Echo/ClientStream")(iter([b"ab", b"c"]), timeout=10) == b"2 3"
        assert served_by(ch, "/test.Echo/Unary") == "g2"
    assert calls(servers["g2"]).get("ClientStream", 0) == before + 1


def test_grpcroute_not_allowed_by_listener_kinds(torii, servers):
    gateway = GATEWAY.replace("{name: http, port: 80, protocol: HTTP}",
                              "{name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}]}}")
    t = torii(manifests={"gw.yaml": gateway, "route.yaml": ROUTE,
                         "svc.yaml": service("g1", servers["g1"]) + "---\n" + service("g2", servers["g2"])})
    st = {(d["kind"], d["metadata"]["name"]): d["status"]
          for d in yaml.safe_load_all(requests.get(t.admin + "/status", timeout=10).text)}
    accepted = next(c for c in st[("GRPCRoute", "echo")]["parents"][0]["conditions"] if c["type"] == "Accepted")
    assert (accepted["status"], accepted["reason"]) == ("False", "NotAllowedByListeners")


def test_grpcroute_invalid_method_match_is_rejected(tmp_path):
    (tmp_path / "route.yaml").write_text(ROUTE.replace("- method: {service: test.Echo, method: Unary}", "- method: {type: Exact}"))
    (tmp_path / "gw.yaml").write_text(GATEWAY)
    r = harness.run_torii_validate([tmp_path])
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "GRPCRoute default/echo" in out and "spec.rules[2].matches[0].method" in out, out
    assert "needs service or method" in out, out


def test_grpcroute_method_names_and_regexes_are_checked(tmp_path):
    """Exact names follow the CRD's patterns; RegularExpression parts must compile as RE2."""
    (tmp_path / "gw.yaml").write_text(GATEWAY)
    for match, field, message in [
            ("{service: test.Echo, method: 'Un ary'}", "method.method", "is not a gRPC method name"),
            ("{service: 'test/Echo', method: Unary}", "method.service", "is not a gRPC service name"),
            ("{type: RegularExpression, service: 'test.(Echo', method: Unary}", "method.service",
             "is not a valid regex")]:
        (tmp_path / "route.yaml").write_text(
            ROUTE.replace("- method: {service: test.Echo, method: Unary}", "- method: " + match))
        r = harness.run_torii_validate([tmp_path])
        out = r.stdout + r.stderr
        assert r.returncode != 0, (match, out)
        assert "spec.rules[2].matches[0]." + field in out and message in out, (match, out)
