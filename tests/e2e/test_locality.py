"""Locality load balancing (ISTIO_SEMANTICS §5.4) with the gateway's --locality."""

import harness
from traffic_policy_util import clusters_json, CLUSTER, control, count, manifests

OUTLIER = """outlierDetection:
  consecutive5xxErrors: 2
  interval: 500ms
  baseEjectionTime: 30s
  maxEjectionPercent: 100"""


def test_failover_to_the_next_locality(upstreams, torii):
    """Same zone first; when its endpoint is ejected traffic moves to the same region's other
    zone, never to another region while that one is healthy."""
    local = upstreams.echo("local", host="127.0.0.51")
    zone_b = upstreams.echo("zoneb", host="127.0.0.52")
    other = upstreams.echo("other", host="127.0.0.53")
    t = torii(manifests([local, zone_b, other], OUTLIER, locality=["us/a/1", "us/b/1", "eu/a/1"]),
              extra_args=("--locality", "us/a/1"))
    prio = {e["address"].split(":")[0]: e["priority"] for e in clusters_json(t)[CLUSTER]["endpoints"]}
    assert prio == {"127.0.0.51": 0, "127.0.0.52": 1, "127.0.0.53": 2}, prio
    assert count(t, 50) == {"local": 50}
    control(local, "set", status=503)
    counts = count(t, 50)
    assert counts[503] == 2 and counts["zoneb"] == 48, counts
    assert control(other)["requests"] == 0


def test_failover_rule_picks_the_region(upstreams, torii):
    """failover from us to eu: with us ejected, eu gets the traffic, ap (not the `to`) none."""
    local = upstreams.echo("local", host="127.0.0.54")
    ap = upstreams.echo("ap", host="127.0.0.55")
    eu = upstreams.echo("eu", host="127.0.0.56")
    policy = OUTLIER + "\nloadBalancer:\n  localityLbSetting:\n    failover: [{from: us, to: eu}]"
    t = torii(manifests([local, ap, eu], policy, locality=["us/a/1", "ap/a/1", "eu/a/1"]),
              extra_args=("--locality", "us/a/1"))
    control(local, "set", status=503)
    counts = count(t, 40)
    assert counts[503] == 2 and counts["eu"] == 38, counts


def test_no_failover_without_outlier_detection(upstreams, torii):
    """As in Istio, priorities need outlier detection: without it all localities share traffic."""
    local = upstreams.echo("local", host="127.0.0.57")
    remote = upstreams.echo("remote", host="127.0.0.58")
    t = torii(manifests([local, remote], "loadBalancer: {simple: ROUND_ROBIN}", locality=["us/a/1", "eu/a/1"]),
              extra_args=("--locality", "us/a/1"))
    assert count(t, 40) == {"local": 20, "remote": 20}


def test_distribute_weights(upstreams, torii):
    """distribute from us/a/* to {us/a/*: 20, us/b/*: 80}: a 20/80 split (±5%)."""
    a = upstreams.echo("a", host="127.0.0.59")
    b = upstreams.echo("b", host="127.0.0.60")
    policy = """loadBalancer:
  simple: ROUND_ROBIN
  localityLbSetting:
    distribute:
    - from: us/a/*
      to: {"us/a/*": 20, "us/b/*": 80}"""
    t = torii(manifests([a, b], policy, locality=["us/a/1", "us/b/1"]), extra_args=("--locality", "us/a/1"))
    counts = count(t, 500)
    assert abs(counts["a"] / 500 - 0.2) <= 0.05, counts
