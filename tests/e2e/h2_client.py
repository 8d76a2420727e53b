"""A small HTTP/2 client for the end-to-end tests, over a plain socket (h2c
prior knowledge) or TLS (ALPN h2): Debian's python3-h2 for well-formed
exchanges, and raw frames (python3-hyperframe, python3-hpack) for the
attack tests, where the client must send what a real client never would.
"""

import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
import hyperframe.frame as hf

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Response:
    def __init__(self):
        self.headers = []
        self.informational = []
        self.body = b""
        self.trailers = []
        self.ended = False
        self.reset_code = None

    @property
    def status(self):
        for k, v in self.headers:
            if k == ":status":
                return int(v)
        return None

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class H2Client:
    """One HTTP/2 connection driven by python-h2; `request()` runs streams to completion."""

    def __init__(self, port, host="127.0.0.1", tls_context=None, server_hostname=None, timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)
            assert self.sock.selected_alpn_protocol() == "h2", self.sock.selected_alpn_protocol()
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.responses = {}
        self.goaway = None
        self.remote_settings = {}
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, method, path, authority="example.com", headers=(), body=None, end_stream=True, scheme="http"):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":path", path), (":authority", authority), (":scheme", scheme)]
        hdrs += list(headers)
        self.conn.send_headers(sid, hdrs, end_stream=(body is None and end_stream))
        self.responses[sid] = Response()
        if body is not None:
            self._send_body(sid, body, end_stream)
        self.sock.sendall(self.conn.data_to_send())
        return sid

    def _send_body(self, sid, body, end_stream):
        view = memoryview(body)
        while view:
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                self.sock.sendall(self.conn.data_to_send())
                self.pump(until=lambda: self.conn.local_flow_control_window(sid) > 0)
                continue
            self.conn.send_data(sid, view[:window].tobytes(), end_stream=False)
            view = view[window:]
            self.sock.sendall(self.conn.data_to_send())
        if end_stream:
            self.conn.end_stream(sid)
            self.sock.sendall(self.conn.data_to_send())

    def pump(self, until, timeout=None):
        """Reads and handles frames until until() is true; raises TimeoutError."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError("HTTP/2 response did not arrive")
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise ConnectionError("connection closed by the server")
            for event in self.conn.receive_data(data):
                self._handle(event)
            out = self.conn.data_to_send()
            if out:
                self.sock.sendall(out)

    def _handle(self, event):
        r = self.responses.get(getattr(event, "stream_id", None))
        if isinstance(event, h2.events.ResponseReceived):
            r.headers = list(event.headers)
        elif isinstance(event, h2.events.InformationalResponseReceived):
            r.informational.append(list(event.headers))
        elif isinstance(event, h2.events.DataReceived):
            r.body += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            r.trailers = list(event.headers)
        elif isinstance(event, h2.events.StreamEnded):
            r.ended = True
        elif isinstance(event, h2.events.StreamReset):
            if r is not None:
                r.reset_code = event.error_code
                r.ended = True
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for k, v in event.changed_settings.items():
                self.remote_settings[k] = v.new_value

    def request(self, method, path, **kw):
        sid = self.start(method, path, **kw)
        self.pump(until=lambda: self.responses[sid].ended)
        return self.responses[sid]

    def wait_all(self, sids, timeout=None):
        self.pump(until=lambda: all(self.responses[s].ended for s in sids), timeout=timeout)
        return [self.responses[s] for s in sids]


def tls_context(ca_file):
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


class RawH2:
    """Frames written by hand (hyperframe + hpack), for the attack tests."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buf = b""
        self.sock.sendall(PREFACE + hf.SettingsFrame(0).serialize())

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, *frames):
        try:
            self.sock.sendall(b"".join(f.serialize() for f in frames))
            return True
        except OSError:
            return False  # the server closed on us: that is what some tests want

    def send_bytes(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def headers(self, sid, method="GET", path="/", authority="example.com", extra=(), end_stream=True,
                end_headers=True):
        block = self.encoder.encode([(":method", method), (":path", path), (":authority", authority),
                                     (":scheme", "http")] + list(extra))
        f = hf.HeadersFrame(sid, block)
        f.flags.add("END_HEADERS") if end_headers else None
        if end_stream:
            f.flags.add("END_STREAM")
        return f

    def read_frames(self, until, timeout=10.0):
        """Reads frames until until(frame) is true (returns that frame) or the
        connection closes (returns None). Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            while len(self.buf) >= 9:
                frame, length = hf.Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) < 9 + length:
                    break
                frame.parse_body(memoryview(self.buf[9:9 + length]))
                self.buf = self.buf[9 + length:]
                if until(frame):
                    return frame
            if time.monotonic() > deadline:
                raise TimeoutError("expected frame did not arrive")
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.buf += data

    def wait_goaway(self, timeout=10.0):
        """The GOAWAY frame the server sends (None if it closed without one)."""
        return self.read_frames(lambda f: isinstance(f, hf.GoAwayFrame), timeout)

    def closed(self, timeout=10.0):
        """True once the server has closed the connection (frames before are skipped)."""
        try:
            return self.read_frames(lambda f: False, timeout) is None
        except TimeoutError:
            return False
