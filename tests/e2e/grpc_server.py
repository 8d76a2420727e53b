#!/usr/bin/python3
"""A gRPC upstream for Torii's end-to-end tests (Debian's python3-grpcio).

No .proto: the service is registered with a generic handler and messages
are raw bytes, so tests need no generated code. Methods of /test.Echo/:

  Unary          the request back; response metadata: every request
                 metadata key starting with x-echo- is sent back, once as
                 initial metadata and once as a trailer (x-echo-...-trailer)
  ServerStream   request = ascii N: N messages "msg <i>"
  ClientStream   all requests: one response "<count> <total bytes>"
  Bidi           each request back as it comes
  Status         ends with the status named by metadata x-status (e.g.
                 "NOT_FOUND") and message x-message; with x-key=<k> and
                 x-fail-first=<n>, only the first n calls for key k fail
                 (the rest succeed), counted per process
  Slow           sleeps x-sleep-ms, then answers the request back

Also the Gateway API conformance suite's GrpcEcho service (Echo, EchoTwo,
EchoThree), answering JSON {"name", "method", "metadata"} (build_conformance).

Every call is counted: GET-free, the Unary method with metadata x-stats:1
returns JSON {"calls": {method: n}, "active": a, "max_active": m}.

Usage: grpc_server.py --name NAME --host 127.0.0.N --port P (0: any)
Prints "READY <host> <port>" on stdout once it is serving.
"""

import argparse
import collections
import json
import sys
import threading
import time
from concurrent import futures

import grpc

MAX_MESSAGE = 16 * 1024 * 1024


class State:
    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.calls = collections.Counter()
        self.keys = collections.Counter()
        self.active = 0
        self.max_active = 0

    def enter(self, method):
        with self.lock:
            self.calls[method] += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self):
        with self.lock:
            self.active -= 1

    def stats(self):
        with self.lock:
            return {"name": self.name, "calls": dict(self.calls), "active": self.active,
                    "max_active": self.max_active}


def metadata(context):
    return {k: v for k, v in context.invocation_metadata()}


def counted(state, method, fn):
    def run(request, context):
        state.enter(method)
        try:
            return fn(request, context)
        finally:
            state.leave()
    return run


def build(state):
    def unary(request, context):
        md = metadata(context)
        if md.get("x-stats") == "1":
            return json.dumps(state.stats()).encode()
        echoed = [(k, v) for k, v in md.items() if k.startswith("x-echo-")]
        context.send_initial_metadata(echoed + [("x-served-by", state.name)])
        context.set_trailing_metadata([(k + "-trailer", v) for k, v in echoed])
        return request

    def server_stream(request, context):
        state.enter("ServerStream")
        try:
            for i in range(int(request.decode() or "0")):
                yield b"msg %d" % i
        finally:
            state.leave()

    def client_stream(request_iterator, context):
        count = total = 0
        for r in request_iterator:
            count += 1
            total += len(r)
        return b"%d %d" % (count, total)

    def bidi(request_iterator, context):
        state.enter("Bidi")
        try:
            for r in request_iterator:
                yield r
        finally:
            state.leave()

    def status(request, context):
        md = metadata(context)
        key = md.get("x-key")
        if key is not None:
            with state.lock:
                state.keys[key] += 1
                seen = state.keys[key]
            if seen > int(md.get("x-fail-first", "0")):
                return b"ok after %d" % seen
        code = getattr(grpc.StatusCode, md.get("x-status", "INTERNAL"))
        context.abort(code, md.get("x-message", ""))

    def slow(request, context):
        md = metadata(context)
        if md.get("x-report-deadline") == "1":
            # The deadline this server was given (grpc-timeout), in ms.
            remaining = context.time_remaining()
            return b"none" if remaining is None else b"%d" % round(remaining * 1000)
        time.sleep(int(md.get("x-sleep-ms", "0")) / 1000.0)
        return request

    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(counted(state, "Unary", unary)),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(counted(state, "ClientStream", client_stream)),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
        "Status": grpc.unary_unary_rpc_method_handler(counted(state, "Status", status)),
        "Slow": grpc.unary_unary_rpc_method_handler(counted(state, "Slow", slow)),
    }
    return grpc.method_handlers_generic_handler("test.Echo", handlers)


# The Gateway API conformance suite's gRPC echo service. Its messages are
# protobufs the suite compiles; here Echo, EchoTwo and EchoThree answer JSON
# with what the suite's assertions read: the backend that served the call,
# the method, the :authority and the request metadata.
CONFORMANCE_SERVICE = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho"


def build_conformance(state):
    def make(method):
        def handle(request, context):
            md = {}
            for k, v in context.invocation_metadata():
                md[k] = md[k] + "," + v if k in md else v
            return json.dumps({"name": state.name, "method": method, "metadata": md}).encode()
        return grpc.unary_unary_rpc_method_handler(handle)

    return grpc.method_handlers_generic_handler(CONFORMANCE_SERVICE,
                                                {m: make(m) for m in ("Echo", "EchoTwo", "EchoThree")})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", default="grpc")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-concurrent-streams", type=int, default=0)
    args = p.parse_args()
    options = [("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.max_send_message_length", MAX_MESSAGE)]
    if args.max_concurrent_streams:
        options.append(("grpc.max_concurrent_streams", args.max_concurrent_streams))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=options)
    state = State(args.name)
    server.add_generic_rpc_handlers((build(state), build_conformance(state)))
    port = server.add_insecure_port("%s:%d" % (args.host, args.port))
    server.start()
    print("READY %s %d" % (args.host, port), flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
