"""Istio manifests for the scale cases, written as a user would keep them
(multi-document YAML files in one directory). Every case keeps the bench
Gateway (bench/config/gateway.yaml) and the `upstream` Service.

- one:    bench/config as is: 1 VirtualService, 1 route.
- hosts:  N VirtualServices, each with its own host h<i>.bench.example and one
          route to its own service svc-<i>; even i: a Kubernetes Service whose
          endpoint is a WorkloadEntry it selects; odd i: a ServiceEntry
          (resolution STATIC) with an inline endpoint. Every endpoint is the
          bench upstream. So: N hosts, N routes, N Services/ServiceEntries with
          their endpoints, N clusters. Traffic goes to the last-declared host.
- routes: 1 VirtualService (hosts "*") with N http routes, prefix /r<i>/, all
          to `upstream`. Traffic goes to the last-declared route.
"""

import os
import shutil

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
PER_FILE = 1000  # documents per file, as in a repo of manifests


def _base(dest, upstream_port, with_vs):
    os.makedirs(dest, exist_ok=True)
    for f in ("gateway.yaml", "upstream.yaml") + (("virtualservice.yaml",) if with_vs else ()):
        shutil.copy(os.path.join(HERE, "config", f), dest)
    up = os.path.join(dest, "upstream.yaml")
    text = open(up).read().replace("18090", str(upstream_port))
    with open(up, "w") as f:
        f.write(text)


def _write_chunks(dest, stem, docs):
    for start in range(0, len(docs), PER_FILE):
        with open(os.path.join(dest, "%s-%05d.yaml" % (stem, start)), "w") as f:
            f.write("---\n".join(docs[start:start + PER_FILE]))


def one(dest, upstream_port):
    _base(dest, upstream_port, with_vs=True)
    return {"host": "bench.example", "path": "/", "objects": 4}


def hosts(dest, upstream_port, n):
    _base(dest, upstream_port, with_vs=False)
    vs, svc = [], []
    for i in range(n):
        k8s = i % 2 == 0
        dest_host = "svc-%d" % i if k8s else "svc-%d.bench.external" % i
        vs.append("""apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: vs-{i}
spec:
  hosts:
  - h{i}.bench.example
  gateways:
  - bench-gateway
  http:
  - route:
    - destination:
        host: {dest}
        port:
          number: 80
""".format(i=i, dest=dest_host))
        if k8s:
            svc.append("""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
spec:
  ports:
  - name: http
    port: 80
    targetPort: {port}
  selector:
    app: svc-{i}
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata:
  name: we-{i}
spec:
  address: 127.0.0.1
  labels:
    app: svc-{i}
""".format(i=i, port=upstream_port))
        else:
            svc.append("""apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: se-{i}
spec:
  hosts:
  - svc-{i}.bench.external
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - number: 80
    name: http
    protocol: HTTP
  endpoints:
  - address: 127.0.0.1
    ports:
      http: {port}
""".format(i=i, port=upstream_port))
    _write_chunks(dest, "virtualservices", vs)
    _write_chunks(dest, "services", svc)
    objects = 3 + n + n + (n + 1) // 2  # gateway, upstream Service+WE, VS, Service/SE, WE
    return {"host": "h%d.bench.example" % (n - 1), "path": "/", "objects": objects}


def routes(dest, upstream_port, n):
    _base(dest, upstream_port, with_vs=False)
    lines = ["""apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: many-routes
spec:
  hosts:
  - "*"
  gateways:
  - bench-gateway
  http:
"""]
    for i in range(n):
        lines.append("""  - name: r{i}
    match:
    - uri:
        prefix: /r{i}/
    route:
    - destination:
        host: upstream
        port:
          number: 80
""".format(i=i))
    with open(os.path.join(dest, "virtualservice.yaml"), "w") as f:
        f.write("".join(lines))
    return {"host": "bench.example", "path": "/r%d/x" % (n - 1), "objects": 4}


def probe_virtualservice(k):
    """The object each config change adds: a new host, probe-<k>.bench.example."""
    return """apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: probe
spec:
  hosts:
  - probe-{k}.bench.example
  gateways:
  - bench-gateway
  http:
  - route:
    - destination:
        host: upstream
        port:
          number: 80
""".format(k=k)
