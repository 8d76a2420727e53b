"""Weighted routing (ISTIO_SEMANTICS.md §3.5, Appendix B 8).

Two echo backends, "a" and "b"; each echo reply names the backend, so the
split is counted exactly over 1000 requests on one keep-alive connection
(Envoy picks a weighted cluster per request, not per connection).
"""

import collections
import textwrap

import pytest
import requests

import harness

N = 1000
TOLERANCE = 0.05  # ±5 percentage points of N


@pytest.fixture(scope="module")
def ab(module_upstreams):
    return module_upstreams.echo("a", host="127.0.0.4"), module_upstreams.echo("b", host="127.0.0.5")


def two_services(a, b):
    return harness.yaml_docs(harness.backend(a, "svc-a"), harness.backend(b, "svc-b"))


def two_subsets(a, b):
    return harness.yaml_docs(
        harness.service("echo", port=80),
        harness.workload_entry("echo-a", a.host, {"app": "echo", "version": "v1"}, {"http": a.port}),
        harness.workload_entry("echo-b", b.host, {"app": "echo", "version": "v2"}, {"http": b.port}),
        """
        apiVersion: networking.istio.io/v1alpha3
        kind: DestinationRule
        metadata:
          name: echo
        spec:
          host: echo
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
        """,
    )


def vs(destinations):
    """destinations: [(host, subset or None, weight or None)]"""
    lines = []
    for host, subset, weight in destinations:
        d = "    - destination: {host: %s, port: {number: 80}%s}" % (host, ", subset: %s" % subset if subset else "")
        lines.append(d)
        if weight is not None:
            lines.append("      weight: %d" % weight)
    return textwrap.dedent("""\
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: split
        spec:
          hosts: ["*"]
          gateways: [gw]
          http:
          - route:
        """) + "\n".join(lines) + "\n"


def count(t, n=N):
    counts = collections.Counter()
    with requests.Session() as s:
        for i in range(n):
            r = s.get(t.url("/split/%d" % i), timeout=30)
            assert r.status_code == 200, r.text[:200]
            counts[r.json()["name"]] += 1
    return counts


def assert_share(counts, name, expected_fraction):
    total = sum(counts.values())
    got = counts.get(name, 0) / total
    assert abs(got - expected_fraction) <= TOLERANCE, \
        "%s got %.1f%% of %d requests, expected %.0f%% ±%.0f (%s)" % (
            name, 100 * got, total, 100 * expected_fraction, 100 * TOLERANCE, dict(counts))


CASES = {
    # id: (backends builder, destinations, expected share of "a")
    "80-20-services": (two_services, [("svc-a", None, 80), ("svc-b", None, 20)], 0.80),
    "80-20-subsets": (two_subsets, [("echo", "v1", 80), ("echo", "v2", 20)], 0.80),
    "relative-1-3": (two_services, [("svc-a", None, 1), ("svc-b", None, 3)], 0.25),  # App. B 8: no sum-to-100
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_weighted_split(ab, torii, case):
    """80/20 across two Services or two subsets, and relative weights 1:3 => 25/75, ±5% over 1000 requests."""
    a, b = ab
    builder, dests, share_a = CASES[case]
    t = torii({"gw.yaml": harness.gateway("gw"), "backends.yaml": builder(a, b), "vs.yaml": vs(dests)})
    counts = count(t)
    assert set(counts) <= {"a", "b"}
    assert_share(counts, "a", share_a)
    assert_share(counts, "b", 1 - share_a)


def test_zero_weight_gets_nothing(ab, torii):
    """Appendix B 8: [{w:0},{w:100}] sends everything to the second destination."""
    a, b = ab
    t = torii({"gw.yaml": harness.gateway("gw"), "backends.yaml": two_services(a, b),
               "vs.yaml": vs([("svc-a", None, 0), ("svc-b", None, 100)])})
    counts = count(t, 200)
    assert counts == {"b": 200}


def test_single_destination_weight_is_100_percent(ab, torii):
    """Appendix B 8: a single destination with weight 10 gets all the traffic."""
    a, b = ab
    t = torii({"gw.yaml": harness.gateway("gw"), "backends.yaml": two_services(a, b),
               "vs.yaml": vs([("svc-a", None, 10)])})
    assert count(t, 100) == {"a": 100}


def test_weights_edited_live(ab, torii, measure):
    """Changing the weights in the file takes effect within a second, on the same keep-alive connection."""
    a, b = ab
    t = torii({"gw.yaml": harness.gateway("gw"), "backends.yaml": two_services(a, b),
               "vs.yaml": vs([("svc-a", None, 100), ("svc-b", None, 0)])})
    s = requests.Session()
    assert s.get(t.url("/x"), timeout=30).json()["name"] == "a"
    t.write("vs.yaml", vs([("svc-a", None, 0), ("svc-b", None, 100)]))

    def all_b():
        return all(s.get(t.url("/x"), timeout=5).json()["name"] == "b" for _ in range(5))
    ok, elapsed = harness.poll_until(all_b, harness.RELOAD_TIMEOUT)
    measure("weights 100/0 -> 0/100", elapsed)
    assert ok, t.describe()
    assert count(t, 100) == {"b": 100}
