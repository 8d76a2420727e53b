"""Gateway API TLSRoute (TLS listener, mode Passthrough: SNI routing, the
client's handshake is with the backend itself) and TCPRoute (TCP listener),
translated to the same L4 routes as Istio Gateway TLS/TCP servers.
TLSRouteSimpleSameNamespace is ported from kubernetes-sigs/gateway-api
conformance/tests (manifest in gateway_api/, unchanged; the backend
`l4-backend` is an echo server serving TLS with a certificate for
abc.example.com, as the suite's tls-passthrough-checks-certificate)."""

import subprocess

import pytest
import requests
import yaml

import gateway_api_base as gw
import harness
from test_tcp_passthrough import TcpEchoFactory, closed_without_data, client_hello, exchange, tls_get  # noqa: F401

L4_SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: %(name)s, namespace: gateway-conformance-infra}
spec:
  selector: {app: %(name)s}
  ports:
  - {name: %(pname)s, port: %(port)d, targetPort: %(port)d}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: %(name)s, namespace: gateway-conformance-infra}
spec:
  address: %(host)s
  labels: {app: %(name)s}
  ports: {%(pname)s: %(uport)d}
"""


def pki(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=abc.example.com", "-keyout", str(d / "abc.key"),
                    "-out", str(d / "ca.pem"), "-addext", "subjectAltName=DNS:abc.example.com"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d


def status_of(t, kind, name):
    docs = [d for d in yaml.safe_load_all(requests.get(t.admin + "/status", timeout=harness.HTTP_TIMEOUT).text) if d]
    return [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name][0]["status"]


def test_tlsroute_simple_same_namespace(upstreams, torii, tmp_path):
    d = pki(tmp_path)
    be = upstreams.echo("tls-backend", host="127.0.0.74",
                        extra_args=["--tls-cert", str(d / "ca.pem"), "--tls-key", str(d / "abc.key")])
    port = harness.reserve_port()
    manifests = {"base.yaml": harness.yaml_docs(gw.NAMESPACES),
                 "svc.yaml": L4_SERVICE % {"name": "l4-backend", "pname": "tls", "port": 8443,
                                           "host": be.host, "uport": be.port},
                 "route.yaml": gw.manifest("tlsroute-simple-same-namespace.yaml")}
    t = torii(manifests=manifests, port_map={443: port})
    for _ in range(3):
        cn, doc = tls_get(port, "abc.example.com", d, "/")
        # Passthrough: the certificate is the backend's, the answer the backend's.
        assert cn == "abc.example.com" and doc["name"] == "tls-backend"
    # Another name under the listener's *.example.com is not the route's: closed.
    assert closed_without_data(port, client_hello("xyz.example.com"))
    route = status_of(t, "TLSRoute", "gateway-conformance-infra-test")
    conds = {c["type"]: c for c in route["parents"][0]["conditions"]}
    assert conds["Accepted"]["status"] == "True" and conds["ResolvedRefs"]["status"] == "True"
    gateway = status_of(t, "Gateway", "gateway-tlsroute")
    assert gateway["listeners"][0]["attachedRoutes"] == 1
    assert gateway["listeners"][0]["supportedKinds"][0]["kind"] == "TLSRoute"


TCP_MANIFEST = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-tcp, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: tcp, port: 9000, protocol: TCP, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp-split, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: gateway-tcp, sectionName: tcp}]
  rules:
  - backendRefs:
    - {name: tcp-a, port: 9000, weight: 1}
    - {name: tcp-b, port: 9000, weight: 0}
    - {name: missing, port: 9000, weight: 5}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: http-on-tcp, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: gateway-tcp}]
  rules: [{backendRefs: [{name: tcp-a, port: 9000}]}]
"""


def test_tcproute_weights_and_status(tmp_path, torii):
    echo = TcpEchoFactory(tmp_path)
    try:
        a = echo("tcp-a", "127.0.0.75")
        b = echo("tcp-b", "127.0.0.76")
        port = harness.reserve_port()
        svcs = [L4_SERVICE % {"name": n, "pname": "tcp", "port": 9000, "host": u.host, "uport": u.port}
                for n, u in (("tcp-a", a), ("tcp-b", b))]
        t = torii(manifests={"base.yaml": harness.yaml_docs(gw.NAMESPACES, *svcs), "tcp.yaml": TCP_MANIFEST},
                  port_map={9000: port})
        for _ in range(10):
            # weight 0 gets nothing; the missing Service is dropped (ResolvedRefs=False)
            body, name, _ = exchange(port, b"hello")
            assert body == b"hello" and name == "tcp-a"
        route = status_of(t, "TCPRoute", "tcp-split")
        conds = {c["type"]: c for c in route["parents"][0]["conditions"]}
        assert conds["Accepted"]["status"] == "True"
        assert conds["ResolvedRefs"]["status"] == "False" and conds["ResolvedRefs"]["reason"] == "BackendNotFound"
        http = status_of(t, "HTTPRoute", "http-on-tcp")
        conds = {c["type"]: c for c in http["parents"][0]["conditions"]}
        assert conds["Accepted"]["reason"] == "NotAllowedByListeners"
        listener = status_of(t, "Gateway", "gateway-tcp")["listeners"][0]
        assert listener["attachedRoutes"] == 1 and listener["supportedKinds"][0]["kind"] == "TCPRoute"
    finally:
        echo.close()


CROSS_NS = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls-all, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: istio
  listeners:
  - name: tls
    port: 443
    protocol: TLS
    tls: {mode: Passthrough}
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: cross, namespace: gateway-conformance-web-backend}
spec:
  parentRefs: [{name: tls-all, namespace: gateway-conformance-infra}]
  hostnames: [abc.example.com]
  rules: [{backendRefs: [{name: l4-backend, namespace: gateway-conformance-infra, port: 8443}]}]
"""

GRANT = """
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: tlsroute-to-l4, namespace: gateway-conformance-infra}
spec:
  from: [{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: gateway-conformance-web-backend}]
  to: [{group: "", kind: Service, name: l4-backend}]
"""


def test_tlsroute_cross_namespace_backend_needs_a_reference_grant(upstreams, torii, tmp_path):
    d = pki(tmp_path)
    be = upstreams.echo("tls-backend", host="127.0.0.77",
                        extra_args=["--tls-cert", str(d / "ca.pem"), "--tls-key", str(d / "abc.key")])
    port = harness.reserve_port()
    base = harness.yaml_docs(gw.NAMESPACES, L4_SERVICE % {"name": "l4-backend", "pname": "tls", "port": 8443,
                                                          "host": be.host, "uport": be.port})
    t = torii(manifests={"base.yaml": base, "route.yaml": CROSS_NS}, port_map={443: port})
    # No grant: the only backend is dropped, the route still attached; connections are closed.
    assert closed_without_data(port, client_hello("abc.example.com"))
    conds = {c["type"]: c for c in status_of(t, "TLSRoute", "cross")["parents"][0]["conditions"]}
    assert conds["Accepted"]["status"] == "True" and conds["ResolvedRefs"]["reason"] == "RefNotPermitted"
    t.stop()
    t2 = torii(manifests={"base.yaml": base, "route.yaml": CROSS_NS, "grant.yaml": GRANT}, port_map={443: port})
    cn, doc = tls_get(port, "abc.example.com", d, "/")
    assert cn == "abc.example.com" and doc["name"] == "tls-backend"
    conds = {c["type"]: c for c in status_of(t2, "TLSRoute", "cross")["parents"][0]["conditions"]}
    assert conds["ResolvedRefs"]["status"] == "True"


@pytest.mark.parametrize("manifest,route,gateway,kind,want_status,reason", [
    ("tlsroute-invalid-backendref-nonexistent.yaml", "invalid-backend-ref-nonexistent",
     "gateway-tlsroute-invalid-backend-ref-nonexistent", "ResolvedRefs", "False", "BackendNotFound"),
    ("tlsroute-invalid-backendref-unknown-kind.yaml", "invalid-backend-ref-unknown-kind",
     "gateway-tlsroute-invalid-backend-ref-unknown-kind", "ResolvedRefs", "False", "InvalidKind"),
    ("tlsroute-invalid-reference-grant.yaml", "gateway-conformance-infra-test", "gateway-tlsroute-referencegrant",
     "ResolvedRefs", "False", "RefNotPermitted"),
    ("tlsroute-invalid-no-matching-listener.yaml", "tlsroute-not-allowed-protocol-http", "gateway-tlsroute-http-only",
     "Accepted", "False", "NotAllowedByListeners"),
    ("tlsroute-invalid-no-matching-listener.yaml", "tlsroute-not-allowed-protocol-https",
     "gateway-tlsroute-https-only", "Accepted", "False", "NotAllowedByListeners"),
    ("tlsroute-invalid-no-matching-listener.yaml", "tlsroute-no-matching-section-name",
     "gateway-tlsroute-tls-passthrough-only", "Accepted", "False", "NoMatchingParent"),
    ("tlsroute-invalid-no-matching-listener-hostname.yaml", "tlsroute-hostname-mismatch-1",
     "gateway-tls-exact-hostname", "Accepted", "False", "NoMatchingListenerHostname"),
    ("tlsroute-invalid-no-matching-listener-hostname.yaml", "tlsroute-hostname-mismatch-2",
     "gateway-tls-wildcard-hostname", "Accepted", "False", "NoMatchingListenerHostname"),
])
def test_tlsroute_status(torii, manifest, route, gateway, kind, want_status, reason):
    """TLSRouteInvalidBackendRefNonexistent, TLSRouteInvalidBackendRefUnknownKind,
    TLSRouteInvalidReferenceGrant, TLSRouteInvalidNoMatchingListener and
    TLSRouteInvalidNoMatchingListenerHostname: the route's condition for that parent."""
    t = torii(manifests={"base.yaml": harness.yaml_docs(gw.NAMESPACES), "route.yaml": gw.manifest(manifest)},
              port_map={443: harness.reserve_port(), 80: harness.reserve_port()})
    parents = [p for p in status_of(t, "TLSRoute", route)["parents"] if p["parentRef"]["name"] == gateway]
    assert parents, status_of(t, "TLSRoute", route)
    condition = next(c for c in parents[0]["conditions"] if c["type"] == kind)
    assert (condition["status"], condition["reason"]) == (want_status, reason), parents[0]


def test_tlsroute_listener_passthrough_supported_kinds(torii):
    """TLSRouteListenerPassthroughSupportedKinds: a Passthrough listener lists TLSRoute; the
    TCPRoute it also names makes ResolvedRefs=False InvalidRouteKinds."""
    t = torii(manifests={"base.yaml": harness.yaml_docs(gw.NAMESPACES),
                         "gw.yaml": gw.manifest("tlsroute-listener-passthrough-supported-kinds.yaml")},
              port_map={443: harness.reserve_port()})
    listener = status_of(t, "Gateway", "gateway-tlsroute-passthrough-supported-kind")["listeners"][0]
    assert [k["kind"] for k in listener["supportedKinds"]] == ["TLSRoute"]
    resolved = next(c for c in listener["conditions"] if c["type"] == "ResolvedRefs")
    assert (resolved["status"], resolved["reason"]) == ("False", "InvalidRouteKinds")
