"""Bodies are streamed with back-pressure, never buffered whole (DESIGN "Streams, not
buffers"; ISTIO_SEMANTICS.md §8: plain proxying never 413s; §4.1: 100-continue proxied).

100 MiB up and down through Torii to echo_server.py, which counts and CRCs
bodies without keeping them. Torii's RSS (VmRSS) is sampled during each
transfer and must grow by less than ~20 MiB. To make back-pressure matter,
one side is made slow on purpose (the upstream delays reading an upload, the
client pauses while downloading): without flow control Torii would soak up
the whole body in that pause.
"""

import json
import os
import subprocess
import time
import zlib

import pytest

import echo_server
import harness

SIZE = 100 * harness.MiB
MAX_RSS_GROWTH = 20 * harness.MiB
BLOCK = os.urandom(harness.MiB)


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("stream", host="127.0.0.6")


VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: stream
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match:
    - uri: {prefix: /up}
    - uri: {prefix: /bytes/}
    - uri: {prefix: /warm}
    route:
    - destination: {host: echo, port: {number: 80}}
"""


@pytest.fixture
def gw(echo, torii):
    t = torii({"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"), "vs.yaml": VS})
    # warm up both directions so lazily allocated buffers are in the baseline
    for _ in range(3):
        assert t.request("POST", "/warm", data=BLOCK).json()["body_length"] == len(BLOCK)
        assert len(t.get("/bytes/%d" % len(BLOCK)).content) == len(BLOCK)
    return t


def blocks(total):
    sent = 0
    while sent < total:
        piece = BLOCK[: min(len(BLOCK), total - sent)]
        sent += len(piece)
        yield piece


def crc_of_blocks(total):
    crc = 0
    for piece in blocks(total):
        crc = zlib.crc32(piece, crc)
    return crc


def assert_rss(sampler, what):
    assert sampler.samples, "no RSS samples taken"
    assert sampler.growth < MAX_RSS_GROWTH, "%s: torii RSS grew by %.1f MiB (baseline %.1f MiB, peak %.1f MiB)" % (
        what, sampler.growth / harness.MiB, sampler.baseline / harness.MiB, sampler.peak / harness.MiB)


def test_chunked_upload_100mib(gw):
    """A 100 MiB chunked upload (generator body) arrives whole; the upstream waits 1.5 s
    before reading, so Torii must stop reading from the client meanwhile."""
    with harness.RssSampler(gw.pid) as rss:
        r = gw.request("POST", "/upload?read_delay_ms=1500", data=blocks(SIZE), timeout=300)
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    assert doc["body_length"] == SIZE
    assert doc["body_crc32"] == crc_of_blocks(SIZE)
    assert_rss(rss, "chunked upload")


def test_content_length_upload_100mib(gw, tmp_path):
    """A 100 MiB upload with Content-Length (from a file) is forwarded with its length."""
    path = tmp_path / "body.bin"
    with open(path, "wb") as f:
        for piece in blocks(SIZE):
            f.write(piece)
    with harness.RssSampler(gw.pid) as rss, open(path, "rb") as f:
        r = gw.request("PUT", "/upload-cl?read_delay_ms=1500", data=f, timeout=300)
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    assert doc["body_length"] == SIZE
    assert doc["body_crc32"] == crc_of_blocks(SIZE)
    assert doc["chunked"] is False
    assert harness.header_dict(doc).get("content-length") == str(SIZE)
    assert_rss(rss, "content-length upload")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_download_100mib_slow_reader(gw, chunked):
    """A 100 MiB response streamed by the upstream; the client stalls for 1.5 s after the
    first MiB, so Torii must stop reading from the upstream meanwhile."""
    path = "/bytes/%d%s" % (SIZE, "?chunked=1" if chunked else "")
    with harness.RssSampler(gw.pid) as rss:
        r = gw.get(path, stream=True, timeout=300)
        assert r.status_code == 200
        if not chunked:
            assert r.headers.get("content-length") == str(SIZE)
        it = r.iter_content(chunk_size=256 * 1024)
        got, crc = 0, 0
        for piece in it:
            got += len(piece)
            crc = zlib.crc32(piece, crc)
            if got >= harness.MiB:
                break
        time.sleep(1.5)  # stalled client: upstream keeps writing, Torii must not buffer it all
        for piece in it:
            got += len(piece)
            crc = zlib.crc32(piece, crc)
        r.close()
    assert got == SIZE
    assert crc == echo_server.pattern_crc32(SIZE)
    assert_rss(rss, "download (%s)" % ("chunked" if chunked else "content-length"))


def test_expect_100_continue_with_curl(gw, tmp_path):
    """§4.1: `curl -T file -H 'Expect: 100-continue'` gets 100 Continue, sends the body, gets 200."""
    path = tmp_path / "upload.bin"
    size = 8 * harness.MiB
    with open(path, "wb") as f:
        for piece in blocks(size):
            f.write(piece)
    start = time.monotonic()
    res = subprocess.run(
        ["curl", "-sS", "-v", "--max-time", "120", "--expect100-timeout", "60",
         "-T", str(path), "-H", "Expect: 100-continue", gw.url("/up/put")],
        capture_output=True, text=True, timeout=180)
    elapsed = time.monotonic() - start
    assert res.returncode == 0, res.stderr[-2000:]
    assert "< HTTP/1.1 100 Continue" in res.stderr, res.stderr[-2000:]
    doc = json.loads(res.stdout)
    assert doc["method"] == "PUT"
    assert doc["body_length"] == size
    assert doc["body_crc32"] == crc_of_blocks(size)
    # with --expect100-timeout 60 a missing 100 would have cost 60 s
    assert elapsed < 50, elapsed


def test_expect_100_continue_rejected_before_body(gw, tmp_path):
    """With no route, the 404 comes back without waiting for the body (no 100, no hang)."""
    path = tmp_path / "upload.bin"
    with open(path, "wb") as f:
        f.write(BLOCK * 4)
    start = time.monotonic()
    res = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "120", "--expect100-timeout", "60",
         "-T", str(path), "-H", "Expect: 100-continue", gw.url("/nope")],
        capture_output=True, text=True, timeout=180)
    elapsed = time.monotonic() - start
    assert res.stdout.strip() == "404", res.stdout + res.stderr
    assert elapsed < 50, "the 404 waited for curl's 100-continue timeout (%.1f s)" % elapsed
    # and the gateway is still fine
    assert gw.request("POST", "/warm", data=b"x").status_code == 200
