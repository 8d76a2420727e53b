#!/usr/bin/python3
"""An echo upstream that speaks HTTP/2 (h2c, prior knowledge) and HTTP/1.1 on
the same port, for the HTTP/2 upstream tests. Each connection says which by
its first bytes (the HTTP/2 connection preface, or a request line).

Every request gets a JSON document:

    {"name": <--name>, "protocol": "HTTP/2" | "HTTP/1.1", "method": ...,
     "path": ..., "authority": ... (HTTP/2 :authority, HTTP/1.1 Host),
     "scheme": ... (HTTP/2 only), "headers": [[name, value], ...],
     "body_length": N, "connection": <number of this connection, from 1>,
     "stream_id": ... (HTTP/2 only)}

HTTP/2 behaviour, chosen per request by request headers:
  x-hold-ms: <ms>        answer after that long (other streams go on)
  x-hold: <key>          answer only when released (GET /__control/release?key=<key>,
                         either protocol), or after 30 s: lets a test hold streams
                         open for exactly as long as it needs, with no timing guess
  x-trailers: 1          end the response with trailers (x-echo-trailer: yes)
  x-reset: <code>        answer with RST_STREAM(<code>) instead (7 = REFUSED_STREAM)
  x-key: k, x-reset-first: n
                         only the first n requests carrying key k are reset
  x-goaway: 1            answer, then GOAWAY(NO_ERROR) naming this stream as
                         the last; the connection closes once its streams end
Per instance:
  --max-concurrent-streams N   SETTINGS_MAX_CONCURRENT_STREAMS (default 100)
  --tls-cert PEM --tls-key PEM serve TLS, ALPN h2 then http/1.1 (the choice
                               is by ALPN then, not by the first bytes)
  GET /__control/stats   {"connections", "h2_connections", "h1_connections",
                          "requests", "active_streams", "max_active_streams",
                          "max_streams_on_one_connection", "refused",
                          "held": {key: streams waiting}} (not counted itself);
                          streams beyond the limit are refused
  GET /__control/release?key=K   answers every stream held under K; the reply
                          says how many: {"released": N}
"""

import argparse
import json
import socket
import ssl
import sys
import threading
from collections import defaultdict

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class State:
    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.connections = 0
        self.h2_connections = 0
        self.h1_connections = 0
        self.requests = 0
        self.active = 0
        self.max_active = 0
        self.max_on_one = 0
        self.refused = 0
        self.keys = defaultdict(int)
        self.held = defaultdict(list)  # x-hold key -> [(H2Session, stream id)]

    def hold(self, key, session, stream_id):
        with self.lock:
            self.held[key].append((session, stream_id))

    def release(self, key):
        """Answers the streams held under `key` (each from its own thread: the
        release may arrive on one of their connections, whose lock is held)."""
        with self.lock:
            streams = self.held.pop(key, [])
        for session, stream_id in streams:
            threading.Thread(target=session.answer_later, args=(stream_id,), daemon=True).start()
        return len(streams)

    def stats(self):
        with self.lock:
            return {"name": self.name, "connections": self.connections, "h2_connections": self.h2_connections,
                    "h1_connections": self.h1_connections, "requests": self.requests,
                    "active_streams": self.active, "max_active_streams": self.max_active,
                    "max_streams_on_one_connection": self.max_on_one, "refused": self.refused,
                    "held": {k: len(v) for k, v in self.held.items() if v}}


class H2Session:
    """One HTTP/2 connection; streams are answered from timers, so the lock
    guards the h2 state machine and the socket."""

    def __init__(self, sock, state, number, max_streams):
        self.sock = sock
        self.state = state
        self.number = number
        self.lock = threading.Lock()
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                          header_encoding="utf-8"))
        self.requests = {}  # stream id -> {"headers", "body_length"}
        self.open_streams = 0
        self.goaway_sent = False
        self.max_streams = max_streams

    def send(self):
        data = self.conn.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                pass

    def run(self, first):
        with self.lock:
            self.conn.initiate_connection()
            self.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.max_streams})
            self.send()
        data = first
        while True:
            if data:
                with self.lock:
                    try:
                        events = self.conn.receive_data(data)
                    except Exception:  # noqa: BLE001 - a protocol error ends the connection
                        self.send()
                        return
                    for event in events:
                        self.on_event(event)
                    self.send()
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return

    def on_event(self, event):
        if isinstance(event, h2.events.RequestReceived):
            if self.open_streams >= self.max_streams:
                # Beyond the advertised limit, even before the client has it
                # (python-h2 enforces it only once acknowledged): refused, as
                # nghttp2 and Go servers do.
                self.conn.reset_stream(event.stream_id, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)
                with self.state.lock:
                    self.state.refused += 1
                return
            self.requests[event.stream_id] = {"headers": list(event.headers), "body_length": 0}
            self.open_streams += 1
            with self.state.lock:
                self.state.active += 1
                self.state.max_active = max(self.state.max_active, self.state.active)
                self.state.max_on_one = max(self.state.max_on_one, self.open_streams)
            if event.stream_ended is not None:
                self.on_request_end(event.stream_id)
        elif isinstance(event, h2.events.DataReceived):
            request = self.requests.get(event.stream_id)
            if request is not None:
                request["body_length"] += len(event.data)
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.on_request_end(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            self.stream_done(event.stream_id)

    def stream_done(self, stream_id):
        if self.requests.pop(stream_id, None) is None:
            return
        self.open_streams -= 1
        with self.state.lock:
            self.state.active -= 1

    def on_request_end(self, stream_id):
        request = self.requests.get(stream_id)
        if request is None or request.get("ended"):
            return  # python-h2 reports the end twice: RequestReceived.stream_ended, then StreamEnded
        request["ended"] = True
        headers = dict(request["headers"])
        hold = int(headers.get("x-hold-ms", "0"))
        key = headers.get("x-hold")
        if key is not None:
            self.state.hold(key, self, stream_id)
            threading.Timer(30.0, self.state.release, (key,)).start()  # a test that forgot to release
        elif hold > 0:
            threading.Timer(hold / 1000.0, self.answer_later, (stream_id,)).start()
        else:
            self.answer(stream_id)

    def answer_later(self, stream_id):
        with self.lock:
            self.answer(stream_id)
            self.send()

    def answer(self, stream_id):
        request = self.requests.get(stream_id)
        if request is None:
            return
        headers = dict(request["headers"])
        path = headers.get(":path", "")
        if path == "/__control/stats":
            self.respond(stream_id, json.dumps(self.state.stats()).encode())
            return
        if path.startswith("/__control/release?key="):
            released = self.state.release(path.split("=", 1)[1])
            self.respond(stream_id, json.dumps({"released": released}).encode())
            return
        with self.state.lock:
            self.state.requests += 1
        reset = headers.get("x-reset")
        if reset is not None:
            key = headers.get("x-key")
            limit = int(headers.get("x-reset-first", "1000000"))
            seen = 0
            if key is not None:
                with self.state.lock:
                    self.state.keys[key] += 1
                    seen = self.state.keys[key]
            if key is None or seen <= limit:
                self.conn.reset_stream(stream_id, error_code=int(reset))
                self.stream_done(stream_id)
                return
        doc = {"name": self.state.name, "protocol": "HTTP/2", "method": headers.get(":method"), "path": path,
               "authority": headers.get(":authority"), "scheme": headers.get(":scheme"),
               "headers": [[k, v] for k, v in request["headers"] if not k.startswith(":")],
               "body_length": request["body_length"], "connection": self.number, "stream_id": stream_id}
        self.respond(stream_id, json.dumps(doc).encode(), trailers=headers.get("x-trailers") == "1")
        if headers.get("x-goaway") == "1" and not self.goaway_sent:
            self.goaway_sent = True
            self.conn.close_connection(error_code=0, last_stream_id=stream_id)

    def respond(self, stream_id, body, trailers=False):
        response = [(":status", "200"), ("content-type", "application/json")]
        if not trailers:
            response.append(("content-length", str(len(body))))
        self.conn.send_headers(stream_id, response)
        # Within the peer's windows (our answers are small; wait if not).
        sent = 0
        while sent < len(body):
            room = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if room <= 0:
                break  # a test answer never needs more than the initial window
            self.conn.send_data(stream_id, body[sent:sent + room])
            sent += room
        if trailers:
            self.conn.send_headers(stream_id, [("x-echo-trailer", "yes")], end_stream=True)
        else:
            self.conn.end_stream(stream_id)
        self.stream_done(stream_id)


def serve_http1(sock, state, number, data):
    """Minimal HTTP/1.1: Content-Length or chunked bodies, keep-alive."""
    buf = data
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
        lower = {k.lower(): v for k, v in headers}
        body_length = 0
        if lower.get("transfer-encoding", "").lower() == "chunked":
            while True:
                while b"\r\n" not in buf:
                    buf += sock.recv(65536)
                size_line, buf = buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(buf) < size + 2:
                    buf += sock.recv(65536)
                body_length += size
                buf = buf[size + 2:]
                if size == 0:
                    break
        else:
            length = int(lower.get("content-length", "0"))
            while len(buf) < length:
                buf += sock.recv(65536)
            body_length = length
            buf = buf[length:]
        if target == "/__control/stats":
            body = json.dumps(state.stats()).encode()
        elif target.startswith("/__control/release?key="):
            body = json.dumps({"released": state.release(target.split("=", 1)[1])}).encode()
        else:
            with state.lock:
                state.requests += 1
            body = json.dumps({"name": state.name, "protocol": "HTTP/1.1", "method": method, "path": target,
                               "authority": lower.get("host"), "headers": [[k.lower(), v] for k, v in headers],
                               "body_length": body_length, "connection": number}).encode()
        sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                     % len(body) + body)


def handle(sock, state, max_streams, tls):
    with state.lock:
        state.connections += 1
        number = state.connections
    try:
        if tls is not None:
            sock = tls.wrap_socket(sock, server_side=True)
            if sock.selected_alpn_protocol() != "h2":
                with state.lock:
                    state.h1_connections += 1
                serve_http1(sock, state, number, b"")
                return
        data = b""
        while len(data) < len(PREFACE) and PREFACE.startswith(data):
            chunk = sock.recv(65536)
            if not chunk:
                return
            data += chunk
        if data.startswith(PREFACE):
            with state.lock:
                state.h2_connections += 1
            H2Session(sock, state, number, max_streams).run(data)
        else:
            with state.lock:
                state.h1_connections += 1
            serve_http1(sock, state, number, data)
    except (OSError, ValueError, ssl.SSLError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="h2echo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-concurrent-streams", type=int, default=100)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        tls.set_alpn_protocols(["h2", "http/1.1"])
    state = State(args.name)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(256)
    print("READY %s %d" % (args.host, args.port), flush=True)
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(sock, state, args.max_concurrent_streams, tls), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
