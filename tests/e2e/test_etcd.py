"""Config from etcd (docs/scale_out.md, issue 16) with a real etcd (Debian's etcd-server)
started by the tests on loopback: `torii apply / get / delete --etcd`, replicas
(`torii run --etcd`) serving what was applied to a real upstream, replica status
under a lease, etcd down (last config kept, --etcd-cache at start, /ready says
stale), a compaction while a replica is cut off (relist, no change lost)."""

import json
import subprocess
import time

import pytest
import requests

import harness
from etcd_server import Cluster, TcpGate, etcd_available

pytestmark = pytest.mark.skipif(not etcd_available(), reason="etcd-server/etcd-client not installed "
                                "(scripts/install-deps.sh)")

PREFIX = "/torii/"


def gateway_yaml():
    return harness.gateway("gw", port=80)


def vs_yaml(name="web", host="*", service="echo-a", extra=""):
    """A VirtualService on Gateway gw; `extra`: more fields of its http rule (YAML flow text)."""
    return harness.yaml_docs("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: %s
        spec:
          hosts: ["%s"]
          gateways: [gw]
          http:
          - route:
            - destination: {host: %s}
            %s""" % (name, host, service, extra))


def torii_cli(*args, stdin=None):
    return subprocess.run([harness.TORII_BIN] + [str(a) for a in args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def apply(endpoints, path, *extra):
    r = torii_cli("apply", "-f", path, "--etcd", endpoints, *extra)
    return r


def served_by(t, path="/"):
    """The echo upstream that answered through replica `t` (its --name), or the status."""
    try:
        r = requests.get(t.url(path), timeout=5)
    except requests.RequestException as e:
        return "error: %s" % e
    if r.status_code != 200:
        return r.status_code
    try:
        return r.json()["name"]
    except ValueError:
        return r.text


@pytest.fixture
def etcd(tmp_path):
    cluster = Cluster(tmp_path, size=1)
    cluster.start()
    yield cluster
    cluster.stop()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def replica(torii, etcd_url, name, extra=()):
    return torii(manifests={}, extra_args=["--etcd", etcd_url, "--replica-name", name] + list(extra), name=name)


def test_apply_get_delete_served_by_replicas(tmp_path, etcd, torii, upstreams, measure):
    a = upstreams.echo("a")
    b = upstreams.echo("b")
    config = write(tmp_path, "config.yaml", harness.yaml_docs(
        gateway_yaml(), harness.backend(a, "echo-a"), harness.backend(b, "echo-b"), vs_yaml()))
    r = apply(etcd.endpoints, config)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "gateway/gw created" in lines and "virtualservice/web created" in lines, r.stdout
    assert "service/echo-a created" in lines and "workloadentry/echo-a-a created" in lines, r.stdout
    # The key layout of the contract.
    keys = etcd.ctl("get", "--prefix", "--keys-only", PREFIX).stdout.split()
    assert PREFIX + "objects/networking.istio.io/VirtualService/default/web" in keys
    assert PREFIX + "objects/core/Service/default/echo-a" in keys
    # The value is the object as YAML, as applied.
    value = etcd.ctl("get", "--print-value-only", PREFIX + "objects/networking.istio.io/VirtualService/default/web")
    assert "kind: VirtualService" in value.stdout and "host: echo-a" in value.stdout

    r = apply(etcd.endpoints, config)
    assert r.returncode == 0 and "virtualservice/web unchanged" in r.stdout, r.stdout + r.stderr

    r1 = replica(torii, etcd.endpoints, "r1")
    r2 = replica(torii, etcd.endpoints, "r2")
    for t in (r1, r2):
        assert served_by(t) == "a", t.log()

    # One apply: both replicas serve it, through real traffic to the other upstream.
    config.write_text(harness.yaml_docs(gateway_yaml(), harness.backend(a, "echo-a"),
                                        harness.backend(b, "echo-b"), vs_yaml(service="echo-b")))
    r = apply(etcd.endpoints, config)
    assert r.returncode == 0 and "virtualservice/web configured" in r.stdout, r.stdout + r.stderr
    for t in (r1, r2):
        ok, elapsed = harness.poll_until(lambda: served_by(t) == "b", harness.RELOAD_TIMEOUT)
        assert ok, t.log()
        measure("etcd apply -> served by replica %s" % t.proc.name, elapsed)

    # torii get: kubectl-style, short names, status, which replicas serve it.
    def get_vs_table():
        out = torii_cli("get", "vs", "--etcd", etcd.endpoints)
        return out.stdout if out.returncode == 0 and "2/2" in out.stdout else None
    table, elapsed = harness.poll_until(get_vs_table, 10)
    assert table is not None, torii_cli("get", "vs", "--etcd", etcd.endpoints).stdout
    header, row = table.splitlines()
    assert header.split() == ["NAME", "STATUS", "REVISION", "REPLICAS"]
    assert row.split()[0:2] == ["web", "Accepted"]
    out = torii_cli("get", "vs", "web", "-o", "yaml", "--etcd", etcd.endpoints)
    assert out.returncode == 0, out.stderr
    assert 'resourceVersion: "' in out.stdout and "status:\n  conditions:\n  - type: Accepted" in out.stdout
    assert 'status: "True"' in out.stdout and "served by 2 of 2 replica(s)" in out.stdout
    obj = json.loads(torii_cli("get", "virtualservices", "web", "-o", "json", "--etcd", etcd.endpoints).stdout)
    assert obj["kind"] == "VirtualService" and obj["spec"]["http"][0]["route"][0]["destination"]["host"] == "echo-b"
    out = torii_cli("get", "gw", "-A", "--etcd", etcd.endpoints)
    assert out.stdout.split()[:4] == ["NAMESPACE", "NAME", "STATUS", "REVISION"], out.stdout
    assert torii_cli("get", "vs", "nope", "--etcd", etcd.endpoints).returncode == 1

    # torii get replicas: both, neither behind.
    out = torii_cli("get", "replicas", "--etcd", etcd.endpoints)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[1:]}
    assert set(rows) == {"r1", "r2"}, out.stdout
    assert all(row[2] == "0" for row in rows.values()), out.stdout

    # A replica killed (no clean stop) disappears when its lease expires (10 s TTL).
    r2.proc.kill()
    r2.stopped_by_test = True

    def r2_gone():
        out = torii_cli("get", "replicas", "--etcd", etcd.endpoints).stdout
        return "r2" not in out and "r1" in out
    ok, elapsed = harness.poll_until(r2_gone, 30)
    assert ok, torii_cli("get", "replicas", "--etcd", etcd.endpoints).stdout

    # delete KIND NAME: the route goes (404 NR at the replica).
    r = torii_cli("delete", "vs", "web", "--etcd", etcd.endpoints)
    assert r.returncode == 0 and r.stdout.strip() == "virtualservice/web deleted", r.stdout + r.stderr
    ok, elapsed = harness.poll_until(lambda: served_by(r1) == 404, harness.RELOAD_TIMEOUT)
    assert ok, r1.log()
    r = torii_cli("delete", "vs", "web", "--etcd", etcd.endpoints)
    assert r.returncode == 1 and "not found" in r.stderr
    # delete -f: every object of the file.
    r = torii_cli("delete", "-f", config, "--etcd", etcd.endpoints)
    assert "gateway/gw deleted" in r.stdout and "service/echo-b deleted" in r.stdout, r.stdout + r.stderr
    assert etcd.ctl("get", "--prefix", "--keys-only", PREFIX + "objects/").stdout.strip() == ""


def test_invalid_apply_writes_nothing_and_exit_codes(tmp_path, etcd):
    good = write(tmp_path, "good.yaml", harness.yaml_docs(gateway_yaml(), vs_yaml(service="example.org")))
    assert apply(etcd.endpoints, good).returncode == 0
    before = etcd.revision()

    # A bad field: file:line, exit 1, nothing written (the good objects of the file neither).
    bad = write(tmp_path, "bad.yaml", harness.yaml_docs(
        vs_yaml(name="other", service="example.org"),
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: broken
        spec:
          hosts: 5
        """))
    r = apply(etcd.endpoints, bad)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "bad.yaml:" in r.stderr and "VirtualService default/broken: spec.hosts" in r.stderr, r.stderr
    assert etcd.revision() == before
    assert "other" not in torii_cli("get", "vs", "--etcd", etcd.endpoints).stdout

    # Validated together with what is in etcd: the Gateway and a Service stored
    # before make this VirtualService's destination known; a missing one is reported.
    stored_service = write(tmp_path, "svc.yaml", harness.service("stored"))
    assert apply(etcd.endpoints, stored_service).returncode == 0
    before = etcd.revision()
    r = apply(etcd.endpoints, write(tmp_path, "to-stored.yaml", vs_yaml(name="x", service="stored")), "--dry-run")
    assert r.returncode == 0 and "does not exist" not in r.stderr, r.stderr
    r = apply(etcd.endpoints, write(tmp_path, "to-missing.yaml", vs_yaml(name="x", service="missing")), "--dry-run")
    assert r.returncode == 0 and "to-missing.yaml:" in r.stderr and "does not exist" in r.stderr, r.stderr

    # --dry-run: validated, reported, nothing written.
    r = apply(etcd.endpoints, write(tmp_path, "new.yaml", vs_yaml(name="new", service="example.org")), "--dry-run")
    assert r.returncode == 0 and r.stdout.strip() == "virtualservice/new created (dry run)", r.stdout + r.stderr
    assert etcd.revision() == before

    # From stdin.
    r = torii_cli("apply", "-f", "-", "--etcd", etcd.endpoints, stdin=vs_yaml(name="piped", service="example.org"))
    assert r.returncode == 0 and "virtualservice/piped created" in r.stdout, r.stderr

    # A concurrent edit: the resourceVersion read with get -o yaml is stale.
    edited = torii_cli("get", "vs", "web", "-o", "yaml", "--etcd", etcd.endpoints).stdout
    edited = edited.split("status:\n")[0].replace("example.org", "example.com")
    etcd.ctl("put", PREFIX + "objects/networking.istio.io/VirtualService/default/web",
             vs_yaml(service="example.net"))
    middle = etcd.revision()
    r = torii_cli("apply", "-f", "-", "--etcd", etcd.endpoints, stdin=edited)
    assert r.returncode == 1 and "VirtualService default/web was changed by someone else" in r.stderr, r.stderr
    assert etcd.revision() == middle
    assert "example.net" in etcd.ctl("get", "--print-value-only",
                                     PREFIX + "objects/networking.istio.io/VirtualService/default/web").stdout

    # etcd unreachable: exit 2, for apply, get and delete.
    dead = "http://127.0.0.1:%d" % harness.reserve_port()
    assert apply(dead, good).returncode == 2
    assert torii_cli("get", "vs", "--etcd", dead).returncode == 2
    assert torii_cli("delete", "vs", "web", "--etcd", dead).returncode == 2
    # The second endpoint of the list answers: the first one's failure is not fatal.
    r = torii_cli("get", "vs", "--etcd", dead + "," + etcd.endpoints)
    assert r.returncode == 0 and "web" in r.stdout, r.stderr

    # Without --etcd, `torii get` is still the admin endpoint's (unchanged behaviour).
    r = torii_cli("get", "vs")
    assert r.returncode == 2 and "expected listeners, routes, clusters or endpoints" in r.stderr


def test_etcd_down_keeps_serving_cache_and_catch_up(tmp_path, etcd, torii, upstreams):
    a = upstreams.echo("a")
    b = upstreams.echo("b")
    config = write(tmp_path, "config.yaml", harness.yaml_docs(
        gateway_yaml(), harness.backend(a, "echo-a"), harness.backend(b, "echo-b"), vs_yaml()))
    assert apply(etcd.endpoints, config).returncode == 0
    cache = tmp_path / "cache"
    r1 = replica(torii, etcd.endpoints, "r1", ["--etcd-cache", cache])
    assert served_by(r1) == "a"
    ok, elapsed = harness.poll_until(lambda: (cache / "etcd-objects.json").exists(), 10)
    assert ok

    # etcd stops: r1 keeps serving, and says so on /ready (200).
    etcd.stop()
    ready, elapsed = harness.poll_until(
        lambda: (lambda r: r if "stale: serving from cache (etcd unreachable since" in r.text else None)(
            requests.get(r1.admin + "/ready", timeout=5)), 10)
    assert ready and ready.status_code == 200, requests.get(r1.admin + "/ready").text
    assert served_by(r1) == "a"

    # A new replica starts from the cache while etcd is down.
    r3 = replica(torii, etcd.endpoints, "r3", ["--etcd-cache", cache])
    assert served_by(r3) == "a"
    r = requests.get(r3.admin + "/ready", timeout=5)
    assert r.status_code == 200 and "stale: serving from cache" in r.text, r.text
    assert "serving from cache" in r3.log()

    # etcd returns and a change is applied: everything converges, nothing stale.
    etcd.restart(etcd.members[0])
    etcd.wait_healthy()
    config.write_text(harness.yaml_docs(gateway_yaml(), harness.backend(a, "echo-a"),
                                        harness.backend(b, "echo-b"), vs_yaml(service="echo-b")))
    assert apply(etcd.endpoints, config).returncode == 0
    for t in (r1, r3):
        ok, elapsed = harness.poll_until(lambda: served_by(t) == "b", 15)
        assert ok, t.log()
        ok, elapsed = harness.poll_until(lambda: requests.get(t.admin + "/ready", timeout=5).text == "LIVE\n", 15)
        assert ok, requests.get(t.admin + "/ready").text


def test_no_etcd_and_no_cache_not_ready_until_etcd(tmp_path, torii, upstreams):
    a = upstreams.echo("a")
    cluster = Cluster(tmp_path, size=1)
    t = torii(manifests={}, extra_args=["--etcd", cluster.endpoints], wait_ready=False)
    ok, elapsed = harness.poll_until(lambda: "waiting for etcd" in requests.get(t.admin + "/ready", timeout=5).text
                                    if t.admin_address_path.exists() else False, 10)
    assert ok
    assert t.ready_status() == 503
    cluster.start()
    try:
        config = write(tmp_path, "config.yaml", harness.yaml_docs(gateway_yaml(), harness.backend(a, "echo-a"),
                                                                  vs_yaml()))
        assert apply(cluster.endpoints, config).returncode == 0
        ok, elapsed = harness.poll_until(lambda: served_by(t) == "a", 15)
        assert ok, t.log()
        assert t.ready_status() == 200
    finally:
        t.stop()
        cluster.stop()


def test_compaction_while_cut_off_relists(tmp_path, etcd, torii, upstreams):
    a = upstreams.echo("a")
    b = upstreams.echo("b")
    c = upstreams.echo("c")
    config = write(tmp_path, "config.yaml", harness.yaml_docs(
        gateway_yaml(), harness.backend(a, "echo-a"), harness.backend(b, "echo-b"),
        harness.backend(c, "echo-c"), vs_yaml(), vs_yaml(name="gone", host="gone.example.com", service="echo-c")))
    assert apply(etcd.endpoints, config).returncode == 0
    gate = TcpGate(etcd.members[0].client_port)
    gate.open()
    t = replica(torii, gate.url, "r1")
    assert served_by(t) == "a"
    r = requests.get(t.url("/"), headers={"Host": "gone.example.com"}, timeout=5)
    assert r.status_code == 200 and r.json()["name"] == "c"

    gate.close()
    ok, elapsed = harness.poll_until(lambda: "stale" in requests.get(t.admin + "/ready", timeout=5).text, 10)
    assert ok, t.log()
    # Behind its back: a change, a delete, and a compaction of every revision it missed.
    config.write_text(harness.yaml_docs(gateway_yaml(), harness.backend(a, "echo-a"), harness.backend(b, "echo-b"),
                                        harness.backend(c, "echo-c"), vs_yaml(service="echo-b")))
    assert apply(etcd.endpoints, config).returncode == 0
    assert torii_cli("delete", "vs", "gone", "--etcd", etcd.endpoints).returncode == 0
    etcd.ctl("compact", str(etcd.revision()))

    gate.open()
    ok, elapsed = harness.poll_until(lambda: served_by(t) == "b", 15)
    assert ok, t.log()
    # The deleted VirtualService is gone too: its host falls to web's "*" (upstream b).
    r = requests.get(t.url("/"), headers={"Host": "gone.example.com"}, timeout=5)
    assert r.status_code == 200 and r.json()["name"] == "b", t.log()
    assert "was compacted" in t.log()
    gate.close()


def test_authentication_and_tls(tmp_path, torii, upstreams):
    a = upstreams.echo("a")
    (tmp_path / "pki").mkdir()
    pki = harness.make_pki(tmp_path / "pki", {"server": "IP:127.0.0.1", "client": ""})
    # etcd 3.4's JSON gateway, with authentication on, refuses a client certificate
    # with a CommonName (it would be taken as the user): Torii's has none.
    subprocess.run(harness.OPENSSL_NEWKEY + ["-keyout", "torii.key", "-out", "torii.csr", "-subj", "/O=torii"],
                   cwd=pki, check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", "torii.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "2", "-out", "torii.pem"], cwd=pki, check=True, capture_output=True)
    cluster = Cluster(tmp_path, size=1, pki=pki)
    cluster.start()
    try:
        # A user that may read and write under the prefix only; authentication on.
        for args in (["user", "add", "root:rootpw"], ["user", "add", "torii:s3cret"], ["role", "add", "torii"],
                     ["role", "grant-permission", "torii", "--prefix=true", "readwrite", PREFIX],
                     ["user", "grant-role", "torii", "torii"], ["auth", "enable"]):
            cluster.ctl(*args)
        password = write(tmp_path, "password", "s3cret\n")
        tls = ["--etcd-cacert", pki / "ca.pem", "--etcd-cert", pki / "torii.pem", "--etcd-key", pki / "torii.key"]
        creds = ["--etcd-user", "torii", "--etcd-password-file", password]
        config = write(tmp_path, "config.yaml", harness.yaml_docs(gateway_yaml(), harness.backend(a, "echo-a"),
                                                                  vs_yaml()))

        # No client certificate: the TLS handshake fails (unreachable, 2); no user: etcd
        # refuses, 1; a certificate with a CommonName: etcd's gateway refuses, 1.
        r = torii_cli("apply", "-f", config, "--etcd", cluster.endpoints, *creds)
        assert r.returncode == 2 and "TLS" in r.stderr, r.stderr
        r = torii_cli("apply", "-f", config, "--etcd", cluster.endpoints, *tls)
        assert r.returncode == 1 and "--etcd-user" in r.stderr, r.stderr
        with_cn = ["--etcd-cacert", pki / "ca.pem", "--etcd-cert", pki / "client.pem", "--etcd-key", pki / "client.key"]
        r = torii_cli("apply", "-f", config, "--etcd", cluster.endpoints, *with_cn, *creds)
        assert r.returncode == 1 and "CommonName" in r.stderr, r.stderr
        assert cluster.ctl("get", "--prefix", "--keys-only", PREFIX, "--user", "torii:s3cret").stdout.strip() == ""
        wrong = write(tmp_path, "wrong", "nope\n")
        r = torii_cli("apply", "-f", config, "--etcd", cluster.endpoints, *tls, "--etcd-user", "torii",
                      "--etcd-password-file", wrong)
        assert r.returncode == 1 and "authentication as 'torii' failed" in r.stderr, r.stderr

        r = torii_cli("apply", "-f", config, "--etcd", cluster.endpoints, *tls, *creds)
        assert r.returncode == 0 and "virtualservice/web created" in r.stdout, r.stderr
        t = replica(torii, cluster.endpoints, "r1", tls + creds)
        assert served_by(t) == "a", t.log()
        config.write_text(harness.yaml_docs(gateway_yaml(), harness.backend(a, "echo-a"),
                                            vs_yaml(extra="headers: {response: {set: {x-v: two}}}")))
        r = torii_cli("apply", "-f", config, "--etcd", cluster.endpoints, *tls, *creds)
        assert r.returncode == 0 and "virtualservice/web configured" in r.stdout, r.stderr

        def second():
            r = requests.get(t.url("/"), timeout=5)
            return r.headers.get("x-v") == "two"
        ok, elapsed = harness.poll_until(second, harness.RELOAD_TIMEOUT)
        assert ok, t.log()
        out = torii_cli("get", "replicas", "--etcd", cluster.endpoints, *tls, *creds)
        assert out.returncode == 0 and "r1" in out.stdout, out.stderr
    finally:
        cluster.stop()


def test_apply_larger_than_one_transaction_is_one_snapshot(tmp_path, etcd, torii, upstreams):
    """300 objects: more than etcd's 128 operations per transaction. Written in chunks under
    the generation key, served by the replica in one snapshot once the last chunk landed."""
    a = upstreams.echo("a")
    b = upstreams.echo("b")
    services = "".join(harness.yaml_docs(harness.service("s%d" % i)) + "---\n" for i in range(300))
    config = write(tmp_path, "config.yaml", services + harness.yaml_docs(
        gateway_yaml(), harness.backend(a, "echo-a"), harness.backend(b, "echo-b"), vs_yaml()))
    t = replica(torii, etcd.endpoints, "r1")
    r = apply(etcd.endpoints, config)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 306 and "service/s299 created" in r.stdout
    ok, _ = harness.poll_until(lambda: served_by(t) == "a", harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    mark = json.loads(etcd.ctl("get", "--print-value-only", PREFIX + "objects/_generation").stdout)
    assert mark["state"] == "done" and mark["chunks"] >= 3 and mark["objects"] == 306, mark
    assert "a chunked apply is being written" in t.log()
    # One snapshot for the whole apply: config version 1 (empty) then 2 (all of it).
    versions = [line for line in t.log().splitlines() if "serving (config)" in line]
    assert len(versions) == 2 and "306 of 306 document(s)" in versions[1], "\n".join(versions)

    # Changing them all again (a label on every Service, and the route): one more snapshot.
    config.write_text(services.replace("  name: s", "  labels: {gen: two}\n  name: s") + harness.yaml_docs(
        gateway_yaml(), harness.backend(a, "echo-a"), harness.backend(b, "echo-b"), vs_yaml(service="echo-b")))
    r = apply(etcd.endpoints, config)
    assert r.returncode == 0 and r.stdout.count(" configured") == 301, r.stdout[-500:] + r.stderr
    ok, _ = harness.poll_until(lambda: served_by(t) == "b", harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    versions = [line for line in t.log().splitlines() if "serving (config)" in line]
    assert len(versions) == 3, "\n".join(versions)
    assert json.loads(etcd.ctl("get", "--print-value-only", PREFIX + "objects/_generation").stdout)["generation"] == 2

    # Deleting them: chunks too.
    r = torii_cli("delete", "-f", config, "--etcd", etcd.endpoints)
    assert r.returncode == 0 and r.stdout.count(" deleted") == 306, r.stderr
    ok, _ = harness.poll_until(lambda: served_by(t) != "b", harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    assert etcd.ctl("get", "--prefix", "--keys-only", PREFIX + "objects/core/").stdout.strip() == ""


def test_invalid_object_in_etcd_is_rejected_and_recorded(tmp_path, etcd, torii, upstreams):
    """Written behind Torii's back (etcdctl): a bad new version of an object keeps the last good
    one serving, as istiod does; the error is in the replica's status and in torii get."""
    a = upstreams.echo("a")
    b = upstreams.echo("b")
    config = write(tmp_path, "config.yaml", harness.yaml_docs(
        gateway_yaml(), harness.backend(a, "echo-a"), harness.backend(b, "echo-b"), vs_yaml()))
    assert apply(etcd.endpoints, config).returncode == 0
    t = replica(torii, etcd.endpoints, "r1")
    assert served_by(t) == "a"
    key = PREFIX + "objects/networking.istio.io/VirtualService/default/web"
    bad = vs_yaml(service="echo-b").replace('hosts: ["*"]', "hosts: 5")
    etcd.ctl("put", key, bad)
    ok, _ = harness.poll_until(lambda: "spec.hosts" in t.log(), harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    assert served_by(t) == "a"  # the last good version

    def rejected_row():
        out = torii_cli("get", "replicas", "--etcd", etcd.endpoints).stdout.splitlines()
        return out[1].split() if len(out) == 2 and out[1].split()[3] == "1" else None
    row, _ = harness.poll_until(rejected_row, 10)
    assert row and row[0] == "r1", torii_cli("get", "replicas", "--etcd", etcd.endpoints).stdout
    out = torii_cli("get", "vs", "-o", "wide", "--etcd", etcd.endpoints).stdout
    assert "Rejected" in out and key + ":" in out and "spec.hosts" in out, out
    out = torii_cli("get", "vs", "web", "-o", "yaml", "--etcd", etcd.endpoints).stdout
    assert 'status: "False"' in out and "reason: Rejected" in out and 'rejected: ["r1"]' in out, out

    # Fixed: served, status back to Accepted.
    etcd.ctl("put", key, vs_yaml(service="echo-b"))
    ok, _ = harness.poll_until(lambda: served_by(t) == "b", harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    ok, _ = harness.poll_until(lambda: "Accepted" in torii_cli("get", "vs", "--etcd", etcd.endpoints).stdout, 10)
    assert ok


def test_etcd_together_with_config_files(tmp_path, etcd, torii, upstreams):
    """--config files and --etcd are one set of objects: the Gateway and the backend in a
    watched file, the VirtualService in etcd; a change on either side is served."""
    a = upstreams.echo("a")
    b = upstreams.echo("b")
    t = torii(manifests={"gw.yaml": harness.yaml_docs(gateway_yaml(), harness.backend(a, "echo-a"))},
              extra_args=["--etcd", etcd.endpoints, "--replica-name", "r1"])
    assert served_by(t) == 404  # no route yet
    assert apply(etcd.endpoints, write(tmp_path, "vs.yaml", vs_yaml())).returncode == 0
    ok, _ = harness.poll_until(lambda: served_by(t) == "a", harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    # The file changes: the etcd objects stay.
    t.write("gw.yaml", harness.yaml_docs(gateway_yaml(), harness.backend(b, "echo-a")))
    ok, _ = harness.poll_until(lambda: served_by(t) == "b", harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    # And etcd changes: the file's objects stay.
    assert torii_cli("delete", "vs", "web", "--etcd", etcd.endpoints).returncode == 0
    ok, _ = harness.poll_until(lambda: served_by(t) == 404, harness.RELOAD_TIMEOUT)
    assert ok, t.log()
