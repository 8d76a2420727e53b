"""Gateway API conformance: GRPCRoute tests ported from kubernetes-sigs/gateway-api
conformance/tests (manifests in gateway_api/, unchanged; expectations from the .go
files). The suite's gRPC backends grpc-infra-backend-v1..v3 are tests/e2e/grpc_server.py,
whose GrpcEcho service answers with the backend's name and the metadata it received
(the suite's echo server answers protobuf assertions with the same facts).
"""

import json

import grpc
import pytest

import gateway_api_base as gw
from gateway_api_base import backends, start  # noqa: F401 (backends: the fixture)
from test_grpc_upstream import start_grpc

SERVICE = "/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/"
V1, V2, V3 = "grpc-infra-backend-v1", "grpc-infra-backend-v2", "grpc-infra-backend-v3"


@pytest.fixture(scope="module")
def grpc_backends(tmp_path_factory):
    d = tmp_path_factory.mktemp("grpc-conformance")
    ups = {name: start_grpc(d, name, "127.0.0.%d" % (27 + i)) for i, name in enumerate((V1, V2, V3))}
    yield ups
    for up in ups.values():
        up.proc.terminate(10)
        up.proc.cleanup()


def grpc_services(ups):
    """The base's gRPC Services (port 8080, appProtocol kubernetes.io/h2c) with their endpoints."""
    docs = []
    for name, up in ups.items():
        docs.append("""
apiVersion: v1
kind: Service
metadata: {name: %s, namespace: %s}
spec:
  selector: {app: %s}
  ports: [{name: grpc, port: 8080, targetPort: 3000, appProtocol: kubernetes.io/h2c}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: %s, namespace: %s}
spec:
  address: %s
  labels: {app: %s}
  ports: {grpc: %d}
""" % (name, gw.INFRA, name, name, gw.INFRA, up.host, name, up.port))
    return "---\n".join(docs)


def start_grpc_route(torii, backends, grpc_backends, manifest):
    manifests = gw.base_manifests(backends)
    manifests["grpc-services.yaml"] = grpc_services(grpc_backends)
    manifests[manifest] = gw.manifest(manifest)
    return torii(manifests=manifests)


def call(t, method, metadata=(), authority=None):
    """(status code, reply) of one unary call to the GrpcEcho service through Torii."""
    options = [("grpc.default_authority", authority)] if authority else []
    with grpc.insecure_channel("127.0.0.1:%d" % t.listen_port, options=options) as ch:
        try:
            reply = ch.unary_unary(SERVICE + method)(b"", metadata=list(metadata), timeout=10)
            return grpc.StatusCode.OK, json.loads(reply)
        except grpc.RpcError as e:
            return e.code(), None


def expect(t, method, backend, metadata=(), authority=None):
    code, reply = call(t, method, metadata, authority)
    if backend is None:
        assert code == grpc.StatusCode.UNIMPLEMENTED, (method, metadata, authority, code)
    else:
        assert code == grpc.StatusCode.OK and reply["name"] == backend, (method, metadata, authority, code, reply)
    return reply


def test_exact_method_matching(torii, backends, grpc_backends):
    t = start_grpc_route(torii, backends, grpc_backends, "grpcroute-exact-method-matching.yaml")
    expect(t, "Echo", V1)
    expect(t, "EchoTwo", V2)
    expect(t, "EchoThree", None)


def test_header_matching(torii, backends, grpc_backends):
    t = start_grpc_route(torii, backends, grpc_backends, "grpcroute-header-matching.yaml")
    cases = [({"version": "one"}, V1), ({"version": "two"}, V2), ({"version": "two", "color": "orange"}, V1),
             ({"version": "two", "color": "blue"}, V2), ({"color": "orange"}, None),
             ({"some-other-header": "one"}, None), ({"color": "blue"}, V1), ({"color": "green"}, V1),
             ({"color": "red"}, V2), ({"color": "yellow"}, V2), ({"color": "purple"}, None)]
    for md, backend in cases:
        expect(t, "Echo", backend, md.items())


def test_listener_hostname_matching(torii, backends, grpc_backends):
    t = start_grpc_route(torii, backends, grpc_backends, "grpcroute-listener-hostname-matching.yaml")
    for authority, backend in (("bar.com", V1), ("foo.bar.com", V2), ("baz.bar.com", V3), ("boo.bar.com", V3),
                               ("multiple.prefixes.bar.com", V3), ("multiple.prefixes.foo.com", V3),
                               ("foo.com", None), ("no.matching.host", None)):
        expect(t, "Echo", backend, authority=authority)


def test_named_rule(torii, backends, grpc_backends):
    t = start_grpc_route(torii, backends, grpc_backends, "grpcroute-named-rule.yaml")
    expect(t, "Echo", V1)
    expect(t, "EchoTwo", V2)


def test_request_header_modifier(torii, backends, grpc_backends):
    t = start_grpc_route(torii, backends, grpc_backends, "grpcroute-request-header-modifier.yaml")
    reply = expect(t, "Echo", V1, [("some-other-header", "this-header-should-be-set")])
    md = reply["metadata"]
    assert md.get("some-other-header") == "this-header-should-be-set"
    assert md.get("x-header-set") == "set-overwrites-values"
    reply = expect(t, "Echo", V1, [("x-header-set", "this-value-should-be-overwritten")])
    assert reply["metadata"].get("x-header-set") == "set-overwrites-values"


def test_weight(torii, backends, grpc_backends):
    """GRPCRouteWeight: 70/30/0 over 1000 calls on one connection; weight 0 gets nothing. The
    suite checks the split statistically; here within 5 binomial standard deviations (±72)."""
    t = start_grpc_route(torii, backends, grpc_backends, "grpcroute-weight.yaml")
    counts = {V1: 0, V2: 0, V3: 0}
    with grpc.insecure_channel("127.0.0.1:%d" % t.listen_port) as ch:
        echo = ch.unary_unary(SERVICE + "Echo")
        for _ in range(1000):
            counts[json.loads(echo(b"", timeout=10))["name"]] += 1
    assert counts[V3] == 0
    assert abs(counts[V1] - 700) <= 72 and abs(counts[V2] - 300) <= 72, counts
