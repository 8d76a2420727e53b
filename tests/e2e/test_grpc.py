"""gRPC at the gateway (ISTIO_SEMANTICS.md §4.1, §8): what a gRPC client sees
from the gateway itself. Local replies are trailers-only gRPC responses
(HTTP 200, grpc-status from Envoy's HTTP->gRPC mapping, grpc-message), and
the client's grpc-timeout is the route timeout, capped by the VirtualService
timeout (Istio's max_grpc_timeout).

These run with an HTTP/1.1 echo upstream: the gateway's gRPC behaviour does
not depend on the upstream's protocol.
"""

import base64
import json
import zlib

import pytest

import harness
from h2_client import H2Client

GRPC = [("content-type", "application/grpc"), ("te", "trailers")]


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("grpc", host="127.0.0.41")


VS = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: grpc}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /timeout.Service/}}]
    timeout: 500ms
    route: [{destination: {host: echo, port: {number: 80}}}]
  - match: [{uri: {prefix: /pkg.Service/}}]
    route: [{destination: {host: echo, port: {number: 80}}}]
  - match: [{uri: {prefix: /down.Service/}}]
    route: [{destination: {host: nowhere, port: {number: 80}}}]
  - match: [{uri: {prefix: /fault.Service/}}]
    fault: {abort: {grpcStatus: RESOURCE_EXHAUSTED, percentage: {value: 100}}}
    route: [{destination: {host: echo, port: {number: 80}}}]
"""

NOWHERE = """\
apiVersion: v1
kind: Service
metadata: {name: nowhere}
spec:
  ports: [{name: grpc, port: 80}]
  selector: {app: nowhere}
"""


@pytest.fixture(scope="module")
def gw(echo, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("torii")
    t = harness.start_torii(workdir, manifests={"gw.yaml": harness.gateway("gw"), "vs.yaml": VS,
                                                 "echo.yaml": harness.backend(echo, "echo"),
                                                 "nowhere.yaml": NOWHERE}, wait_ready=False)
    harness.wait_ready_or_fail(t, harness.READY_TIMEOUT)
    yield t
    rc = t.stop()
    t.proc.cleanup()
    assert rc == 0, t.proc.log_tail(40)


def grpc_call(gw, path, headers=(), body=b"\x00\x00\x00\x00\x00"):
    with H2Client(gw.listen_port) as c:
        return c.request("POST", path, headers=GRPC + list(headers), body=body)


@pytest.mark.parametrize("path,grpc_status,message", [
    ("/nothing.Service/Call", "12", None),  # 404 NR -> UNIMPLEMENTED, empty body: no message
    ("/down.Service/Call", "14", "no healthy upstream"),  # 503 UH -> UNAVAILABLE
    ("/fault.Service/Call", "8", "fault filter abort"),  # the fault's own gRPC status
])
def test_local_replies_are_trailers_only_grpc(gw, path, grpc_status, message):
    r = grpc_call(gw, path)
    assert r.status == 200
    assert r.header("content-type") == "application/grpc"
    assert r.header("grpc-status") == grpc_status
    assert r.header("grpc-message") == message
    assert r.body == b"" and r.trailers == []


def test_http1_grpc_request_gets_the_same_local_reply(gw):
    c = harness.RawConn(gw.listen_port)
    with c:
        c.send(harness.http_request("POST", "/nothing.Service/Call", headers=GRPC, body=b"\0\0\0\0\0"))
        r = c.read_response()
    assert r.status == 200 and r.header("grpc-status") == "12"


def test_client_deadline_is_the_route_timeout(gw, echo):
    """No VirtualService timeout: the client's grpc-timeout applies; the
    upstream is told it, and expiry is Envoy's 504 as a gRPC UNAVAILABLE
    'upstream request timeout'."""
    r = grpc_call(gw, "/pkg.Service/Slow?sleep_ms=3000", headers=[("grpc-timeout", "300m")])
    assert (r.status, r.header("grpc-status"), r.header("grpc-message")) == (200, "14", "upstream request timeout")
    r = grpc_call(gw, "/pkg.Service/Fast", headers=[("grpc-timeout", "5S")])
    assert r.status == 200 and r.header("grpc-status") is None
    seen = harness.header_dict(json.loads(r.body))
    assert seen["grpc-timeout"] == "5000m"


def test_route_timeout_caps_the_client_deadline(gw):
    r = grpc_call(gw, "/timeout.Service/Slow?sleep_ms=3000", headers=[("grpc-timeout", "60S")])
    assert r.header("grpc-status") == "14"
    r = grpc_call(gw, "/timeout.Service/Fast", headers=[("grpc-timeout", "60S")])
    assert harness.header_dict(json.loads(r.body))["grpc-timeout"] == "500m"
    r = grpc_call(gw, "/timeout.Service/Fast")  # no header: the route timeout, told upstream
    assert harness.header_dict(json.loads(r.body))["grpc-timeout"] == "500m"


# ---------------------------------------------------------------------------------------
# gRPC-Web (Envoy's grpc_web filter, on by default at Istio gateways)

FRAME = b"\x00\x00\x00\x00\x05hello"  # one gRPC message of 5 bytes


def test_grpc_web_binary_request_reaches_the_upstream_as_grpc(gw):
    with H2Client(gw.listen_port) as c:
        r = c.request("POST", "/pkg.Service/Call", body=FRAME,
                      headers=[("content-type", "application/grpc-web+proto"), ("x-grpc-web", "1")])
    seen = json.loads(r.body)
    headers = harness.header_dict(seen)
    assert headers["content-type"] == "application/grpc"
    assert headers["te"] == "trailers"
    assert seen["body_length"] == len(FRAME) and seen["body_crc32"] == zlib.crc32(FRAME)
    # A text request is base64 on the wire and decoded for the upstream (HTTP/1.1 too).
    text = base64.b64encode(FRAME)
    rc = harness.RawConn(gw.listen_port)
    with rc:
        rc.send(harness.http_request("POST", "/pkg.Service/Call", body=text,
                                     headers=[("Content-Type", "application/grpc-web-text")]))
        r1 = rc.read_response()
    seen = r1.json()
    assert seen["body_length"] == len(FRAME) and seen["body_crc32"] == zlib.crc32(FRAME)
    assert harness.header_dict(seen)["content-type"] == "application/grpc"


def test_grpc_web_local_reply(gw):
    with H2Client(gw.listen_port) as c:
        r = c.request("POST", "/nothing.Service/Call", body=base64.b64encode(FRAME),
                      headers=[("content-type", "application/grpc-web-text")])
    assert r.status == 200
    assert r.header("content-type") == "application/grpc-web-text+proto"
    assert r.header("grpc-status") == "12"
