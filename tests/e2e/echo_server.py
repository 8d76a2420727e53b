#!/usr/bin/python3
"""A small threaded HTTP/1.1 echo upstream for Torii's end-to-end tests.

Runs as its own process (so the tests' client threads and this server do not
share one GIL) and answers every method on every path with a JSON document:

    {"name": <--name>, "method": ..., "path": ..., "request_line": ..., "http_version": ...,
     "headers": [[name, value], ...], "body_length": N, "body_crc32": C,
     "chunked": bool, "server_port": P}

Request bodies (Content-Length or chunked) are read in 64 KiB pieces and only
counted and CRC'd, never held in memory, so a 1 GB upload costs nothing here.

Special paths and query parameters:
  GET /bytes/<n>            streams n bytes (64 KiB writes) with Content-Length;
                            add ?chunked=1 for Transfer-Encoding: chunked
  ?sleep_ms=<ms>            wait before answering (after reading the body)
  ?read_delay_ms=<ms>       wait before reading the request body (to exercise
                            the proxy's back-pressure on uploads)
  ?status=<code>            answer with that status (body still the JSON)
  ?header_kb=<n>            adds an X-Big response header of n KiB
  ?raw=<case>               writes one of RAW_RESPONSES (deliberately broken
                            framing, for the proxy's upstream checks) and
                            closes the connection

Per-instance behaviour (traffic-policy tests: load balancing, circuit
breaking, outlier detection):
  --status CODE / --delay-ms MS   default status / delay of every answer
  GET /__control/stats      {"requests", "active", "max_active"} of this instance
                            (control requests are not counted; a request is
                            active from its arrival until its answer starts)
  GET /__control/reset      zeroes the counters
  GET /__control/set?status=CODE&delay_ms=MS   changes the defaults at runtime
  ?hold=<h>                 answers only once /__control/release?hold=<h> was
                            called (or after 30 s), so a test knows a request
                            is in flight for as long as it wants (a release
                            before the request arrives lets it through)
  GET /__control/release?hold=<h>   lets the requests held on h answer
For route-policy tests (retries, mirrors, websocket):
  ?key=<k>&fail_first=<n>   the first n requests carrying key k (counted per
                            key by this process) get ?fail_status= (default
                            503) instead of ?status=
  ?key=<k>&reset_first=<n>  the first n requests with key k: the connection is
                            closed without a response
  ?key=<k>&slow_first=<n>   ?sleep_ms= applies only to the first n with key k
  GET /__log                every request seen so far (method, path, host,
                            x-envoy-attempt-count, body_length, body_crc32),
                            not recorded itself; /__log?clear=1 empties it
  Upgrade: websocket        a websocket handshake (RFC 6455), then every
                            data frame is echoed back until a close frame
                            (add ?noupgrade=1 to answer 200 instead)

TLS (for TLS-origination tests): --tls-cert PEM --tls-key PEM serve HTTPS;
with --tls-client-ca PEM a client certificate signed by it is required.

Usage: echo_server.py --name NAME --host 127.0.0.N --port P
Prints "READY <host> <port>" on stdout once it is listening.
"""

import argparse
import base64
import collections
import hashlib
import json
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK = 64 * 1024
PATTERN = bytes(range(256)) * (CHUNK // 256)


def pattern_crc32(n):
    """CRC32 of the first n bytes of the repeating 0..255 pattern /bytes/<n> sends."""
    crc = 0
    full, rest = divmod(n, len(PATTERN))
    for _ in range(full):
        crc = zlib.crc32(PATTERN, crc)
    return zlib.crc32(PATTERN[:rest], crc)


# ?raw=<case>: responses whose framing an Envoy-like proxy must refuse (502)
# or repair, written as they are.
RAW_RESPONSES = {
    "te-gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot really gzip",
    "te-gzip-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n",
    "204-length": b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    "204-length-0": b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-Raw: 1\r\n\r\n",
    "cl-and-te": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n",
    "short-body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it",
}


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive by default
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
    server_version = "echo"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: the tests read the JSON, not logs
        pass

    # One handler for every method.
    def do_ANY(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if query.get("raw") in RAW_RESPONSES:
            self.close_connection = True
            self.wfile.write(RAW_RESPONSES[query["raw"]])
            return
        if url.path.startswith("/__control/"):
            return self._control(url.path, query)
        if url.path == "/__log":
            return self._send_log(query.get("clear") == "1")
        if "websocket" in self.headers.get("Upgrade", "").lower() and query.get("noupgrade") != "1":
            self._record(0, 0)
            return self._websocket()
        srv = self.server
        with srv.lock:
            srv.requests += 1
            srv.active += 1
            srv.max_active = max(srv.max_active, srv.active)
        self._counted_active = True
        try:
            return self._answer(url, query)
        finally:
            self._answered()

    def _answered(self):
        """The request stops counting as active once its answer starts: a proxy that sends
        the next request as soon as it has this answer is not seen as two at once."""
        if self._counted_active:
            self._counted_active = False
            with self.server.lock:
                self.server.active -= 1

    def _control(self, path, query):
        srv = self.server
        if path == "/__control/release":
            srv.hold_event(query.get("hold", "")).set()
        with srv.lock:
            if path == "/__control/reset":
                srv.requests = srv.max_active = 0
            elif path == "/__control/set":
                if "status" in query:
                    srv.default_status = int(query["status"])
                if "delay_ms" in query:
                    srv.default_delay_ms = int(query["delay_ms"])
            doc = {"requests": srv.requests, "active": srv.active, "max_active": srv.max_active,
                   "status": srv.default_status, "delay_ms": srv.default_delay_ms}
        body = (json.dumps(doc) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self, url, query):
        seen = self.server.count(query.get("key"))
        read_delay = int(query.get("read_delay_ms", "0"))
        if read_delay:
            time.sleep(read_delay / 1000.0)
        length, crc, chunked = self._consume_body()
        if length is None:
            return  # malformed body; connection closed
        self._record(length, crc)
        if seen and seen <= int(query.get("reset_first", "0")):
            self.close_connection = True  # no response at all
            return
        if "hold" in query:
            self.server.hold_event(query["hold"]).wait(30)
        sleep_ms = int(query.get("sleep_ms", str(self.server.default_delay_ms)))
        if "slow_first" in query and (not seen or seen > int(query["slow_first"])):
            sleep_ms = 0
        if sleep_ms:
            time.sleep(sleep_ms / 1000.0)
        if seen and seen <= int(query.get("fail_first", "0")):
            query["status"] = query.get("fail_status", "503")

        if self.command == "GET" and url.path.startswith("/bytes/"):
            return self._send_bytes(int(url.path[len("/bytes/"):]), query.get("chunked") == "1")

        status = int(query.get("status", str(self.server.default_status)))
        doc = {
            "name": self.server.echo_name,
            "method": self.command,
            "path": self.path,
            # http.server turns a leading "//" of the path into "/"; the raw
            # request line shows what was really sent.
            "request_line": self.requestline,
            "http_version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_length": length,
            "body_crc32": crc,
            "chunked": chunked,
            "server_port": self.server.server_address[1],
        }
        body = (json.dumps(doc) + "\n").encode()
        self._answered()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo-Name", self.server.echo_name)
        # The Gateway API conformance echo server's X-Echo-Set-Header:
        # "Name:value,Name2:value2" become response headers.
        for item in (self.headers.get("X-Echo-Set-Header") or "").split(","):
            name, sep, value = item.partition(":")
            if sep and name.strip():
                self.send_header(name.strip(), value.strip())
        if "header_kb" in query:
            self.send_header("X-Big", "x" * (int(query["header_kb"]) * 1024))
        if self.command == "HEAD":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_ANY

    def _record(self, length, crc):
        self.server.record({
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "attempt": self.headers.get("x-envoy-attempt-count"),
            "body_length": length,
            "body_crc32": crc,
        })

    def _send_log(self, clear):
        body = (json.dumps(self.server.log_entries(clear)) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _websocket(self):
        """RFC 6455 handshake, then echo data frames until a close frame."""
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            while True:
                head = self.rfile.read(2)
                if len(head) < 2:
                    return
                opcode = head[0] & 0x0F
                masked = head[1] & 0x80
                n = head[1] & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self.rfile.read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self.rfile.read(8))[0]
                mask = self.rfile.read(4) if masked else b"\0\0\0\0"
                payload = bytearray(self.rfile.read(n))
                for i in range(len(payload)):
                    payload[i] ^= mask[i % 4]
                self.wfile.write(ws_frame(opcode, bytes(payload)))
                self.wfile.flush()
                if opcode == 0x8:  # close: echoed, done
                    return
        except (BrokenPipeError, ConnectionResetError):
            return

    def _consume_body(self):
        """Reads and discards the request body; returns (length, crc32, chunked)."""
        te = self.headers.get("Transfer-Encoding", "")
        crc = 0
        total = 0
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    self.close_connection = True
                    return None, None, True
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until the empty line
                    while True:
                        t = self.rfile.readline(65536)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return total, crc, True
                left = size
                while left:
                    data = self.rfile.read(min(left, CHUNK))
                    if not data:
                        self.close_connection = True
                        return None, None, True
                    crc = zlib.crc32(data, crc)
                    total += len(data)
                    left -= len(data)
                self.rfile.readline(16)  # CRLF after the chunk
        cl = self.headers.get("Content-Length")
        if cl is None:
            return 0, 0, False
        left = int(cl)
        while left:
            data = self.rfile.read(min(left, CHUNK))
            if not data:
                self.close_connection = True
                return None, None, False
            crc = zlib.crc32(data, crc)
            total += len(data)
            left -= len(data)
        return total, crc, False

    def _send_bytes(self, n, chunked):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("X-Echo-Name", self.server.echo_name)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        left = n
        try:
            while left:
                piece = PATTERN if left >= len(PATTERN) else PATTERN[:left]
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
                left -= len(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def ws_frame(opcode, payload, mask=None):
    """One final websocket frame (server frames are unmasked; clients pass a mask)."""
    head = bytes([0x80 | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # 200 concurrent clients must not hit a backlog of 5

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._lock = threading.Lock()
        self._counts = collections.Counter()
        self._log = collections.deque(maxlen=100000)
        self._holds = {}

    def hold_event(self, name):
        """The event ?hold=<name> requests wait on (created on first use)."""
        with self._lock:
            return self._holds.setdefault(name, threading.Event())

    def count(self, key):
        """How many requests carried ?key=<key>, this one included (0 without a key)."""
        if key is None:
            return 0
        with self._lock:
            self._counts[key] += 1
            return self._counts[key]

    def record(self, entry):
        with self._lock:
            self._log.append(entry)

    def log_entries(self, clear):
        with self._lock:
            entries = list(self._log)
            if clear:
                self._log.clear()
            return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-client-ca")
    args = ap.parse_args()
    server = EchoServer((args.host, args.port), EchoHandler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            ctx.load_verify_locations(args.tls_client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        # The handshake runs in accept(); a failed one is dropped there (SSLError is an OSError).
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.echo_name = args.name
    server.lock = threading.Lock()
    server.requests = server.active = server.max_active = 0
    server.default_status = args.status
    server.default_delay_ms = args.delay_ms
    host, port = server.server_address[:2]
    print("READY %s %d" % (host, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
