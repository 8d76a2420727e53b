"""Shared helpers for the DestinationRule traffic-policy e2e tests
(test_load_balancing, test_circuit_breaking, test_outlier, test_locality)."""

import collections
import json
import textwrap
import urllib.request

import requests

import harness

CLUSTER = "outbound|80||echo.default.svc.cluster.local"


def endpoints(ups, locality=None, weights=None):
    """Service `echo` + one WorkloadEntry per upstream (labels app=echo, name=<upstream name>)."""
    docs = [harness.service("echo", port=80)]
    for i, up in enumerate(ups):
        extra = ""
        if locality:
            extra += "\n  locality: %s" % locality[i]
        if weights:
            extra += "\n  weight: %d" % weights[i]
        docs.append(harness.workload_entry("echo-%s" % up.name, up.host, {"app": "echo", "name": up.name},
                                           {"http": up.port}).rstrip("\n") + extra + "\n")
    return harness.yaml_docs(*docs)


def vs(rules=""):
    """The VirtualService routing every host on gateway gw to `echo`; `rules`: http rules
    (YAML list items, unindented) matched before that catch-all route."""
    extra = textwrap.indent(textwrap.dedent(rules).strip("\n"), "  ") + "\n" if rules else ""
    return textwrap.dedent("""\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: echo
        spec:
          hosts: ["*"]
          gateways: [gw]
          http:
        """) + extra + "  - route:\n    - destination: {host: echo, port: {number: 80}}\n"


def dr(traffic_policy_yaml, name="echo"):
    """A DestinationRule for `echo` with the given trafficPolicy body (YAML, unindented)."""
    body = textwrap.indent(textwrap.dedent(traffic_policy_yaml).strip("\n"), "    ")
    return ("apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata:\n  name: %s\n"
            "spec:\n  host: echo\n  trafficPolicy:\n%s\n" % (name, body))


def manifests(ups, policy, rules="", **kw):
    return {"gw.yaml": harness.gateway("gw"), "backends.yaml": endpoints(ups, **kw), "vs.yaml": vs(rules),
            "dr.yaml": dr(policy)}


def count(t, n, headers=None, session=None, path="/lb"):
    counts = collections.Counter()
    s = session or requests.Session()
    for i in range(n):
        r = s.get(t.url("%s/%d" % (path, i)), headers=headers, timeout=30)
        counts[r.json()["name"] if r.status_code == 200 else r.status_code] += 1
    return counts


def control(up, what="stats", **params):
    """GET /__control/<what> on an echo upstream directly (not through torii)."""
    q = "&".join("%s=%s" % kv for kv in params.items())
    with urllib.request.urlopen("%s/__control/%s%s" % (up.url, what, "?" + q if q else ""), timeout=10) as r:
        return json.loads(r.read())


def clusters_json(t):
    r = requests.get(t.admin + "/clusters?format=json", timeout=10)
    r.raise_for_status()
    return {c["name"]: c for c in r.json()["clusters"]}


def cluster_stat(t, stat, cluster=CLUSTER):
    return t.stats().get("cluster.%s.%s" % (cluster, stat), 0)
