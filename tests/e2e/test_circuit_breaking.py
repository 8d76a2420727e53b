"""DestinationRule connectionPool circuit breakers through the real binary (ISTIO_SEMANTICS §5.5, §8).

The upstream measures its own concurrency (echo /__control/stats max_active), so
"no more than the configured concurrency" is checked where it matters.
"""

import concurrent.futures
import time

import requests

import harness
from traffic_policy_util import CLUSTER, cluster_stat, control, dr, manifests


def burst(t, clients, path="/cb"):
    """`clients` concurrent requests, each on its own connection; [(status, headers, body, seconds)]."""

    def one(i):
        start = time.monotonic()
        r = requests.get(t.url("%s/%d" % (path, i)), headers={"Connection": "close"}, timeout=30)
        return r.status_code, r.headers, r.text, time.monotonic() - start

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(clients)))


def test_pending_and_connection_limits_overflow_at_once(upstreams, torii):
    """maxConnections 1 + http1MaxPendingRequests 1 + maxRequestsPerConnection 1, 20 concurrent
    clients against a 3 s upstream: the overflow gets 503 + x-envoy-overloaded at once, and
    the upstream never sees more than one request at a time. (3 s: the 20 clients overlap even
    when a loaded machine starts them slowly, and "at once" has seconds of room.)"""
    slow = upstreams.echo("slow", host="127.0.0.31", extra_args=("--delay-ms", "3000"))
    policy = """connectionPool:
  tcp: {maxConnections: 1}
  http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}"""
    t = torii(manifests([slow], policy))
    control(slow, "reset")
    results = burst(t, 20)
    ok = [r for r in results if r[0] == 200]
    overflow = [r for r in results if r[0] == 503]
    assert ok and overflow, [r[0] for r in results]
    for status, headers, body, seconds in overflow:
        assert headers.get("x-envoy-overloaded") == "true"
        assert body == "upstream connect error or disconnect/reset before headers. reset reason: overflow"
        assert seconds < 2.0, seconds  # immediate: nothing queued behind the 3 s request
    assert control(slow)["max_active"] == 1
    assert cluster_stat(t, "upstream_cx_overflow") + cluster_stat(t, "upstream_rq_pending_overflow") >= len(overflow)
    # maxRequestsPerConnection 1: every upstream connection served one request
    assert cluster_stat(t, "upstream_cx_max_requests") == len(ok)


def test_max_requests_is_per_gateway_across_workers(upstreams, torii):
    """http2MaxRequests 3 with 2 workers: at most 3 requests reach the upstream at once, in total."""
    slow = upstreams.echo("slow", host="127.0.0.32", extra_args=("--delay-ms", "3000"))  # the 20 overlap
    t = torii(manifests([slow], "connectionPool: {http: {http2MaxRequests: 3}}"), extra_args=("--workers", "2"))
    control(slow, "reset")
    results = burst(t, 20)
    codes = [r[0] for r in results]
    assert 1 <= codes.count(200) and codes.count(503) >= 1, codes
    assert all(r[1].get("x-envoy-overloaded") == "true" for r in results if r[0] == 503)
    assert control(slow)["max_active"] <= 3
    # a second wave after the first has finished is admitted again (slots were given back)
    assert all(r[0] == 200 for r in burst(t, 3)), "slots leaked"


def test_counters_survive_a_reload_that_keeps_the_cluster(upstreams, torii):
    """cluster.<name>.* counters live in state keyed by cluster name: a reload that keeps the
    cluster (and changes its limits) does not reset them."""
    up = upstreams.echo("a", host="127.0.0.33")
    t = torii(manifests([up], "connectionPool: {http: {http2MaxRequests: 100}}"))
    with requests.Session() as s:
        for i in range(10):
            assert s.get(t.url("/c/%d" % i), timeout=10).status_code == 200
    assert cluster_stat(t, "upstream_rq_total") == 10
    t.write("dr.yaml", dr("connectionPool: {http: {http2MaxRequests: 50}}"))
    ok, _ = harness.poll_until(lambda: any(c["traffic_policy"]["circuit_breakers"]["max_requests"] == 50
                                           for c in t.config_dump()["snapshot"]["clusters"]), 5)
    assert ok
    assert requests.get(t.url("/c/after"), timeout=10).status_code == 200
    assert cluster_stat(t, "upstream_rq_total") == 11
    assert cluster_stat(t, "upstream_rq_2xx") == 11
    assert cluster_stat(t, "circuit_breakers.default.rq_active") == 0
    text = requests.get(t.admin + "/clusters", timeout=10).text
    assert CLUSTER + "::default_priority::max_requests::50" in text
