"""A 3-member etcd cluster (Debian's etcd-server on 127.0.0.1 ports, temp data dirs)
and 3 Torii replicas (docs/scale_out.md, issue 16): 50 applies served by all three
(change-to-serve p99 recorded), the etcd leader killed during applies (no apply
half-served, replicas converge), and the cluster's endpoints failed over."""

import statistics
import subprocess
import time

import pytest
import requests

import harness
from etcd_server import Cluster, etcd_available
from test_etcd import vs_yaml

pytestmark = pytest.mark.skipif(not etcd_available(), reason="etcd-server/etcd-client not installed "
                                "(scripts/install-deps.sh)")

HOSTS = ("one.example.com", "two.example.com")


def vs(name, host, generation):
    # The generation as a response header set by the gateway, on traffic to a real upstream.
    return vs_yaml(name, host, "echo", 'headers: {response: {set: {x-generation: "%d"}}}' % generation)


def config(upstream, generation):
    # Two VirtualServices changed by one apply: a replica serving half of it
    # would answer one host with the new generation and the other with the old.
    return harness.yaml_docs(harness.gateway("gw", hosts=HOSTS), harness.backend(upstream, "echo"),
                             vs("one", HOSTS[0], generation), vs("two", HOSTS[1], generation))


def generation(t, host):
    try:
        r = requests.get(t.url("/"), headers={"Host": host}, timeout=5)
    except requests.RequestException:
        return None
    if r.status_code != 200 or r.json().get("name") != "a":
        return None
    return int(r.headers.get("x-generation", "-1"))


def apply(endpoints, path, deadline_s=30):
    """torii apply, retried while etcd is electing a leader (exit 2) until `deadline_s`."""
    end = time.monotonic() + deadline_s
    while True:
        r = subprocess.run([harness.TORII_BIN, "apply", "-f", str(path), "--etcd", endpoints],
                           capture_output=True, text=True, timeout=60)
        if r.returncode == 0 or time.monotonic() > end:
            return r
        assert r.returncode == 2, r.stdout + r.stderr  # only "unreachable" is worth a retry
        time.sleep(0.2)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path, size=3)
    c.start()
    yield c
    c.stop()


def test_three_members_three_replicas_leader_killed(tmp_path, cluster, torii, upstreams, measure):
    a = upstreams.echo("a")
    path = tmp_path / "config.yaml"
    path.write_text(config(a, 0))
    assert apply(cluster.endpoints, path).returncode == 0
    # The replicas watch the leader first (the first endpoint of their list), so
    # killing it cuts their watches too, and they must fail over.
    leader = cluster.leader()
    assert leader is not None
    endpoints = ",".join([leader.client_url] + [m.client_url for m in cluster.members if m is not leader])
    replicas = [torii(manifests={}, extra_args=["--etcd", endpoints, "--replica-name", "r%d" % i],
                      name="r%d" % i) for i in range(3)]

    def check_never_half(t):
        # Snapshots only move forward: once host one shows generation g, host two
        # must show g or later. A half-served apply breaks this.
        g1 = generation(t, HOSTS[0])
        g2 = generation(t, HOSTS[1])
        if g1 is not None and g2 is not None:
            assert g2 >= g1, "%s served half an apply: %s=%d then %s=%d" % (t.proc.name, HOSTS[0], g1,
                                                                            HOSTS[1], g2)
        return g1, g2

    def all_serve(gen):
        for t in replicas:
            g1, g2 = check_never_half(t)
            if g1 != gen or g2 != gen:
                return False
        return True

    ok, elapsed = harness.poll_until(lambda: all_serve(0), 15)
    assert ok, "\n".join(t.log() for t in replicas)

    # 50 applies, each served by all three replicas.
    times = []
    for gen in range(1, 51):
        path.write_text(config(a, gen))
        r = apply(cluster.endpoints, path, deadline_s=0)
        assert r.returncode == 0, r.stderr
        start = time.monotonic()
        ok, elapsed = harness.poll_until(lambda: all_serve(gen), harness.RELOAD_TIMEOUT, interval=0.005)
        assert ok, "generation %d not served by all\n%s" % (gen, replicas[0].log())
        times.append(time.monotonic() - start)
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    measure("etcd 3 members: apply -> served by 3 replicas, p99 of 50 (median %.3f s)" % statistics.median(times),
            p99)

    # The leader dies in the middle of applies: no apply half-served, every apply
    # that reported success is served by all, and they converge.
    assert cluster.leader() is leader
    slowest = 0.0
    for gen in range(51, 71):
        if gen == 56:
            leader.kill()
        path.write_text(config(a, gen))
        r = apply(cluster.endpoints, path)
        assert r.returncode == 0, r.stdout + r.stderr
        for t in replicas:
            check_never_half(t)
        if gen >= 56:
            # Every write after the leader change: served by all three (converged).
            ok, elapsed = harness.poll_until(lambda: all_serve(gen), 15, interval=0.005)
            assert ok, "generation %d\n%s" % (gen, "\n".join(t.log()[-3000:] for t in replicas))
            slowest = max(slowest, elapsed)
    measure("etcd leader killed: each apply after it -> served by 3 replicas, slowest of 15", slowest)
    for t in replicas:
        assert "etcd: connected to" in t.log(), t.log()  # it did lose its watch and fail over
    new_leader = cluster.leader()
    assert new_leader is not None and new_leader is not leader

    # The killed member comes back; the replicas keep serving and follow the next apply.
    cluster.restart(leader)
    cluster.wait_healthy()
    path.write_text(config(a, 71))
    assert apply(cluster.endpoints, path).returncode == 0
    ok, elapsed = harness.poll_until(lambda: all_serve(71), 15)
    assert ok
    out = subprocess.run([harness.TORII_BIN, "get", "replicas", "--etcd", cluster.endpoints], capture_output=True,
                         text=True, timeout=30).stdout
    assert sorted(line.split()[0] for line in out.splitlines()[1:]) == ["r0", "r1", "r2"], out
