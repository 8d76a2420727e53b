"""DestinationRule loadBalancer through the real binary (ISTIO_SEMANTICS §5.3).

Three echo upstreams behind one Service; every echo reply names its backend.
"""

import collections
import concurrent.futures
import re

import pytest
import requests

from traffic_policy_util import CLUSTER, count, dr, manifests

N = 1000


@pytest.fixture(scope="module")
def three(module_upstreams):
    return [module_upstreams.echo(n, host="127.0.0.%d" % (21 + i)) for i, n in enumerate(("a", "b", "c"))]


def test_round_robin_spreads_evenly(three, torii):
    """ROUND_ROBIN: each of 3 endpoints gets 1/3 ±5% of 1000 requests; /config_dump shows the policy."""
    t = torii(manifests(three, "loadBalancer: {simple: ROUND_ROBIN}"))
    counts = count(t, N)
    assert set(counts) == {"a", "b", "c"}, counts
    for name in "abc":
        assert abs(counts[name] / N - 1 / 3) <= 0.05, counts
    cluster = next(c for c in t.config_dump()["snapshot"]["clusters"] if c["name"] == CLUSTER)
    assert cluster["traffic_policy"]["load_balancer"]["policy"] == "ROUND_ROBIN"
    assert cluster["traffic_policy"]["source"] == "DestinationRule default/echo"


def test_weighted_round_robin_and_random(module_upstreams, three, torii):
    """WorkloadEntry weights 1:3 are honoured by ROUND_ROBIN (exactly) and RANDOM (±5%)."""
    a, b = three[0], three[1]
    t = torii(manifests([a, b], "loadBalancer: {simple: ROUND_ROBIN}", weights=[1, 3]))
    counts = count(t, 400)
    assert counts["b"] == 300 and counts["a"] == 100, counts
    t.write("dr.yaml", dr("loadBalancer: {simple: RANDOM}"))
    import harness
    harness.poll_until(lambda: any(c["traffic_policy"]["load_balancer"]["policy"] == "RANDOM"
                                   for c in t.config_dump()["snapshot"]["clusters"]), 5)
    counts = count(t, N)
    assert abs(counts["b"] / N - 0.75) <= 0.05, counts


def test_least_request_favours_the_fast_endpoint(module_upstreams, torii):
    """LEAST_REQUEST (the default): with 8 concurrent clients a 1 ms endpoint takes most of the
    traffic from a 150 ms one."""
    fast = module_upstreams.echo("fast", host="127.0.0.24")
    slow = module_upstreams.echo("slow", host="127.0.0.25", extra_args=("--delay-ms", "150"))
    t = torii(manifests([fast, slow], "loadBalancer: {simple: LEAST_REQUEST}"), extra_args=("--workers", "1"))

    def client(k):
        c = collections.Counter()
        with requests.Session() as s:
            for i in range(25):
                c[s.get(t.url("/lr/%d/%d" % (k, i)), timeout=30).json()["name"]] += 1
        return c

    total = collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for c in pool.map(client, range(8)):
            total.update(c)
    assert total["fast"] > 0.7 * sum(total.values()), total


def sticky(t, n=100, **kw):
    """Names of the backends that answered n requests with the same key."""
    return set(count(t, n, **kw))


@pytest.mark.parametrize("algorithm", ["ringHash: {minimumRingSize: 1024}", "maglev: {tableSize: 65537}"])
def test_header_hash_is_sticky_across_requests_and_reload(three, torii, algorithm):
    """consistentHash.httpHeaderName: one user -> one endpoint for 100 requests, different users
    spread, and the mapping survives a reload that keeps the endpoints."""
    t = torii(manifests(three, "loadBalancer:\n  consistentHash:\n    httpHeaderName: x-user\n    " + algorithm))
    mapping = {}
    for user in ("alice", "bob", "carol", "dave", "erin", "frank"):
        seen = sticky(t, 100 if user == "alice" else 20, headers={"x-user": user})
        assert len(seen) == 1, (user, seen)
        mapping[user] = seen.pop()
    assert len(set(mapping.values())) >= 2, mapping
    # A reload that changes something else (circuit breaker) keeps the mapping.
    t.write("dr.yaml", dr("loadBalancer:\n  consistentHash:\n    httpHeaderName: x-user\n    " + algorithm +
                          "\nconnectionPool: {tcp: {maxConnections: 100}}"))
    import harness
    harness.poll_until(lambda: any(c["traffic_policy"]["circuit_breakers"]["max_connections"] == 100
                                   for c in t.config_dump()["snapshot"]["clusters"]), 5)
    for user, name in mapping.items():
        assert sticky(t, 20, headers={"x-user": user}) == {name}, user


def test_cookie_is_generated_and_sticky(three, torii):
    """consistentHash.httpCookie with ttl: the gateway sets the cookie (path, Max-Age, attributes,
    HttpOnly) when absent; requests carrying it stick to one endpoint, also after a reload."""
    policy = """loadBalancer:
  consistentHash:
    httpCookie: {name: session, path: /app, ttl: 60s, attributes: [{name: SameSite, value: Strict}]}"""
    t = torii(manifests(three, policy))
    r = requests.get(t.url("/app"), timeout=10)
    assert r.status_code == 200
    set_cookie = r.headers.get("set-cookie", "")
    m = re.fullmatch(r'session="([0-9a-f]{16})"; Max-Age=60; Path=/app; SameSite=Strict; HttpOnly', set_cookie)
    assert m, set_cookie
    cookie = {"Cookie": 'session="%s"' % m.group(1)}
    first = r.json()["name"]
    assert sticky(t, 100, headers=cookie) == {first}
    # with the cookie, no new one is set
    assert "set-cookie" not in requests.get(t.url("/app"), headers=cookie, timeout=10).headers
    t.write("dr.yaml", dr(policy + "\nconnectionPool: {http: {maxRetries: 5}}"))
    import harness
    harness.poll_until(lambda: any(c["traffic_policy"]["circuit_breakers"]["max_retries"] == 5
                                   for c in t.config_dump()["snapshot"]["clusters"]), 5)
    assert sticky(t, 50, headers=cookie) == {first}
    # different cookie values spread over the endpoints
    names = {count(t, 1, headers={"Cookie": "session=v%d" % i}).most_common(1)[0][0] for i in range(30)}
    assert len(names) >= 2


def test_source_ip_and_query_parameter_hash(three, torii):
    """useSourceIp: one client address -> one endpoint; httpQueryParameterName: by the parameter."""
    t = torii(manifests(three, "loadBalancer: {consistentHash: {useSourceIp: true}}"))
    assert len(sticky(t, 100)) == 1
    t.write("dr.yaml", dr("loadBalancer: {consistentHash: {httpQueryParameterName: shard}}"))
    import harness
    harness.poll_until(lambda: any(c["traffic_policy"]["load_balancer"].get("hash", {}).get("kind") ==
                                   "query_parameter" for c in t.config_dump()["snapshot"]["clusters"]), 5)
    per_shard = {}
    for shard in range(12):
        seen = set(count(t, 10, path="/q?shard=%d&i=" % shard))
        assert len(seen) == 1, seen
        per_shard[shard] = seen.pop()
    assert len(set(per_shard.values())) >= 2
