"""Self-test of the e2e harness itself, against httpbin and the echo server directly
(no Torii involved), so a broken fixture shows up as such and not as a Torii bug."""

import os
import signal
import socket
import subprocess
import threading
import time
import zlib

import pytest
import requests

import echo_server
import harness
import reserved_ports
from harness import RawConn, http_request


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("self", host="127.0.0.11")


def test_echo_reports_request(echo):
    r = requests.post(echo.url + "/a/b?x=1", data=b"hello", headers={"X-Test": "yes"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["X-Echo-Name"] == "self"
    doc = r.json()
    assert doc["name"] == "self" and doc["method"] == "POST" and doc["path"] == "/a/b?x=1"
    assert doc["body_length"] == 5 and doc["body_crc32"] == zlib.crc32(b"hello")
    assert harness.header_dict(doc)["x-test"] == "yes"
    assert requests.get(echo.url + "/?status=503", timeout=10).status_code == 503


def test_echo_chunked_upload_and_downloads(echo):
    data = [os.urandom(100000) for _ in range(5)]
    r = requests.put(echo.url + "/up", data=iter(data), timeout=30)
    doc = r.json()
    whole = b"".join(data)
    assert doc["chunked"] is True and doc["body_length"] == len(whole) and doc["body_crc32"] == zlib.crc32(whole)

    n = 3 * 1024 * 1024 + 17
    for q in ("", "?chunked=1"):
        r = requests.get(echo.url + "/bytes/%d%s" % (n, q), stream=True, timeout=30)
        got = b"".join(r.iter_content(65536))
        assert len(got) == n
        assert zlib.crc32(got) == echo_server.pattern_crc32(n)
        assert ("transfer-encoding" in r.headers) == bool(q)


def test_echo_expect_100_continue_and_pipelining(echo):
    with RawConn(echo.port, host=echo.host) as c:
        c.send(b"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        c.sock.settimeout(5)
        assert c.sock.recv(100).startswith(b"HTTP/1.1 100")
        c.send(b"abc")
        assert c.read_response().json()["body_length"] == 3
        paths = ["/p%d" % i for i in range(5)]
        c.send(b"".join(http_request("GET", p) for p in paths))
        assert [c.read_response().json()["path"] for _ in paths] == paths
        c.send(http_request("HEAD", "/h") + http_request("GET", "/after"))
        assert c.read_response(head_request=True).body == b""
        assert c.read_response().json()["path"] == "/after"


def test_echo_serves_many_connections_at_once(echo):
    errors = []

    def client(i):
        try:
            with requests.Session() as s:
                for j in range(3):
                    assert s.get(echo.url + "/c/%d/%d?sleep_ms=200" % (i, j), timeout=30).status_code == 200
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert time.monotonic() - start < 10


def test_httpbin_directly(httpbin):
    assert requests.get(httpbin.url + "/status/418", timeout=10).status_code == 418
    start = time.monotonic()
    assert requests.get(httpbin.url + "/delay/1", timeout=10).status_code == 200
    assert time.monotonic() - start >= 1.0
    h = requests.get(httpbin.url + "/headers?show_env=1", headers={"X-Forwarded-For": "1.2.3.4"}, timeout=10).json()
    assert h["headers"]["X-Forwarded-For"] == "1.2.3.4"


def test_httpbin_concurrent_delays(httpbin):
    """16 concurrent /delay/1 (2 workers x 8 threads) finish together."""
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        requests.get(httpbin.url + "/delay/1", timeout=30).status_code)) for _ in range(16)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [200] * 16
    assert time.monotonic() - start < 12  # one after another would take 16 s


def test_httpbin_on_another_loopback_address(upstreams):
    up = upstreams.httpbin(host="127.0.0.12", workers=1, threads=2)
    assert requests.get(up.url + "/status/200", timeout=10).status_code == 200


def alive(pid):
    """Running (a zombie waiting for init to reap it is dead)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_cleanup_kills_the_process_group(tmp_path):
    up = harness.start_httpbin(tmp_path, workers=2, threads=1)

    def children_of(pid):
        return subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()

    # httpbin answers as soon as one gunicorn worker is up; the second may
    # still be forking on a busy machine.
    def two_children():
        found = children_of(up.proc.pid)
        return found if len(found) == 2 else None

    children, _ = harness.poll_until(two_children, 10)
    assert children and len(children) == 2
    up.proc.cleanup()
    # SIGKILL to the group is sent; the workers die as soon as the kernel gets to them.
    gone, _ = harness.poll_until(lambda: not any(alive(int(pid)) for pid in children), 10)
    assert gone, "gunicorn workers %s survived cleanup()" % [p for p in children if alive(int(p))]
    # The listening socket goes with the last process that holds it (the
    # master, also killed), once the kernel has torn it down.
    free, _ = harness.poll_until(lambda: harness.port_is_free(up.port), 10)
    assert free, "port %d still bound after cleanup()" % up.port


def test_terminate_returns_exit_code(tmp_path):
    # Each shell says when its trap is set: a SIGTERM before that would kill it outright.
    p = harness.Proc("sleep", ["/bin/sh", "-c", "trap 'exit 0' TERM; echo trapped; while :; do sleep 0.05; done"],
                     tmp_path / "sleep.log")
    assert harness.poll_until(lambda: "trapped" in p.log(), 10)[0]
    assert p.terminate(5) == 0
    p.cleanup()
    p = harness.Proc("stubborn", ["/bin/sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 0.05; done"],
                     tmp_path / "stubborn.log")
    assert harness.poll_until(lambda: "trapped" in p.log(), 10)[0]
    assert p.terminate(0.5) is None  # had to be killed
    assert p.poll() == -signal.SIGKILL
    p.cleanup()


def test_write_atomic_never_exposes_partial_files(tmp_path):
    path = tmp_path / "vs.yaml"
    big_a, big_b = "a" * 2_000_000, "b" * 2_000_000
    harness.write_atomic(path, big_a)
    stop = threading.Event()
    seen = set()

    def reader():
        while not stop.is_set():
            text = path.read_text()
            seen.add((len(text), text[:1], text[-1:]))
    t = threading.Thread(target=reader)
    t.start()
    for i in range(20):
        harness.write_atomic(path, big_b if i % 2 == 0 else big_a)
    stop.set()
    t.join()
    assert seen <= {(2_000_000, "a", "a"), (2_000_000, "b", "b")}
    assert [p.name for p in tmp_path.iterdir()] == ["vs.yaml"]  # no temp files left


def test_poll_until_reports_elapsed():
    start = time.monotonic()
    value, elapsed = harness.poll_until(lambda: time.monotonic() - start > 0.2 and "done", 30)
    assert value == "done" and 0.2 <= elapsed < 15  # returned when done, not at the timeout
    value, elapsed = harness.poll_until(lambda: False, 0.1)
    assert not value and elapsed >= 0.1


def test_rss_sampler_sees_growth(tmp_path):
    # The child grows by 64 MiB only once told to (the file appears), after the sampler's baseline.
    go = tmp_path / "go"
    p = harness.Proc("grow", [harness.PYTHON, "-c",
                              "import os, sys, time\n"
                              "print('waiting', flush=True)\n"
                              "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
                              "b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096])\n"
                              "print('grown', flush=True)\n"
                              "time.sleep(60)\n", str(go)], tmp_path / "grow.log")
    try:
        assert harness.poll_until(lambda: "waiting" in p.log(), 30)[0], p.log_tail()
        with harness.RssSampler(p.pid) as rss:
            go.touch()
            assert harness.poll_until(lambda: "grown" in p.log(), 30)[0], p.log_tail()
            assert harness.poll_until(lambda: rss.growth > 50 * harness.MiB, 10)[0], rss.growth
    finally:
        p.cleanup()


# --------------------------------------------------------------------------------------
# reserve_port: what keeps `ctest -j2` from handing one port to two servers


def test_reserved_ports_are_outside_the_ephemeral_range_and_unique_across_processes(tmp_path):
    """Three processes reserving 150 ports each at the same time (this one, and two children, as
    under `ctest -j2`) never get the same port, and no port is one the kernel hands out to
    outgoing connections."""
    low, high = reserved_ports.ephemeral_range()
    script = ("import sys; sys.path.insert(0, %r); import reserved_ports\n"
              "print(' '.join(str(reserved_ports.reserve_port()) for _ in range(150)), flush=True)\n"
              "sys.stdin.read()\n" % str(harness.HERE))  # holds its ports until told to exit
    children = [subprocess.Popen([harness.PYTHON, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    try:
        mine = [harness.reserve_port() for _ in range(150)]
        theirs = [[int(p) for p in c.stdout.readline().split()] for c in children]
    finally:
        for c in children:
            c.communicate("", timeout=30)
    every = mine + theirs[0] + theirs[1]
    assert len(every) == 450 and len(set(every)) == 450
    assert all(not (low <= p <= high) for p in every)


def test_a_port_in_use_is_not_reserved_and_a_released_one_is(tmp_path):
    """A port something is bound to (outside the ephemeral range too) is not handed out; a port
    whose reserving process exited can be reserved again."""
    script = ("import sys; sys.path.insert(0, %r); import reserved_ports\n"
              "print(reserved_ports.reserve_port(), flush=True)\n" % str(harness.HERE))
    freed = int(subprocess.run([harness.PYTHON, "-c", script], capture_output=True, text=True,
                               timeout=30).stdout)
    assert harness.claim_port(freed)  # its lock died with the process
    busy = harness.reserve_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", busy))  # as a program outside the suite might
        s.listen(1)
        assert not harness.claim_port(busy)
