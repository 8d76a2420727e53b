"""ServiceEntry resolution DNS / DNS_ROUND_ROBIN against a real DNS server.

dnsmasq (Debian's dnsmasq-base) serves made-up *.example.test names from a
hosts file on a loopback port, with a 1 s TTL; Torii is pointed at it with
--dns-server. ISTIO_SEMANTICS.md §6.1 (resolution), Envoy STRICT_DNS /
LOGICAL_DNS clusters.
"""
import os
import signal
from pathlib import Path

import pytest

import harness
import reserved_ports

DNSMASQ = "/usr/sbin/dnsmasq"


class Dnsmasq:
    """dnsmasq on 127.0.0.1:<port>, authoritative for example.test, TTL 1 s."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)  # dnsmasq may drop to nobody
        self.hosts = self.dir / "dns-hosts"
        self.records = {}
        self._write()
        self.port = harness.reserve_port()  # free for UDP and TCP: dnsmasq binds both
        argv = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--port=%d" % self.port, "--no-resolv", "--no-hosts",
                "--addn-hosts=%s" % self.hosts, "--local=/example.test/", "--local-ttl=1",
                "--pid-file=%s" % (self.dir / "dnsmasq.pid"), "--log-facility=%s" % (self.dir / "dnsmasq.log")]
        if os.getuid() == 0:
            argv.append("--user=root")
        self.proc = harness.Proc("dnsmasq", argv, self.dir / "dnsmasq.out")
        # A SIGHUP (set()) before dnsmasq has set up would kill it: its pid file says it has.
        # It serves once its sockets are bound (the port is no longer bindable).
        ok, _ = harness.poll_until(lambda: (self.dir / "dnsmasq.pid").exists()
                                   and not reserved_ports.is_bindable(self.port), 10)
        assert ok, "dnsmasq did not start:\n" + self.proc.log_tail()

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def set(self, name, *addresses):
        if addresses:
            self.records[name] = addresses
        else:
            self.records.pop(name, None)
        self._write()
        if getattr(self, "proc", None):
            self.proc.signal(signal.SIGHUP)  # re-read the hosts file

    def _write(self):
        self.hosts.write_text("".join("%s %s\n" % (a, n) for n, addrs in self.records.items() for a in addrs))

    def close(self):
        self.proc.terminate(5)
        self.proc.cleanup()


@pytest.fixture
def dns(tmp_path):
    d = Dnsmasq(tmp_path / "dns")
    yield d
    d.close()


@pytest.fixture(autouse=True)
def _needs_dnsmasq():
    if not os.path.exists(DNSMASQ):
        pytest.fail("dnsmasq is not installed (scripts/install-deps.sh installs dnsmasq-base)")


def manifests(resolution, endpoints_yaml, port):
    return {
        "gw.yaml": harness.gateway("gw", hosts=["*"]),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ext}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route:
    - destination: {host: api.example.test, port: {number: %d}}
""" % port,
        "se.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.example.test]
  location: MESH_EXTERNAL
  resolution: %s
  ports: [{number: %d, name: http, protocol: HTTP}]
%s""" % (resolution, port, endpoints_yaml),
    }


def served_by(t, n=20):
    names = set()
    for _ in range(n):
        r = t.get("/x")
        assert r.status_code == 200, (r.status_code, r.text)
        names.add(r.json()["name"])
    return names


def dns_state(t, name):
    return t.config_dump().get("dns", {}).get(name)


def test_hosts_resolve_and_follow_record_changes(dns, upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.21")
    b = upstreams.echo("b", host="127.0.0.22", port=a.port)
    dns.set("api.example.test", "127.0.0.21")
    t = torii(manifests=manifests("DNS", "", a.port), extra_args=["--dns-server", dns.server])
    # The first answer is in the first snapshot (the compile waits for it).
    assert served_by(t) == {"a"}
    assert dns_state(t, "api.example.test")["addresses"] == ["127.0.0.21"]

    # STRICT_DNS: every address is an endpoint.
    dns.set("api.example.test", "127.0.0.21", "127.0.0.22")
    ok, elapsed = harness.poll_until(lambda: served_by(t) == {"a", "b"}, 5)
    assert ok, "both addresses not in use after 5 s (TTL 1 s)"

    dns.set("api.example.test", "127.0.0.22")
    ok, _ = harness.poll_until(lambda: served_by(t) == {"b"}, 5)
    assert ok
    clusters = t.config_dump()["snapshot"]["clusters"]
    eps = [e for c in clusters if c["service_host"] == "api.example.test" for e in c["endpoints"]]
    assert [(e["address"], e.get("hostname")) for e in eps] == [("127.0.0.22", "api.example.test")]


def test_endpoint_hostnames_with_port_map(dns, upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.23")
    dns.set("backend.example.test", "127.0.0.23")
    endpoints = "  endpoints:\n  - address: backend.example.test\n    ports: {http: %d}\n" % a.port
    t = torii(manifests=manifests("DNS", endpoints, 80), extra_args=["--dns-server", dns.server])
    assert served_by(t, 5) == {"a"}


def test_name_that_stops_resolving_keeps_last_addresses_for_the_grace_period(dns, upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.24")
    dns.set("api.example.test", "127.0.0.24")
    t = torii(manifests=manifests("DNS", "", a.port),
              extra_args=["--dns-server", dns.server, "--dns-grace-s", "3"])
    assert served_by(t, 3) == {"a"}
    dns.set("api.example.test")  # NXDOMAIN from now on
    ok, _ = harness.poll_until(lambda: (dns_state(t, "api.example.test") or {}).get("stale"), 5)
    assert ok, t.config_dump().get("dns")
    assert dns_state(t, "api.example.test")["status"] == "not_found"
    assert served_by(t, 3) == {"a"}  # still served from the last good answer

    ok, _ = harness.poll_until(lambda: t.get("/x").status_code == 503, 6)
    assert ok, "endpoints not dropped after the grace period"
    r = t.get("/x")
    assert r.text == "no healthy upstream"


def test_dns_round_robin_is_one_logical_host(dns, upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.25")
    upstreams.echo("b", host="127.0.0.26", port=a.port)
    dns.set("api.example.test", "127.0.0.25", "127.0.0.26")
    t = torii(manifests=manifests("DNS_ROUND_ROBIN", "", a.port), extra_args=["--dns-server", dns.server])
    # Envoy LOGICAL_DNS: one host, one address of the answer (Torii: the lowest).
    assert served_by(t) == {"a"}
    assert dns_state(t, "api.example.test")["addresses"] == ["127.0.0.25", "127.0.0.26"]


def test_dns_round_robin_with_two_endpoints_is_rejected_as_istio_does(dns, upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.28")
    dns.set("first.example.test", "127.0.0.28")
    endpoints = ("  endpoints:\n  - address: first.example.test\n    ports: {http: %d}\n"
                 "  - address: second.example.test\n    ports: {http: %d}\n") % (a.port, a.port)
    t = torii(manifests=manifests("DNS_ROUND_ROBIN", endpoints, 80), extra_args=["--dns-server", dns.server])
    rejected = t.config_dump()["resources"]["rejected"]
    assert [(r["kind"], r["name"]) for r in rejected] == [("ServiceEntry", "ext")]
    assert t.get("/x").status_code == 503


def test_unresolvable_name_is_503_no_healthy_upstream(dns, upstreams, torii):
    dns.set("other.example.test", "127.0.0.27")
    t = torii(manifests=manifests("DNS", "", 8080), extra_args=["--dns-server", dns.server])
    r = t.get("/x")
    assert r.status_code == 503
    assert r.text == "no healthy upstream"
    assert dns_state(t, "api.example.test")["status"] == "not_found"
