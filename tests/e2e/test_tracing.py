"""Tracing (issue 14, docs/tracing.md), through the real binary.

Trace-context propagation as Envoy does it at an Istio gateway with a tracer
(W3C traceparent as its OpenTelemetry tracer, B3 as its Zipkin tracer), and
without one (headers pass untouched); sampled spans exported over OTLP/HTTP
(protobuf) to a collector written here: an http.server on a reserved port
that decodes ExportTraceServiceRequest bodies with a small wire-format
reader (Debian packages no opentelemetry-proto for Python).

What the upstream received is read from echo_server.py's reply. Spans are
exported once a second (or 5 at a time): every check for a span polls with a
deadline. "Nothing was exported" is checked with a marker: a later sampled
request on the same single worker, whose span can only arrive after any
span of the requests before it.
"""

import http.server
import re
import subprocess
import textwrap
import threading

import pytest
import requests

import harness

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
B3_TRACE = "80f198ee56343ba864fe8b2a57d3eff7"
B3_SPAN = "e457b5a2e4d86bd1"
B3_PARENT = "05e3ac9a4f6e3b90"
CLUSTER = "outbound|80||echo.default.svc.cluster.local"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$")
SPAN_TIMEOUT = 15  # export runs every second; a loaded machine gets slack


# ---------------------------------------------------------------- a minimal OTLP collector


def _varint(buf, pos):
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def fields(buf):
    """Protobuf wire format -> [(field number, value)]: bytes for length-delimited, int otherwise."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = bytes(buf[pos:pos + n]), pos + n
        elif wire == 5:
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((number, value))
    return out


def key_values(raw_list):
    """KeyValue messages -> {key: value} (AnyValue string 1, bool 2, int 3)."""
    out = {}
    for raw in raw_list:
        kv = dict(fields(raw))
        any_value = fields(kv.get(2, b""))
        value = None
        for number, v in any_value:
            value = v.decode() if number == 1 else (bool(v) if number == 2 else v)
        out[kv[1].decode()] = value
    return out


def decode_export_request(body):
    """ExportTraceServiceRequest -> list of span dicts (ids as lower-case hex)."""
    spans = []
    for number, resource_spans in fields(body):
        assert number == 1
        rs = fields(resource_spans)
        resource = key_values([v for n, v in fields(dict(rs).get(1, b"")) if n == 1])
        for n, scope_spans in rs:
            if n != 2:
                continue
            for m, raw_span in fields(scope_spans):
                if m != 2:
                    continue
                f = fields(raw_span)
                d = {}
                for k, v in f:
                    d.setdefault(k, v)
                status = dict(fields(d.get(15, b"")))
                spans.append({
                    "trace_id": d[1].hex(), "span_id": d[2].hex(), "parent_span_id": d.get(4, b"").hex(),
                    "name": d.get(5, b"").decode(), "kind": d.get(6, 0),
                    "start_ns": d.get(7, 0), "end_ns": d.get(8, 0),
                    "attributes": key_values([v for k, v in f if k == 9]),
                    "status_code": status.get(3, 0), "resource": resource,
                })
    return spans


class Collector:
    """OTLP/HTTP receiver: POST /v1/traces with application/x-protobuf."""

    def __init__(self, port):
        self.port = port
        self.spans = []
        self.posts = []  # (path, content-type)
        self.lock = threading.Lock()
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with collector.lock:
                    collector.posts.append((self.path, self.headers.get("content-type")))
                    collector.spans.extend(decode_export_request(body))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/v1/traces" % self.port

    def find(self, predicate):
        with self.lock:
            return [s for s in self.spans if predicate(s)]

    def wait_for(self, predicate, what):
        found, _ = harness.poll_until(lambda: self.find(predicate), SPAN_TIMEOUT, interval=0.05)
        assert found, "no span for %s; got %r" % (what, self.spans)
        return found

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    c = Collector(harness.reserve_port())
    yield c
    c.close()


# ---------------------------------------------------------------- configuration


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("traced", host="127.0.0.66")


def manifests(echo, telemetry_body=None):
    m = {"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"),
         "vs.yaml": textwrap.dedent("""\
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata: {name: echo}
            spec:
              hosts: ["*"]
              gateways: [gw]
              http:
              - match: [{uri: {prefix: /dead}}]
                route: [{destination: {host: dead, port: {number: 80}}}]
                retries: {attempts: 0}
              - route: [{destination: {host: echo, port: {number: 80}}}]
            """)}
    m["dead.yaml"] = harness.yaml_docs(  # nothing listens on its port: UF
        harness.service("dead", port=80),
        harness.workload_entry("dead-1", "127.0.0.67", {"app": "dead"}, {"http": harness.reserve_port()}))
    if telemetry_body is not None:
        m["telemetry.yaml"] = telemetry(telemetry_body)
    return m


def telemetry(body, name="mesh-default", namespace="istio-system"):
    return ("apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: %s\n  namespace: %s\n"
            "spec:\n%s\n" % (name, namespace, textwrap.indent(body, "  ")))


SAMPLE_ALL = "tracing:\n- randomSamplingPercentage: 100\n"
SAMPLE_NONE = "tracing:\n- randomSamplingPercentage: 0\n"


def upstream_headers(response):
    """What the echo upstream received: {lower-case name: [values]}."""
    assert response.status_code == 200, response.text
    out = {}
    for k, v in response.json()["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def one(headers, name):
    values = headers.get(name, [])
    assert len(values) == 1, (name, headers)
    return values[0]


def reload(t, write):
    before = t.stat("config_reloads")
    write()
    ok, _ = harness.poll_until(lambda: t.stat("config_reloads") > before, harness.RELOAD_TIMEOUT)
    assert ok, "no reload"


# ---------------------------------------------------------------- propagation with a tracer


def test_w3c_trace_is_continued_and_its_span_exported(torii, echo, collector):
    t = torii(manifests(echo), extra_args=("--otlp-endpoint", collector.url))
    r = requests.get(t.url("/w3c?x=1"), timeout=10, headers={
        "traceparent": "00-%s-%s-01" % (TRACE, PARENT), "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
        "user-agent": "w3c-test"})
    h = upstream_headers(r)
    m = TRACEPARENT.match(one(h, "traceparent"))
    assert m, h
    trace_id, span_id, flags = m.groups()
    assert trace_id == TRACE                 # same trace
    assert span_id != PARENT                 # the gateway's own span is the upstream's parent
    assert flags == "01"                     # the caller's sampled flag
    assert one(h, "tracestate") == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"  # untouched
    assert "x-b3-traceid" not in h and "b3" not in h  # none came: none added
    request_id = one(h, "x-request-id")

    span = collector.wait_for(lambda s: s["trace_id"] == TRACE, "the w3c request")[0]
    assert span["span_id"] == span_id
    assert span["parent_span_id"] == PARENT
    assert span["kind"] == 2  # SERVER
    assert span["name"] == "echo.default.svc.cluster.local:80/*"
    assert span["status_code"] == 0  # unset: not an error
    assert 0 < span["start_ns"] <= span["end_ns"]
    a = span["attributes"]
    assert a["http.method"] == "GET"
    assert a["http.url"] == "http://127.0.0.1:%d/w3c?x=1" % t.listen_port
    assert a["http.status_code"] == "200"
    assert a["upstream_cluster"] == CLUSTER
    assert a["response_flags"] == "-"
    assert a["guid:x-request-id"] == request_id
    assert a["user_agent"] == "w3c-test"
    assert a["istio.namespace"] == "istio-system"
    assert a["node_id"].startswith("router~istio-ingressgateway.istio-system")
    assert "error" not in a
    assert span["resource"]["service.name"] == "istio-ingressgateway.istio-system"
    assert collector.posts[0] == ("/v1/traces", "application/x-protobuf")
    assert t.stat("tracing_spans_sent") >= 1


def test_new_trace_when_no_context_and_request_id_records_the_decision(torii, echo, collector):
    t = torii(manifests(echo, SAMPLE_ALL), extra_args=("--otlp-endpoint", collector.url))
    seen = set()
    for _ in range(2):
        h = upstream_headers(requests.get(t.url("/root"), timeout=10))
        trace_id, span_id, flags = TRACEPARENT.match(one(h, "traceparent")).groups()
        assert flags == "01"  # 100 % random sampling
        seen.add(trace_id)
        # Envoy's UUID extension: character 14 is '9' for a sampled request.
        assert one(h, "x-request-id")[14] == "9", h
        span = collector.wait_for(lambda s, tid=trace_id: s["trace_id"] == tid, "a root span")[0]
        assert span["span_id"] == span_id
        assert span["parent_span_id"] == ""  # a root
    assert len(seen) == 2  # each request its own trace


def test_b3_multi_headers_are_continued(torii, echo, collector):
    t = torii(manifests(echo), extra_args=("--otlp-endpoint", collector.url))
    h = upstream_headers(requests.get(t.url("/b3multi"), timeout=10, headers={
        "x-b3-traceid": B3_TRACE, "x-b3-spanid": B3_SPAN, "x-b3-parentspanid": B3_PARENT, "x-b3-sampled": "1"}))
    assert one(h, "x-b3-traceid") == B3_TRACE
    assert one(h, "x-b3-parentspanid") == B3_SPAN  # the caller's span is the new parent
    span_id = one(h, "x-b3-spanid")
    assert re.fullmatch(r"[0-9a-f]{16}", span_id) and span_id != B3_SPAN
    assert one(h, "x-b3-sampled") == "1"
    assert one(h, "traceparent") == "00-%s-%s-01" % (B3_TRACE, span_id)  # the same context in W3C form
    span = collector.wait_for(lambda s: s["trace_id"] == B3_TRACE, "the b3 request")[0]
    assert (span["span_id"], span["parent_span_id"]) == (span_id, B3_SPAN)


def test_b3_single_header_is_continued_in_its_form(torii, echo, collector):
    t = torii(manifests(echo), extra_args=("--otlp-endpoint", collector.url))
    h = upstream_headers(requests.get(t.url("/b3single"), timeout=10, headers={
        "b3": "%s-%s-0-%s" % (B3_TRACE, B3_SPAN, B3_PARENT)}))
    trace_id, span_id, sampled, parent = one(h, "b3").split("-")
    assert (trace_id, sampled, parent) == (B3_TRACE, "0", B3_SPAN)
    assert span_id != B3_SPAN
    assert "x-b3-traceid" not in h
    assert one(h, "traceparent") == "00-%s-%s-00" % (B3_TRACE, span_id)


def test_unparseable_context_passes_untouched(torii, echo, collector):
    """Envoy: a traceparent (or B3) it cannot read gives no span; headers go on as they came."""
    t = torii(manifests(echo, SAMPLE_ALL), extra_args=("--otlp-endpoint", collector.url))
    h = upstream_headers(requests.get(t.url("/bad"), timeout=10, headers={
        "traceparent": "00-%s-0000000000000000-01" % TRACE}))
    assert one(h, "traceparent") == "00-%s-0000000000000000-01" % TRACE
    h = upstream_headers(requests.get(t.url("/bad"), timeout=10, headers={"x-b3-traceid": B3_TRACE}))
    assert one(h, "x-b3-traceid") == B3_TRACE and "traceparent" not in h and "x-b3-spanid" not in h


def test_5xx_span_has_error_status_and_flags(torii, echo, collector):
    t = torii(manifests(echo), extra_args=("--otlp-endpoint", collector.url))
    r = requests.get(t.url("/dead"), timeout=10, headers={"traceparent": "00-%s-%s-01" % (TRACE, PARENT)})
    assert r.status_code == 503
    span = collector.wait_for(lambda s: s["trace_id"] == TRACE, "the 503")[0]
    assert span["status_code"] == 2  # ERROR
    assert span["name"] == "dead.default.svc.cluster.local:80/dead*"  # Istio's decorator of a prefix route
    a = span["attributes"]
    assert (a["http.status_code"], a["response_flags"], a["error"]) == ("503", "UF", "true")
    assert a["upstream_cluster"] == "outbound|80||dead.default.svc.cluster.local"


# ---------------------------------------------------------------- sampling


def test_zero_sampling_exports_nothing_but_propagates_and_changes_live(torii, echo, collector):
    t = torii(manifests(echo, SAMPLE_NONE), extra_args=("--workers", "1", "--otlp-endpoint", collector.url))
    assert t.config_dump()["snapshot"]["tracing"] == {
        "source": "Telemetry istio-system/mesh-default", "random_sampling_percentage": 0.0,
        "disable_span_reporting": False}
    roots = []
    for _ in range(5):
        h = upstream_headers(requests.get(t.url("/unsampled"), timeout=10))
        trace_id, _, flags = TRACEPARENT.match(one(h, "traceparent")).groups()
        assert flags == "00"  # injected, not sampled
        assert one(h, "x-request-id")[14] == "4"
        roots.append(trace_id)
    # A caller's unsampled context stays unsampled.
    h = upstream_headers(requests.get(t.url("/unsampled"), timeout=10,
                                      headers={"traceparent": "00-%s-%s-00" % (TRACE, PARENT)}))
    assert one(h, "traceparent").startswith("00-%s-" % TRACE) and one(h, "traceparent").endswith("-00")
    # A caller's sampled context is followed even at 0 % (Envoy's OpenTelemetry
    # tracer): the marker. Its span comes after any of the requests before it.
    marker = "11111111111111111111111111111111"
    requests.get(t.url("/marker"), timeout=10, headers={"traceparent": "00-%s-%s-01" % (marker, PARENT)})
    collector.wait_for(lambda s: s["trace_id"] == marker, "the marker")
    assert [s["trace_id"] for s in collector.spans] == [marker]

    # Live: 100 % from the next request on.
    reload(t, lambda: t.write("telemetry.yaml", telemetry(SAMPLE_ALL)))
    h = upstream_headers(requests.get(t.url("/sampled-now"), timeout=10))
    trace_id, _, flags = TRACEPARENT.match(one(h, "traceparent")).groups()
    assert flags == "01"
    collector.wait_for(lambda s: s["trace_id"] == trace_id, "a request after the reload")


def test_sampling_flag_without_telemetry(torii, echo, collector):
    t = torii(manifests(echo), extra_args=("--otlp-endpoint", collector.url, "--trace-sampling", "100"))
    h = upstream_headers(requests.get(t.url("/flag"), timeout=10))
    trace_id, _, flags = TRACEPARENT.match(one(h, "traceparent")).groups()
    assert flags == "01"
    collector.wait_for(lambda s: s["trace_id"] == trace_id, "a request sampled by --trace-sampling")


def test_disable_span_reporting_keeps_propagating(torii, echo, collector):
    body = "tracing:\n- randomSamplingPercentage: 100\n  disableSpanReporting: true\n"
    t = torii(manifests(echo, body), extra_args=("--workers", "1", "--otlp-endpoint", collector.url))
    h = upstream_headers(requests.get(t.url("/unreported"), timeout=10,
                                      headers={"traceparent": "00-%s-%s-01" % (TRACE, PARENT)}))
    assert one(h, "traceparent").startswith("00-%s-" % TRACE)
    reload(t, lambda: t.write("telemetry.yaml", telemetry(SAMPLE_ALL)))
    marker = "22222222222222222222222222222222"
    requests.get(t.url("/marker"), timeout=10, headers={"traceparent": "00-%s-%s-01" % (marker, PARENT)})
    collector.wait_for(lambda s: s["trace_id"] == marker, "the marker")
    assert not collector.find(lambda s: s["trace_id"] == TRACE)


def test_telemetry_tracing_without_exporter_propagates(torii, echo):
    t = torii(manifests(echo, SAMPLE_ALL))
    h = upstream_headers(requests.get(t.url("/no-exporter"), timeout=10,
                                      headers={"traceparent": "00-%s-%s-01" % (TRACE, PARENT)}))
    _, span_id, _ = TRACEPARENT.match(one(h, "traceparent")).groups()
    assert span_id != PARENT
    assert "tracing_spans_sent" not in t.stats()  # no exporter


# ---------------------------------------------------------------- no tracer, collector down, bad input


def test_without_a_tracer_trace_headers_pass_untouched(torii, echo):
    t = torii(manifests(echo))
    sent = {"traceparent": "00-%s-%s-01" % (TRACE, PARENT), "tracestate": "a=b", "b3": "%s-%s-1" % (B3_TRACE, B3_SPAN),
            "x-b3-traceid": B3_TRACE, "x-b3-spanid": B3_SPAN, "x-b3-sampled": "1"}
    h = upstream_headers(requests.get(t.url("/plain"), timeout=10,
                                      headers={**sent, "x-envoy-decorator-operation": "client-chosen"}))
    for name, value in sent.items():
        assert one(h, name) == value
    # Tracing is enabled at a stock gateway (no tracer): the route's decorator
    # goes upstream, the client's is stripped.
    assert one(h, "x-envoy-decorator-operation") == "echo.default.svc.cluster.local:80/*"
    h = upstream_headers(requests.get(t.url("/plain"), timeout=10))
    assert "traceparent" not in h and "b3" not in h and "x-b3-traceid" not in h  # nothing injected


def test_collector_down_requests_unaffected_and_drops_counted(torii, echo):
    dead = "http://127.0.0.1:%d/v1/traces" % harness.reserve_port()  # nothing listens there
    t = torii(manifests(echo, SAMPLE_ALL), extra_args=("--otlp-endpoint", dead))
    for i in range(20):
        r = requests.get(t.url("/while-down-%d" % i), timeout=10)
        assert r.status_code == 200
        assert TRACEPARENT.match(one(upstream_headers(r), "traceparent"))
    ok, _ = harness.poll_until(lambda: t.stat("tracing_spans_dropped") >= 20, SPAN_TIMEOUT, interval=0.1)
    assert ok, t.stats()
    assert t.stat("tracing_spans_sent") == 0
    assert t.stat("tracing_export_failures") >= 1


@pytest.mark.parametrize("body,field,message", [
    ("- randomSamplingPercentage: 150", "spec.tracing[0].randomSamplingPercentage", "must be from 0 to 100, got 150"),
    ("- {}\n- randomSamplingPercentage: lots", "spec.tracing[1].randomSamplingPercentage",
     "expected a number from 0 to 100"),
    ("- disableSpanReporting: maybe", "spec.tracing[0].disableSpanReporting", "expected a boolean"),
    ("- match: {mode: SIDEWAYS}", "spec.tracing[0].match.mode", "unknown mode 'SIDEWAYS'"),
])
def test_bad_tracing_values_are_named(tmp_path, body, field, message):
    f = tmp_path / "telemetry.yaml"
    f.write_text(telemetry("tracing:\n" + body + "\n", name="bad"))
    res = harness.run_torii_validate([f])
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    line = [l for l in out.splitlines() if field in l]
    assert line and "telemetry.yaml:" in line[0] and "Telemetry istio-system/bad" in line[0], out
    assert message in line[0], out


def test_bad_tracing_edit_keeps_the_last_good_one(torii, echo, collector):
    t = torii(manifests(echo, SAMPLE_ALL), extra_args=("--otlp-endpoint", collector.url))
    rejected = t.stat("config_rejected_objects")
    t.write("telemetry.yaml", telemetry("tracing:\n- randomSamplingPercentage: -1\n"))
    ok, _ = harness.poll_until(lambda: t.stat("config_rejected_objects") > rejected, harness.RELOAD_TIMEOUT)
    assert ok, t.stats()
    h = upstream_headers(requests.get(t.url("/still-sampled"), timeout=10))
    assert one(h, "traceparent").endswith("-01")  # 100 % still in force


@pytest.mark.parametrize("args,needle", [
    (("--trace-sampling", "101"), "--trace-sampling: expected a percentage from 0 to 100"),
    (("--trace-sampling", "x"), "--trace-sampling: expected a percentage"),
    (("--otlp-endpoint", "collector:4318"), "--otlp-endpoint: expected http://HOST:PORT/v1/traces"),
    (("--otlp-endpoint", "https://c:4318/v1/traces"), "--otlp-endpoint: https is not supported"),
])
def test_bad_flags_are_refused(tmp_path, args, needle):
    p = subprocess.run([harness.TORII_BIN, "run", "--config", str(tmp_path), *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert needle in p.stderr, p.stderr


def test_help_lists_the_tracing_flags():
    p = subprocess.run([harness.TORII_BIN, "help"], capture_output=True, text=True, timeout=30)
    assert "--otlp-endpoint URL" in p.stdout and "--trace-sampling PERCENT" in p.stdout
