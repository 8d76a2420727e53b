"""Zero-downtime binary upgrade: `torii run --takeover PATH` takes the listening sockets of the
torii listening on PATH (--upgrade-socket PATH), serves on them and makes it drain
(docs/upgrade.md).

Under real load (wrk: HTTP/1.1 keep-alive; h2load: h2c) no request fails, both processes
serve, the new one accepts from the very same sockets (same inodes), the old one exits by
itself; a takeover that cannot happen (nobody listening, bad configuration) leaves the old
process serving.
"""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import hyperframe.frame as hf
import pytest
import requests

import harness
from h2_client import RawH2

DRAIN_S = 10  # --drain-timeout-s of the old process: HTTP/2 GOAWAY after 5 s


@pytest.fixture(scope="module")
def echo(module_upstreams):
    return module_upstreams.echo("upg", host="127.0.0.11")


VS = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: upg}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route: [{destination: {host: echo, port: {number: 80}}}]
"""


def manifests(echo):
    return {"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo"), "vs.yaml": VS}


def start_old(torii, tmp_path, echo, extra=()):
    sock = tmp_path / "upgrade.sock"
    t = torii(manifests(echo), extra_args=["--upgrade-socket", str(sock), "--access-log",
                                           str(tmp_path / "old-access.log"), "--drain-timeout-s",
                                           str(DRAIN_S), "--workers", "2"] + list(extra))
    return t, sock


def replace_arg(argv, flag, value):
    argv = list(argv)
    argv[argv.index(flag) + 1] = value
    return argv


def start_new(torii, old, tmp_path, sock, argv=None, name="new"):
    """Starts a second torii with the old one's arguments plus --takeover (own admin address
    file and access log); registered with the fixture, so teardown stops it."""
    argv = list(argv or old.proc.argv)
    argv = replace_arg(argv, "--admin-address-path", str(tmp_path / ("%s-admin-address" % name)))
    if "--access-log" in argv:
        argv = replace_arg(argv, "--access-log", str(tmp_path / ("%s-access.log" % name)))
    argv += ["--takeover", str(sock)]
    proc = harness.Proc(name, argv, tmp_path / ("%s.log" % name))
    t = harness.Torii(tmp_path, old.config_dir, old.listen_port, tmp_path / ("%s-admin-address" % name), proc)
    torii.started.append(t)
    return t


def wait_log(t, needle, timeout=harness.READY_TIMEOUT):
    ok, _ = harness.poll_until(lambda: needle in t.log() or t.proc.poll() is not None, timeout)
    assert ok and needle in t.log(), "no '%s' in the log of pid %d\n%s" % (needle, t.pid, t.describe())


def wait_exit(t, timeout):
    try:
        return t.proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("pid %d still running %.0f s later\n%s" % (t.pid, timeout, t.describe()))


def listen_inodes(port):
    """Inodes of the sockets listening on `port` (IPv4, any address)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(int(f[9]))
    return inodes


def socket_inodes_of(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            out.add(int(m.group(1)))
    return out


def lines_with(path, needle):
    try:
        return sum(1 for line in Path(path).read_text(errors="replace").splitlines() if needle in line)
    except FileNotFoundError:
        return 0


# --------------------------------------------------------------------------------------


def test_upgrade_under_load_loses_no_request(echo, torii, tmp_path):
    """wrk (HTTP/1.1 keep-alive) and h2load (h2c, back-to-back runs) through the upgrade: no
    socket error, no failed or non-2xx request; both processes served both kinds; the new one
    accepts on the old one's sockets; the old one exits 0 by itself."""
    old, sock = start_old(torii, tmp_path, echo)
    port = old.listen_port
    assert old.get("/e/warm").status_code == 200
    sockets_before = listen_inodes(port)
    assert len(sockets_before) == 2, sockets_before  # one SO_REUSEPORT socket per worker
    assert sockets_before <= socket_inodes_of(old.pid)

    stop_file = tmp_path / "stop-h2load"
    wrk_out = tmp_path / "wrk.out"
    h2_out = tmp_path / "h2load.out"
    # -d: long enough never to end by itself on a slow machine; SIGINT below stops it.
    wrk = harness.Proc("wrk", ["wrk", "-t2", "-c8", "-d900s", "http://127.0.0.1:%d/e/wrk" % port], wrk_out)
    # h2load opens no new connection after GOAWAY (it fails what it has left), as many
    # clients do: short runs, one after the other, as clients come and go.
    h2 = harness.Proc("h2load", ["bash", "-c", "while [ ! -e %s ]; do h2load -n 400 -c 2 -m 4 "
                                 "http://127.0.0.1:%d/e/h2 || echo H2LOAD-EXIT $?; done" % (stop_file, port)],
                      h2_out)
    try:
        old_log = tmp_path / "old-access.log"
        flowing, _ = harness.poll_until(lambda: lines_with(old_log, "/e/wrk HTTP/1.1") > 100 and
                                        lines_with(old_log, "/e/h2 HTTP/2") > 100, 30)
        assert flowing, "load never reached the old process\n%s" % old.describe()
        time.sleep(2)  # a few seconds of load on the old process (not a condition: just load)

        new = start_new(torii, old, tmp_path, sock)
        wait_log(new, "takeover: serving", timeout=30)
        assert new.admin_port == old.admin_port  # the admin socket changed hands too
        assert wrk.poll() is None and h2.poll() is None, "the load ended before the takeover"
        wait_log(old, "serves now; draining")
        rc = wait_exit(old, DRAIN_S + 20)
        old.stopped_by_test = True
        assert rc == 0, old.describe()

        new_log = tmp_path / "new-access.log"
        both, _ = harness.poll_until(lambda: lines_with(new_log, "/e/wrk HTTP/1.1") > 100 and
                                     lines_with(new_log, "/e/h2 HTTP/2") > 100, 30)
        assert both, "the new process did not serve both clients\n%s" % new.describe()
        time.sleep(2)  # and a few seconds on the new one
        assert wrk.poll() is None and h2.poll() is None, "the load ended before the new process served it"
        # The very same sockets: what was queued on the old process's is accepted here.
        assert sockets_before <= listen_inodes(port)
        assert sockets_before <= socket_inodes_of(new.pid)
    finally:
        stop_file.touch()
        wrk.signal(signal.SIGINT)  # wrk prints its summary on SIGINT
        wrk.popen.wait(30)
        h2.popen.wait(60)
        wrk.cleanup()
        h2.cleanup()

    wrk_text = wrk.log()
    h2_text = h2.log()
    m = re.search(r"(\d+) requests in ([\d.]+m?s)", wrk_text)
    assert m, wrk_text
    wrk_requests = int(m.group(1))
    assert "Socket errors" not in wrk_text, wrk_text
    assert "Non-2xx" not in wrk_text, wrk_text
    runs = re.findall(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                      r"(\d+) errored, (\d+) timeout", h2_text)
    codes = re.findall(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", h2_text)
    assert runs and len(runs) == len(codes), h2_text[-3000:]
    assert "H2LOAD-EXIT" not in h2_text, h2_text[-3000:]
    total = sum(int(r[0]) for r in runs)
    for r, c in zip(runs, codes):
        assert r[4:] == ("0", "0", "0") and r[3] == r[0], r
        assert int(c[0]) == int(r[0]), c
    old_served = lines_with(tmp_path / "old-access.log", " HTTP/")
    new_served = lines_with(tmp_path / "new-access.log", " HTTP/")
    print("\nupgrade under load: wrk %d requests (%s), 0 errors, 0 non-2xx; h2load %d runs, %d requests, "
          "0 failed; access log lines: old %d, new %d" % (wrk_requests, m.group(2), len(runs), total,
                                                          old_served, new_served))
    assert new.alive()
    assert new.get("/e/after").status_code == 200


def test_takeover_without_a_running_torii_fails_clearly(echo, torii, tmp_path):
    """--takeover PATH with nothing there, or a socket file nobody listens on: exit 1 with a
    message naming the path; nothing is bound."""
    port = harness.reserve_port()
    config = tmp_path / "cfg"
    config.mkdir()
    for name, text in manifests(echo).items():
        harness.write_atomic(config / name, text)
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(str(stale))
    s.close()  # the file stays, nobody listens: connect() is refused
    for path, why in ((tmp_path / "nothing.sock", "No such file or directory"), (stale, "Connection refused")):
        r = subprocess.run([harness.TORII_BIN, "run", "--config", str(config), "--admin", "127.0.0.1:0",
                            "--port-map", "80=%d" % port, "--takeover", str(path)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, (r.stdout, r.stderr)
        out = r.stdout + r.stderr
        assert "--takeover: cannot reach a running torii at '%s': %s" % (path, why) in out, out
        assert harness.port_is_free(port)


def test_takeover_with_bad_config_leaves_the_old_process_serving(echo, torii, tmp_path):
    """A new process whose configuration has errors does not take over: it names the error and
    exits 1; the old one keeps serving (same admin, same port) and can still be taken over."""
    old, sock = start_old(torii, tmp_path, echo)
    bad = tmp_path / "bad-config"
    bad.mkdir()
    for name, text in manifests(echo).items():
        harness.write_atomic(bad / name, text)
    harness.write_atomic(bad / "vs.yaml", VS.replace("number: 80", "number: 99999"))
    argv = replace_arg(old.proc.argv, "--config", str(bad))
    new = start_new(torii, old, tmp_path, sock, argv=argv, name="bad")
    rc = wait_exit(new, 30)
    new.stopped_by_test = True
    assert rc == 1, new.describe()
    assert "not taking over" in new.log() and "vs.yaml" in new.log(), new.describe()
    assert old.alive() and old.get("/e/still").status_code == 200
    assert old.ready_status() == 200
    # Nor does a process started without --takeover on the same --upgrade-socket steal the path.
    r = subprocess.run([harness.TORII_BIN, "run", "--config", str(bad), "--admin", "127.0.0.1:0",
                        "--port-map", "80=%d" % harness.reserve_port(), "--upgrade-socket", str(sock)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "a running process listens there" in r.stdout + r.stderr, r
    assert sock.exists()
    # The upgrade socket still works: a good takeover now succeeds, here with one worker more
    # than the old process had (it adds a socket of its own to the SO_REUSEPORT group).
    before = listen_inodes(old.listen_port)
    good = start_new(torii, old, tmp_path, sock, argv=old.proc.argv + ["--workers", "3"], name="good")
    wait_log(good, "takeover: serving", timeout=30)
    assert wait_exit(old, DRAIN_S + 20) == 0, old.describe()
    old.stopped_by_test = True
    after = listen_inodes(old.listen_port)
    assert len(before) == 2 and before < after and len(after) == 3, (before, after)
    assert good.get("/e/good").status_code == 200


def test_old_process_closes_http1_after_next_response_and_goaways_http2_gracefully(echo, torii, tmp_path):
    """After a takeover the old process answers the next HTTP/1.1 request with
    `Connection: close` and closes; an HTTP/2 connection gets the graceful GOAWAY sequence
    (shutdown notice with the largest stream id, a PING, and once answered GOAWAY naming the
    last stream), and a stream it opens before answering the PING is still served."""
    old, sock = start_old(torii, tmp_path, echo, extra=["--workers", "1"])
    with harness.RawConn(old.listen_port) as h1, RawH2(old.listen_port) as h2:
        h1.send(harness.http_request("GET", "/e/h1-before"))
        assert h1.read_response().status == 200
        h2.send(h2.headers(1, path="/e/h2-before"))
        assert h2.read_frames(lambda f: isinstance(f, hf.DataFrame) and "END_STREAM" in f.flags) is not None

        new = start_new(torii, old, tmp_path, sock)
        wait_log(new, "takeover: serving", timeout=30)
        wait_log(old, "serves now; draining")

        h1.send(harness.http_request("GET", "/e/h1-after"))
        r = h1.read_response()
        assert r.status == 200 and (r.header("connection") or "").lower() == "close"
        assert h1.closed_by_peer(timeout=10)

        # Half the drain time on, the notice and the PING come.
        notice = h2.wait_goaway(timeout=DRAIN_S)
        assert notice is not None and notice.error_code == 0 and notice.last_stream_id == 2**31 - 1
        frames = []

        def log(f):
            frames.append(repr(f))
            return f
        ping = h2.read_frames(lambda f: isinstance(log(f), hf.PingFrame) and "ACK" not in f.flags, timeout=5)
        assert ping is not None, frames
        h2.send(h2.headers(3, path="/e/h2-in-between"))  # opened before the client saw... the PING
        ack = hf.PingFrame(0)
        ack.flags.add("ACK")
        ack.opaque_data = ping.opaque_data
        h2.send(ack)
        seen = {"goaway": None, "ended": False}

        def watch(f):
            log(f)
            if isinstance(f, hf.GoAwayFrame):
                seen["goaway"] = f
            if f.stream_id == 3 and "END_STREAM" in f.flags:
                seen["ended"] = True
            return seen["goaway"] is not None and seen["ended"]
        h2.read_frames(watch, timeout=10)
        assert seen["ended"], "stream 3 was not served: %s" % frames
        assert seen["goaway"] is not None, frames
        assert seen["goaway"].error_code == 0 and seen["goaway"].last_stream_id == 3, frames
        assert h2.closed(timeout=10)
    assert wait_exit(old, DRAIN_S + 20) == 0, old.describe()
    old.stopped_by_test = True
    assert new.get("/e/new").status_code == 200


def test_systemd_notifications(echo, torii, tmp_path, monkeypatch):
    """With $NOTIFY_SOCKET (systemd's Type=notify), torii says READY=1 once it serves; a process
    that took over says MAINPID=<its pid> and READY=1; SIGTERM says STOPPING=1."""
    notify_path = tmp_path / "notify.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    notify.settimeout(harness.READY_TIMEOUT)
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_path))  # inherited by the torii processes
    try:
        old, sock = start_old(torii, tmp_path, echo)
        assert notify.recv(4096) == b"READY=1"
        new = start_new(torii, old, tmp_path, sock)
        assert notify.recv(4096) == b"MAINPID=%d\nREADY=1" % new.pid
        assert wait_exit(old, DRAIN_S + 20) == 0
        old.stopped_by_test = True
        assert new.stop() == 0, new.describe()
        new.stopped_by_test = True
        assert notify.recv(4096) == b"STOPPING=1"
    finally:
        notify.close()


def test_tcp_tunnel_outlives_the_takeover(torii, tmp_path):
    """A TCP route's connection on the old process keeps relaying after the takeover (new
    connections go to the new process); the old process exits once it ends."""
    from test_tcp_passthrough import TcpEchoFactory, tcp_manifests
    upstreams = TcpEchoFactory(tmp_path)
    try:
        up = upstreams("upg", "127.0.0.91")
        port = harness.reserve_port()
        sock = tmp_path / "upgrade.sock"
        old = torii(tcp_manifests([(up, 100)]), port_map={9000: port},
                    extra_args=["--upgrade-socket", str(sock), "--drain-timeout-s", "60"])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"before ")
            assert s.recv(100) == b"before "
            new = start_new(torii, old, tmp_path, sock)
            wait_log(new, "takeover: serving", timeout=30)
            wait_log(old, "serves now; draining")
            # A new connection: the new process relays it.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s2:
                s2.sendall(b"new")
                assert s2.recv(100) == b"new"
            ok, _ = harness.poll_until(
                lambda: new.stat("cluster.outbound|9000||echo-upg.test.upstream_cx_total") >= 1, 10)
            assert ok, new.describe()
            # The old one still relays the first connection, to its end.
            assert old.alive()
            s.sendall(b"after")
            assert s.recv(100) == b"after"
            s.shutdown(socket.SHUT_WR)
            rest = b""
            while True:
                chunk = s.recv(100)
                if not chunk:
                    break
                rest += chunk
            assert rest == b"\nBYE upg 12\n"
        assert wait_exit(old, 30) == 0, old.describe()
        old.stopped_by_test = True
    finally:
        upstreams.close()
