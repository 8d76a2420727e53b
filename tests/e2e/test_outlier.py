"""DestinationRule outlierDetection through the real binary (ISTIO_SEMANTICS §5.6, §8)."""

import time

import requests

import harness
from traffic_policy_util import CLUSTER, cluster_stat, clusters_json, control, count, manifests

POLICY = """loadBalancer: {simple: ROUND_ROBIN}
outlierDetection:
  consecutive5xxErrors: 3
  interval: 500ms
  baseEjectionTime: 3s
  maxEjectionPercent: 100"""


def endpoint(t, up):
    c = clusters_json(t)[CLUSTER]
    return next(e for e in c["endpoints"] if e["address"] == "%s:%d" % (up.host, up.port))


def test_5xx_endpoint_is_ejected_then_returns(upstreams, torii):
    """An endpoint answering 503 gets exactly 3 requests (consecutive5xxErrors), then none while
    ejected (/clusters says so, ejections_active 1); after baseEjectionTime it gets traffic again."""
    good = upstreams.echo("good", host="127.0.0.41")
    bad = upstreams.echo("bad", host="127.0.0.42", extra_args=("--status", "503"))
    t = torii(manifests([good, bad], POLICY))
    control(bad, "reset")
    before_ejection = time.monotonic()
    counts = count(t, 40)
    assert counts[503] == 3, counts  # the three that tripped the detector
    assert control(bad)["requests"] == 3
    assert endpoint(t, bad)["health_flags"] == "/failed_outlier_check"
    assert endpoint(t, good)["health_flags"] == "healthy"
    assert cluster_stat(t, "outlier_detection.ejections_active") == 1
    assert cluster_stat(t, "outlier_detection.ejections_enforced_consecutive_5xx") == 1
    ejected_at = time.monotonic()
    # While ejected: no traffic at all.
    while time.monotonic() - ejected_at < 2.0:
        assert count(t, 5) == {"good": 5}
    assert control(bad)["requests"] == 3
    # baseEjectionTime 3 s (+ up to one 500 ms interval): back in rotation.
    ok, elapsed = harness.poll_until(lambda: count(t, 4)[503] > 0, 10.0, interval=0.1)
    assert ok, "bad endpoint never returned"
    # Ejected after before_ejection, so back no sooner than 3 s after it.
    assert time.monotonic() - before_ejection >= 3.0
    assert control(bad)["requests"] > 3


def test_second_ejection_lasts_longer(upstreams, torii):
    """baseEjectionTime x number of ejections: re-ejected soon after returning, the endpoint stays
    out about twice as long."""
    good = upstreams.echo("good", host="127.0.0.43")
    bad = upstreams.echo("bad", host="127.0.0.44", extra_args=("--status", "503"))
    # 5 s, then 10 s: the second ejection has more left than a first one could ever have,
    # with seconds to spare for a loaded machine between the ejection and the look.
    t = torii(manifests([good, bad], POLICY.replace("3s", "5s")))
    count(t, 20)
    assert endpoint(t, bad)["health_flags"] == "/failed_outlier_check"
    first = endpoint(t, bad)["ejection_time_left_ms"]
    assert 0 < first <= 5000
    returned, _ = harness.poll_until(lambda: count(t, 4)[503] > 0, 15.0, interval=0.05)
    assert returned
    count(t, 10)  # re-ejected after 3 more 503s
    e = endpoint(t, bad)
    assert e["health_flags"] == "/failed_outlier_check" and e["times_ejected"] == 2
    assert e["ejection_time_left_ms"] > 5000, e


def test_all_ejected_is_no_healthy_upstream(upstreams, torii):
    """Everything ejected and minHealthPercent 0 (Istio's default): 503 `no healthy upstream`."""
    bad = upstreams.echo("bad", host="127.0.0.45", extra_args=("--status", "500"))
    t = torii(manifests([bad], "outlierDetection: {consecutive5xxErrors: 2, baseEjectionTime: 30s}"))
    assert count(t, 2) == {500: 2}
    r = requests.get(t.url("/x"), timeout=10)
    assert r.status_code == 503 and r.text == "no healthy upstream"
    assert "x-envoy-overloaded" not in r.headers
    assert control(bad)["requests"] == 2


def test_panic_threshold_sends_to_ejected_endpoints(upstreams, torii):
    """minHealthPercent 50 with the only endpoint ejected: panic, traffic still reaches it."""
    bad = upstreams.echo("bad", host="127.0.0.46", extra_args=("--status", "500"))
    t = torii(manifests([bad], "outlierDetection: {consecutive5xxErrors: 2, baseEjectionTime: 30s, "
                               "minHealthPercent: 50}"))
    assert count(t, 5) == {500: 5}
    assert endpoint(t, bad)["health_flags"] == "/failed_outlier_check"
    assert cluster_stat(t, "lb_healthy_panic") >= 3


def test_connect_failures_count_as_errors(upstreams, torii):
    """Without splitExternalLocalOriginErrors a refused connection counts as a 503: an endpoint
    nobody listens on is ejected after consecutive5xxErrors, the rest keeps serving. Istio's
    default retry policy (connect-failure, 2 retries on another host) hides the failures from
    the client."""
    good = upstreams.echo("good", host="127.0.0.47")

    class Dead:
        name, host, port = "dead", "127.0.0.48", harness.reserve_port()

    t = torii(manifests([good, Dead], POLICY))
    counts = count(t, 30)
    assert counts == {"good": 30}, counts
    assert cluster_stat(t, "outlier_detection.ejections_active") == 1
