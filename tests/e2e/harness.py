"""Helpers for Torii's end-to-end tests: processes, ports, manifests, polling.

Everything here drives real processes: the Torii binary named by $TORII_BIN,
httpbin under Debian's gunicorn, and echo_server.py beside this file. The
pytest fixtures in conftest.py wrap these so that every process is stopped at
teardown, even when a test fails.

Only Debian packages are used (python3-pytest, python3-requests,
python3-httpbin, gunicorn, curl); run under /usr/bin/python3.
"""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import requests

from reserved_ports import claim_port, reserve_port  # noqa: F401 - the tests' ports (harness.reserve_port)

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("TORII_SOURCE_DIR") or HERE.parent.parent).resolve()
TORII_BIN = os.path.abspath(os.environ.get("TORII_BIN") or str(SOURCE_DIR / "build" / "torii"))
PYTHON = "/usr/bin/python3"  # the Debian interpreter, which has httpbin/gunicorn/requests

# Generous on a loaded 2-core machine; the "within one second" reload
# requirement is measured and reported (RELOAD_SPEC below).
READY_TIMEOUT = 10.0
UPSTREAM_START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
HTTP_TIMEOUT = 30.0
# A config change must be served within one second (the spec). Tests poll for
# it up to RELOAD_TIMEOUT, which only a broken reload exceeds, and record the
# time it took with the `measure` fixture: the summary at the end marks every
# one over RELOAD_SPEC. Failing the test at 1 s would fail it on a loaded
# machine (2 cores shared with `ctest -j2` and more), not on a slow reload.
RELOAD_SPEC = 1.0
RELOAD_TIMEOUT = 10.0

MiB = 1024 * 1024


# --------------------------------------------------------------------------------------
# ports and polling


def port_is_free(port, host="127.0.0.1"):
    """True if nothing listens on host:port (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(host, port, timeout, proc=None):
    """Waits until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def poll_until(condition, timeout, interval=0.02):
    """Calls condition() until it returns a truthy value or `timeout` seconds pass.

    Returns (value, elapsed_seconds); value is the last result (falsy on timeout).
    Exceptions from condition() count as "not yet".
    """
    start = time.monotonic()
    value = None
    while True:
        try:
            value = condition()
        except ToriiError:
            raise  # torii died: waiting longer will not help
        except Exception:  # noqa: BLE001 - a failing probe is "not yet"
            value = None
        elapsed = time.monotonic() - start
        if value:
            return value, elapsed
        if elapsed >= timeout:
            return value, elapsed
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# processes


def _set_pdeathsig():
    """In the child: die with SIGKILL if the test runner dies (no stray servers)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class Proc:
    """A child process in its own process group, with its output in a file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,  # own process group: killpg reaches gunicorn workers
            preexec_fn=_set_pdeathsig,
        )

    @property
    def pid(self):
        return self.popen.pid

    def poll(self):
        return self.popen.poll()

    def log(self):
        try:
            self._log.flush()
        except ValueError:
            pass
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=60):
        lines = self.log().splitlines()
        return "\n".join(lines[-n:])

    def signal(self, sig):
        if self.popen.poll() is None:
            os.kill(self.popen.pid, sig)

    def terminate(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait up to `timeout`; returns the exit code (None if it had to be killed)."""
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.popen.returncode

    def kill(self):
        """SIGKILL the whole process group (children included); never raises."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        """Make sure nothing of this process group survives."""
        if self.popen.poll() is None:
            self.kill()
        else:
            # the leader is gone; children (gunicorn workers) may not be
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self._log.close()
        except OSError:
            pass


def rss_bytes(pid):
    """Resident set size of `pid` from /proc/<pid>/status (VmRSS), in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


class RssSampler:
    """Samples a process's RSS in a background thread (context manager)."""

    def __init__(self, pid, interval=0.01):
        self.pid = pid
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append(rss_bytes(self.pid))
            except (OSError, RuntimeError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self.baseline = rss_bytes(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        return False

    @property
    def peak(self):
        return max(self.samples + [self.baseline])

    @property
    def growth(self):
        return self.peak - self.baseline


# --------------------------------------------------------------------------------------
# upstreams


class Upstream:
    def __init__(self, proc, host, port, name):
        self.proc = proc
        self.host = host
        self.port = port
        self.name = name

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)


def start_httpbin(workdir, host="127.0.0.1", port=None, workers=2, threads=8):
    """httpbin (python3-httpbin) under Debian's gunicorn, gthread workers.

    2 workers x 8 threads serve 16 requests at once, enough for the tests that
    hold /delay requests open concurrently.
    """
    port = port or reserve_port()
    argv = [
        PYTHON, "-m", "gunicorn",
        "--bind", "%s:%d" % (host, port),
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--graceful-timeout", "2",
        "--timeout", "120",
        "httpbin:app",
    ]
    log = Path(workdir) / ("httpbin-%s-%d.log" % (host, port))
    proc = Proc("httpbin", argv, log, cwd=str(workdir))
    up = Upstream(proc, host, port, "httpbin")
    deadline = time.monotonic() + UPSTREAM_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(up.url + "/status/200", timeout=2).status_code == 200:
                return up
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.cleanup()
    raise RuntimeError("httpbin did not start on %s:%d:\n%s" % (host, port, proc.log_tail()))


def start_echo(workdir, name, host="127.0.0.1", port=None, extra_args=()):
    """echo_server.py on host:port (a free port when None); extra_args e.g. ("--status", "503")."""
    port = port or reserve_port()
    argv = [PYTHON, "-u", str(HERE / "echo_server.py"), "--name", name, "--host", host, "--port", str(port)]
    argv += list(extra_args)
    log = Path(workdir) / ("echo-%s-%s-%d.log" % (name, host, port))
    proc = Proc("echo-" + name, argv, log)
    if not wait_for_port(host, port, UPSTREAM_START_TIMEOUT, proc):
        proc.cleanup()
        raise RuntimeError("echo server %s did not start on %s:%d:\n%s" % (name, host, port, proc.log_tail()))
    return Upstream(proc, host, port, name)


# --------------------------------------------------------------------------------------
# certificates

OPENSSL_NEWKEY = ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def make_pki(directory, leaves):
    """A test CA (ca.pem, ca.key) in `directory` and, for each `name: san` of
    `leaves` (san e.g. "DNS:api.example.test", "" for none), name.pem and
    name.key signed by it, valid for two days. Returns `directory`."""
    directory = Path(directory)

    def run(cmd):
        subprocess.run(cmd, cwd=directory, check=True, capture_output=True)

    run(OPENSSL_NEWKEY + ["-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test-ca"])
    for name, san in leaves.items():
        (directory / (name + ".ext")).write_text("subjectAltName=%s\n" % san if san else "")
        run(OPENSSL_NEWKEY + ["-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name])
        run(["openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext"])
    return directory


# --------------------------------------------------------------------------------------
# manifests


def write_atomic(path, text):
    """Replaces `path` with `text` in one step (temp file in the same directory + rename),
    as editors and `kubectl apply`-style tools do. The temp name does not end in
    .yaml/.yml/.json so a watcher never loads it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def yaml_docs(*docs):
    """Joins YAML documents (each dedented) into one multi-document text."""
    return "---\n".join(textwrap.dedent(d).strip("\n") + "\n" for d in docs)


def gateway(name="gw", hosts=("*",), port=80, selector="istio: ingressgateway", namespace=None):
    ns = "\n  namespace: %s" % namespace if namespace else ""
    host_lines = "\n".join('    - "%s"' % h for h in hosts)
    return (
        "apiVersion: networking.istio.io/v1alpha3\n"
        "kind: Gateway\n"
        "metadata:\n"
        "  name: %s%s\n"
        "spec:\n"
        "  selector:\n"
        "    %s\n"
        "  servers:\n"
        "  - port:\n"
        "      number: %d\n"
        "      name: http\n"
        "      protocol: HTTP\n"
        "    hosts:\n"
        "%s\n" % (name, ns, selector, port, host_lines)
    )


def service(name, port=80, target_port=None, selector=None, port_name="http"):
    """A core/v1 Service; `selector` defaults to app=<name>."""
    selector = selector or {"app": name}
    sel = "\n".join("    %s: %s" % (k, v) for k, v in selector.items())
    tp = "\n    targetPort: %d" % target_port if target_port else ""
    return (
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: %s\n"
        "spec:\n"
        "  ports:\n"
        "  - name: %s\n"
        "    port: %d%s\n"
        "  selector:\n"
        "%s\n" % (name, port_name, port, tp, sel)
    )


def workload_entry(name, address, labels, ports=None):
    """A WorkloadEntry; `ports` maps Service port names to the endpoint's port."""
    lab = "\n".join("    %s: %s" % (k, v) for k, v in labels.items())
    p = ""
    if ports:
        p = "\n  ports:\n" + "\n".join("    %s: %d" % (k, v) for k, v in ports.items())
    return (
        "apiVersion: networking.istio.io/v1beta1\n"
        "kind: WorkloadEntry\n"
        "metadata:\n"
        "  name: %s\n"
        "spec:\n"
        "  address: %s\n"
        "  labels:\n"
        "%s%s\n" % (name, address, lab, p)
    )


def backend(upstream, service_name, labels=None, port=80, entry_name=None):
    """Service + WorkloadEntry pointing at a running upstream (port via WorkloadEntry.ports)."""
    labels = dict(labels or {})
    labels.setdefault("app", service_name)
    return yaml_docs(
        service(service_name, port=port, selector={"app": labels["app"]}),
        workload_entry(entry_name or "%s-%s" % (service_name, upstream.name), upstream.host, labels,
                       {"http": upstream.port}),
    )


# --------------------------------------------------------------------------------------
# Torii


class ToriiError(AssertionError):
    pass


class Torii:
    """A running `torii run` process with its config directory and admin endpoint."""

    def __init__(self, workdir, config_dir, listen_port, admin_address_path, proc, gateway_port=80):
        self.workdir = Path(workdir)
        self.config_dir = Path(config_dir)
        self.listen_port = listen_port
        self.admin_address_path = Path(admin_address_path)
        self._admin_port = None
        self.gateway_port = gateway_port
        self.proc = proc
        self.expected_exit_code = 0
        self.stopped_by_test = False  # the test stopped it and checked the exit code itself
        self.death_reported = False  # a test already failed because it died

    # -- addresses
    @property
    def pid(self):
        return self.proc.pid

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.listen_port

    def url(self, path="/"):
        return self.base + path

    @property
    def admin_port(self):
        """The port the kernel gave the admin endpoint (--admin 127.0.0.1:0), read from
        --admin-address-path once Torii has written it (waits up to READY_TIMEOUT)."""
        if self._admin_port is None:
            self._admin_port = self._read_admin_port(READY_TIMEOUT)
        return self._admin_port

    def _read_admin_port(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = self.admin_address_path.read_text()
            except FileNotFoundError:
                text = ""
            if text:
                return int(text.rpartition(":")[2])
            if self.proc.poll() is not None:
                self.death_reported = True
                raise ToriiError("torii exited with code %s before binding its admin endpoint\n%s"
                                 % (self.proc.poll(), self.proc.log_tail()))
            if time.monotonic() >= deadline:
                raise ToriiError("torii wrote no admin address to %s within %.0f s\n%s"
                                 % (self.admin_address_path, timeout, self.proc.log_tail()))
            time.sleep(0.02)

    @property
    def admin(self):
        return "http://127.0.0.1:%d" % self.admin_port

    def listeners(self):
        """/listeners?format=json: {listener name: its listener_statuses entry}."""
        r = self._call("GET", self.admin + "/listeners?format=json", timeout=10)
        r.raise_for_status()
        return {l["name"]: l for l in r.json()["listener_statuses"]}

    # -- requests
    def _call(self, method, url, **kw):
        """requests.request, but a refused connection because torii died says so (with its log)."""
        try:
            return requests.request(method, url, **kw)
        except requests.ConnectionError:
            if self.proc.poll() is not None:
                self.death_reported = True
                raise ToriiError("torii is not running (exit code %s)\n%s" % (self.proc.poll(), self.proc.log_tail()))
            raise

    def get(self, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self._call("GET", self.url(path), **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self._call(method, self.url(path), **kw)

    # -- admin
    def ready_status(self):
        return self._call("GET", self.admin + "/ready", timeout=5).status_code

    def config_dump(self):
        r = self._call("GET", self.admin + "/config_dump", timeout=10)
        r.raise_for_status()
        return r.json()

    def stats(self):
        r = self._call("GET", self.admin + "/stats", timeout=10)
        r.raise_for_status()
        out = {}
        for line in r.text.splitlines():
            name, sep, value = line.partition(":")
            if not sep:
                continue
            try:
                out[name.strip()] = int(value.strip())
            except ValueError:
                pass
        return out

    def stat(self, name):
        return self.stats().get(name, 0)

    # -- config
    def write(self, filename, text):
        """Writes (atomically) a manifest file into the watched config directory."""
        write_atomic(self.config_dir / filename, text)

    def remove(self, filename):
        os.unlink(self.config_dir / filename)

    # -- process
    def log(self):
        return self.proc.log()

    def alive(self):
        return self.proc.poll() is None

    def describe(self):
        return "torii (pid %d, rc %s) log tail:\n%s" % (self.pid, self.proc.poll(), self.proc.log_tail())

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        return self.proc.terminate(timeout)


def torii_works():
    """(ok, message): whether TORII_BIN exists and is executable."""
    if not os.path.exists(TORII_BIN):
        return False, "TORII_BIN=%s does not exist (build it: cmake --build build)" % TORII_BIN
    if not os.access(TORII_BIN, os.X_OK):
        return False, "TORII_BIN=%s is not executable" % TORII_BIN
    return True, ""


def start_torii(workdir, manifests=None, config_paths=None, port_map=None, extra_args=(),
                wait_ready=True, ready_timeout=READY_TIMEOUT, name="torii"):
    """Starts `torii run`.

    manifests: {filename: yaml_text} written into <workdir>/<name>-config/ (which is
               passed as --config, so it is watched);
    config_paths: extra --config paths (files or directories) used as they are;
    port_map: {gateway_port: listen_port}; default {80: <free port>}.
    """
    ok, why = torii_works()
    if not ok:
        raise ToriiError(why)
    workdir = Path(workdir)
    config_dir = workdir / ("%s-config" % name)
    config_dir.mkdir(parents=True, exist_ok=True)
    for fname, text in (manifests or {}).items():
        write_atomic(config_dir / fname, text)
    if port_map is None:
        port_map = {80: reserve_port()}
    # The admin endpoint takes a port from the kernel and says which: it
    # exists from the start, so nothing needs reserving for it. Gateway ports
    # are reserved instead of mapped to 0, because tests need them before the
    # Gateway that opens them exists (and write them into other manifests).
    admin_address_path = workdir / ("%s-admin-address" % name)
    if admin_address_path.exists():
        admin_address_path.unlink()  # a restart under the same name: not the old address
    argv = [TORII_BIN, "run"]
    paths = list(config_paths or [])
    if manifests is not None or not paths:
        paths.insert(0, str(config_dir))
    for p in paths:
        argv += ["--config", str(p)]
    argv += ["--admin", "127.0.0.1:0", "--admin-address-path", str(admin_address_path)]
    argv += ["--port-map", ",".join("%d=%d" % kv for kv in sorted(port_map.items()))]
    argv += list(extra_args)
    proc = Proc(name, argv, workdir / ("%s.log" % name))
    gw_port = sorted(port_map)[0]
    t = Torii(workdir, config_dir, port_map[gw_port], admin_address_path, proc, gateway_port=gw_port)
    if wait_ready:
        wait_ready_or_fail(t, ready_timeout)
    return t


def wait_ready_or_fail(t, timeout=READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        rc = t.proc.poll()
        if rc is not None:
            t.death_reported = True
            raise ToriiError("torii exited with code %s before /ready; argv: %s\n%s"
                             % (rc, " ".join(t.proc.argv), t.proc.log_tail()))
        try:
            if t._admin_port is None:
                t._admin_port = t._read_admin_port(0)
            r = requests.get(t.admin + "/ready", timeout=1)
            if r.status_code == 200:
                return
            last = "%d %s" % (r.status_code, r.text.strip()[:500])
        except ToriiError as e:
            last = str(e).splitlines()[0]
        except requests.RequestException as e:
            last = str(e)
        time.sleep(0.05)
    raise ToriiError("torii not ready after %.0f s (last /ready: %s); argv: %s\n%s"
                     % (timeout, last, " ".join(t.proc.argv), t.proc.log_tail()))


def run_torii_validate(paths, extra_args=(), timeout=60):
    """Runs `torii validate --config P ...`; returns CompletedProcess (text)."""
    ok, why = torii_works()
    if not ok:
        raise ToriiError(why)
    argv = [TORII_BIN, "validate"]
    for p in paths:
        argv += ["--config", str(p)]
    argv += list(extra_args)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


# --------------------------------------------------------------------------------------
# raw HTTP/1.1 on a socket (for pipelining, HTTP/1.0, garbage, HEAD)


class RawResponse:
    def __init__(self, version, status, reason, headers, body):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) as received
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def json(self):
        return json.loads(self.body)


class RawConn:
    """A client socket that parses HTTP/1.x responses itself."""

    def __init__(self, port, host="127.0.0.1", timeout=HTTP_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by peer")
        self.buf += data

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, head_request=False):
        """Reads one response; skips interim 1xx responses (100 Continue)."""
        while True:
            head = self._read_until(b"\r\n\r\n").decode("latin-1")
            lines = head.split("\r\n")
            m = re.match(r"(HTTP/\d\.\d) (\d{3}) ?(.*)", lines[0])
            if not m:
                raise ValueError("bad status line: %r" % lines[0])
            version, status, reason = m.group(1), int(m.group(2)), m.group(3)
            headers = []
            for line in lines[1:]:
                if not line:
                    continue
                k, _, v = line.partition(":")
                headers.append((k, v.strip()))
            if 100 <= status < 200 and status != 101:
                continue
            break
        resp = RawResponse(version, status, reason, headers, b"")
        if head_request or status in (204, 304):
            return resp
        te = (resp.header("transfer-encoding") or "").lower()
        cl = resp.header("content-length")
        if "chunked" in te:
            body = b""
            while True:
                size_line = self._read_until(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n")  # (no trailers expected) final CRLF
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = body
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            # read until close
            try:
                while True:
                    self._fill()
            except (EOFError, ConnectionResetError):
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def closed_by_peer(self, timeout=5.0):
        """True if the peer closes the connection (EOF or reset) within `timeout` with no more data."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return data == b"" and self.buf == b""


def http_request(method, path, host="example.com", headers=(), body=b"", version="HTTP/1.1"):
    """Bytes of one request (Content-Length added when there is a body)."""
    lines = ["%s %s %s" % (method, path, version), "Host: %s" % host]
    for k, v in headers:
        lines.append("%s: %s" % (k, v))
    if body:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def header_dict(echo_doc):
    """Lower-cased header map from an echo_server.py JSON reply (last value wins)."""
    return {k.lower(): v for k, v in echo_doc["headers"]}


def find_in_json(obj, predicate):
    """All sub-values of a JSON document for which predicate(value) holds (depth first)."""
    out = []
    if predicate(obj):
        out.append(obj)
    if isinstance(obj, dict):
        for v in obj.values():
            out += find_in_json(v, predicate)
    elif isinstance(obj, list):
        for v in obj:
            out += find_in_json(v, predicate)
    return out


def copy_tree(src, dst):
    shutil.copytree(str(src), str(dst))
    return Path(dst)
