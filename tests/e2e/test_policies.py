"""Route policies through the real binary (ISTIO_SEMANTICS.md §3.7-§3.10, §4.3, §8).

timeout (504 `upstream request timeout`, x-envoy-expected-rq-timeout-ms),
retries (Istio's default policy, retryOn, attempts: 0, perTryTimeout, body
replay and its limit, --no-retry-non-idempotent, x-envoy-attempt-count),
fault (delay timed, abort HTTP and gRPC, percentages), mirrors (counted at
the mirror target, -shadow Host, never delaying the response) and CORS
(preflights answered or forwarded, response headers).

The echo upstream counts requests per ?key= and logs every request it saw
(GET /__log, asked directly, not through Torii).
"""

import socket
import textwrap
import time
import zlib

import pytest
import requests

import harness


@pytest.fixture(scope="module")
def echoes(module_upstreams):
    return module_upstreams.echo("main", host="127.0.0.6"), module_upstreams.echo("mirror", host="127.0.0.7")


def upstream_log(echo, clear=False):
    return requests.get(echo.url + "/__log" + ("?clear=1" if clear else ""), timeout=10).json()


def backends(main, mirror, extra=""):
    return harness.yaml_docs(harness.backend(main, "main"), harness.backend(mirror, "mirror")) + extra


def vs(rule, name="policies"):
    """A VirtualService for every host on gateway gw with one http rule routed to `main`
    plus the policy lines in `rule` (YAML at the rule's indentation)."""
    body = textwrap.indent(textwrap.dedent(rule).strip("\n"), "    ")
    return textwrap.dedent("""\
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata:
          name: %s
        spec:
          hosts: ["*"]
          gateways: [gw]
          http:
          - route:
            - destination: {host: main, port: {number: 80}}
        """) % name + body + "\n"


def start(torii, echoes, rule, extra_args=(), extra_manifests=""):
    main, mirror = echoes
    upstream_log(main, clear=True)
    upstream_log(mirror, clear=True)
    return torii({"gw.yaml": harness.gateway("gw"), "backends.yaml": backends(main, mirror, extra_manifests),
                  "vs.yaml": vs(rule)}, extra_args=extra_args)


def key_entries(echo, key):
    return [e for e in upstream_log(echo) if "key=%s" % key in e["path"]]


# ---------------------------------------------------------------------------- timeout


def test_route_timeout_504_within_20_percent(torii, echoes, measure):
    """§8: VS timeout 500ms, upstream takes 10 s -> 504 `upstream request timeout` after 0.5 s.

    Not before the timeout; after it, well before the upstream would have answered
    (a loaded machine delays the client, so the upper bound is generous; the
    measured time is recorded)."""
    t = start(torii, echoes, "timeout: 500ms\nretries: {attempts: 0}")
    began = time.monotonic()
    r = t.get("/slow?sleep_ms=10000")
    elapsed = time.monotonic() - began
    measure("timeout 500ms -> 504", elapsed)
    assert r.status_code == 504
    assert r.text == "upstream request timeout"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["server"] == "istio-envoy"
    assert 0.5 <= elapsed < 5, elapsed
    assert t.stat("upstream_rq_timeout") == 1
    # A fast request is untouched and tells the upstream how long it has.
    r = t.get("/fast")
    assert r.status_code == 200
    assert harness.header_dict(r.json())["x-envoy-expected-rq-timeout-ms"] == "500"


def test_no_timeout_by_default(torii, echoes):
    """§3.2: Istio sets no route timeout (Envoy's 15 s default is overridden); no expected-timeout header."""
    t = start(torii, echoes, "")
    r = t.get("/slow?sleep_ms=1500")
    assert r.status_code == 200
    assert "x-envoy-expected-rq-timeout-ms" not in harness.header_dict(r.json())


# ---------------------------------------------------------------------------- retries


def test_retry_on_5xx_counts_attempts_at_the_upstream(torii, echoes):
    """retryOn 5xx, attempts 3: the first two answers are 503, the client gets the third (200).
    The upstream saw 3 requests with x-envoy-attempt-count 1, 2, 3; client x-envoy-* controls are stripped."""
    main, _ = echoes
    t = start(torii, echoes, "retries: {attempts: 3, retryOn: 5xx}")
    r = t.get("/r?key=five&fail_first=2", headers={"x-envoy-max-retries": "0", "x-envoy-retry-on": "reset"})
    assert r.status_code == 200, r.text
    seen = key_entries(main, "five")
    assert [e["attempt"] for e in seen] == ["1", "2", "3"]
    h = harness.header_dict(r.json())
    assert h["x-envoy-attempt-count"] == "3"
    assert "x-envoy-max-retries" not in h and "x-envoy-retry-on" not in h
    assert t.stat("upstream_rq_retry") == 2
    assert t.stat("upstream_rq_retry_success") == 1


def test_retries_exhausted_return_the_last_response(torii, echoes):
    """§8: retries exhausted on a retriable status -> that upstream response, body passed through."""
    main, _ = echoes
    t = start(torii, echoes, "retries: {attempts: 2, retryOn: \"502,gateway-error\"}")
    r = t.get("/r?key=exhaust&fail_first=10&fail_status=502")
    assert r.status_code == 502
    assert r.json()["name"] == "main"
    assert len(key_entries(main, "exhaust")) == 3
    assert t.stat("upstream_rq_retry_limit_exceeded") == 1


def test_retry_on_status_codes_read_as_go_atoi(torii, echoes):
    """istiod reads retryOn status codes with strconv.Atoi: "+503" and "0502" are codes
    (docs/validation.md); Torii used to refuse the VirtualService."""
    main, _ = echoes
    t = start(torii, echoes, "retries: {attempts: 2, retryOn: \"+503,0502\"}")
    assert t.get("/r?key=plus&fail_first=1").status_code == 200
    assert len(key_entries(main, "plus")) == 2
    assert t.get("/r?key=zero&fail_first=1&fail_status=502").status_code == 200
    assert len(key_entries(main, "zero")) == 2


def test_default_policy_does_not_retry_503(torii, echoes):
    """Istio's default policy (no `retries`): no status codes since Istio 1.24, so a 503 is final."""
    main, _ = echoes
    t = start(torii, echoes, "")
    r = t.get("/r?key=d503&fail_first=1")
    assert r.status_code == 503
    assert len(key_entries(main, "d503")) == 1
    assert t.stat("upstream_rq_retry") == 0


def dead_endpoint_manifests():
    """A second endpoint of `main` on which nothing listens (connect refused)."""
    dead_port = harness.reserve_port()
    return "---\n" + harness.workload_entry("main-dead", "127.0.0.9", {"app": "main"}, {"http": dead_port})


def test_default_policy_retries_connect_failure_on_another_endpoint(torii, echoes):
    """Default policy: connect-failure is retried (previous_hosts: on the other endpoint), so with one
    dead endpoint of two every request still succeeds."""
    t = start(torii, echoes, "", extra_manifests=dead_endpoint_manifests())
    with requests.Session() as s:
        for i in range(40):
            r = s.get(t.url("/cf/%d" % i), timeout=30)
            assert r.status_code == 200, r.text
    assert t.stat("upstream_cx_connect_fail") >= 1
    assert t.stat("upstream_rq_retry") == t.stat("upstream_cx_connect_fail")


def test_attempts_zero_disables_retries(torii, echoes):
    """`attempts: 0` disables retries: a dead endpoint gives 503 UF after one connect attempt."""
    dead_port = harness.reserve_port()
    dead = harness.yaml_docs(harness.service("dead", port=80),
                             harness.workload_entry("dead-1", "127.0.0.9", {"app": "dead"}, {"http": dead_port}))
    main, mirror = echoes
    rule = textwrap.dedent("""\
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata:
          name: dead
        spec:
          hosts: ["*"]
          gateways: [gw]
          http:
          - match: [{uri: {prefix: /off}}]
            retries: {attempts: 0}
            route: [{destination: {host: dead}}]
          - route: [{destination: {host: dead}}]
        """)
    t = torii({"gw.yaml": harness.gateway("gw"), "backends.yaml": backends(main, mirror) + "---\n" + dead,
               "vs.yaml": rule})
    r = t.get("/off")
    assert r.status_code == 503
    assert "reset reason: connection failure" in r.text
    assert t.stat("upstream_cx_connect_fail") == 1
    # Default policy on the catch-all: 1 + 2 retries.
    r = t.get("/default")
    assert r.status_code == 503
    assert t.stat("upstream_cx_connect_fail") == 4
    assert t.stat("upstream_rq_retry") == 2


def test_per_try_timeout_retries_a_slow_attempt(torii, echoes):
    """perTryTimeout 300ms with retryOn 5xx: the slow first attempt is abandoned, the second answers."""
    main, _ = echoes
    t = start(torii, echoes, "retries: {attempts: 2, perTryTimeout: 300ms, retryOn: 5xx}")
    began = time.monotonic()
    r = t.get("/p?key=ptt&slow_first=1&sleep_ms=10000")
    elapsed = time.monotonic() - began
    assert r.status_code == 200
    assert 0.3 <= elapsed < 5, elapsed  # the slow attempt (10 s) was not waited out
    assert harness.header_dict(r.json())["x-envoy-expected-rq-timeout-ms"] == "300"
    assert t.stat("upstream_rq_per_try_timeout") == 1
    # Every attempt slow: 504 after the last per-try timeout.
    r = t.get("/p?key=ptt2&slow_first=10&sleep_ms=3000")
    assert r.status_code == 504
    assert r.text == "upstream request timeout"
    assert len(key_entries(main, "ptt2")) == 3


def test_reset_is_retried_with_the_body_replayed(torii, echoes):
    """retryOn reset: the upstream drops the connection without answering; the POST body (chunked and
    with Content-Length) reaches the second attempt intact."""
    main, _ = echoes
    t = start(torii, echoes, "retries: {attempts: 2, retryOn: reset}")
    body = bytes(range(256)) * 400  # 100 KiB
    r = t.request("POST", "/b?key=replay&reset_first=1", data=body)
    assert r.status_code == 200, r.text
    assert r.json()["body_length"] == len(body)
    assert r.json()["body_crc32"] == zlib.crc32(body)
    r = t.request("POST", "/b?key=replay2&reset_first=1", data=iter([body[:5000], body[5000:]]))
    assert r.status_code == 200, r.text
    assert r.json()["chunked"] is True
    assert r.json()["body_crc32"] == zlib.crc32(body)


def test_body_past_the_buffer_limit_is_not_retried(torii, echoes):
    """A body larger than the buffer limit cannot be replayed: no retry (retry_or_shadow_abandoned)."""
    main, _ = echoes
    t = start(torii, echoes, "retries: {attempts: 2, retryOn: 5xx}", extra_args=["--buffer-limit-kb", "64"])
    r = t.request("POST", "/big?key=big&fail_first=1", data=b"x" * (200 * 1024))
    assert r.status_code == 503
    assert len(key_entries(main, "big")) == 1
    assert t.stat("retry_or_shadow_abandoned") == 1
    r = t.request("POST", "/small?key=small&fail_first=1", data=b"y" * (32 * 1024))
    assert r.status_code == 200
    assert r.json()["body_length"] == 32 * 1024


def test_no_retry_non_idempotent_option(torii, echoes):
    """--no-retry-non-idempotent: a POST is not retried after a response; GET and PUT are."""
    main, _ = echoes
    t = start(torii, echoes, "retries: {attempts: 2, retryOn: 5xx}", extra_args=["--no-retry-non-idempotent"])
    assert t.request("POST", "/n?key=post&fail_first=1", data=b"a").status_code == 503
    assert len(key_entries(main, "post")) == 1
    assert t.request("PATCH", "/n?key=patch&fail_first=1", data=b"a").status_code == 503
    assert t.get("/n?key=get&fail_first=1").status_code == 200
    assert t.request("PUT", "/n?key=put&fail_first=1", data=b"a").status_code == 200
    assert t.stat("upstream_rq_retry_skipped_method") == 2


def test_post_is_retried_by_default(torii, echoes):
    """Without the option POST is retried like any request (Istio/Envoy behaviour, §10 #3)."""
    t = start(torii, echoes, "retries: {attempts: 2, retryOn: 5xx}")
    assert t.request("POST", "/n?key=post-default&fail_first=1", data=b"a").status_code == 200


# ---------------------------------------------------------------------------- fault


def test_fault_delay_is_timed(torii, echoes):
    """fault.delay fixedDelay 2s at 100%: every response takes >= 2 s, and not twice that
    (the bound leaves a loaded machine 1.9 s of scheduling noise)."""
    t = start(torii, echoes, "fault: {delay: {fixedDelay: 2s, percentage: {value: 100}}}")
    for _ in range(3):
        began = time.monotonic()
        r = t.request("POST", "/d", data=b"z" * 10000)
        elapsed = time.monotonic() - began
        assert r.status_code == 200
        assert r.json()["body_length"] == 10000
        assert 2.0 <= elapsed < 3.9, elapsed
    assert t.stat("fault_delays_injected") == 3


def test_fault_delay_holds_a_large_body_with_back_pressure(torii, echoes):
    """A body larger than the buffer limit waits out the delay (reading paused) and arrives intact."""
    t = start(torii, echoes, "fault: {delay: {fixedDelay: 300ms, percentage: {value: 100}}}",
              extra_args=["--buffer-limit-kb", "64"])
    body = bytes(range(256)) * 4096  # 1 MiB
    began = time.monotonic()
    r = t.request("POST", "/held", data=body)
    assert r.status_code == 200
    assert time.monotonic() - began >= 0.3
    assert r.json()["body_length"] == len(body)
    assert r.json()["body_crc32"] == zlib.crc32(body)


def test_fault_delay_deprecated_percent_over_100_delays_every_request(torii, echoes):
    """The deprecated integer `percent` is not checked by istiod and Envoy caps it at 100%
    (docs/validation.md); Torii used to refuse 150."""
    t = start(torii, echoes, "fault: {delay: {fixedDelay: 300ms, percent: 150}}")
    for _ in range(3):
        began = time.monotonic()
        assert t.get("/d").status_code == 200
        assert time.monotonic() - began >= 0.3
    assert t.stat("fault_delays_injected") == 3


def test_fault_abort_http(torii, echoes):
    """abort httpStatus 418 at 100%: `fault filter abort`, the upstream never sees the request."""
    main, _ = echoes
    t = start(torii, echoes, "fault: {abort: {httpStatus: 418, percentage: {value: 100}}}")
    r = t.get("/a?key=abort")
    assert r.status_code == 418
    assert r.text == "fault filter abort"
    assert r.headers["content-type"] == "text/plain"
    assert key_entries(main, "abort") == []
    assert t.stat("fault_aborts_injected") == 1


def test_fault_abort_grpc_is_trailers_only(torii, echoes):
    """abort grpcStatus UNAVAILABLE: a gRPC request gets HTTP 200 with grpc-status 14 and no body."""
    t = start(torii, echoes, "fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}")
    r = t.request("POST", "/pkg.Svc/Method", data=b"\0\0\0\0\0",
                  headers={"content-type": "application/grpc", "te": "trailers"})
    assert r.status_code == 200
    assert r.headers["grpc-status"] == "14"
    assert r.headers["grpc-message"] == "fault filter abort"
    assert r.headers["content-type"] == "application/grpc"
    assert r.content == b""


def test_fault_percentages(torii, echoes):
    """percentage 50 aborts about half; an abort without percentage aborts none (0%)."""
    t = start(torii, echoes, "fault: {abort: {httpStatus: 503, percentage: {value: 50}}}")
    with requests.Session() as s:
        codes = [s.get(t.url("/f"), timeout=30).status_code for _ in range(400)]
    aborted = codes.count(503)
    assert 140 <= aborted <= 260, aborted  # 50% ± 15 points
    assert set(codes) <= {200, 503}
    t.write("vs.yaml", vs("fault: {abort: {httpStatus: 503}, delay: {fixedDelay: 2s}}"))
    with requests.Session() as s:
        # In force once 20 requests in a row pass (at 50% that is a 1 in 10^6 chance).
        ok, _ = harness.poll_until(lambda: all(s.get(t.url("/f"), timeout=30).status_code == 200
                                               for _ in range(20)), 15)
        assert ok, t.describe()
        assert all(s.get(t.url("/f"), timeout=30).status_code == 200 for _ in range(50))


# ---------------------------------------------------------------------------- mirror


def test_mirror_counted_at_the_mirror_target(torii, echoes):
    """mirror without percentage = 100%: every request reaches the mirror, Host suffixed -shadow,
    same method, path and body; the client sees only the main response."""
    main, mirror = echoes
    t = start(torii, echoes, "mirror: {host: mirror, port: {number: 80}}")
    with requests.Session() as s:
        for i in range(20):
            r = s.post(t.url("/m/%d" % i), data=b"q" * 1000, headers={"Host": "a.example.com"}, timeout=30)
            assert r.status_code == 200
            assert r.json()["name"] == "main"
    ok, _ = harness.poll_until(lambda: len(upstream_log(mirror)) >= 20, 5)
    seen = upstream_log(mirror)
    assert len(seen) == 20
    assert {e["host"] for e in seen} == {"a.example.com-shadow"}
    assert sorted(e["path"] for e in seen) == sorted("/m/%d" % i for i in range(20))
    assert {e["body_length"] for e in seen} == {1000}
    assert {e["method"] for e in seen} == {"POST"}
    assert t.stat("mirror_rq_total") == 20


def test_mirror_percentages_and_mirrors_list(torii, echoes):
    """mirrors[] with percentage 50 mirrors about half; mirrorPercentage 0 mirrors nothing."""
    main, mirror = echoes
    t = start(torii, echoes, "mirrors: [{destination: {host: mirror}, percentage: {value: 50}}]")
    with requests.Session() as s:
        for _ in range(200):
            assert s.get(t.url("/half"), timeout=30).status_code == 200
    n = t.stat("mirror_rq_total")
    assert 60 <= n <= 140, n
    # Mirrors are sent beside the response: wait until every one has arrived.
    ok, _ = harness.poll_until(lambda: len(upstream_log(mirror)) == n - t.stat("mirror_rq_failed"), 10)
    assert ok, (len(upstream_log(mirror)), n, t.stat("mirror_rq_failed"))
    t.write("vs.yaml", vs("mirror: {host: mirror}\nmirrorPercentage: {value: 0}"))
    with requests.Session() as s:
        # In force once 20 requests in a row mirror nothing (1 in 10^6 at 50%).
        def none_mirrored():
            before = t.stat("mirror_rq_total")
            for _ in range(20):
                assert s.get(t.url("/probe"), timeout=30).status_code == 200
            return t.stat("mirror_rq_total") == before
        ok, _ = harness.poll_until(none_mirrored, 15)
        assert ok, t.describe()
        mirrored = t.stat("mirror_rq_total")
        ok, _ = harness.poll_until(lambda: len(upstream_log(mirror)) == mirrored - t.stat("mirror_rq_failed"), 10)
        assert ok
        upstream_log(mirror, clear=True)
        for _ in range(30):
            assert s.get(t.url("/none"), timeout=30).status_code == 200
    assert t.stat("mirror_rq_total") == mirrored
    assert upstream_log(mirror) == []


def test_mirror_never_delays_the_response(torii, echoes):
    """A mirror target that accepts but never answers does not slow the main response."""
    main, mirror = echoes
    hole = socket.socket()
    hole.bind(("127.0.0.8", 0))
    hole.listen(1024)
    try:
        black = harness.yaml_docs(
            harness.service("hole", port=80),
            harness.workload_entry("hole-1", "127.0.0.8", {"app": "hole"}, {"http": hole.getsockname()[1]}))
        upstream_log(main, clear=True)
        t = torii({"gw.yaml": harness.gateway("gw"), "backends.yaml": backends(main, mirror) + "---\n" + black,
                   "vs.yaml": vs("mirror: {host: hole}")})
        with requests.Session() as s:
            began = time.monotonic()
            for _ in range(20):
                r = s.get(t.url("/quick"), timeout=30)
                assert r.status_code == 200
            elapsed = time.monotonic() - began
        assert elapsed < 10, elapsed  # a request waiting on its mirror would never finish: the hole never answers
        assert t.stat("mirror_rq_total") == 20
    finally:
        hole.close()


# ---------------------------------------------------------------------------- CORS

CORS = """\
corsPolicy:
  allowOrigins: [{exact: "https://a.com"}, {regex: "https://.*\\\\.b\\\\.org"}]
  allowMethods: [GET, POST]
  allowHeaders: [x-custom, content-type]
  exposeHeaders: [x-exposed]
  maxAge: 24h
  allowCredentials: true
"""


def test_cors_preflight_answered_by_the_gateway(torii, echoes):
    main, _ = echoes
    t = start(torii, echoes, CORS)
    r = t.request("OPTIONS", "/c?key=pre", headers={"Origin": "https://x.b.org",
                                                   "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://x.b.org"
    assert r.headers["access-control-allow-methods"] == "GET,POST"
    assert r.headers["access-control-allow-headers"] == "x-custom,content-type"
    assert r.headers["access-control-max-age"] == "86400"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["server"] == "istio-envoy"
    assert r.headers["content-length"] == "0"
    assert key_entries(main, "pre") == []
    assert t.stat("cors_preflight_answered") == 1


def test_cors_unmatched_preflight_forwarded_or_ignored(torii, echoes):
    """unmatchedPreflights FORWARD (default): the upstream answers; IGNORE: the gateway answers
    without access-control-allow-origin."""
    main, _ = echoes
    t = start(torii, echoes, CORS)
    h = {"Origin": "https://evil.com", "Access-Control-Request-Method": "POST"}
    r = t.request("OPTIONS", "/c?key=fwd", headers=h)
    assert r.status_code == 200
    assert r.json()["method"] == "OPTIONS"
    assert "access-control-allow-origin" not in r.headers
    assert len(key_entries(main, "fwd")) == 1
    t.write("vs.yaml", vs(CORS + "  unmatchedPreflights: IGNORE\n"))
    ok, _ = harness.poll_until(lambda: t.request("OPTIONS", "/c?key=probe", headers=h).content == b"", 15)
    assert ok, t.describe()
    r = t.request("OPTIONS", "/c?key=ign", headers=h)
    assert r.status_code == 200
    assert r.content == b""
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["access-control-allow-methods"] == "GET,POST"
    assert key_entries(main, "ign") == []


def test_cors_actual_request_headers(torii, echoes):
    t = start(torii, echoes, CORS)
    r = t.get("/c", headers={"Origin": "https://a.com"})
    assert r.status_code == 200 and r.json()["name"] == "main"
    assert r.headers["access-control-allow-origin"] == "https://a.com"
    assert r.headers["access-control-expose-headers"] == "x-exposed"
    assert r.headers["access-control-allow-credentials"] == "true"
    r = t.get("/c", headers={"Origin": "https://nope.com"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    r = t.get("/c")
    assert "access-control-allow-origin" not in r.headers


def test_cors_wildcards_and_token_header_names(torii, echoes):
    """istiod accepts "*" in allowMethods/allowHeaders/exposeHeaders and any RFC 9110 token as a
    header name (docs/validation.md); Torii used to refuse them. A preflight then gets the
    requested method and headers back, as from Envoy."""
    main, _ = echoes
    t = start(torii, echoes, """\
        corsPolicy:
          allowOrigins: [{exact: "https://a.com"}]
          allowMethods: ["*"]
          allowHeaders: ["*"]
          exposeHeaders: ["x.trace~id"]""")
    r = t.request("OPTIONS", "/c?key=wild", headers={"Origin": "https://a.com",
                                                    "Access-Control-Request-Method": "PATCH",
                                                    "Access-Control-Request-Headers": "x-one,x-two"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-methods"] == "PATCH"
    assert r.headers["access-control-allow-headers"] == "x-one,x-two"
    assert key_entries(main, "wild") == []
    r = t.get("/c", headers={"Origin": "https://a.com"})
    assert r.headers["access-control-expose-headers"] == "x.trace~id"


def test_cors_headers_on_the_routers_own_answers(torii, echoes):
    """A 504 from the router passes the CORS filter too (Envoy), so the browser sees the 504."""
    t = start(torii, echoes, CORS + "timeout: 200ms\nretries: {attempts: 0}")
    r = t.get("/c?sleep_ms=2000", headers={"Origin": "https://a.com"})
    assert r.status_code == 504
    assert r.headers["access-control-allow-origin"] == "https://a.com"
    assert r.headers["access-control-expose-headers"] == "x-exposed"


# ---------------------------------------------------------------------------- validation


def test_invalid_policies_rejected_with_field_paths(torii, echoes, tmp_path):
    """Validation names file, object and field; the last good config keeps serving."""
    main, mirror = echoes
    bad = vs("fault: {abort: {httpStatus: 700, percentage: {value: 150}}}\n"
             "mirror: {host: mirror}\nmirrors: [{destination: {host: mirror}}]\n"
             "corsPolicy: {allowOrigins: [{exact: \"\"}], allowMethods: [FETCH]}")
    path = tmp_path / "bad.yaml"
    path.write_text(harness.yaml_docs(harness.gateway("gw"), backends(main, mirror), bad))
    out = harness.run_torii_validate([str(path)])
    text = out.stdout + out.stderr
    assert out.returncode != 0
    for needle in ("spec.http[0].fault.abort.httpStatus: HTTP status 700 is not in range 200-599",
                   "spec.http[0].fault.abort.percentage: percentage 150 is neither 0.0, nor in range",
                   "spec.http[0]: HTTP route cannot contain both mirror and mirrors",
                   "spec.http[0].corsPolicy.allowOrigins[0]: '' is not a valid match type for CORS allow origins",
                   "spec.http[0].corsPolicy.allowMethods[0]: \"FETCH\" is not a supported HTTP method"):
        assert needle in text, text


def test_config_dump_shows_route_policies(torii, echoes):
    """/config_dump lists each route's policies: timeout, retries, fault, mirrors, CORS."""
    t = start(torii, echoes, "timeout: 2s\nretries: {attempts: 3, retryOn: \"5xx,409\", perTryTimeout: 500ms}\n"
                             "fault: {delay: {fixedDelay: 1s, percentage: {value: 0.5}}}\n"
                             "mirror: {host: mirror}\nmirrorPercentage: {value: 25}\n" + CORS)
    routes = harness.find_in_json(t.config_dump(), lambda o: isinstance(o, dict) and "policies" in o)
    assert routes, t.config_dump()
    p = routes[0]["policies"]
    assert p["timeout_ms"] == 2000
    assert p["retries"]["num_retries"] == 3
    assert p["retries"]["retry_on"] == "5xx,retriable-status-codes"
    assert p["retries"]["retriable_status_codes"] == [409]
    assert p["retries"]["per_try_timeout_ms"] == 500
    assert p["fault"]["delay"] == {"fixed_delay_ms": 1000, "percentage": 0.5}
    assert p["mirrors"] == [{"cluster": "outbound|80||mirror.default.svc.cluster.local", "exists": True,
                             "percentage": 25.0}]
    assert p["cors"]["max_age"] == "86400"
