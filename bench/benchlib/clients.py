"""Small HTTP/1.1 clients the load tools do not provide, on raw sockets:

- KeepAliveConn: one persistent connection, one request at a time.
- open_idle(): N keep-alive connections, one request each, then held idle.
- KeepAliveLoad: M keep-alive connections each sending a request every
  `interval` seconds (staggered), classifying every failure a client sees;
  used while proxies reload.
"""

import random
import selectors
import socket
import threading
import time

REQUEST = "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-compare\r\n\r\n"


class ResponseParser:
    """Incremental parser for responses with Content-Length (all the bench's are)."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data

    def take(self):
        """(status, headers) of a complete response, removed from the buffer; None if incomplete.
        Raises ValueError on a response the bench cannot frame."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > 65536:
                raise ValueError("response head too long")
            return None
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ValueError("bad status line %r" % lines[0][:80])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" not in headers:
            raise ValueError("response without content-length")
        total = end + 4 + int(headers["content-length"])
        if len(self.buf) < total:
            return None
        self.buf = self.buf[total:]
        return int(parts[1]), headers


class KeepAliveConn:
    def __init__(self, port, host="bench.example", timeout=5.0):
        self.port, self.host, self.timeout = port, host, timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.parser = ResponseParser()

    def request(self, path="/", host=None):
        """(status, headers); raises OSError/ValueError when the connection fails."""
        self.sock.sendall(REQUEST.format(path=path, host=host or self.host).encode())
        while True:
            got = self.parser.take()
            if got is not None:
                return got
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed before the response")
            self.parser.feed(data)

    def close(self):
        self.sock.close()


def open_idle(port, count, host="bench.example"):
    """`count` connections, each with one completed 200 request, left open.
    Returns (connections, failures)."""
    conns, failures = [], 0
    for _ in range(count):
        try:
            c = KeepAliveConn(port, host)
            status, headers = c.request()
            if status != 200 or headers.get("connection", "").lower() == "close":
                failures += 1
                c.close()
            else:
                conns.append(c)
        except (OSError, ValueError):
            failures += 1
    return conns, failures


def still_open(conns):
    """How many of `conns` the server has not closed (no EOF/RST pending)."""
    n = 0
    for c in conns:
        try:
            c.sock.setblocking(False)
            data = c.sock.recv(1, socket.MSG_PEEK)
            n += 1 if data else 0
        except BlockingIOError:
            n += 1
        except OSError:
            pass
        finally:
            try:
                c.sock.setblocking(True)
            except OSError:
                pass
    return n


class KeepAliveLoad:
    """`connections` keep-alive connections, each sending GET / every
    `interval` s (random phase), in a background thread, until stop().

    Counted per request the client sent:
    - ok: a 200 response;
    - errors: what a client application sees as a failed request: a non-200
      status, the connection closed or reset before the response, no response
      within `timeout`, an unparseable response, or a refused connection;
    - idle_closed (not an error): the server closed an idle connection and the
      client saw it before reusing it (a careful client reconnects);
    - closed_with_notice (not an error): a response carrying Connection: close.
    """

    def __init__(self, port, connections=50, interval=0.1, timeout=5.0, host="bench.example"):
        self.port, self.n, self.interval, self.timeout, self.host = port, connections, interval, timeout, host
        self.counts = {"sent": 0, "ok": 0, "errors": 0, "idle_closed": 0, "closed_with_notice": 0}
        self.error_kinds = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keepalive-load", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()
        return dict(self.counts, error_kinds=dict(self.error_kinds))

    def _error(self, kind):
        self.counts["errors"] += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def _connect(self):
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(self.timeout)
        try:
            s.connect(("127.0.0.1", self.port))
        except OSError:
            s.close()
            self._error("connect")
            return None
        s.setblocking(False)
        return s

    def _run(self):
        sel = selectors.DefaultSelector()
        now = time.monotonic()
        state = []  # per connection: dict(sock, parser, due, sent_at)
        for i in range(self.n):
            st = {"sock": None, "parser": ResponseParser(), "due": now + random.random() * self.interval, "sent_at": None}
            state.append(st)
        req = REQUEST.format(path="/", host=self.host).encode()

        def drop(st):
            if st["sock"] is not None:
                try:
                    sel.unregister(st["sock"])
                except (KeyError, ValueError):
                    pass
                st["sock"].close()
            st["sock"], st["parser"], st["sent_at"] = None, ResponseParser(), None

        while not self._stop.is_set() or any(st["sent_at"] is not None for st in state):
            now = time.monotonic()
            for st in state:
                if st["sent_at"] is None and now >= st["due"] and not self._stop.is_set():
                    if st["sock"] is not None:
                        # did the server close it while idle? (peek without blocking)
                        try:
                            peek = st["sock"].recv(1, socket.MSG_PEEK)
                            if not peek:
                                self.counts["idle_closed"] += 1
                                drop(st)
                            else:
                                self._error("unsolicited data")
                                drop(st)
                        except BlockingIOError:
                            pass
                        except OSError:
                            self.counts["idle_closed"] += 1
                            drop(st)
                    if st["sock"] is None:
                        st["sock"] = self._connect()
                        if st["sock"] is None:
                            st["due"] = now + self.interval
                            continue
                        sel.register(st["sock"], selectors.EVENT_READ, st)
                    try:
                        st["sock"].send(req)  # small: fits the socket buffer
                        self.counts["sent"] += 1
                        st["sent_at"] = now
                    except OSError:
                        self.counts["sent"] += 1
                        self._error("send failed")
                        drop(st)
                    st["due"] += self.interval
                    if st["due"] < now:
                        st["due"] = now + self.interval
                elif st["sent_at"] is not None and now - st["sent_at"] > self.timeout:
                    self._error("timeout")
                    drop(st)
            next_due = min([st["due"] for st in state if st["sent_at"] is None] + [now + 0.05])
            for key, _ in sel.select(max(0.0, min(0.05, next_due - time.monotonic()))):
                st = key.data
                try:
                    data = st["sock"].recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = None
                if not data:
                    if st["sent_at"] is not None:
                        self._error("closed before response" if data == b"" else "reset before response")
                    else:
                        self.counts["idle_closed"] += 1
                    drop(st)
                    continue
                st["parser"].feed(data)
                try:
                    got = st["parser"].take()
                except ValueError:
                    self._error("bad response")
                    drop(st)
                    continue
                if got is None:
                    continue
                if st["sent_at"] is None:
                    self._error("unsolicited response")
                    drop(st)
                    continue
                status, headers = got
                st["sent_at"] = None
                if status == 200:
                    self.counts["ok"] += 1
                else:
                    self._error("status %d" % status)
                if headers.get("connection", "").lower() == "close":
                    self.counts["closed_with_notice"] += 1
                    drop(st)
        for st in state:
            drop(st)
        sel.close()
