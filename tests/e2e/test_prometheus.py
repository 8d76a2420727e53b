"""GET /stats/prometheus (docs/metrics.md, ISTIO_TELEMETRY.md 1-3): Istio's standard metrics with
the labels an istio-ingressgateway reports (reporter="source"), Envoy's cluster / connection
manager / server stats under their Prometheus names, process_* metrics; and the gateway queries
of Istio's Grafana dashboards, evaluated by hand over two scrapes.

Real traffic through the real binary to echo_server.py; the exposition is parsed by the small
parser below (strict: a line it cannot read fails the test).
"""

import re
import socket
import textwrap
import time

import pytest

import harness
from test_tcp_passthrough import exchange, tcp_echo, tcp_manifests  # noqa: F401 (tcp_echo: a fixture)

HOST = "metrics.example.com"
ECHO_FQDN = "echo.default.svc.cluster.local"
ECHO_CLUSTER = "outbound|80||" + ECHO_FQDN
ENVOY_BUCKETS = ["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000",
                 "10000", "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf"]
# Istio's 25 labels of the HTTP metrics, in the order Envoy prints them (ISTIO_TELEMETRY.md 1.2).
ISTIO_HTTP_LABELS = [
    "reporter", "source_workload", "source_canonical_service", "source_canonical_revision",
    "source_workload_namespace", "source_principal", "source_app", "source_version", "source_cluster",
    "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
    "destination_version", "destination_service", "destination_canonical_service",
    "destination_canonical_revision", "destination_service_name", "destination_service_namespace",
    "destination_cluster", "request_protocol", "response_code", "grpc_response_status", "response_flags",
    "connection_security_policy"]
ISTIO_TCP_LABELS = ISTIO_HTTP_LABELS[:20] + ["request_protocol", "response_flags", "connection_security_policy"]


# --------------------------------------------------------------------------------------
# A tiny Prometheus text-format (0.0.4) parser


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_labels(text):
    labels = []
    pos = 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        assert m, "bad label text at %r" % text[pos:]
        value = m.group(2).replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')
        labels.append((m.group(1), value))
        pos = m.end()
    return labels


class Scrape:
    """samples: list of (name, [(label, value)...] in order, float); types: family -> type."""

    def __init__(self, text):
        self.text = text
        self.samples = []
        self.types = {}
        family = None
        for n, line in enumerate(text.split("\n")):
            if line == "":
                family = None
                continue
            assert not line.startswith("# HELP"), "Envoy writes no HELP lines: %r" % line
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                assert name not in self.types, "family %s declared twice" % name
                assert kind in ("counter", "gauge", "histogram"), line
                self.types[name] = kind
                family = name
                continue
            m = SAMPLE.match(line)
            assert m, "line %d is not a sample: %r" % (n + 1, line)
            name = m.group(1)
            assert family is not None, "sample outside a family block: %r" % line
            if self.types[family] == "histogram":
                assert name in (family + "_bucket", family + "_sum", family + "_count"), line
            else:
                assert name == family, line
            self.samples.append((name, parse_labels(m.group(2)), float(m.group(3))))
        assert text.endswith("\n\n"), "each family block ends with an empty line"

    def series(self, name, **match):
        """[(labels dict, value)] of `name` whose labels equal `match` (values or compiled regexes)."""
        out = []
        for n, labels, value in self.samples:
            if n != name:
                continue
            d = dict(labels)
            if all(_matches(d.get(k, ""), v) for k, v in match.items()):
                out.append((d, value))
        return out

    def value(self, name, **match):
        return sum(v for _, v in self.series(name, **match))

    def one(self, name, **match):
        s = self.series(name, **match)
        assert len(s) == 1, (name, match, s)
        return s[0]

    def label_order(self, name):
        return [[k for k, _ in labels] for n, labels, _ in self.samples if n == name]


def _matches(actual, wanted):
    if isinstance(wanted, re.Pattern):
        return wanted.fullmatch(actual) is not None
    return actual == wanted


def scrape(t):
    r = t._call("GET", t.admin + "/stats/prometheus", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    return Scrape(r.text)


# --------------------------------------------------------------------------------------
# PromQL pieces the dashboards use, evaluated over two scrapes


def increase(before, after, name, **match):
    """{labels tuple: increase} of every series of `name` (a series new in `after` counts from 0)."""
    old = {tuple(sorted(d.items())): v for d, v in before.series(name, **match)}
    return {k: v - old.get(k, 0.0) for k, v in ((tuple(sorted(d.items())), v) for d, v in after.series(name, **match))}


def sum_by(series, by):
    """sum by (labels) over {labels tuple: value}."""
    out = {}
    for key, v in series.items():
        d = dict(key)
        group = tuple(d.get(b, "") for b in by)
        out[group] = out.get(group, 0.0) + v
    return out


def histogram_quantile(q, buckets):
    """Prometheus' histogram_quantile over {le: cumulative count} (linear within a bucket)."""
    bounds = sorted(((float(le), c) for le, c in buckets.items()), key=lambda x: x[0])
    total = bounds[-1][1]
    if total == 0:
        return None
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in bounds:
        if count >= rank:
            if bound == float("inf"):
                return prev_bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / max(count - prev_count, 1e-9)
        prev_bound, prev_count = bound, count
    return bounds[-2][0]


# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backends(module_upstreams):
    echo = module_upstreams.echo("v1", host="127.0.0.2")
    closed_port = harness.reserve_port()  # nothing listens there: connect failures
    return echo, closed_port


def manifests(echo, closed_port):
    return {
        "gateway.yaml": harness.gateway("gw", hosts=[HOST]),
        "echo.yaml": harness.yaml_docs(
            harness.service("echo", port=80),
            harness.workload_entry("echo-v1", echo.host, {"app": "echo", "version": "v1"}, {"http": echo.port}),
        ),
        "dead.yaml": harness.yaml_docs(
            harness.service("dead", port=80),
            harness.workload_entry("dead-1", "127.0.0.3", {"app": "dead"}, {"http": closed_port}),
        ),
        "vs.yaml": textwrap.dedent("""\
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: metrics
            spec:
              hosts:
              - %s
              gateways:
              - gw
              http:
              - match: [{uri: {prefix: /dead}}]
                route: [{destination: {host: dead, port: {number: 80}}}]
              - match: [{uri: {prefix: /}}]
                route: [{destination: {host: echo, port: {number: 80}}}]
            """ % HOST),
    }


def send(t, path, n=1, host=HOST, **kw):
    codes = []
    for _ in range(n):
        codes.append(t.get(path, headers={"Host": host}, **kw).status_code)
    return codes


def wait_for_requests(t, total):
    """Metrics are recorded when a stream ends, just after the client has its response."""
    found, _ = harness.poll_until(
        lambda: (lambda s: s if s.value("istio_requests_total") >= total else None)(scrape(t)), 5)
    if not found:
        s = scrape(t)  # a page the parser rejects fails here, with its reason
        pytest.fail("istio_requests_total is %s, expected %d" % (s.value("istio_requests_total"), total))
    return found


def test_istio_standard_metrics_labels_and_counts(backends, torii):
    t = torii(manifests(*backends))
    assert send(t, "/ok?status=200", 5) == [200] * 5
    assert send(t, "/ok?status=404", 2) == [404] * 2
    assert send(t, "/ok?status=503", 1) == [503]
    assert send(t, "/anything", 3, host="nomatch.example.com") == [404] * 3  # NR
    assert send(t, "/dead", 1) == [503]  # UF (after the default retries: URX)
    s = wait_for_requests(t, 12)

    common = dict(reporter="source", source_workload="istio-ingressgateway",
                  source_workload_namespace="istio-system", source_canonical_service="istio-ingressgateway",
                  source_canonical_revision="latest", source_principal="unknown", source_app="istio-ingressgateway",
                  source_version="unknown", source_cluster="Kubernetes", connection_security_policy="unknown",
                  request_protocol="http", grpc_response_status="")
    echo = dict(common, destination_service=ECHO_FQDN, destination_service_name="echo",
                destination_service_namespace="default", destination_workload="echo-v1",
                destination_workload_namespace="default", destination_app="echo", destination_version="v1",
                destination_canonical_service="echo", destination_canonical_revision="v1",
                destination_principal="unknown", destination_cluster="Kubernetes")
    labels, value = s.one("istio_requests_total", **echo, response_code="200", response_flags="-")
    assert value == 5
    assert s.one("istio_requests_total", **echo, response_code="404", response_flags="-")[1] == 2
    assert s.one("istio_requests_total", **echo, response_code="503", response_flags="-")[1] == 1

    # No route: the Host as destination_service, nothing known about a workload.
    nr, value = s.one("istio_requests_total", response_flags="NR")
    assert value == 3
    assert nr["response_code"] == "404"
    assert nr["destination_service"] == "nomatch.example.com"
    assert nr["destination_service_name"] == "nomatch.example.com"
    for k in ("destination_workload", "destination_workload_namespace", "destination_app",
              "destination_service_namespace", "destination_canonical_service", "destination_cluster"):
        assert nr[k] == "unknown", (k, nr)
    assert nr["destination_canonical_revision"] == "latest"

    uf, value = s.one("istio_requests_total", destination_service="dead.default.svc.cluster.local")
    assert value == 1 and uf["response_code"] == "503"
    assert "UF" in uf["response_flags"].split(","), uf

    # The exact label set and order of every series.
    for order in s.label_order("istio_requests_total"):
        assert order == ISTIO_HTTP_LABELS, order
    assert s.types["istio_requests_total"] == "counter"

    # Histograms: Envoy's bounds, cumulative, +Inf == _count == requests.
    for metric in ("istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes"):
        assert s.types[metric] == "histogram"
        buckets = s.series(metric + "_bucket", **echo, response_code="200")
        assert [d["le"] for d, _ in buckets] == ENVOY_BUCKETS, buckets
        assert list(buckets[0][0])[-1] == "le"  # le is the last label
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), counts
        assert counts[-1] == 5
        assert s.one(metric + "_count", **echo, response_code="200")[1] == 5
    # A GET has no body but its head is counted (wire bytes, ISTIO_TELEMETRY.md 1.1).
    assert s.one("istio_request_bytes_sum", **echo, response_code="200")[1] > 5 * 50
    # echo_server answers JSON describing the request: a few hundred bytes each.
    assert s.one("istio_response_bytes_sum", **echo, response_code="200")[1] > 5 * 200
    # Durations are whole ms; these are fast but not all at 0.
    assert s.one("istio_request_duration_milliseconds_bucket", **echo, response_code="200", le="3600000")[1] == 5

    assert s.one("istio_build", component="proxy")[1] == 1


def test_envoy_stats_under_prometheus_names(backends, torii):
    t = torii(manifests(*backends))
    send(t, "/ok?status=200", 3)
    send(t, "/ok?status=500", 2)
    send(t, "/x", 1, host="nomatch.example.com")
    s = wait_for_requests(t, 6)

    assert s.one("envoy_server_live")[1] == 1
    assert "envoy_server_live{} 1\n" in s.text  # braces even without labels
    assert s.one("envoy_server_state")[1] == 0
    assert s.types["envoy_server_uptime"] == "gauge"
    assert s.one("envoy_server_concurrency")[1] >= 1

    c = dict(cluster_name=ECHO_CLUSTER)
    assert s.one("envoy_cluster_upstream_rq_total", **c)[1] == 5
    assert s.types["envoy_cluster_upstream_rq_total"] == "counter"
    assert s.one("envoy_cluster_upstream_rq", response_code_class="2xx", **c)[1] == 3
    assert s.one("envoy_cluster_upstream_rq", response_code_class="5xx", **c)[1] == 2
    assert s.one("envoy_cluster_upstream_cx_total", **c)[1] >= 1
    assert s.types["envoy_cluster_upstream_cx_active"] == "gauge"
    assert s.one("envoy_cluster_circuit_breakers_default_cx_open", **c)[1] == 0
    assert s.one("envoy_cluster_circuit_breakers_default_rq_pending_open", **c)[1] == 0
    assert s.one("envoy_cluster_outlier_detection_ejections_active", **c)[1] == 0
    assert s.one("envoy_cluster_membership_total", **c)[1] == 1
    # The escaped form of the cluster name is just the name ('|' needs no escaping).
    assert 'cluster_name="outbound|80||echo.default.svc.cluster.local"' in s.text

    # The connection manager of the plaintext listener: outbound_0.0.0.0_<port>.
    (labels, total), = s.series("envoy_http_downstream_rq_total")
    assert re.fullmatch(r"outbound_0\.0\.0\.0_\d+", labels["http_conn_manager_prefix"]), labels
    assert total == 6
    prefix = labels["http_conn_manager_prefix"]
    assert s.one("envoy_http_downstream_rq", response_code_class="2xx", http_conn_manager_prefix=prefix)[1] == 3
    assert s.one("envoy_http_downstream_rq", response_code_class="4xx", http_conn_manager_prefix=prefix)[1] == 1
    assert s.one("envoy_http_downstream_rq", response_code_class="5xx", http_conn_manager_prefix=prefix)[1] == 2
    assert s.one("envoy_http_no_route", http_conn_manager_prefix=prefix)[1] == 1
    assert s.one("envoy_http_downstream_rq_time_count", http_conn_manager_prefix=prefix)[1] == 6
    listener = prefix[len("outbound_"):]
    # requests opens one connection per request here (no session).
    assert s.one("envoy_listener_downstream_cx_total", listener_address=listener)[1] >= 6
    assert s.types["envoy_listener_downstream_cx_active"] == "gauge"
    assert s.one("envoy_cluster_manager_active_clusters")[1] >= 2
    assert s.one("envoy_listener_manager_total_listeners_active")[1] == 1

    # Families come counters first, then gauges, then histograms (Envoy's order), each
    # group sorted by name; process_* follow.
    names = [n for n in s.types if not n.startswith("process_")]
    order = ["counter", "gauge", "histogram"]
    assert names == sorted(names, key=lambda n: (order.index(s.types[n]), n)), names


def test_process_metrics(backends, torii):
    t = torii(manifests(*backends))
    s = scrape(t)
    assert s.types["process_cpu_seconds_total"] == "counter"
    assert s.one("process_cpu_seconds_total")[1] > 0
    rss = s.one("process_resident_memory_bytes")[1]
    assert 1 << 20 < rss < 1 << 34
    assert s.one("process_open_fds")[1] >= 3
    assert s.one("process_max_fds")[1] >= s.one("process_open_fds")[1]
    start = s.one("process_start_time_seconds")[1]
    assert time.time() - 600 < start <= time.time() + 1


def test_grafana_gateway_queries_over_two_scrapes(backends, torii):
    """The gateway rows of Istio's dashboards (ISTIO_TELEMETRY.md 3.1-3.4), as PromQL would
    evaluate them on two scrapes of this gateway: each returns data."""
    t = torii(manifests(*backends))
    send(t, "/warmup", 1)
    before = wait_for_requests(t, 1)
    send(t, "/ok?status=200", 8)
    send(t, "/ok?status=503", 2)
    send(t, "/nope", 2, host="nomatch.example.com")
    after = wait_for_requests(t, 13)
    src = dict(reporter=re.compile("source|waypoint"))

    # Mesh dashboard: traffic volume, success rate, 4xx/5xx.
    volume = sum(increase(before, after, "istio_requests_total", **src).values())
    assert volume == 12
    ok = sum(increase(before, after, "istio_requests_total", **src, response_code=re.compile("(?!5..).*")).values())
    assert ok / volume == pytest.approx(10 / 12)
    assert sum(increase(before, after, "istio_requests_total", **src, response_code=re.compile("4..")).values()) == 2
    assert sum(increase(before, after, "istio_requests_total", **src, response_code=re.compile("5..")).values()) == 2
    # Mesh dashboard: HTTP workloads table.
    table = sum_by(increase(before, after, "istio_requests_total", **src),
                   ["destination_workload", "destination_workload_namespace", "destination_service"])
    assert table[("echo-v1", "default", ECHO_FQDN)] == 10
    p50 = histogram_quantile(0.5, _bucket_increase(before, after, "istio_request_duration_milliseconds_bucket",
                                                   destination_workload="echo-v1", **src))
    assert p50 is not None and 0 <= p50 < 3600000

    # Service dashboard: the service variable, client request volume, duration, sizes.
    services = {d["destination_service"] for d, _ in after.series("istio_requests_total")}
    assert ECHO_FQDN in services
    svc = dict(reporter=re.compile("source|destination"), destination_service=ECHO_FQDN)
    assert sum(increase(before, after, "istio_requests_total", **svc).values()) == 10
    by_source = sum_by(increase(before, after, "istio_requests_total", **svc),
                       ["source_workload", "source_workload_namespace", "response_code"])
    assert by_source[("istio-ingressgateway", "istio-system", "200")] == 8
    assert by_source[("istio-ingressgateway", "istio-system", "503")] == 2
    for metric in ("istio_request_bytes_bucket", "istio_response_bytes_bucket"):
        q = histogram_quantile(0.9, _bucket_increase(before, after, metric, **svc))
        assert q is not None and q > 0, metric
    # Source cluster / namespace / workload variables.
    assert {d["source_cluster"] for d, _ in after.series("istio_requests_total", **svc)} == {"Kubernetes"}

    # Workload dashboard (the gateway is the workload): dstsvc variable and outgoing requests.
    gw = dict(reporter="source", source_workload=re.compile("istio-ingressgateway"),
              source_workload_namespace=re.compile("istio-system"))
    dstsvc = {d["destination_service"] for d, _ in after.series("istio_requests_total", **gw)}
    assert ECHO_FQDN in dstsvc
    outgoing = sum_by(increase(before, after, "istio_requests_total", **gw,
                               destination_principal=re.compile("(?!spiffe).*")),
                      ["destination_service", "response_code"])
    assert outgoing[(ECHO_FQDN, "200")] == 8

    # Performance dashboard rows hard-code the workload name.
    perf = dict(source_workload="istio-ingressgateway", reporter="source")
    assert sum(increase(before, after, "istio_requests_total", **perf).values()) == 12
    assert sum(increase(before, after, "istio_response_bytes_sum", **perf).values()) > 0
    # Versions panel.
    assert sum_by({tuple(sorted(d.items())): v for d, v in after.series("istio_build")}, ["component"]) == {
        ("proxy",): 1}


def _bucket_increase(before, after, name, **match):
    """sum by (le) (increase(name[...])) as {le: value}."""
    return {le: v for (le,), v in sum_by(increase(before, after, name, **match), ["le"]).items()}


def test_identity_flags_and_no_istio_metrics(backends, torii):
    t = torii(manifests(*backends), extra_args=["--workload-name", "edge-gw", "--namespace", "edge",
                                               "--cluster-id", "east", "--labels",
                                               "istio=ingressgateway,app=edge,version=v7"])
    send(t, "/ok", 1)
    s = wait_for_requests(t, 1)
    d, _ = s.one("istio_requests_total")
    assert (d["source_workload"], d["source_workload_namespace"], d["source_cluster"], d["source_app"],
            d["source_version"], d["source_canonical_service"], d["source_canonical_revision"]) == (
        "edge-gw", "edge", "east", "edge", "v7", "edge", "v7")
    assert d["destination_cluster"] == "east"

    off = torii(manifests(*backends), extra_args=["--no-istio-metrics"], name="off")
    send(off, "/ok", 2)
    ok, _ = harness.poll_until(lambda: scrape(off).value("envoy_http_downstream_rq_total") == 2, 5)
    assert ok
    s = scrape(off)
    assert not [n for n in s.types if n.startswith("istio_")], s.types
    assert s.one("envoy_cluster_upstream_rq_total", cluster_name=ECHO_CLUSTER)[1] == 2


def test_label_values_are_escaped(backends, torii):
    """A Host with a quote and a backslash (rejected: 400) is its destination_service, escaped."""
    t = torii(manifests(*backends))
    with socket.create_connection(("127.0.0.1", t.listen_port)) as c:
        c.sendall(b'GET / HTTP/1.1\r\nHost: a"b\\c\r\nConnection: close\r\n\r\n')
        assert c.recv(4096).startswith(b"HTTP/1.1 400")
    s = wait_for_requests(t, 1)
    assert 'destination_service="a\\"b\\\\c"' in s.text, s.text
    assert s.one("istio_requests_total", response_code="400")[0]["destination_service"] == 'a"b\\c'


def test_tcp_route_metrics(tcp_echo, torii):
    """A `tcp:` route: istio_tcp_* per connection, bytes each way, request_protocol="tcp"."""
    up = tcp_echo("m", "127.0.0.92")
    port = harness.reserve_port()
    t = torii(tcp_manifests([(up, 100)]), port_map={9000: port})
    payloads = [b"one", b"second payload", b"x" * 5000]
    for p in payloads:
        body, _, count = exchange(port, p)
        assert body == p and count == len(p)
    labels = dict(destination_service="echo-m.test", request_protocol="tcp")

    def closed_all():
        s = scrape(t)
        return s if s.value("istio_tcp_connections_closed_total", **labels) == len(payloads) else None

    s, _ = harness.poll_until(closed_all, 5)
    assert s, scrape(t).text
    d, opened = s.one("istio_tcp_connections_opened_total", **labels)
    assert opened == len(payloads)
    assert d["response_flags"] == "-" and d["reporter"] == "source"
    assert d["source_workload"] == "istio-ingressgateway"
    assert d["destination_service_name"] == "echo-m.test"
    received = sum(len(p) for p in payloads)
    trailers = sum(len(b"\nBYE m %d\n" % len(p)) for p in payloads)
    assert s.one("istio_tcp_received_bytes_total", **labels)[1] == received
    assert s.one("istio_tcp_sent_bytes_total", **labels)[1] == received + trailers
    for name in ("istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total",
                 "istio_tcp_received_bytes_total", "istio_tcp_sent_bytes_total"):
        assert s.types[name] == "counter"
        for order in s.label_order(name):
            assert order == ISTIO_TCP_LABELS, order
    assert not s.series("istio_requests_total")  # no HTTP on this gateway
    assert not s.series("envoy_http_downstream_rq_total")
    assert s.value("envoy_listener_downstream_cx_total") == len(payloads)

    # Workload dashboard "TCP client traffic" and mesh dashboard TCP workloads rows.
    tcp_sent = sum_by({tuple(sorted(d.items())): v for d, v in s.series(
        "istio_tcp_sent_bytes_total", reporter="source", source_workload="istio-ingressgateway")},
        ["destination_service"])
    assert tcp_sent[("echo-m.test",)] > 0


def test_tcp_connect_failure_is_uf(torii):
    closed = harness.reserve_port()
    dead = harness.Upstream(None, "127.0.0.93", closed, "dead")
    port = harness.reserve_port()
    t = torii(tcp_manifests([(dead, 100)]), port_map={9000: port})
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.settimeout(10)
        assert c.recv(100) == b""  # closed by the gateway
    s, _ = harness.poll_until(
        lambda: (lambda s: s if s.series("istio_tcp_connections_closed_total") else None)(scrape(t)), 5)
    assert s, scrape(t).text
    d, n = s.one("istio_tcp_connections_closed_total", destination_service="echo-dead.test")
    assert n == 1
    assert "UF" in d["response_flags"].split(","), d
    assert d["destination_workload"] == "unknown"


def test_grpc_requests(tmp_path, torii):
    """request_protocol="grpc" with the gRPC status of the trailers (or of a local reply)."""
    from test_grpc_upstream import manifests as grpc_manifests, start_grpc
    import grpc

    backend = start_grpc(tmp_path, "gm", "127.0.0.94")
    try:
        t = torii(grpc_manifests(backend))
        with grpc.insecure_channel("127.0.0.1:%d" % t.listen_port, options=[("grpc.enable_retries", 0)]) as ch:
            assert ch.unary_unary("/test.Echo/Unary")(b"a", timeout=10) == b"a"
            assert ch.unary_unary("/test.Echo/Unary")(b"b", timeout=10) == b"b"
            with pytest.raises(grpc.RpcError) as e:
                ch.unary_unary("/test.Echo/Status")(b"", metadata=[("x-status", "NOT_FOUND"),
                                                                  ("x-route", "noretry")], timeout=10)
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.RpcError) as e:
                ch.unary_unary("/fault.Svc/Call")(b"", timeout=10)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        s = wait_for_requests(t, 4)
        g = dict(request_protocol="grpc", destination_service="echo.default.svc.cluster.local")
        assert s.one("istio_requests_total", **g, response_code="200", grpc_response_status="0")[1] == 2
        assert s.one("istio_requests_total", **g, grpc_response_status="5")[1] == 1
        d, n = s.one("istio_requests_total", **g, grpc_response_status="14")
        # A fault abort answers before any endpoint: the route's service, no workload.
        assert n == 1 and d["response_flags"] == "FI" and d["destination_workload"] == "unknown", d
        assert not s.series("istio_requests_total", request_protocol="http")
    finally:
        backend.proc.terminate(10)
        backend.proc.cleanup()


def test_scrapes_during_traffic_on_two_workers(backends, torii):
    """Workers record while the admin thread scrapes: every scrape parses, counters never go
    back, new label sets appear mid-scrape, and the end total is exact."""
    import threading

    t = torii(manifests(*backends), extra_args=["--workers", "2"])
    stop = threading.Event()
    seen = []
    errors = []

    def scraper():
        while not stop.is_set():
            try:
                seen.append(scrape(t).value("istio_requests_total"))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    codes = [200, 201, 202, 203, 400, 401, 403, 404, 405, 409, 410, 418, 422, 429, 451, 500, 501, 505, 507, 511]

    def client(k):
        import requests
        try:
            with requests.Session() as s:
                for i in range(50):
                    # Status codes vary so that series are created while scrapes run.
                    code = codes[(i * 7 + k) % len(codes)]
                    r = s.get(t.url("/ok?status=%d" % code), headers={"Host": HOST}, timeout=10)
                    assert r.status_code == code, (code, r.status_code)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    th = threading.Thread(target=scraper)
    th.start()
    clients = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    s = wait_for_requests(t, 200)
    stop.set()
    th.join()
    assert not errors, errors
    assert len(seen) >= 2
    assert seen == sorted(seen), "istio_requests_total went back"
    assert s.value("istio_requests_total") == 200
    assert s.value("istio_request_duration_milliseconds_count") == 200
    assert len(s.series("istio_requests_total")) == 20
