"""Many clients at once (DESIGN "workers share nothing"; ISTIO_SEMANTICS.md §4.1
keep-alive defaults, §5.3 load balancing across endpoints).

200 keep-alive clients, each on its own connection, all connected at the same
time, each sending several requests; every response must be a 200 that
belongs to that client's request (no mixed-up responses).
"""

import collections
import threading
import time

import pytest
import requests

import harness

CLIENTS = 200
REQUESTS_EACH = 10


@pytest.fixture(scope="module")
def pair(module_upstreams):
    return module_upstreams.echo("c1", host="127.0.0.7"), module_upstreams.echo("c2", host="127.0.0.8")


VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: echo
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route:
    - destination: {host: echo, port: {number: 80}}
"""


@pytest.fixture
def gw(pair, torii):
    c1, c2 = pair
    backends = harness.yaml_docs(
        harness.service("echo", port=80),
        harness.workload_entry("echo-c1", c1.host, {"app": "echo"}, {"http": c1.port}),
        harness.workload_entry("echo-c2", c2.host, {"app": "echo"}, {"http": c2.port}),
    )
    return torii({"gw.yaml": harness.gateway("gw"), "echo.yaml": backends, "vs.yaml": VS})


def run_threads(n, target):
    errors = []
    lock = threading.Lock()

    def wrapper(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append("client %d: %r" % (i, e))

    threads = [threading.Thread(target=wrapper, args=(i,), daemon=True) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)
    alive = sum(th.is_alive() for th in threads)
    assert not alive, "%d client threads still running after 300 s" % alive
    return errors


def test_200_concurrent_keepalive_clients(gw):
    """200 connections open at once, 10 requests each, all 200 and each answer matches its request."""
    barrier = threading.Barrier(CLIENTS, timeout=120)
    backends = collections.Counter()
    lock = threading.Lock()
    cx_before = gw.stat("downstream_cx_total")

    def client(i):
        with requests.Session() as s:
            for j in range(REQUESTS_EACH):
                path = "/c/%d/%d" % (i, j)
                r = s.post(gw.url(path), data=("client %d request %d" % (i, j)).encode(),
                           headers={"X-Client": str(i)}, timeout=60)
                assert r.status_code == 200, (path, r.status_code, r.text[:200])
                doc = r.json()
                assert doc["path"] == path, (path, doc["path"])
                assert harness.header_dict(doc).get("x-client") == str(i)
                assert doc["body_length"] == len("client %d request %d" % (i, j))
                with lock:
                    backends[doc["name"]] += 1
                if j == 0:
                    barrier.wait()  # every client holds an open connection here

    start = time.monotonic()
    errors = run_threads(CLIENTS, client)
    elapsed = time.monotonic() - start
    assert not errors, "%d clients failed, e.g.:\n%s" % (len(errors), "\n".join(errors[:10]))
    assert sum(backends.values()) == CLIENTS * REQUESTS_EACH
    # both endpoints of the Service take part (default LB, §5.3)
    assert set(backends) == {"c1", "c2"}, backends
    assert min(backends.values()) > 0.2 * CLIENTS * REQUESTS_EACH, backends
    # keep-alive: one downstream connection per client
    ok, _ = harness.poll_until(lambda: gw.stat("downstream_cx_total") - cx_before == CLIENTS, 2)
    assert ok, "downstream_cx_total grew by %d for %d keep-alive clients" % (
        gw.stat("downstream_cx_total") - cx_before, CLIENTS)
    print("%d requests from %d concurrent clients in %.1f s" % (CLIENTS * REQUESTS_EACH, CLIENTS, elapsed))


def test_slow_requests_are_served_concurrently(gw):
    """100 requests that each take 1 s upstream finish together, not one after another."""
    n = 100

    def client(i):
        r = requests.get(gw.url("/slow/%d?sleep_ms=1000" % i), timeout=60)
        assert r.status_code == 200
        assert r.json()["path"] == "/slow/%d?sleep_ms=1000" % i

    start = time.monotonic()
    errors = run_threads(n, client)
    elapsed = time.monotonic() - start
    assert not errors, "\n".join(errors[:10])
    assert elapsed < 10, "100 concurrent 1 s requests took %.1f s" % elapsed
