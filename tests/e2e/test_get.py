"""`torii get listeners|routes|clusters|endpoints` (README "torii get"): kubectl-style
tables of a running instance, read from its admin endpoint, checked against what the
test configured and against real traffic (an endpoint ejected by outlier detection)."""

import json
import re
import subprocess

import requests

import harness

HOST = "shop.example.com"
SVC_A = "outbound|80||svc-a.default.svc.cluster.local"
SVC_B = "outbound|80||svc-b.default.svc.cluster.local"

VS = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: shop
spec:
  hosts: ["shop.example.com"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /api/}, headers: {x-user: {exact: alice}}}]
    timeout: 3s
    retries: {attempts: 4, retryOn: 5xx}
    route: [{destination: {host: svc-a, port: {number: 80}}}]
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new}
  - route:
    - {destination: {host: svc-a, port: {number: 80}}, weight: 20}
    - {destination: {host: svc-b, port: {number: 80}}, weight: 80}
"""

DR = """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: svc-b
spec:
  host: svc-b
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    connectionPool: {tcp: {maxConnections: 50}}
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 120s, maxEjectionPercent: 100}
"""


def torii_get(*args):
    return subprocess.run([harness.TORII_BIN, "get"] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)


def table(t, resource, *extra):
    """Runs `torii get RESOURCE` against t; returns (header, [row dicts]) after checking the layout:
    upper-case headers, every column starting at the same offset in every line."""
    out = torii_get(resource, "--admin", "127.0.0.1:%d" % t.admin_port, *extra)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[0].split()
    assert all(h == h.upper() for h in header), lines[0]
    # Column starts: where each header begins; two spaces before each, none trailing.
    starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
    assert all(lines[0][s - 2:s] == "  " for s in starts[1:]), lines[0]
    rows = []
    for line in lines[1:]:
        assert line == line.rstrip(), repr(line)
        cells = line.split()
        assert len(cells) == len(header), line
        assert [m.start() for m in re.finditer(r"\S+", line)] == starts, "misaligned:\n" + out.stdout
        rows.append(dict(zip(header, cells)))
    return header, rows


def start(upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.71")
    b_good = upstreams.echo("b-good", host="127.0.0.72")
    b_bad = upstreams.echo("b-bad", host="127.0.0.73", extra_args=("--status", "503"))
    svc_b = harness.yaml_docs(
        harness.service("svc-b"),
        harness.workload_entry("svc-b-good", b_good.host, {"app": "svc-b"}, {"http": b_good.port}),
        harness.workload_entry("svc-b-bad", b_bad.host, {"app": "svc-b"}, {"http": b_bad.port}))
    t = torii(manifests={"gw.yaml": harness.gateway("gw", hosts=(HOST, "*.internal")),
                         "svc.yaml": harness.yaml_docs(harness.backend(a, "svc-a"), svc_b),
                         "vs.yaml": VS, "dr.yaml": DR})
    return t, a, b_good, b_bad


def test_get_tables(upstreams, torii):
    t, a, b_good, b_bad = start(upstreams, torii)
    listener = "0.0.0.0_%d" % t.listen_port

    header, rows = table(t, "listeners")
    assert header == ["NAME", "ADDRESS", "PROTOCOLS", "HOSTS"]
    assert rows == [{"NAME": listener, "ADDRESS": "0.0.0.0:%d" % t.listen_port, "PROTOCOLS": "HTTP",
                     "HOSTS": HOST + ",*.internal"}]
    header, rows = table(t, "listeners", "-o", "wide")
    assert header == ["NAME", "ADDRESS", "PROTOCOLS", "HOSTS", "GATEWAY-PORT", "GATEWAYS"]
    assert rows[0]["GATEWAY-PORT"] == "80" and rows[0]["GATEWAYS"] == "default/gw"

    header, rows = table(t, "routes")
    assert header == ["LISTENER", "HOST", "MATCH", "DESTINATIONS"]
    assert [(r["LISTENER"], r["HOST"]) for r in rows] == [(listener, HOST)] * 3
    assert [r["MATCH"] for r in rows] == ["prefix:/api/,header:x-user=alice", "exact:/old", "prefix:/"]
    assert [r["DESTINATIONS"] for r in rows] == [SVC_A, "redirect:301", "%s=20,%s=80" % (SVC_A, SVC_B)]
    _, wide = table(t, "routes", "-owide")
    assert table(t, "routes", "-o=wide")[1] == wide
    assert [(r["VIRTUALSERVICE"], r["TIMEOUT"], r["RETRIES"]) for r in wide] == [
        ("default/shop", "3s", "4"), ("default/shop", "<none>", "<none>"), ("default/shop", "<none>", "2")]
    assert wide[0]["RETRY-ON"] == "5xx"

    # Requests through the real gateway until the 503 endpoint is ejected (consecutive5xxErrors 1).
    def ejected():
        requests.get(t.url("/x"), headers={"Host": HOST}, timeout=10)
        _, rows = table(t, "endpoints")
        return any(r["ADDRESS"].startswith(b_bad.host + ":") and r["HEALTH"] == "ejected" for r in rows)
    ok, _ = harness.poll_until(ejected, 20.0, interval=0.05)
    assert ok, torii_get("endpoints", "--admin", "127.0.0.1:%d" % t.admin_port).stdout

    header, rows = table(t, "endpoints")
    assert header == ["CLUSTER", "ADDRESS", "HEALTH", "WEIGHT", "LOCALITY"]
    by_address = {r["ADDRESS"]: r for r in rows}
    assert by_address == {
        "%s:%d" % (a.host, a.port): {"CLUSTER": SVC_A, "ADDRESS": "%s:%d" % (a.host, a.port),
                                     "HEALTH": "healthy", "WEIGHT": "1", "LOCALITY": "<none>"},
        "%s:%d" % (b_good.host, b_good.port): {"CLUSTER": SVC_B, "ADDRESS": "%s:%d" % (b_good.host, b_good.port),
                                               "HEALTH": "healthy", "WEIGHT": "1", "LOCALITY": "<none>"},
        "%s:%d" % (b_bad.host, b_bad.port): {"CLUSTER": SVC_B, "ADDRESS": "%s:%d" % (b_bad.host, b_bad.port),
                                             "HEALTH": "ejected", "WEIGHT": "1", "LOCALITY": "<none>"},
    }
    _, wide = table(t, "endpoints", "-o", "wide")
    bad = next(r for r in wide if r["HEALTH"] == "ejected")
    assert re.fullmatch(r"\d+(ms|s)", bad["EJECTION-LEFT"]), bad
    assert int(bad["RQ-ERROR"]) >= 1

    header, rows = table(t, "clusters")
    assert header == ["NAME", "PROTOCOL", "ENDPOINTS", "HEALTHY", "LB", "CIRCUIT-BREAKERS"]
    by_name = {r["NAME"]: r for r in rows}
    assert by_name[SVC_A] == {"NAME": SVC_A, "PROTOCOL": "HTTP/1.1", "ENDPOINTS": "1", "HEALTHY": "1",
                              "LB": "LEAST_REQUEST", "CIRCUIT-BREAKERS": "<none>"}
    assert by_name[SVC_B] == {"NAME": SVC_B, "PROTOCOL": "HTTP/1.1", "ENDPOINTS": "2", "HEALTHY": "1",
                              "LB": "ROUND_ROBIN", "CIRCUIT-BREAKERS": "connections=50"}
    _, wide = table(t, "clusters", "-o", "wide")
    b = next(r for r in wide if r["NAME"] == SVC_B)
    assert b["OUTLIER-DETECTION"].startswith("5xx=1,"), b
    assert "ejection=120s" in b["OUTLIER-DETECTION"]

    # -o json: the same rows, every column, lower-case keys.
    out = torii_get("clusters", "--admin=127.0.0.1:%d" % t.admin_port, "-o", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows[SVC_B]["healthy"] == "1" and rows[SVC_B]["circuit_breakers"] == "connections=50"


def test_get_errors():
    port = harness.reserve_port()  # reserved, nothing listens
    out = torii_get("clusters", "--admin", "127.0.0.1:%d" % port)
    assert out.returncode == 1
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "127.0.0.1:%d" % port in lines[0], out.stderr

    out = torii_get("pods", "--admin", "127.0.0.1:%d" % port)
    assert out.returncode == 2
    assert "unknown resource 'pods'" in out.stderr and "usage:" in out.stderr

    out = torii_get("routes", "-o", "yaml")
    assert out.returncode == 2 and "usage:" in out.stderr
