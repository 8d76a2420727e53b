#!/usr/bin/python3
"""A plain TCP echo upstream for Torii's layer-4 tests (VirtualService `tcp:` routes).

Every connection: each byte received is sent back as it comes. When the
client half-closes (shutdown(SHUT_WR)), the server sends one trailer line
"\\nBYE <name> <bytes received>\\n" and closes, so a test sees both that the
FIN reached the upstream and that the reply still reaches the client after
its own FIN.

A client that sends the line "HOLD\\n" first gets "HELD <name>\\n" and then the
connection stays open, echoing, until the client closes it (circuit breaker
tests hold connections this way).

GET-free control: a connection whose first bytes are "STATS\\n" gets one JSON
line {"connections": total, "active": n, "max_active": m} and is closed
(counted in none of them).

Usage: tcp_echo_server.py --name NAME --host 127.0.0.N --port P
Prints "READY <host> <port>" on stdout once it is listening.
"""

import argparse
import json
import socket
import sys
import threading


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.total = 0
        self.active = 0
        self.max_active = 0


def serve(conn, name, counters):
    with conn:
        first = b""
        try:
            first = conn.recv(65536)
        except OSError:
            return
        if first == b"STATS\n":
            with counters.lock:
                doc = {"connections": counters.total, "active": counters.active,
                       "max_active": counters.max_active}
            conn.sendall((json.dumps(doc) + "\n").encode())
            return
        with counters.lock:
            counters.total += 1
            counters.active += 1
            counters.max_active = max(counters.max_active, counters.active)
        received = 0
        try:
            data = first
            if data.startswith(b"HOLD\n"):
                conn.sendall(("HELD %s\n" % name).encode())
                received += 5
                data = data[5:] or conn.recv(65536)
            while data:
                received += len(data)
                conn.sendall(data)
                data = conn.recv(65536)
            # EOF from the client: it half-closed; answer after its FIN.
            conn.sendall(("\nBYE %s %d\n" % (name, received)).encode())
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            with counters.lock:
                counters.active -= 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    counters = Counters()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(128)
    print("READY %s %d" % (args.host, args.port), flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, args.name, counters), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
