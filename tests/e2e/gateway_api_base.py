"""The Gateway API conformance suite's base, without Kubernetes.

conformance/base/manifests.yaml (kubernetes-sigs/gateway-api) creates three
namespaces, the Gateways the tests attach to and echo Deployments behind
Services. Here each Service is a core/v1 Service plus a WorkloadEntry that
points at one of our echo_server.py processes on loopback, the way the other
e2e tests model a Kubernetes Service; the echo reply names the backend
({"name": "infra-backend-v1", ...}) as the conformance echo server does with
its pod name. The test manifests in gateway_api/ are copied unchanged from
conformance/tests (Apache License 2.0; commit in docs/gateway-api.md).
"""

import pathlib

import pytest

import harness

INFRA = "gateway-conformance-infra"
APP = "gateway-conformance-app-backend"
WEB = "gateway-conformance-web-backend"

# (namespace, Service name, loopback address of its echo server)
BACKENDS = [
    (INFRA, "infra-backend-v1", "127.0.0.21"),
    (INFRA, "infra-backend-v2", "127.0.0.22"),
    (INFRA, "infra-backend-v3", "127.0.0.23"),
    (APP, "app-backend-v1", "127.0.0.24"),
    (APP, "app-backend-v2", "127.0.0.25"),
    (WEB, "web-backend", "127.0.0.26"),
]

MANIFESTS = pathlib.Path(__file__).parent / "gateway_api"

NAMESPACES = """
apiVersion: v1
kind: Namespace
metadata:
  name: gateway-conformance-infra
  labels:
    gateway-conformance: infra
---
apiVersion: v1
kind: Namespace
metadata:
  name: gateway-conformance-app-backend
  labels:
    gateway-conformance: backend
---
apiVersion: v1
kind: Namespace
metadata:
  name: gateway-conformance-web-backend
  labels:
    gateway-conformance: backend
"""

# The base Gateways with HTTP listeners (the HTTPS ones need Secrets: later).
GATEWAYS = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: same-namespace
  namespace: gateway-conformance-infra
spec:
  gatewayClassName: istio
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      allowedRoutes:
        namespaces:
          from: Same
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: all-namespaces
  namespace: gateway-conformance-infra
spec:
  gatewayClassName: istio
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      allowedRoutes:
        namespaces:
          from: All
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: backend-namespaces
  namespace: gateway-conformance-infra
spec:
  gatewayClassName: istio
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      allowedRoutes:
        namespaces:
          from: Selector
          selector:
            matchLabels:
              gateway-conformance: backend
"""


def start_backends(starter):
    """Starts one echo server per conformance Service; returns {name: upstream}."""
    return {name: starter.echo(name, host=host) for _ns, name, host in BACKENDS}


def services(ups):
    docs = []
    for ns, name, _host in BACKENDS:
        up = ups[name]
        docs.append("""
            apiVersion: v1
            kind: Service
            metadata:
              name: %s
              namespace: %s
            spec:
              selector: {app: %s}
              ports:
              - {name: http, port: 8080, targetPort: 3000}
            """ % (name, ns, name))
        docs.append("""
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata:
              name: %s
              namespace: %s
            spec:
              address: %s
              labels: {app: %s}
              ports: {http: %d}
            """ % (name, ns, up.host, name, up.port))
    return harness.yaml_docs(*docs)


def base_manifests(ups, gateways=GATEWAYS):
    return {"base.yaml": harness.yaml_docs(NAMESPACES, gateways, services(ups))}


def manifest(name):
    """A conformance test's manifest file, as copied from conformance/tests."""
    return (MANIFESTS / name).read_text().replace("{GATEWAY_CLASS_NAME}", "istio")


def backend_of(response):
    """The conformance Service an echo reply came from."""
    return response.json()["name"]


def request_headers(response):
    """The headers the echo backend received: {lower-case name: values joined by ","}."""
    out = {}
    for name, value in response.json()["headers"]:
        key = name.lower()
        out[key] = out[key] + "," + value if key in out else value
    return out


@pytest.fixture(scope="module")
def backends(module_upstreams):
    """The conformance backends (echo servers) for one test module."""
    return start_backends(module_upstreams)


def start(torii, backends, *files):
    """Torii on the conformance base plus the named manifests of gateway_api/."""
    manifests = base_manifests(backends)
    for f in files:
        manifests[f] = manifest(f)
    return torii(manifests=manifests)


def service_with_endpoint(name, upstream, port, port_name, namespace="default"):
    """A core/v1 Service `name` (one port) and a WorkloadEntry putting `upstream` behind it."""
    return """
apiVersion: v1
kind: Service
metadata: {name: %(name)s, namespace: %(ns)s}
spec:
  ports: [{name: %(pname)s, port: %(port)d}]
  selector: {app: %(name)s}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: %(name)s-1, namespace: %(ns)s}
spec:
  address: %(host)s
  labels: {app: %(name)s}
  ports: {%(pname)s: %(uport)d}
""" % {"name": name, "ns": namespace, "pname": port_name, "port": port, "host": upstream.host, "uport": upstream.port}
