"""Gateway API TLSRoute (TLS listener, mode Passthrough: routed by SNI, the client's
handshake goes to the backend) and TCPRoute (TCP listener), translated as istiod does
into VirtualService tls/tcp routes on the listener's Gateway server. Real traffic: TLS
echo servers with their own certificates, and TCP echo servers.
"""

import pytest
import requests
import yaml

import gateway_api_base as gw
from test_gateway_api_tls import tls_echo
import harness
from test_tcp_passthrough import closed_without_data, client_hello, exchange, pki, tcp_echo, tls_get  # noqa: F401

GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: istio
  listeners:
  - {name: tls, port: 443, protocol: TLS, hostname: "*.example.test", tls: {mode: Passthrough},
     allowedRoutes: {kinds: [{kind: TLSRoute}]}}
  - {name: tcp, port: 9000, protocol: TCP}
"""

TLS_ROUTES = """
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: a, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tls}]
  hostnames: [a.example.test]
  rules: [{backendRefs: [{name: a, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: b, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [b.example.test, b.other.test]
  rules: [{backendRefs: [{name: b, port: 443}]}]
"""

TCP_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: one, port: 9000}]}]
"""


def service(name, up, port):
    return gw.service_with_endpoint(name, up, port, "tcp")


def status(t):
    return {(d["kind"], d["metadata"]["name"]): d["status"]
            for d in yaml.safe_load_all(requests.get(t.admin + "/status", timeout=10).text)}


def test_tlsroute_passthrough_and_tcproute(upstreams, torii, pki, tcp_echo):
    a = upstreams.echo("a", host="127.0.0.91", extra_args=["--tls-cert", str(pki / "a.pem"), "--tls-key",
                                                          str(pki / "a.key")])
    b = upstreams.echo("b", host="127.0.0.92", extra_args=["--tls-cert", str(pki / "b.pem"), "--tls-key",
                                                          str(pki / "b.key")])
    one = tcp_echo("one", "127.0.0.93")
    ports = {443: harness.reserve_port(), 9000: harness.reserve_port()}
    t = torii({"gw.yaml": GATEWAY, "tls.yaml": TLS_ROUTES, "tcp.yaml": TCP_ROUTE,
               "svc.yaml": harness.yaml_docs(service("a", a, 443), service("b", b, 443), service("one", one, 9000))},
              port_map=ports)
    # Passthrough: the handshake is with the backend itself (its certificate, its answer).
    cn, doc = tls_get(ports[443], "a.example.test", pki)
    assert cn == "a.example.test" and doc["name"] == "a"
    cn, doc = tls_get(ports[443], "b.example.test", pki)
    assert cn == "b.example.test" and doc["name"] == "b"
    # No route for this SNI (b.other.test is outside the listener's *.example.test): closed.
    assert closed_without_data(ports[443], client_hello("c.example.test"))
    assert closed_without_data(ports[443], client_hello("b.other.test"))
    # TCP: bytes both ways, half-close, the backend's own trailer.
    body, name, count = exchange(ports[9000], b"hello")
    assert (body, name, count) == (b"hello", "one", 5)

    st = status(t)
    for route in (("TLSRoute", "a"), ("TLSRoute", "b"), ("TCPRoute", "echo")):
        conditions = {c["type"]: c["status"] for c in st[route]["parents"][0]["conditions"]}
        assert conditions == {"Accepted": "True", "ResolvedRefs": "True"}, (route, st[route])
    listeners = {x["name"]: x for x in st[("Gateway", "gw")]["listeners"]}
    assert [k["kind"] for k in listeners["tls"]["supportedKinds"]] == ["TLSRoute"]
    assert [k["kind"] for k in listeners["tcp"]["supportedKinds"]] == ["TCPRoute"]
    assert listeners["tls"]["attachedRoutes"] == 2 and listeners["tcp"]["attachedRoutes"] == 1
    # TLSRoute b names no sectionName: the TCP listener does not take TLSRoutes, the TLS one does.


def test_tcproute_not_allowed_on_a_tls_passthrough_listener(upstreams, torii, tcp_echo):
    one = tcp_echo("one", "127.0.0.94")
    route = TCP_ROUTE.replace("sectionName: tcp", "sectionName: tls")
    t = torii({"gw.yaml": GATEWAY, "tcp.yaml": route, "svc.yaml": service("one", one, 9000)},
              port_map={443: harness.reserve_port(), 9000: harness.reserve_port()})
    accepted = next(c for c in status(t)[("TCPRoute", "echo")]["parents"][0]["conditions"] if c["type"] == "Accepted")
    assert (accepted["status"], accepted["reason"]) == ("False", "NotAllowedByListeners")


def test_listener_conflicts(upstreams, torii, tcp_echo):
    """Istio's listener conflict rule: an HTTP listener on the port of an earlier TCP one gets
    Conflicted=True ProtocolConflict and is not served; the TCP one keeps the port."""
    one = tcp_echo("one", "127.0.0.95")
    gateway = GATEWAY.replace("  - {name: tcp, port: 9000, protocol: TCP}\n",
                              "  - {name: tcp, port: 9000, protocol: TCP}\n"
                              "  - {name: web, port: 9000, protocol: HTTP}\n"
                              "  - {name: tls-again, port: 443, protocol: HTTPS, hostname: \"*.example.test\","
                              " tls: {certificateRefs: [{name: nothing}]}}\n")
    ports = {443: harness.reserve_port(), 9000: harness.reserve_port()}
    t = torii({"gw.yaml": gateway, "tcp.yaml": TCP_ROUTE, "svc.yaml": service("one", one, 9000)}, port_map=ports)
    listeners = {x["name"]: x for x in status(t)[("Gateway", "gw")]["listeners"]}
    for name in ("web", "tls-again"):
        conditions = {c["type"]: (c["status"], c["reason"]) for c in listeners[name]["conditions"]}
        assert conditions["Conflicted"] == ("True", "ProtocolConflict"), (name, conditions)
        assert conditions["Accepted"][0] == "False" and conditions["Programmed"][0] == "False"
    conditions = {c["type"]: c["status"] for c in listeners["tcp"]["conditions"]}
    assert conditions["Conflicted"] == "False" and conditions["Programmed"] == "True"
    assert exchange(ports[9000], b"still tcp")[:2] == (b"still tcp", "one")


def test_tls_terminate_listener_relays_tcp(upstreams, torii, pki, tcp_echo):
    """A TLS listener in Terminate mode: the gateway ends TLS with the listener's certificate
    (a Secret) and relays the plaintext to the TCPRoute's backend."""
    import base64

    one = tcp_echo("one", "127.0.0.96")
    gateway = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: istio
  listeners:
  - {name: tls, port: 8443, protocol: TLS, hostname: gw.example.test,
     tls: {mode: Terminate, certificateRefs: [{name: gw-cert}]}, allowedRoutes: {kinds: [{kind: TCPRoute}]}}
"""
    secret = ("apiVersion: v1\nkind: Secret\nmetadata: {name: gw-cert, namespace: default}\ntype: kubernetes.io/tls\n"
              "data:\n  tls.crt: %s\n  tls.key: %s\n"
              % (base64.b64encode((pki / "gw.pem").read_bytes()).decode(),
                 base64.b64encode((pki / "gw.key").read_bytes()).decode()))
    route = TCP_ROUTE.replace("sectionName: tcp", "sectionName: tls")
    port = harness.reserve_port()
    t = torii({"gw.yaml": gateway, "secret.yaml": secret, "tcp.yaml": route, "svc.yaml": service("one", one, 9000)},
              port_map={8443: port})
    assert tls_echo(port, "gw.example.test", b"over tls", pki / "ca.pem") == (b"over tls", "gw.example.test")
    conditions = {c["type"]: c["status"] for c in status(t)[("TCPRoute", "echo")]["parents"][0]["conditions"]}
    assert conditions == {"Accepted": "True", "ResolvedRefs": "True"}
