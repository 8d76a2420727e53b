"""WebSocket through the gateway (ISTIO_SEMANTICS.md §4.1, §10 #22).

`Upgrade: websocket` is tunnelled on every route: the upstream's 101 is
relayed and bytes then flow both ways unparsed, with back-pressure, until
either side closes or the tunnel idles out (--tunnel-idle-timeout-s). Other
Upgrade tokens are ignored (stripped, request served as HTTP/1.1) where
Envoy would answer 403.

The client is a raw socket speaking RFC 6455 frames; the echo upstream
echoes every frame.
"""

import base64
import hashlib
import os
import socket
import struct
import textwrap
import time

import pytest

import harness

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("ws", host="127.0.0.10")


def manifests(echo, rule=""):
    body = textwrap.indent(textwrap.dedent(rule).strip("\n"), "    ")
    vs = textwrap.dedent("""\
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata:
          name: ws
        spec:
          hosts: ["*"]
          gateways: [gw]
          http:
          - route:
            - destination: {host: ws}
        """) + body + "\n"
    return {"gw.yaml": harness.gateway("gw"), "backend.yaml": harness.backend(echo, "ws"), "vs.yaml": vs}


def frame(opcode, payload):
    """A masked client frame."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class WsClient(harness.RawConn):
    """A websocket client over harness.RawConn's socket and buffer helpers."""

    def __init__(self, port, path="/chat", extra_headers=""):
        super().__init__(port, timeout=10)
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, self.key, extra_headers)).encode())
        head = self._read_until(b"\r\n\r\n").decode()
        lines = head.split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            if line:
                k, v = line.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()

    def send(self, opcode, payload):
        self.sock.sendall(frame(opcode, payload))

    def recv(self):
        b0, b1 = self._read_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        return b0 & 0x0F, self._read_exact(n)

    def closed_by_peer(self, timeout):
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def test_websocket_echo(torii, echo):
    """Handshake relayed (101, Upgrade, Sec-WebSocket-Accept), text and 1 MiB binary frames echoed."""
    t = torii(manifests(echo))
    ws = WsClient(t.listen_port)
    try:
        assert ws.status == 101
        assert ws.headers["upgrade"].lower() == "websocket"
        assert ws.headers["connection"].lower() == "upgrade"
        expected = base64.b64encode(hashlib.sha1((ws.key + GUID).encode()).digest()).decode()
        assert ws.headers["sec-websocket-accept"] == expected
        assert ws.headers["server"] == "istio-envoy"
        assert "content-length" not in ws.headers and "transfer-encoding" not in ws.headers
        ws.send(0x1, b"hello")
        assert ws.recv() == (0x1, b"hello")
        big = os.urandom(1024 * 1024)
        ws.send(0x2, big)
        assert ws.recv() == (0x2, big)
        for i in range(20):
            ws.send(0x1, b"msg %d" % i)
        for i in range(20):
            assert ws.recv() == (0x1, b"msg %d" % i)
        ws.send(0x8, b"\x03\xe8")
        assert ws.recv() == (0x8, b"\x03\xe8")
        assert ws.closed_by_peer(5)
    finally:
        ws.close()
    assert t.stat("downstream_cx_upgrades_total") == 1


def test_websocket_ignores_route_timeout(torii, echo):
    """A route timeout does not cut an established tunnel (the timeout ends at the 101)."""
    t = torii(manifests(echo, "timeout: 300ms"))
    ws = WsClient(t.listen_port)
    try:
        assert ws.status == 101
        time.sleep(0.8)
        ws.send(0x1, b"still here")
        assert ws.recv() == (0x1, b"still here")
    finally:
        ws.close()


def test_tunnel_idle_timeout(torii, echo):
    """--tunnel-idle-timeout-s 3: an idle tunnel is closed after about 3 s; traffic every 0.5 s
    keeps it open (2.5 s of slack for a loaded machine)."""
    t = torii(manifests(echo), extra_args=["--tunnel-idle-timeout-s", "3"])
    ws = WsClient(t.listen_port)
    try:
        for _ in range(3):
            time.sleep(0.5)
            ws.send(0x1, b"ping")
            assert ws.recv() == (0x1, b"ping")
        began = time.monotonic()
        assert ws.closed_by_peer(20)
        assert 2.5 <= time.monotonic() - began < 15
    finally:
        ws.close()
    assert t.stat("upgrade_tunnel_idle_timeout") == 1


def test_upstream_refusing_the_upgrade_gives_a_normal_response(torii, echo):
    """The upstream answers 200 instead of 101: relayed as a normal response, connection stays HTTP."""
    t = torii(manifests(echo))
    with harness.RawConn(t.listen_port) as c:
        c.send(b"GET /x?noupgrade=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert harness.header_dict(r.json())["upgrade"] == "websocket"
        c.send(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert r.json()["path"] == "/next"


@pytest.mark.parametrize("token", ["h2c", "TLS/1.2", "foo"])
def test_other_upgrade_tokens_are_ignored(torii, echo, token):
    """Where Envoy answers 403, other Upgrade tokens are stripped and the request is served."""
    t = torii(manifests(echo))
    r = t.get("/plain", headers={"Upgrade": token, "Connection": "Upgrade"})
    assert r.status_code == 200
    h = harness.header_dict(r.json())
    assert "upgrade" not in h and "connection" not in h


def test_websocket_with_data_before_101(torii, echo):
    """A client that sends its first frame right behind the handshake still gets it echoed."""
    t = torii(manifests(echo))
    s = socket.create_connection(("127.0.0.1", t.listen_port), timeout=10)
    try:
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                  + frame(0x1, b"early"))
        buf = b""
        while b"early" not in buf:
            data = s.recv(65536)
            assert data, buf
            buf += data
        assert buf.startswith(b"HTTP/1.1 101")
    finally:
        s.close()
