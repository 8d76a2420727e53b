"""Access log and request identity (issue 14, docs/access-log.md), through the real binary.

One line per HTTP request, in Istio's text or JSON format, with Envoy's
%RESPONSE_FLAGS% and %RESPONSE_CODE_DETAILS% for each way a request can end:
a test per flag Torii raises, checked on the line the request left. Also:
the Telemetry resource turning logging on/off and filtering it live, SIGUSR1
reopening the file after logrotate renamed it, and x-request-id generated,
replaced or (--preserve-request-id) kept, equal upstream and in the log.

Lines are found by their (unique) path; the writer flushes every 100 ms, so
every lookup polls with a deadline.
"""

import json
import re
import signal
import socket
import struct
import textwrap
import threading

import pytest
import requests

import harness
from h2_client import H2Client
from test_http2_upstream import start_h2echo
from traffic_policy_util import control

# A UUID v4; character 14 is '9' for the 1 % of requests Envoy's random
# sampling picks (docs/tracing.md), as at an Istio gateway.
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[49][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CB_CLUSTER = "outbound|80||cb.default.svc.cluster.local"

VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: logged
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - name: ok
    match: [{uri: {prefix: /ok}}]
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
    retries: {attempts: 0}
  - match: [{uri: {prefix: /uh}}]
    route: [{destination: {host: echo, subset: v9, port: {number: 80}}}]
  - match: [{uri: {prefix: /nc}}]
    route: [{destination: {host: nosuch, port: {number: 80}}}]
  - match: [{uri: {prefix: /uf}}]
    route: [{destination: {host: dead, port: {number: 80}}}]
    retries: {attempts: 0}
  - match: [{uri: {prefix: /default-retries-uf}}]
    route: [{destination: {host: dead, port: {number: 80}}}]
  - match: [{uri: {prefix: /uc}}]
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
    retries: {attempts: 0}
  - match: [{uri: {prefix: /ur}}]
    route: [{destination: {host: h2, port: {number: 80}}}]
    retries: {attempts: 0}
  - match: [{uri: {prefix: /upe}}]
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
    retries: {attempts: 0}
  - match: [{uri: {prefix: /ut}}]
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
    timeout: 0.3s
    retries: {attempts: 0}
  - match: [{uri: {prefix: /retry-urx}}]
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
    retries: {attempts: 2, retryOn: 5xx}
  - match: [{uri: {prefix: /fi}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
  - match: [{uri: {prefix: /di}}]
    fault: {delay: {fixedDelay: 0.05s, percentage: {value: 100}}}
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
  - match: [{uri: {prefix: /dc}}]
    route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
  - match: [{uri: {prefix: /uo}}]
    route: [{destination: {host: cb, port: {number: 80}}}]
"""

DR = """\
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: echo
spec:
  host: echo
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v9          # no endpoint has version=v9
    labels: {version: v9}
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: cb
spec:
  host: cb
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
"""


def h2_backend(up):
    return textwrap.dedent("""\
        apiVersion: v1
        kind: Service
        metadata: {name: h2}
        spec:
          ports: [{name: http2, port: 80}]
          selector: {app: h2}
        ---
        """) + harness.workload_entry("h2-1", up.host, {"app": "h2"}, {"http2": up.port})


def manifests(echo, h2, closed_port):
    return {
        "gw.yaml": harness.gateway("gw"),
        "echo.yaml": harness.yaml_docs(
            harness.service("echo", port=80),
            harness.workload_entry("echo-v1", echo.host, {"app": "echo", "version": "v1"}, {"http": echo.port}),
            harness.service("cb", port=80),
            harness.workload_entry("cb-1", echo.host, {"app": "cb"}, {"http": echo.port}),
            harness.service("dead", port=80),
            harness.workload_entry("dead-1", "127.0.0.63", {"app": "dead"}, {"http": closed_port}),
            h2_backend(h2),
        ),
        "dr.yaml": DR,
        "vs.yaml": VS,
    }


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def json_line(path, request_path, timeout=10):
    """The JSON access-log line of the request to `request_path` (polls until written)."""
    def find():
        for line in read_lines(path):
            entry = json.loads(line)
            if entry["path"] == request_path:
                return entry
        return None
    entry, _ = harness.poll_until(find, timeout)
    assert entry, "no access-log line for %s in:\n%s" % (request_path, "\n".join(read_lines(path)[-20:]))
    return entry


def text_line(path, needle, timeout=10):
    found, _ = harness.poll_until(lambda: [l for l in read_lines(path) if needle in l], timeout)
    assert found, "no access-log line with %r in:\n%s" % (needle, "\n".join(read_lines(path)[-20:]))
    assert len(found) == 1, found
    return found[0]


def upstream_header(response, name):
    return [v for k, v in response.json()["headers"] if k.lower() == name]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, module_upstreams):
    workdir = tmp_path_factory.mktemp("accesslog")
    echo = module_upstreams.echo("v1", host="127.0.0.61")
    h2 = start_h2echo(workdir, "h2", "127.0.0.62")
    closed_port = harness.reserve_port()
    log = workdir / "access.log"
    t = harness.start_torii(workdir, manifests=manifests(echo, h2, closed_port),
                            extra_args=("--workers", "1", "--access-log", str(log),
                                        "--access-log-format", "json"))
    yield t, echo, log, (echo, h2, closed_port)
    t.stop()
    t.proc.cleanup()
    h2.proc.terminate(10)
    h2.proc.cleanup()


def check(setup, path, code, flags, details, **request):
    t, _, log, _ = setup
    r = requests.get(t.url(path), timeout=30, **request)
    assert r.status_code == code, (r.status_code, r.text)
    entry = json_line(log, path)
    assert entry["response_code"] == code
    assert entry["response_flags"] == flags, entry
    assert entry["response_code_details"] == details, entry
    return r, entry


def test_proxied_request_line(setup):
    t, echo, log, _ = setup
    r, e = check(setup, "/ok/line?x=1", 200, None, "via_upstream", headers={"user-agent": "ua-test/1"})
    assert e["method"] == "GET" and e["protocol"] == "HTTP/1.1"
    assert e["route_name"] == "ok"
    assert e["upstream_cluster"] == "outbound|80|v1|echo.default.svc.cluster.local"
    assert e["upstream_host"] == "%s:%d" % (echo.host, echo.port)
    assert e["user_agent"] == "ua-test/1"
    assert e["x_forwarded_for"] == "127.0.0.1"
    assert e["bytes_received"] == 0
    assert e["bytes_sent"] == len(r.content)
    assert isinstance(e["duration"], int)
    assert e["upstream_service_time"] == r.headers["x-envoy-upstream-service-time"]
    assert e["authority"] == "127.0.0.1:%d" % t.listen_port
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["start_time"])


def test_http2_client_line(setup):
    t, _, log, _ = setup
    with H2Client(t.listen_port) as c:
        r = c.request("GET", "/ok/h2", authority="h2.example.com")
        assert r.status == 200
        r2 = c.request("GET", "/nothing-h2", authority="h2.example.com")
        assert r2.status == 404
    e = json_line(log, "/ok/h2")
    assert (e["protocol"], e["response_code"], e["authority"]) == ("HTTP/2", 200, "h2.example.com")
    assert e["bytes_sent"] == len(r.body)
    e = json_line(log, "/nothing-h2")
    assert (e["protocol"], e["response_flags"]) == ("HTTP/2", "NR")


def test_request_body_bytes_are_counted(setup):
    t, _, log, _ = setup
    r = requests.post(t.url("/ok/post"), data=b"x" * 1234, timeout=30)
    assert r.status_code == 200
    assert json_line(log, "/ok/post")["bytes_received"] == 1234


def test_nr_no_route(setup):
    _, e = check(setup, "/nothing-here", 404, "NR", "route_not_found")
    assert e["upstream_cluster"] is None and e["route_name"] is None and e["upstream_service_time"] is None


def test_uh_no_healthy_upstream(setup):
    r, e = check(setup, "/uh", 503, "UH", "no_healthy_upstream")
    assert e["bytes_sent"] == len("no healthy upstream") == len(r.content)
    assert e["upstream_cluster"] == "outbound|80|v9|echo.default.svc.cluster.local"


def test_nc_cluster_not_found(setup):
    check(setup, "/nc", 503, "NC", "cluster_not_found")


def test_uf_connection_refused(setup):
    _, e = check(setup, "/uf", 503, "UF", "upstream_reset_before_response_started{connection_failure}")
    _, _, _, (_, _, closed_port) = setup
    assert e["upstream_host"] == "127.0.0.63:%d" % closed_port


def test_uf_with_istio_default_retries_adds_urx(setup):
    # Istio's default policy retries connect failures twice; exhausted => URX too (Envoy's order).
    check(setup, "/default-retries-uf", 503, "UF,URX", "upstream_reset_before_response_started{connection_failure}")


def test_uc_upstream_closes_before_headers(setup):
    check(setup, "/uc?key=uc1&reset_first=10", 503, "UC",
          "upstream_reset_before_response_started{connection_termination}")


def test_ur_http2_upstream_reset(setup):
    check(setup, "/ur", 503, "UR", "upstream_reset_before_response_started{remote_reset}",
          headers={"x-reset": "2"})


def test_upe_malformed_upstream_response(setup):
    check(setup, "/upe?raw=cl-and-te", 502, "UPE", "upstream_reset_before_response_started{protocol_error}")


def test_ut_route_timeout(setup):
    _, echo, _, _ = setup
    try:
        check(setup, "/ut?hold=ut1", 504, "UT", "response_timeout")
    finally:
        control(echo, "release", hold="ut1")


def test_urx_retries_exhausted_on_responses(setup):
    # 503 from the upstream on every attempt: the last one is passed on, with URX.
    r, e = check(setup, "/retry-urx?status=503", 503, "URX", "via_upstream")
    assert e["upstream_service_time"] is not None


def test_fi_fault_abort(setup):
    r, e = check(setup, "/fi", 418, "FI", "fault_filter_abort")
    assert e["bytes_sent"] == len("fault filter abort") == len(r.content)
    assert e["upstream_host"] is None


def test_di_fault_delay(setup):
    check(setup, "/di", 200, "DI", "via_upstream")


def test_dc_client_disconnects_before_the_response(setup):
    t, echo, log, _ = setup
    s = socket.create_connection(("127.0.0.1", t.listen_port), timeout=10)
    try:
        s.sendall(b"GET /dc?hold=dc1 HTTP/1.1\r\nHost: dc.example.com\r\n\r\n")
        ok, _ = harness.poll_until(lambda: control(echo)["active"] >= 1, 10)
        assert ok, "the request never reached the upstream"
    finally:
        # An abortive close (RST): Torii answers a client that only half-closes
        # (FIN) once the response comes, so that would not be a disconnect.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    try:
        e = json_line(log, "/dc?hold=dc1")
    finally:
        control(echo, "release", hold="dc1")
    assert e["response_code"] == 0
    assert e["response_flags"] == "DC"
    assert e["response_code_details"] == "downstream_remote_disconnect"


def raw_exchange(t, data):
    with socket.create_connection(("127.0.0.1", t.listen_port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_dpe_codec_errors_are_logged(setup):
    t, _, log, _ = setup
    assert raw_exchange(t, b"GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw_exchange(t, b"GET /y HTTP/1.1\r\nHost: a\r\nx-big: " + b"a" * 70000 + b"\r\n\r\n").startswith(
        b"HTTP/1.1 431")

    def codec_lines():
        found = {e["response_code"]: e for e in map(json.loads, read_lines(log)) if e["path"] is None}
        return found if 400 in found and 431 in found else None
    found, _ = harness.poll_until(codec_lines, 10)
    assert found, read_lines(log)[-5:]
    assert (found[400]["response_flags"], found[400]["response_code_details"]) == ("DPE", "http1.codec_error")
    assert (found[431]["response_flags"], found[431]["response_code_details"]) == ("DPE", "http1.headers_too_large")
    assert found[400]["bytes_sent"] == len("Bad Request")


def test_uo_circuit_breaker_overflow(setup):
    t, echo, log, _ = setup
    results = {}

    def get(path):
        results[path] = requests.get(t.url(path), headers={"Connection": "close"}, timeout=30)

    held = threading.Thread(target=get, args=("/uo/held?hold=uo1",))
    held.start()
    queued = None
    try:
        ok, _ = harness.poll_until(lambda: control(echo)["active"] >= 1, 10)
        assert ok, "the first request never reached the upstream"
        queued = threading.Thread(target=get, args=("/uo/queued",))
        queued.start()
        ok, _ = harness.poll_until(
            lambda: t.stats().get("cluster.%s.upstream_rq_pending_active" % CB_CLUSTER) == 1, 10)
        assert ok, "the second request never queued"
        check(setup, "/uo/over", 503, "UO", "upstream_reset_before_response_started{overflow}")
    finally:
        control(echo, "release", hold="uo1")
        held.join(30)
        if queued:
            queued.join(30)
    assert results["/uo/held?hold=uo1"].status_code == 200


def test_stats_count_written_lines(setup):
    t, _, _, _ = setup
    check(setup, "/ok/stats", 200, None, "via_upstream")
    stats = t.stats()
    assert stats["access_log_written"] >= 1
    assert stats["access_log_dropped"] == 0


# ---------------------------------------------------------------- formats, reopen, Telemetry


def simple_manifests(echo):
    return {"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"),
            "vs.yaml": textwrap.dedent("""\
                apiVersion: networking.istio.io/v1alpha3
                kind: VirtualService
                metadata: {name: echo}
                spec:
                  hosts: ["*"]
                  gateways: [gw]
                  http:
                  - name: to-echo
                    match: [{uri: {prefix: /ok}}]
                    route: [{destination: {host: echo, port: {number: 80}}}]
                """)}


@pytest.fixture(scope="module")
def echo2(module_upstreams):
    return module_upstreams.echo("e2", host="127.0.0.64")


TEXT_LINE = re.compile(
    r'^\[(?P<start>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>\S+)" '
    r'(?P<code>\d+) (?P<flags>\S+) (?P<details>\S+) (?P<term>\S+) "(?P<tfr>[^"]*)" (?P<rx>\d+) (?P<tx>\d+) '
    r'(?P<duration>\d+) (?P<ust>\S+) "(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "(?P<rid>[^"]*)" "(?P<authority>[^"]*)" '
    r'"(?P<uhost>[^"]*)" (?P<cluster>\S+) (?P<ulocal>\S+) (?P<dlocal>\S+) (?P<dremote>\S+) (?P<sni>\S+) '
    r'(?P<route>\S+)$')


def test_istio_text_format(tmp_path, torii, echo2):
    log = tmp_path / "text.log"
    t = torii(simple_manifests(echo2), extra_args=("--access-log", str(log)))
    r = requests.get(t.url("/ok/text"), headers={"user-agent": "text agent"}, timeout=10)
    assert r.status_code == 200
    m = TEXT_LINE.match(text_line(log, "/ok/text"))
    assert m, text_line(log, "/ok/text")
    assert (m["method"], m["protocol"], m["code"], m["flags"], m["details"]) == (
        "GET", "HTTP/1.1", "200", "-", "via_upstream")
    assert m["ua"] == "text agent"
    assert m["rid"] == upstream_header(r, "x-request-id")[0]
    assert m["uhost"] == "%s:%d" % (echo2.host, echo2.port)
    assert m["cluster"] == "outbound|80||echo.default.svc.cluster.local"
    assert m["route"] == "to-echo"
    assert int(m["tx"]) == len(r.content)
    requests.get(t.url("/missing"), timeout=10)
    m = TEXT_LINE.match(text_line(log, "/missing"))
    assert (m["code"], m["flags"], m["details"], m["ust"], m["uhost"], m["cluster"]) == (
        "404", "NR", "route_not_found", "-", "-", "-")


def test_custom_format(tmp_path, torii, echo2):
    log = tmp_path / "custom.log"
    t = torii(simple_manifests(echo2), extra_args=(
        "--access-log", str(log), "--access-log-format",
        "%REQ(:METHOD)% %REQ(:PATH)% code=%RESPONSE_CODE% flags=%RESPONSE_FLAGS_LONG% ua=%REQ(USER-AGENT):3%"))
    requests.get(t.url("/nope"), headers={"user-agent": "abcdef"}, timeout=10)
    assert text_line(log, "/nope") == "GET /nope code=404 flags=NoRouteFound ua=abc"


def test_bad_format_is_refused_at_start(tmp_path):
    r = harness.run_torii_validate  # noqa: F841 - only for the binary path
    import subprocess
    p = subprocess.run([harness.TORII_BIN, "run", "--config", str(tmp_path), "--access-log", "/dev/null",
                        "--access-log-format", "%NOT_AN_OPERATOR%"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "--access-log-format" in p.stderr and "%NOT_AN_OPERATOR%" in p.stderr


def test_sigusr1_reopens_after_rename(tmp_path, torii, echo2):
    log = tmp_path / "rotate.log"
    t = torii(simple_manifests(echo2), extra_args=("--access-log", str(log)))
    requests.get(t.url("/ok/before"), timeout=10)
    text_line(log, "/ok/before")
    rotated = tmp_path / "rotate.log.1"
    log.rename(rotated)
    t.proc.signal(signal.SIGUSR1)
    # Until the writer reopens, lines still go to the renamed file; then to a new one.
    def logged_in_new_file():
        requests.get(t.url("/ok/after"), timeout=10)
        return any("/ok/after" in l for l in read_lines(log))
    ok, _ = harness.poll_until(logged_in_new_file, 10, interval=0.1)
    assert ok, "no line reached the reopened file"
    assert any("/ok/before" in l for l in read_lines(rotated))
    assert not any("/ok/before" in l for l in read_lines(log))
    assert t.alive()


def telemetry(name="mesh-default", namespace="istio-system", body="accessLogging:\n- providers: [{name: envoy}]"):
    return ("apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: %s\n  namespace: %s\n"
            "spec:\n%s\n" % (name, namespace, textwrap.indent(body, "  ")))


def reload(t, write, served=None):
    """Applies `write` and waits for its config: until `served(access_log)` holds for the snapshot's
    access log settings in /config_dump when given (a reload count alone can be satisfied by a late
    second event of the previous write), else until the reload counter moves."""
    before = t.stat("config_reloads")
    write()
    if served is not None:
        ok, _ = harness.poll_until(lambda: served(t.config_dump()["snapshot"]["access_log"]) or None,
                                   harness.RELOAD_TIMEOUT)
        assert ok, t.config_dump()["snapshot"]["access_log"]
        return
    ok, _ = harness.poll_until(lambda: t.stat("config_reloads") > before, harness.RELOAD_TIMEOUT)
    assert ok, "no reload"


def test_telemetry_filter_and_disable_live(tmp_path, torii, echo2):
    log = tmp_path / "telemetry.log"
    m = simple_manifests(echo2)
    m["telemetry.yaml"] = telemetry(body=textwrap.dedent("""\
        accessLogging:
        - providers: [{name: envoy}]
          filter:
            expression: response.code >= 400 && response.code != 418
        """))
    t = torii(m, extra_args=("--workers", "1", "--access-log", str(log)))
    assert t.config_dump()["snapshot"]["access_log"] == {
        "source": "Telemetry istio-system/mesh-default", "enabled": True, "needs_access_log_flag": False,
        "filter": "response.code >= 400 && response.code != 418"}
    requests.get(t.url("/ok/filtered-out"), timeout=10)  # 200: not logged
    requests.get(t.url("/missing-1"), timeout=10)        # 404: logged
    text_line(log, "/missing-1")
    assert not any("/ok/filtered-out" in l for l in read_lines(log))

    reload(t, lambda: t.write("telemetry.yaml", telemetry(body="accessLogging:\n- disabled: true")),
           lambda a: not a["enabled"])
    requests.get(t.url("/missing-2"), timeout=10)  # logging off

    # A selector that does not match the gateway's labels is not for it: the
    # root-namespace default (everything logged) applies again.
    reload(t, lambda: t.write("telemetry.yaml", harness.yaml_docs(
        telemetry(body="accessLogging:\n- providers: [{name: envoy}]"),
        telemetry(name="other", body="selector:\n  matchLabels: {app: other}\naccessLogging:\n- disabled: true"))),
        lambda a: a["enabled"] and not a.get("filter"))
    requests.get(t.url("/ok/marker"), timeout=10)
    text_line(log, "/ok/marker")  # one worker: lines are written in request order
    assert not any("/missing-2" in l for l in read_lines(log))

    # A selector matching the gateway (istio: ingressgateway) wins over the namespace-wide one.
    reload(t, lambda: t.write("telemetry.yaml", harness.yaml_docs(
        telemetry(body="accessLogging:\n- providers: [{name: envoy}]"),
        telemetry(name="gw-only",
                  body="selector:\n  matchLabels: {istio: ingressgateway}\naccessLogging:\n- disabled: true"))),
        lambda a: not a["enabled"] and "gw-only" in a.get("source", ""))
    requests.get(t.url("/missing-3"), timeout=10)
    # No Telemetry: --access-log logs everything.
    reload(t, lambda: t.remove("telemetry.yaml"), lambda a: "gw-only" not in a.get("source", ""))
    requests.get(t.url("/ok/marker-2"), timeout=10)
    text_line(log, "/ok/marker-2")
    assert not any("/missing-3" in l for l in read_lines(log))


def test_telemetry_bad_filter_is_rejected_and_last_good_serves(tmp_path, torii, echo2):
    log = tmp_path / "bad.log"
    m = simple_manifests(echo2)
    m["telemetry.yaml"] = telemetry(body="accessLogging:\n- filter: {expression: 'response.code >= 500'}")
    t = torii(m, extra_args=("--workers", "1", "--access-log", str(log)))
    reload(t, lambda: t.write("telemetry.yaml", telemetry(
        body="accessLogging:\n- filter: {expression: 'xds.cluster_name == \"BlackHoleCluster\"'}")))
    ok, _ = harness.poll_until(lambda: "filter.expression" in t.log(), 10)
    assert ok, t.log()
    assert "Telemetry" in t.log() and "mesh-default" in t.log() and "xds.cluster_name" in t.log()
    requests.get(t.url("/missing-bad"), timeout=10)  # 404 < 500: the last good filter drops it
    requests.get(t.url("/ok/x?status=503"), timeout=10)
    text_line(log, "/ok/x?status=503")
    assert not any("/missing-bad" in l for l in read_lines(log))


def test_telemetry_without_access_log_flag_writes_to_stdout(tmp_path, torii, echo2):
    m = simple_manifests(echo2)
    m["telemetry.yaml"] = telemetry()
    t = torii(m)
    requests.get(t.url("/ok/stdout-line"), timeout=10)
    ok, _ = harness.poll_until(lambda: '"GET /ok/stdout-line HTTP/1.1" 200' in t.log(), 10)
    assert ok, t.log()


def test_no_access_log_by_default(tmp_path, torii, echo2):
    t = torii(simple_manifests(echo2))
    requests.get(t.url("/ok/quiet"), timeout=10)
    requests.get(t.url("/ok/quiet2"), timeout=10)
    assert t.stat("access_log_written") == 0
    assert "/ok/quiet" not in t.log()


# ---------------------------------------------------------------- x-request-id


def test_request_id_generated_and_logged(tmp_path, torii, echo2):
    log = tmp_path / "rid.log"
    t = torii(simple_manifests(echo2), extra_args=("--access-log", str(log), "--access-log-format", "json"))
    r = requests.get(t.url("/ok/rid-none"), timeout=10)
    sent = upstream_header(r, "x-request-id")
    assert len(sent) == 1 and UUID4.match(sent[0]), sent
    assert json_line(log, "/ok/rid-none")["request_id"] == sent[0]
    assert "x-request-id" not in r.headers  # not echoed to the client (Istio)


def test_client_request_id_is_replaced(tmp_path, torii, echo2):
    log = tmp_path / "rid.log"
    t = torii(simple_manifests(echo2), extra_args=("--access-log", str(log), "--access-log-format", "json"))
    r = requests.get(t.url("/ok/rid-client"), headers={"x-request-id": "client-chosen-id"}, timeout=10)
    sent = upstream_header(r, "x-request-id")
    assert len(sent) == 1 and UUID4.match(sent[0]) and sent[0] != "client-chosen-id", sent
    assert json_line(log, "/ok/rid-client")["request_id"] == sent[0]


def test_preserve_request_id_keeps_the_clients(tmp_path, torii, echo2):
    log = tmp_path / "rid.log"
    t = torii(simple_manifests(echo2), extra_args=("--access-log", str(log), "--access-log-format", "json",
                                                   "--preserve-request-id"))
    r = requests.get(t.url("/ok/rid-keep"), headers={"x-request-id": "client-chosen-id"}, timeout=10)
    assert upstream_header(r, "x-request-id") == ["client-chosen-id"]
    assert json_line(log, "/ok/rid-keep")["request_id"] == "client-chosen-id"
    r = requests.get(t.url("/ok/rid-keep-none"), timeout=10)  # none sent: still generated
    sent = upstream_header(r, "x-request-id")
    assert len(sent) == 1 and UUID4.match(sent[0])
    assert json_line(log, "/ok/rid-keep-none")["request_id"] == sent[0]
