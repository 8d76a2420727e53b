"""Process lifecycle and the admin endpoint: /ready, /stats, /config_dump, SIGTERM drain.

ISTIO_SEMANTICS.md §0.8 (cluster names), §8 (NR/NC counters), §10 #18 and
Appendix C (graceful shutdown, terminationDrainDuration 5 s).
"""

import json
import signal
import socket
import threading
import time

import pytest
import requests

import harness


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("life", host="127.0.0.10")


VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: life
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /e}}]
    route:
    - destination: {host: echo, port: {number: 80}}
  - match: [{uri: {prefix: /delay}}]
    route:
    - destination: {host: httpbin, port: {number: 8000}}
"""


def manifests(echo, httpbin=None):
    files = {"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"), "vs.yaml": VS}
    if httpbin is not None:
        files["httpbin.yaml"] = harness.yaml_docs(
            harness.service("httpbin", port=8000, target_port=80),
            harness.workload_entry("httpbin-1", httpbin.host, {"app": "httpbin"}, {"http": httpbin.port}))
    return files


# --------------------------------------------------------------------------------------
# /ready


def test_ready_only_once_listeners_accept(echo, torii):
    """/ready turns 200 only when the gateway port accepts connections."""
    t = torii(manifests(echo), wait_ready=False)
    ok, _ = harness.poll_until(lambda: t.ready_status() == 200, harness.READY_TIMEOUT, interval=0.01)
    assert ok, t.describe()
    with socket.create_connection(("127.0.0.1", t.listen_port), timeout=5):
        pass
    assert t.get("/e/ready").status_code == 200


def test_ready_is_503_while_a_listener_cannot_bind(echo, torii):
    """A listener that cannot be bound (port taken) keeps /ready at 503, says why, and does
    not kill the process."""
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("0.0.0.0", 0))  # no SO_REUSEPORT: Torii's bind must fail
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        t = torii(manifests(echo), port_map={80: port}, wait_ready=False)
        # Once the config is loaded and the bind was tried, /ready says why it is 503.
        said, _ = harness.poll_until(lambda: str(port) in requests.get(t.admin + "/ready", timeout=5).text,
                                     harness.READY_TIMEOUT)
        assert said, "/ready never named port %d\n%s" % (port, t.describe())
        for _ in range(5):
            assert t.ready_status() == 503, t.describe()
            time.sleep(0.1)
        ready = requests.get(t.admin + "/ready", timeout=5)
        dump = json.dumps(t.config_dump())
        assert str(port) in ready.text or str(port) in dump, (ready.text, dump[:2000])
        assert t.alive()
    finally:
        blocker.close()


# --------------------------------------------------------------------------------------
# /stats and /config_dump


def test_stats_counters_move(echo, torii):
    """/stats counters (Envoy names) count proxied 2xx, local 404 NR and 503 NC replies."""
    files = manifests(echo)
    files["vs.yaml"] = VS + """\
  - match: [{uri: {prefix: /nc}}]
    route:
    - destination: {host: nosuch, port: {number: 80}}
"""
    t = torii(files)
    before = t.stats()
    for name in ("downstream_rq_2xx", "no_route", "downstream_rq_total"):
        assert name in before, "counter %s missing from /stats:\n%s" % (name, sorted(before))
    for i in range(3):
        assert t.get("/e/%d" % i).status_code == 200
    for i in range(2):
        assert t.get("/nothing/%d" % i).status_code == 404
    assert t.get("/nc").status_code == 503

    expected = {"downstream_rq_2xx": 3, "downstream_rq_4xx": 2, "downstream_rq_5xx": 1,
                "no_route": 2, "no_cluster": 1, "downstream_rq_total": 6}

    def deltas():
        now = t.stats()
        return {k: now.get(k, 0) - before.get(k, 0) for k in expected}
    ok, _ = harness.poll_until(lambda: deltas() == expected, 3)
    assert ok, "stat deltas %s, expected %s" % (deltas(), expected)
    now = t.stats()
    assert now.get("upstream_rq_total", 0) - before.get("upstream_rq_total", 0) >= 3


def test_stats_filter_as_envoy(echo, torii):
    """/stats?filter=REGEX keeps the lines whose name the RE2 regex matches (partially, as
    Envoy's filter); an empty filter keeps all; a bad regex is 400."""
    t = torii(manifests(echo))
    everything = requests.get(t.admin + "/stats", timeout=10).text
    r = requests.get(t.admin + "/stats", params={"filter": "^snapshot_(version|clusters)$"}, timeout=10)
    assert r.status_code == 200
    assert [line.split(":")[0] for line in r.text.splitlines()] == ["snapshot_version", "snapshot_clusters"]
    # An anchored filter that no cluster line can match skips rendering them
    # (admin/stats_filter.h); one that can still gets every cluster line.
    only = requests.get(t.admin + "/stats", params={"filter": "^snapshot_clusters$"}, timeout=10).text
    assert [line.split(":")[0] for line in only.splitlines()] == ["snapshot_clusters"]
    cluster_lines = [line for line in everything.splitlines() if line.startswith("cluster.")]
    assert cluster_lines
    anchored = requests.get(t.admin + "/stats", params={"filter": "^cluster\\."}, timeout=10).text
    assert anchored.splitlines() == cluster_lines
    partial = requests.get(t.admin + "/stats", params={"filter": "rq_2xx"}, timeout=10).text.splitlines()
    assert partial and all("rq_2xx" in line.split(":")[0] for line in partial)
    assert "downstream_rq_2xx: 0" in partial
    assert requests.get(t.admin + "/stats?filter=", timeout=10).text.count("\n") == everything.count("\n")
    bad = requests.get(t.admin + "/stats", params={"filter": "(unclosed"}, timeout=10)
    assert bad.status_code == 400 and "Invalid re2 regex" in bad.text


def test_config_dump_shows_resources_and_clusters(echo, torii):
    """/config_dump is JSON naming the objects in force and Istio-named clusters (§0.8)."""
    t = torii(manifests(echo))
    dump = t.config_dump()
    text = json.dumps(dump)
    for needle in ("life", "outbound|80||echo.default.svc.cluster.local", str(echo.port)):
        assert needle in text, needle


def test_config_reload_counter(echo, torii, measure):
    """An edit is picked up without restart; the reload is counted."""
    t = torii(manifests(echo))
    reloads = t.stat("config_reloads")
    t.write("vs.yaml", VS.replace("prefix: /e}", "prefix: /f}"))
    ok, elapsed = harness.poll_until(lambda: t.get("/f/x", timeout=5).status_code == 200, harness.RELOAD_TIMEOUT)
    measure("VS edit -> new prefix served", elapsed)
    assert ok, t.describe()
    assert t.get("/e/x").status_code == 404
    assert t.stat("config_reloads") > reloads


# --------------------------------------------------------------------------------------
# SIGTERM


def test_sigterm_lets_in_flight_request_finish(echo, httpbin, torii):
    """SIGTERM during an in-flight /delay/2: the request completes with 200, then exit 0."""
    t = torii(manifests(echo, httpbin))
    assert t.get("/delay/0").status_code == 200
    result = {}

    def slow():
        start = time.monotonic()
        try:
            r = requests.get(t.url("/delay/2"), timeout=30)
            result["status"] = r.status_code
        except requests.RequestException as e:
            result["error"] = repr(e)
        result["elapsed"] = time.monotonic() - start

    th = threading.Thread(target=slow, daemon=True)
    th.start()
    # SIGTERM once the request is at httpbin (the /delay/0 above was the first).
    at_httpbin, _ = harness.poll_until(lambda: t.stat("upstream_rq_total") >= 2, 10)
    assert at_httpbin, t.describe()
    sent = time.monotonic()
    t.proc.signal(signal.SIGTERM)
    th.join(30)
    assert not th.is_alive()
    assert result.get("status") == 200, (result, t.describe())
    assert result["elapsed"] >= 2.0
    try:
        rc = t.proc.popen.wait(10)
    except Exception:  # noqa: BLE001
        pytest.fail("torii still running 10 s after the drained request finished\n" + t.describe())
    t.stopped_by_test = True
    assert rc == 0, t.describe()
    assert time.monotonic() - sent < 12


def test_sigterm_when_idle_exits_promptly(echo, torii):
    """With nothing in flight (one idle keep-alive connection open), SIGTERM exits 0 at once:
    the idle connection does not hold the drain (60 s here) open."""
    t = torii(manifests(echo), extra_args=("--drain-timeout-s", "60"))
    s = requests.Session()
    assert s.get(t.url("/e/idle"), timeout=30).status_code == 200
    start = time.monotonic()
    rc = t.stop()
    t.stopped_by_test = True
    assert rc == 0, t.describe()
    assert time.monotonic() - start < 30, "took %.1f s" % (time.monotonic() - start)


def test_sigterm_drain_is_bounded(echo, httpbin, torii):
    """A request longer than the drain timeout (terminationDrainDuration; 2 s here) does not
    keep the process alive: it exits 0 after the drain time, well before the request's 10 s."""
    t = torii(manifests(echo, httpbin), extra_args=("--drain-timeout-s", "2"))
    th = threading.Thread(target=lambda: _quiet_get(t.url("/delay/10")), daemon=True)
    th.start()
    at_httpbin, _ = harness.poll_until(lambda: t.stat("upstream_rq_total") >= 1, 10)
    assert at_httpbin, t.describe()
    start = time.monotonic()
    rc = t.stop(timeout=20)
    t.stopped_by_test = True
    elapsed = time.monotonic() - start
    assert rc == 0, t.describe()
    assert elapsed < 9, "exit took %.1f s" % elapsed


def _quiet_get(url):
    try:
        requests.get(url, timeout=30)
    except requests.RequestException:
        pass
