"""Remote JWKS (`jwksUri: http(s)://...`) fetched by Torii's control thread
(docs/jwt.md; ISTIO_SECURITY.md §10), against a JWKS server written here.

Checked: the keys are fetched before the first request; a rotated key set
is picked up on refresh (--jwks-refresh-interval-s 1) and the old key stops
working; when the server goes away the last good keys stay; a server that
was never reachable means tokens are rejected (401) while tokenless requests
pass; a JWKS server that hangs never stalls requests (workers do not wait on
the control thread); https with a CA given by --jwks-ca-file.
"""

import http.server
import json
import ssl
import threading
import time

import pytest
import requests

import harness
from test_jwt import VS, Key, claims, jwks, request_authentication


class JwksServer:
    """Serves `self.document` at /jwks.json; `delay` seconds before answering."""

    def __init__(self, host="127.0.0.21", tls_context=None):
        self.document = "{}"
        self.delay = 0.0
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                time.sleep(outer.delay)
                body = outer.document.encode()
                self.send_response(200 if self.path == "/jwks.json" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        scheme = "https" if tls_context is not None else "http"
        self.url = "%s://%s:%d/jwks.json" % (scheme, host, self.httpd.server_address[1])

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("main", host="127.0.0.8")


@pytest.fixture()
def jwks_server():
    server = JwksServer()
    yield server
    server.stop()


def start(torii, echo, uri, extra_args=()):
    return torii({"gw.yaml": harness.gateway("gw"), "backend.yaml": harness.backend(echo, "main") + "---\n" + VS,
                  "ra.yaml": request_authentication("jwksUri: %s" % uri)},
                 extra_args=("--jwks-refresh-interval-s", "1") + tuple(extra_args))


def status(t, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return t.get("/", headers=headers).status_code


def test_fetched_then_rotated_then_kept_when_the_server_goes(torii, echo, jwks_server):
    old, new = Key(kid="old"), Key(kid="new")
    jwks_server.document = jwks(old)
    t = start(torii, echo, jwks_server.url)
    assert status(t, old.token(**claims())) == 200  # fetched before the first compile
    assert status(t, new.token(**claims())) == 401
    jwks_server.document = jwks(new)
    ok, _ = harness.poll_until(lambda: status(t, new.token(**claims())) == 200 or None, harness.RELOAD_TIMEOUT)
    assert ok, t.log()
    assert status(t, old.token(**claims())) == 401
    assert "JWKS fetch" in t.log()
    # The server goes away: the last good keys stay in force.
    jwks_server.stop()
    time.sleep(2.5)  # two refresh attempts fail meanwhile
    assert status(t, new.token(**claims())) == 200


def test_never_fetched_rejects_tokens_not_tokenless_requests(torii, echo):
    dead = "http://127.0.0.22:%d/jwks.json" % harness.reserve_port()
    t = start(torii, echo, dead)
    # istiod inlines a fake key set (kid "abc") when it cannot fetch: a token with another kid finds no key.
    r = t.get("/", headers={"Authorization": "Bearer " + Key(kid="k1").token(**claims())})
    assert r.status_code == 401
    assert r.text == "Jwks doesn't have key to match kid or alg from Jwt"
    assert status(t) == 200
    assert "cannot fetch" in t.log()


def test_a_hanging_jwks_server_never_stalls_requests(torii, echo, jwks_server):
    key = Key()
    jwks_server.document = jwks(key)
    t = start(torii, echo, jwks_server.url, extra_args=("--jwks-fetch-timeout-s", "2"))
    token = key.token(**claims())
    assert status(t, token) == 200
    jwks_server.delay = 30  # every refresh now hangs until the fetch timeout
    hits = jwks_server.hits
    ok, _ = harness.poll_until(lambda: jwks_server.hits > hits or None, 10)
    assert ok
    # While the control thread waits on the JWKS server, workers answer at once.
    started = time.monotonic()
    for _ in range(5):
        assert status(t, token) == 200
    assert time.monotonic() - started < 2, "requests waited for the JWKS fetch"


def test_https_with_a_private_ca(torii, echo, tmp_path):
    pki = harness.make_pki(tmp_path, {"jwks": "IP:127.0.0.23"})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki / "jwks.pem"), str(pki / "jwks.key"))
    server = JwksServer(host="127.0.0.23", tls_context=context)
    try:
        key = Key()
        server.document = jwks(key)
        t = start(torii, echo, server.url, extra_args=("--jwks-ca-file", str(pki / "ca.pem")))
        assert status(t, key.token(**claims())) == 200, t.log()
        t.stop()
        # Without the CA the certificate is not trusted: nothing fetched, tokens rejected.
        t = start(torii, echo, server.url)
        assert status(t, key.token(**claims())) == 401
        assert "cannot fetch" in t.log() and "certificate verify failed" in t.log()
    finally:
        server.stop()
