"""gRPC end to end through Torii (issue 13): a real gRPC server (grpcio,
tests/e2e/grpc_server.py) behind the gateway, a real gRPC client (grpcio)
in front, HTTP/2 on both sides (the Service port is named grpc, so Torii
speaks HTTP/2 upstream, ISTIO_SEMANTICS.md §4.4).

Unary, server-, client- and bidi-streaming; custom metadata and trailers;
a 4 MiB message; 1000 concurrent streams on one connection; a backend status
passing through; fault abort, no route, no healthy upstream and route
timeout seen as gRPC statuses; a client deadline shorter than the route
timeout; retryOn unavailable; gRPC-Web with trailers from the server.
"""

import base64
import json
import struct
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest

import harness
from h2_client import H2Client

HERE = Path(__file__).resolve().parent


def start_grpc(workdir, name, host):
    port = harness.reserve_port()
    argv = [harness.PYTHON, "-u", str(HERE / "grpc_server.py"), "--name", name, "--host", host, "--port", str(port)]
    proc = harness.Proc("grpc-" + name, argv, Path(workdir) / ("grpc-%s.log" % name))
    if not harness.wait_for_port(host, port, harness.UPSTREAM_START_TIMEOUT, proc):
        proc.cleanup()
        raise RuntimeError("grpc server did not start:\n" + proc.log_tail())
    return harness.Upstream(proc, host, port, name)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    up = start_grpc(tmp_path_factory.mktemp("grpc"), "g1", "127.0.0.42")
    yield up
    up.proc.terminate(10)
    up.proc.cleanup()


def service(name, port_name="grpc"):
    return """\
apiVersion: v1
kind: Service
metadata: {name: %s}
spec:
  ports: [{name: %s, port: 80}]
  selector: {app: %s}
""" % (name, port_name, name)


def manifests(backend):
    return {
        "gw.yaml": harness.gateway("gw"),
        "svc.yaml": service("echo") + "---\n" + harness.workload_entry("echo-1", backend.host, {"app": "echo"},
                                                                       {"grpc": backend.port}),
        "nowhere.yaml": service("nowhere"),
        "vs.yaml": """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: grpc}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {exact: /test.Echo/Slow}, headers: {x-route: {exact: timeout}}}]
    timeout: 300ms
    route: [{destination: {host: echo, port: {number: 80}}}]
  - match: [{uri: {exact: /test.Echo/Status}, headers: {x-route: {exact: retry}}}]
    retries: {attempts: 3, retryOn: unavailable}
    route: [{destination: {host: echo, port: {number: 80}}}]
  - match: [{uri: {exact: /test.Echo/Status}, headers: {x-route: {exact: noretry}}}]
    retries: {attempts: 0}
    route: [{destination: {host: echo, port: {number: 80}}}]
  - match: [{uri: {prefix: /fault.Svc/}}]
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
    route: [{destination: {host: echo, port: {number: 80}}}]
  - match: [{uri: {prefix: /down.Svc/}}]
    route: [{destination: {host: nowhere, port: {number: 80}}}]
  - match: [{uri: {prefix: /test.Echo/}}]
    route: [{destination: {host: echo, port: {number: 80}}}]
""",
    }


@pytest.fixture(scope="module")
def gw(backend, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("torii")
    t = harness.start_torii(workdir, manifests=manifests(backend), wait_ready=False)
    harness.wait_ready_or_fail(t, harness.READY_TIMEOUT)
    yield t
    rc = t.stop()
    t.proc.cleanup()
    assert rc == 0, t.proc.log_tail(40)


@pytest.fixture
def channel(gw):
    opts = [("grpc.max_receive_message_length", 16 << 20), ("grpc.max_send_message_length", 16 << 20),
            ("grpc.enable_retries", 0)]
    with grpc.insecure_channel("127.0.0.1:%d" % gw.listen_port, options=opts) as ch:
        yield ch


def test_unary_with_metadata_and_trailers(channel):
    call = channel.unary_unary("/test.Echo/Unary")
    response, info = call.with_call(b"hello", metadata=[("x-echo-a", "1")], timeout=10)
    assert response == b"hello"
    assert ("x-echo-a", "1") in info.initial_metadata()
    assert ("x-served-by", "g1") in info.initial_metadata()
    assert ("x-echo-a-trailer", "1") in info.trailing_metadata()


def test_streaming_all_three_ways(channel):
    assert list(channel.unary_stream("/test.Echo/ServerStream")(b"50", timeout=10)) == \
        [b"msg %d" % i for i in range(50)]
    assert channel.stream_unary("/test.Echo/ClientStream")(iter([b"ab"] * 100), timeout=10) == b"100 200"
    msgs = [b"m%d" % i for i in range(100)]
    assert list(channel.stream_stream("/test.Echo/Bidi")(iter(msgs), timeout=10)) == msgs


def test_four_mib_message_both_ways(channel):
    big = bytes(range(256)) * (16 * 1024)  # 4 MiB
    assert channel.unary_unary("/test.Echo/Unary")(big, timeout=30) == big


def test_thousand_concurrent_streams_on_one_connection(channel, backend):
    call = channel.unary_unary("/test.Echo/Slow")
    futs = [call.future(b"%d" % i, metadata=[("x-sleep-ms", "200")], timeout=60) for i in range(1000)]
    assert [f.result() for f in futs] == [b"%d" % i for i in range(1000)]


def test_backend_status_passes_through(channel):
    with pytest.raises(grpc.RpcError) as e:
        channel.unary_unary("/test.Echo/Status")(b"", metadata=[("x-status", "NOT_FOUND"),
                                                                 ("x-message", "no such thing")], timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert e.value.details() == "no such thing"


@pytest.mark.parametrize("path,code,details", [
    ("/fault.Svc/Call", grpc.StatusCode.UNAVAILABLE, "fault filter abort"),
    ("/nothing.Svc/Call", grpc.StatusCode.UNIMPLEMENTED, ""),
    ("/down.Svc/Call", grpc.StatusCode.UNAVAILABLE, "no healthy upstream"),
])
def test_gateway_answers_as_grpc_statuses(channel, path, code, details):
    with pytest.raises(grpc.RpcError) as e:
        channel.unary_unary(path)(b"", timeout=10)
    assert e.value.code() == code
    assert e.value.details() == details


def test_route_timeout_caps_the_deadline_and_ends_the_call(channel):
    slow = channel.unary_unary("/test.Echo/Slow")
    # The upstream is told the route's deadline, not the client's 10 s
    # (Istio's max_grpc_timeout = route timeout: Envoy rewrites grpc-timeout).
    told = int(slow(b"x", metadata=[("x-route", "timeout"), ("x-report-deadline", "1")], timeout=10))
    assert 200 <= told <= 300
    # So at the route timeout two clocks run out at once: the gateway's
    # (UNAVAILABLE "upstream request timeout", Envoy's 504 mapped) and the
    # server's (DEADLINE_EXCEEDED); Envoy's timer starts at the request's
    # end, the server's at its head, so either may answer first, as with
    # Envoy. Either way the call ends at the route timeout, not after 3 s.
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as e:
        slow(b"x", metadata=[("x-route", "timeout"), ("x-sleep-ms", "3000")], timeout=10)
    assert time.monotonic() - started < 2.5
    assert (e.value.code(), e.value.details()) in [(grpc.StatusCode.UNAVAILABLE, "upstream request timeout"),
                                                   (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")]
    # A client deadline shorter than the route timeout: the client's own deadline fires.
    with pytest.raises(grpc.RpcError) as e:
        slow(b"x", metadata=[("x-sleep-ms", "3000")], timeout=0.5)
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_retry_on_unavailable(channel, gw):
    status = channel.unary_unary("/test.Echo/Status")
    md = [("x-route", "retry"), ("x-status", "UNAVAILABLE"), ("x-key", "r1"), ("x-fail-first", "2")]
    assert status(b"", metadata=md, timeout=10) == b"ok after 3"
    # Without retries the first failure is the answer.
    md = [("x-route", "noretry"), ("x-status", "UNAVAILABLE"), ("x-key", "r2"), ("x-fail-first", "1")]
    with pytest.raises(grpc.RpcError) as e:
        status(b"", metadata=md, timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def grpc_web_frame(payload):
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def parse_grpc_web(body):
    """[(flag, payload)] of a gRPC-Web response body."""
    frames = []
    while body:
        flag, n = body[0], struct.unpack(">I", body[1:5])[0]
        frames.append((flag, body[5:5 + n]))
        body = body[5 + n:]
    return frames


@pytest.mark.parametrize("text", [False, True])
def test_grpc_web_round_trip_with_trailers(gw, text):
    body = grpc_web_frame(b"hello web")
    ctype = "application/grpc-web-text" if text else "application/grpc-web+proto"
    with H2Client(gw.listen_port) as c:
        r = c.request("POST", "/test.Echo/Unary", body=base64.b64encode(body) if text else body,
                      headers=[("content-type", ctype), ("x-grpc-web", "1"), ("x-echo-w", "v")])
    assert r.status == 200
    assert r.header("content-type") == ("application/grpc-web-text+proto" if text else "application/grpc-web+proto")
    assert r.trailers == []  # trailers travel in the body
    raw = base64.b64decode(r.body) if text else r.body
    frames = parse_grpc_web(raw)
    assert frames[0] == (0, b"hello web")
    flag, trailer_block = frames[-1]
    assert flag == 0x80
    lines = dict(line.split(":", 1) for line in trailer_block.decode().split("\r\n") if line)
    assert lines["grpc-status"] == "0"
    assert lines["x-echo-w-trailer"] == "v"
