"""DestinationRule connectionPool circuit breakers through the real binary (ISTIO_SEMANTICS §5.5, §8).

As in Envoy, a request that finds no free connection waits in the endpoint's
pending queue (per worker) for one: a pooled connection that frees up, or a
new one once fewer than tcp.maxConnections are open. Beyond
http1MaxPendingRequests waiting requests (per cluster, across workers) it gets
503 + x-envoy-overloaded at once (UO). http2MaxRequests is checked when a
connection comes for the request.

The echo upstream measures its own concurrency (/__control/stats max_active),
and `?hold=<h>` keeps a request in flight until the test releases it, so
"one request in flight, one queued" is a state the test sets up, not a race.
"""

import concurrent.futures
import socket
import struct
import textwrap
import threading
import time

import requests

import harness
from traffic_policy_util import CLUSTER, cluster_stat, control, dr, manifests

OVERFLOW_BODY = "upstream connect error or disconnect/reset before headers. reset reason: overflow"

# Istio's circuit-breaking task (tasks/traffic-management/circuit-breaking), as written.
ISTIO_TASK_POLICY = """\
connectionPool:
  tcp:
    maxConnections: 1
  http:
    http1MaxPendingRequests: 1
    maxRequestsPerConnection: 1
outlierDetection:
  consecutive5xxErrors: 1
  interval: 1s
  baseEjectionTime: 3m
  maxEjectionPercent: 100"""

ONE_AND_ONE = """connectionPool:
  tcp: {maxConnections: 1}
  http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}"""


def burst(t, clients, path="/cb"):
    """`clients` concurrent requests, each on its own connection; [(status, headers, body, seconds)]."""

    def one(i):
        start = time.monotonic()
        r = requests.get(t.url("%s/%d" % (path, i)), headers={"Connection": "close"}, timeout=30)
        return r.status_code, r.headers, r.text, time.monotonic() - start

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(clients)))


def fortio(t, connections, calls, path="/get"):
    """fortio load -c <connections> -qps 0 -n <calls>: each connection a keep-alive
    session sending its share of the calls one after the other; [(status, headers, body)]."""
    start = threading.Barrier(connections)

    def worker(c):
        out = []
        with requests.Session() as s:
            start.wait()
            for i in range(calls // connections):
                r = s.get(t.url("%s?c=%d&i=%d" % (path, c, i)), timeout=30)
                out.append((r.status_code, r.headers, r.text))
        return out

    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        return [r for rs in pool.map(worker, range(connections)) for r in rs]


def fortio_successes(t, connections, calls):
    """Runs fortio(); every answer is 200 or 503 UO. Returns how many were 200."""
    results = fortio(t, connections, calls)
    assert len(results) == calls
    for r in results:
        if r[0] != 200:
            assert_overflow(*r)
    return sum(1 for r in results if r[0] == 200)


def assert_overflow(status, headers, body):
    assert status == 503, (status, body)
    assert headers.get("x-envoy-overloaded") == "true", dict(headers)
    assert body == OVERFLOW_BODY


def overflowed(response):
    assert_overflow(response.status_code, response.headers, response.text)


def get_async(pool, t, path):
    return pool.submit(lambda: requests.get(t.url(path), headers={"Connection": "close"}, timeout=30))


def wait_stat(t, stat, value, cluster=CLUSTER):
    ok, _ = harness.poll_until(lambda: cluster_stat(t, stat, cluster) == value, 10)
    assert ok, "%s never reached %s (now %s)" % (stat, value, cluster_stat(t, stat, cluster))


def wait_active(up, n):
    ok, _ = harness.poll_until(lambda: control(up)["active"] == n, 10)
    assert ok, "the upstream never had %d request(s) in flight" % n


def release(up, hold="first"):
    control(up, "release", hold=hold)


def in_flight(pool, t, up, path="/a"):
    """A request that holds the only connection: kept at the upstream until release(up)."""
    future = get_async(pool, t, path + "?hold=first")
    wait_active(up, 1)
    return future


def enqueue(pool, t, path, waiting=1):
    """A request that waits in the queue (`waiting` requests wait with it)."""
    future = get_async(pool, t, path)
    wait_stat(t, "upstream_rq_pending_active", waiting)
    return future


def held_upstream(upstreams, torii, host, policy=ONE_AND_ONE, **kw):
    """An echo upstream and one Torii worker in front of it with `policy`."""
    up = upstreams.echo("held", host=host)
    t = torii(manifests([up], policy, **kw), extra_args=("--workers", "1"))
    control(up, "reset")
    return up, t


def test_beyond_the_queue_503_at_once_while_queued_requests_succeed(upstreams, torii):
    """maxConnections 1 + http1MaxPendingRequests 1: with one request in flight (held at the
    upstream) and one queued, every further request gets 503 UO at once; once the first
    finishes, the queued one gets the connection and succeeds."""
    up, t = held_upstream(upstreams, torii, "127.0.0.31")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = in_flight(pool, t, up, "/a")
        queued = enqueue(pool, t, "/b")
        for i in range(3):
            overflowed(requests.get(t.url("/over/%d" % i), timeout=30))
            # answered while the first request is still held: nothing waited for it
            assert not first.done() and not queued.done()
        time.sleep(0.05)  # the queued request waits at least this long
        release(up)
        assert first.result().status_code == 200
        assert queued.result().status_code == 200
    assert control(up)["max_active"] == 1
    assert control(up)["requests"] == 2  # the overflowed requests never reached it
    assert cluster_stat(t, "upstream_rq_pending_total") == 2
    assert cluster_stat(t, "upstream_rq_pending_overflow") == 3
    assert cluster_stat(t, "upstream_rq_pending_active") == 0
    assert cluster_stat(t, "upstream_cx_overflow") >= 1  # the queued request found the connection taken
    assert cluster_stat(t, "upstream_cx_max_requests") == 2
    assert cluster_stat(t, "circuit_breakers.default.rq_pending_active") == 0
    assert cluster_stat(t, "torii_rq_pending_wait_ms_max") >= 50
    assert cluster_stat(t, "torii_rq_pending_wait_ms_total") >= 50


def test_burst_of_clients_against_a_slow_upstream(upstreams, torii):
    """20 concurrent clients, maxConnections 1 + http1MaxPendingRequests 1 +
    maxRequestsPerConnection 1, a 300 ms upstream: the upstream never sees more than one
    request at a time, what fits the queue succeeds, the rest is 503 UO."""
    slow = upstreams.echo("slow", host="127.0.0.34", extra_args=("--delay-ms", "300"))
    t = torii(manifests([slow], ONE_AND_ONE), extra_args=("--workers", "1"))
    control(slow, "reset")
    results = burst(t, 20)
    ok = [r for r in results if r[0] == 200]
    overflow = [r for r in results if r[0] != 200]
    assert len(ok) >= 2 and overflow, [r[0] for r in results]
    for status, headers, body, _ in overflow:
        assert_overflow(status, headers, body)
    assert control(slow)["max_active"] == 1
    assert cluster_stat(t, "upstream_rq_pending_overflow") == len(overflow)
    assert cluster_stat(t, "upstream_rq_pending_total") == len(ok)
    # maxRequestsPerConnection 1: every upstream connection served one request
    assert cluster_stat(t, "upstream_cx_max_requests") == len(ok)
    assert cluster_stat(t, "upstream_rq_pending_active") == 0


def test_istio_circuit_breaking_task(upstreams, torii):
    """Istio's task: fortio -c 2 -n 20, then -c 3 -n 30, against the task's DestinationRule.
    Envoy lets most of the 2-connection run through (Istio's doc: 17 or 19 of 20) and trips
    on a good share of the 3-connection one (11 or 19 of 30 succeed, depending on the doc's
    version). One worker here (the task's sidecar has two, whose pools each may open a
    connection: more leeway). Overflow is not an upstream error: no ejection follows."""
    up = upstreams.echo("httpbin", host="127.0.0.35", extra_args=("--delay-ms", "20"))
    t = torii(manifests([up], ISTIO_TASK_POLICY), extra_args=("--workers", "1"))
    control(up, "reset")

    ok2 = fortio_successes(t, 2, 20)
    assert ok2 > 10, "most requests should pass with 2 connections: %d of 20" % ok2
    ok3 = fortio_successes(t, 3, 30)
    assert 0 < ok3 < 30, "3 connections over 1 connection + 1 queued must trip: %d of 30" % ok3

    assert control(up)["max_active"] == 1
    failed = (20 - ok2) + (30 - ok3)
    assert cluster_stat(t, "upstream_rq_pending_overflow") == failed
    assert cluster_stat(t, "upstream_rq_pending_total") == ok2 + ok3
    assert cluster_stat(t, "upstream_rq_pending_active") == 0
    assert cluster_stat(t, "upstream_rq_pending_failure_eject") == 0
    assert cluster_stat(t, "outlier_detection.ejections_total") == 0
    assert requests.get(t.url("/get"), timeout=10).status_code == 200


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
    assert cluster_stat(t, "circuit_breakers.default.rq_active") == 0
    assert cluster_stat(t, "upstream_rq_pending_active") == 0


# /timed: route timeout 500 ms; /pertry: perTryTimeout 200 ms; the rest: no policy.
POLICY_ROUTES = """\
- match: [{uri: {prefix: /timed}}]
  timeout: 500ms
  route: [{destination: {host: echo, port: {number: 80}}}]
- match: [{uri: {prefix: /pertry}}]
  retries: {attempts: 1, perTryTimeout: 200ms}
  route: [{destination: {host: echo, port: {number: 80}}}]"""


def test_route_timeout_ends_the_wait(upstreams, torii):
    """A queued request whose route timeout expires gets 504 `upstream request timeout` and
    leaves the queue; the upstream never sees it."""
    up, t = held_upstream(upstreams, torii, "127.0.0.36", rules=POLICY_ROUTES)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = in_flight(pool, t, up, "/slow")
        r = requests.get(t.url("/timed"), timeout=30)
        assert r.status_code == 504, r.text
        assert r.text == "upstream request timeout"
        assert cluster_stat(t, "upstream_rq_pending_active") == 0
        assert cluster_stat(t, "upstream_rq_cancelled") == 1
        assert cluster_stat(t, "upstream_rq_timeout") == 1
        assert cluster_stat(t, "circuit_breakers.default.rq_pending_active") == 0
        release(up)
        assert first.result().status_code == 200
    assert control(up)["requests"] == 1
    # its pending slot came back: a request waits again (and succeeds) rather than overflowing
    assert requests.get(t.url("/after"), timeout=10).status_code == 200


def test_per_try_timeout_starts_when_the_connection_comes(upstreams, torii):
    """Envoy arms the per-try timeout in onPoolReady: time in the queue does not count. A
    request queued for longer than its 200 ms perTryTimeout still gets its one try."""
    up, t = held_upstream(upstreams, torii, "127.0.0.37", rules=POLICY_ROUTES)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = in_flight(pool, t, up, "/slow")
        queued = enqueue(pool, t, "/pertry")
        time.sleep(0.4)  # twice the per-try timeout, in the queue
        assert not queued.done()
        release(up)
        assert first.result().status_code == 200
        assert queued.result().status_code == 200
    assert t.stat("upstream_rq_per_try_timeout") == 0
    assert control(up)["requests"] == 2


def test_client_disconnect_leaves_the_queue(upstreams, torii):
    """A client that goes away (connection reset) while its request waits takes it out of the
    queue: the pending gauges go back to 0 and the upstream never sees it."""
    up, t = held_upstream(upstreams, torii, "127.0.0.38")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = in_flight(pool, t, up, "/a")
        gone = socket.create_connection(("127.0.0.1", t.listen_port), timeout=10)
        gone.sendall(b"GET /gone HTTP/1.1\r\nHost: echo\r\n\r\n")
        wait_stat(t, "upstream_rq_pending_active", 1)
        # Gone for good (RST). A FIN alone is a half-close, after which Torii
        # still answers a complete request (DownstreamConnection::on_eof).
        gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        gone.close()
        wait_stat(t, "upstream_rq_pending_active", 0)
        assert cluster_stat(t, "upstream_rq_cancelled") == 1
        assert cluster_stat(t, "circuit_breakers.default.rq_pending_active") == 0
        # its slot is free again: this one queues instead of overflowing
        queued = enqueue(pool, t, "/b")
        release(up)
        assert first.result().status_code == 200
        assert queued.result().status_code == 200
    paths = [e["path"] for e in requests.get(up.url + "/__log", timeout=10).json()]
    assert not any(p.startswith("/gone") for p in paths), paths
    assert cluster_stat(t, "upstream_rq_pending_overflow") == 0


def test_counters_survive_a_reload_that_keeps_the_cluster(upstreams, torii):
    """cluster.<name>.* counters and the circuit-breaker counts live in state keyed by cluster
    name: a reload that keeps the cluster (and changes its limits) resets neither, and the
    new limits apply at once, to the queue too."""
    up, t = held_upstream(upstreams, torii, "127.0.0.33",
                          ONE_AND_ONE.replace("maxRequestsPerConnection: 1", "http2MaxRequests: 100"))
    with requests.Session() as s:
        for i in range(10):
            assert s.get(t.url("/c/%d" % i), timeout=10).status_code == 200
    assert cluster_stat(t, "upstream_rq_total") == 10
    control(up, "reset")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        first = in_flight(pool, t, up, "/a")
        queued = enqueue(pool, t, "/b")
        overflowed(requests.get(t.url("/over"), timeout=10))
        # Room for two waiting requests from now on; the one waiting stays counted.
        t.write("dr.yaml", dr("""connectionPool:
  tcp: {maxConnections: 1}
  http: {http1MaxPendingRequests: 2, http2MaxRequests: 50}"""))
        ok, _ = harness.poll_until(lambda: any(c["traffic_policy"]["circuit_breakers"]["max_requests"] == 50
                                               for c in t.config_dump()["snapshot"]["clusters"]), 5)
        assert ok
        assert cluster_stat(t, "upstream_rq_pending_active") == 1
        assert cluster_stat(t, "circuit_breakers.default.rq_pending_active") == 1
        second = enqueue(pool, t, "/c", waiting=2)
        release(up)
        assert [f.result().status_code for f in (first, queued, second)] == [200, 200, 200]
    assert cluster_stat(t, "upstream_rq_total") == 13
    assert cluster_stat(t, "upstream_rq_2xx") == 13
    assert cluster_stat(t, "upstream_rq_pending_overflow") == 1
    assert cluster_stat(t, "upstream_rq_pending_active") == 0
    assert cluster_stat(t, "circuit_breakers.default.rq_active") == 0
    assert cluster_stat(t, "circuit_breakers.default.rq_pending_active") == 0
    text = requests.get(t.admin + "/clusters", timeout=10).text
    assert CLUSTER + "::default_priority::max_requests::50" in text
    assert CLUSTER + "::default_priority::max_pending_requests::2" in text
