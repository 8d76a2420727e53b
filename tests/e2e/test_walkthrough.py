"""The seed walkthrough (shared/seed: httpbin behind istio-ingressgateway), end to end.

Real httpbin (Debian's python3-httpbin under gunicorn) is the workload; the
manifests are the ones shipped in examples/httpbin/, with only the
WorkloadEntry port pointed at the test's httpbin.

ISTIO_SEMANTICS.md references: §0 (gateway model: selection, host
intersection, 404 blackhole, clusters per subset), §1.2 (short names), §4.1-4.3
(headers), §5.1 (subsets), §8 (failure codes), Appendix B 1, 7, 28.
"""

import os
import re
import signal
import time
import uuid

import pytest
import requests

import harness

EXAMPLE_DIR = harness.SOURCE_DIR / "examples" / "httpbin"

# The seed's second VirtualService: /status removed, /delay still routed.
VS_DELAY_ONLY = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - "*"
  gateways:
  - httpbin-gateway
  http:
  - match:
    - uri:
        prefix: /delay
    route:
    - destination:
        port:
          number: 8000
        host: httpbin
"""

# The seed's third VirtualService: everything, to subset v1.
VS_ALL_V1 = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - "*"
  gateways:
  - httpbin-gateway
  http:
  - match:
    - uri:
        prefix: /
    route:
    - destination:
        port:
          number: 8000
        host: httpbin
        subset: v1
"""


def example(name):
    return (EXAMPLE_DIR / name).read_text()


def httpbin_manifest(port):
    """examples/httpbin/httpbin.yaml with the WorkloadEntry pointed at `port`."""
    text = example("httpbin.yaml")
    new, n = re.subn(r"(\n\s+http:\s*)8080\b", r"\g<1>%d" % port, text)
    assert n == 1, "examples/httpbin/httpbin.yaml: expected one WorkloadEntry port `http: 8080`"
    return new


def walkthrough(httpbin, vs=None, dr=False):
    files = {
        "httpbin.yaml": httpbin_manifest(httpbin.port),
        "httpbin_gw.yaml": example("httpbin_gw.yaml"),
        "httpbin_vs.yaml": vs or example("httpbin_vs.yaml"),
    }
    if dr:
        files["httpbin_dr.yaml"] = example("httpbin_dr.yaml")
    return files


def assert_local_404(r):
    """§8: no route => 404, empty body, server: istio-envoy, not from an upstream."""
    assert r.status_code == 404, r.text[:300]
    assert r.content == b""
    assert r.headers.get("server") == "istio-envoy"
    assert "x-envoy-upstream-service-time" not in r.headers


def assert_proxied(r):
    """§4.2: responses from an upstream carry server: istio-envoy and x-envoy-upstream-service-time."""
    assert r.headers.get("server") == "istio-envoy", r.headers
    ust = r.headers.get("x-envoy-upstream-service-time")
    assert ust is not None and re.fullmatch(r"\d+", ust), r.headers


# --------------------------------------------------------------------------------------


def test_status_418_through_httpbin_gateway(httpbin, torii):
    """Seed step 1: /status/418 reaches httpbin through httpbin-gateway (§0.1-0.4)."""
    t = torii(walkthrough(httpbin))
    r = t.get("/status/418")
    assert r.status_code == 418
    assert "teapot" in r.text
    assert_proxied(r)


def test_delay_takes_the_requested_time(httpbin, torii):
    """Seed: /delay/1 answers 200 after at least one second (no route timeout by default, §3, App. C)."""
    t = torii(walkthrough(httpbin))
    start = time.monotonic()
    r = t.get("/delay/1")
    elapsed = time.monotonic() - start
    assert r.status_code == 200
    assert elapsed >= 1.0
    assert r.json()["url"].endswith("/delay/1")
    assert_proxied(r)


def test_paths_outside_the_virtualservice_are_404(httpbin, torii):
    """VS matches only /status and /delay: other paths get Envoy's local 404 NR (§0.7, §8).

    A prefix match is a plain string prefix (Appendix B 1): /statuses matches
    `prefix: /status`, so it reaches httpbin, which answers its own 404.
    """
    t = torii(walkthrough(httpbin))
    for path in ("/headers", "/get", "/ip", "/", "/stat"):
        assert_local_404(t.get(path))
    r = t.get("/statuses")
    assert r.status_code == 404
    assert r.content != b""  # httpbin's HTML 404
    assert_proxied(r)


def test_gateway_hosts_and_host_header_port(httpbin, torii):
    """Gateway hosts [httpbin.s1.whuanle.cn, *] ∩ VS hosts [*] (§0.4); the port in Host is ignored (§0.7, App. B 7)."""
    t = torii(walkthrough(httpbin))
    for host in ("httpbin.s1.whuanle.cn", "httpbin.s1.whuanle.cn:%d" % t.listen_port,
                 "HTTPBIN.S1.WHUANLE.CN", "other.example.com", "127.0.0.1"):
        r = t.get("/status/418", headers={"Host": host})
        assert r.status_code == 418, host


def test_live_edit_removes_status_within_one_second(httpbin, torii, measure):
    """Seed step 2: re-applying the VS without /status takes effect within 1 s, no restart.

    The config file is replaced atomically (like an editor or kubectl would);
    /status/200 becomes 404 while /delay/0 keeps working. A keep-alive
    connection opened before the edit also sees the new routes (route tables
    apply per request, §0; DESIGN "reload is a pointer swap").
    """
    t = torii(walkthrough(httpbin))
    session = requests.Session()
    assert session.get(t.url("/status/200"), timeout=30).status_code == 200
    assert t.get("/status/200").status_code == 200

    t.write("httpbin_vs.yaml", VS_DELAY_ONLY)
    r, elapsed = harness.poll_until(lambda: t.get("/status/200", timeout=5).status_code == 404,
                                    timeout=harness.RELOAD_TIMEOUT)
    measure("VS edit (drop /status) -> 404", elapsed)
    assert r, "/status/200 still not 404 %.2f s after the VS edit\n%s" % (elapsed, t.describe())

    assert_local_404(t.get("/status/200"))
    assert t.get("/delay/0").status_code == 200
    assert session.get(t.url("/status/418"), timeout=30).status_code == 404
    assert t.alive()


def test_catch_all_to_subset_v1_needs_the_destination_rule(httpbin, torii, measure):
    """Seed step 3: prefix / to subset v1, then the DestinationRule defining v1.

    Until the DR exists the route points at cluster outbound|8000|v1|httpbin...
    which does not exist: 503 with an empty body (§0.8, §8 NC). With the DR,
    subset v1 selects the WorkloadEntry labelled version=v1 (§5.1) and every
    httpbin path is reachable.
    """
    t = torii(walkthrough(httpbin))
    assert_local_404(t.get("/headers"))

    t.write("httpbin_vs.yaml", VS_ALL_V1)
    r, elapsed = harness.poll_until(lambda: t.get("/headers", timeout=5).status_code == 503,
                                    timeout=harness.RELOAD_TIMEOUT)
    measure("VS catch-all subset v1 without DR -> 503", elapsed)
    assert r, "expected 503 (subset v1 not defined yet)\n" + t.describe()
    r = t.get("/headers")
    assert r.status_code == 503 and r.content == b""
    assert r.headers.get("server") == "istio-envoy"

    t.write("httpbin_dr.yaml", example("httpbin_dr.yaml"))
    r, elapsed = harness.poll_until(lambda: t.get("/headers", timeout=5).status_code == 200,
                                    timeout=harness.RELOAD_TIMEOUT)
    measure("DR subset v1 added -> 200", elapsed)
    assert r, "expected 200 once the DR defines subset v1\n" + t.describe()
    for path in ("/headers", "/get", "/ip"):
        r = t.get(path)
        assert r.status_code == 200, path
        assert_proxied(r)
    assert t.get("/status/418").status_code == 418
    assert t.get("/status/200").status_code == 200


def test_server_header_is_overwritten(httpbin, torii):
    """§4.1/4.2: server: istio-envoy on every response (OVERWRITE: gunicorn's own is replaced)."""
    t = torii(walkthrough(httpbin, vs=VS_ALL_V1, dr=True))
    direct = requests.get(httpbin.url + "/get", timeout=10)
    assert direct.headers.get("server", "").lower().startswith("gunicorn")
    for path, status in (("/get", 200), ("/status/503", 503), ("/status/404", 404)):
        r = t.get(path)
        assert r.status_code == status
        assert r.headers.get("server") == "istio-envoy", (path, r.headers)
        assert "x-envoy-upstream-service-time" in r.headers, path


def test_upstream_sees_forwarded_headers(httpbin, torii):
    """§4.3: the upstream sees x-forwarded-for (peer IP appended), x-forwarded-proto: http,
    a generated x-request-id, and the client's Host unchanged. (httpbin hides these
    unless ?show_env=1.)"""
    t = torii(walkthrough(httpbin, vs=VS_ALL_V1, dr=True))
    r = t.get("/headers?show_env=1")
    assert r.status_code == 200
    h = {k.lower(): v for k, v in r.json()["headers"].items()}
    assert "127.0.0.1" in [p.strip() for p in h.get("x-forwarded-for", "").split(",")], h
    assert h.get("x-forwarded-proto") == "http", h
    rid = h.get("x-request-id")
    assert rid, h
    uuid.UUID(rid)  # Envoy generates a UUID
    assert h.get("host") == "127.0.0.1:%d" % t.listen_port, h

    # each request gets its own id
    r2 = t.get("/headers?show_env=1")
    assert {k.lower(): v for k, v in r2.json()["headers"].items()}.get("x-request-id") != rid

    # an XFF from the client is kept and the peer address appended (use_remote_address)
    r3 = t.get("/headers?show_env=1", headers={"X-Forwarded-For": "203.0.113.7"})
    xff = {k.lower(): v for k, v in r3.json()["headers"].items()}.get("x-forwarded-for", "")
    assert [p.strip() for p in xff.split(",")] == ["203.0.113.7", "127.0.0.1"], xff


def test_edge_request_header_sanitizing(httpbin, torii):
    """§4.3 / Appendix B 28: at the edge the client's x-request-id is replaced and
    x-envoy-* control headers are stripped; x-envoy-attempt-count is 1 on the first try."""
    t = torii(walkthrough(httpbin, vs=VS_ALL_V1, dr=True))
    r = t.get("/headers?show_env=1", headers={
        "X-Request-Id": "client-chosen-id",
        "X-Envoy-Retry-On": "5xx",
        "X-Envoy-Max-Retries": "7",
        "X-Envoy-Upstream-Rq-Timeout-Ms": "1",
    })
    assert r.status_code == 200
    h = {k.lower(): v for k, v in r.json()["headers"].items()}
    assert h.get("x-request-id") not in (None, "client-chosen-id"), h
    for name in ("x-envoy-retry-on", "x-envoy-max-retries", "x-envoy-upstream-rq-timeout-ms"):
        assert name not in h, (name, h)
    assert h.get("x-envoy-attempt-count") == "1", h


# --------------------------------------------------------------------------------------
# the example directory as shipped


def test_example_directory_as_shipped(tmp_path, upstreams, torii):
    """examples/httpbin, copied as is (run.sh, README and all), is a working config:
    Torii skips ServiceAccount/Deployment, takes Service + WorkloadEntry (127.0.0.1:8080),
    Gateway, VirtualService and DestinationRule (seed steps 1 and 3)."""
    copy = harness.copy_tree(EXAMPLE_DIR, tmp_path / "httpbin-example")
    if harness.claim_port(8080):  # not only free: no other test process may start on it meanwhile
        upstreams.httpbin(port=8080)
    else:
        # Something else owns 8080 here: point the copy's WorkloadEntry elsewhere.
        up = upstreams.httpbin()
        (copy / "httpbin.yaml").write_text(httpbin_manifest(up.port))
    t = torii(config_paths=[copy])

    assert t.get("/status/418").status_code == 418
    start = time.monotonic()
    assert t.get("/delay/1").status_code == 200
    assert time.monotonic() - start >= 1.0
    assert_local_404(t.get("/headers"))
    assert t.get("/status/418", headers={"Host": "httpbin.s1.whuanle.cn"}).status_code == 418

    # Seed step 3 in the example directory: the DR is already there.
    harness.write_atomic(copy / "httpbin_vs.yaml", VS_ALL_V1)
    ok, _ = harness.poll_until(lambda: t.get("/headers", timeout=5).status_code == 200,
                               timeout=harness.RELOAD_TIMEOUT)
    assert ok, t.describe()


def test_run_sh(tmp_path):
    """examples/httpbin/run.sh starts httpbin and Torii, serves the walkthrough, and on
    SIGTERM stops both and exits 0."""
    if not harness.claim_port(8080):
        pytest.skip("127.0.0.1:8080 is in use (or another test process has it); run.sh's httpbin needs it")
    ok, why = harness.torii_works()
    if not ok:
        pytest.fail(why)
    gw_port = harness.reserve_port()
    admin_port = harness.reserve_port()
    env = dict(os.environ, TORII_BIN=harness.TORII_BIN, GATEWAY_PORT=str(gw_port),
               ADMIN="127.0.0.1:%d" % admin_port)
    proc = harness.Proc("run.sh", ["bash", str(EXAMPLE_DIR / "run.sh")], tmp_path / "run.sh.log", env=env)
    try:
        deadline = time.monotonic() + 40
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = requests.get("http://127.0.0.1:%d/status/418" % gw_port, timeout=5).status_code
                if status == 418:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        assert status == 418, "run.sh did not serve /status/418 (rc %s):\n%s" % (proc.poll(), proc.log_tail())
        log = proc.log()
        assert "curl -i http://127.0.0.1:%d/status/418" % gw_port in log
        assert harness.port_is_free(8080) is False

        proc.signal(signal.SIGTERM)
        rc = proc.popen.wait(30)
        assert rc == 0, proc.log_tail()
        ok, _ = harness.poll_until(lambda: harness.port_is_free(8080) and harness.port_is_free(gw_port), 10)
        assert ok, "httpbin or torii still listening after run.sh exited"
    finally:
        proc.cleanup()
