"""The upstream and the three proxies, each with ONE worker and equivalent config.

Every proxy does the edge work an Istio ingress gateway does: keeps upstream
connections alive, sets X-Forwarded-For, X-Forwarded-Proto and a request id
(Torii does this by default, like Envoy; nginx and HAProxy are configured to).

reload(i) makes a real config change (nginx, HAProxy: response header
`x-bench-reload: <i>`; Torii: a route for /bench-reload-<i>/, see
torii_virtualservice) and applies it the way each proxy is reloaded in
production; applied(i) checks it is in force:
- Torii: the VirtualService file is rewritten (temp file + rename); Torii's
  inotify watch reloads it.
- nginx: `nginx -s reload` (new workers; old ones finish and close idle
  keep-alive connections).
- HAProxy 2.6: master-worker mode (-W) and SIGUSR2 to the master, which is how
  Debian's systemd unit reloads it: the master re-executes and starts a new
  worker with -sf <old worker pids> (soft stop of the old worker).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

from . import procs

BODY = "hello from the bench upstream"
# Part body64k: the upstream answers POST /body64k with a 64 KiB file; the
# request carries a 64 KiB body too.
BODY64K_PATH = "/body64k"
BODY64K_SIZE = 64 * 1024
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
import reserved_ports  # noqa: E402 - the test suite's port reservations, shared


def free_port():
    """A port for a proxy started later: outside the kernel's ephemeral range and locked
    against the test suite's other processes (tests/e2e/reserved_ports.py), so nothing
    takes it between now and the proxy's bind."""
    return reserved_ports.reserve_port()


def http_get(port, path="/", host="bench.example", timeout=2.0, headers=()):
    """(status, headers dict lower-case, body) of one HTTP/1.1 request on a new connection;
    `headers`: more "Name: value" lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        extra = "".join(h + "\r\n" for h in headers)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n" % (path, host, extra)).encode())
        chunks = []  # joined once: /stats with 10,000 clusters is ~50 MB
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body.decode("latin-1")


def wait_http(port, timeout, path="/", host="bench.example", proc=None, want=200, headers=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if http_get(port, path, host, headers=headers)[0] == want:
                return True
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.05)
    return False


def wait_http_header(port, name, value, timeout):
    """True once a response on a new connection carries header `name: value`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http_get(port)[1].get(name) == value:
                return True
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.05)
    return False


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def make_certificate(run):
    """A self-signed ECDSA P-256 certificate for bench.example in the run's tmp
    dir (cert, key, and both in one file for HAProxy's `crt`); made once per run.
    Every proxy serves the same one, so the handshake and record costs compare."""
    d = os.path.join(run.tmp, "tls")
    cert, key, both = (os.path.join(d, f) for f in ("cert.pem", "key.pem", "cert+key.pem"))
    if not os.path.exists(both):
        os.makedirs(d, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=bench.example",
                        "-addext", "subjectAltName=DNS:bench.example", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        with open(both, "w") as f:
            f.write(open(cert).read() + open(key).read())
    return cert, key, both


def curl_body(url, *extra):
    """The body curl got (HTTP/2 prior knowledge or TLS checks), or raises SystemExit with curl's error."""
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "-H", "Host: bench.example", *extra, url],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("bench/compare: curl %s %s failed: %s" % (" ".join(extra), url, r.stderr.strip()))
    return r.stdout


def _tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Server:
    name = "?"

    def __init__(self, run, cpus):
        self.run = run  # benchlib.run.Run: paths, processes, log
        self.cpus = cpus
        self.proc = None
        self.port = None
        self.h2c_port = None  # cleartext HTTP/2, prior knowledge (parts h2c); Torii: the same as port
        self.tls_port = None  # TLS, ALPN h2 and http/1.1 (parts h2, https1)

    def pids(self):
        return procs.descendants(self.proc.pid)

    def cpu_ticks(self):
        return procs.cpu_ticks(self.pids())

    def cpu_ticks_split(self):
        """(user_ticks, sys_ticks) of the server's processes."""
        return procs.cpu_ticks_split(self.pids())

    def rss_kib(self):
        return procs.rss_kib(self.pids())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_serves(self, path="/", host="bench.example", headers=()):
        if not wait_http(self.port, 10, path, host, self.proc, headers=headers):
            raise SystemExit("bench/compare: %s does not answer 200 on 127.0.0.1:%d%s (log: %s)\n%s"
                             % (self.name, self.port, path, self.log_path, _tail(self.log_path)))
        status, _, body = http_get(self.port, path, host, headers=headers)
        if body.strip() != BODY:
            raise SystemExit("bench/compare: %s returned an unexpected body: %r" % (self.name, body))

    def check_protocols(self):
        """Checks the h2c and TLS listeners (when the run has them) return the upstream's body,
        over HTTP/2 where they should."""
        checks = []
        if self.h2c_port:
            checks.append(("http://127.0.0.1:%d/" % self.h2c_port, "--http2-prior-knowledge"))
        if self.tls_port:
            checks.append(("https://127.0.0.1:%d/" % self.tls_port, "--http2", "-k"))
            checks.append(("https://127.0.0.1:%d/" % self.tls_port, "--http1.1", "-k"))
        for url, *extra in checks:
            body = curl_body(url, *extra, "-w", "\n%{http_version}")
            got, _, version = body.rpartition("\n")
            want = "1.1" if "--http1.1" in extra else "2"
            if got.strip() != BODY or version != want:
                raise SystemExit("bench/compare: %s on %s (%s): HTTP/%s, body %r"
                                 % (self.name, url, " ".join(extra), version, got))

    def stop(self):
        if self.proc is not None:
            self.run.procs.stop(self.proc)


def _nginx_common(run, prefix, workers=1):
    t = run.tmp
    return """worker_processes {w};
daemon off;
pid {t}/{p}.pid;
error_log {logs}/{p}-error.log warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path {t}/{p}-body;
  proxy_temp_path {t}/{p}-proxy;
  fastcgi_temp_path {t}/{p}-fastcgi;
  uwsgi_temp_path {t}/{p}-uwsgi;
  scgi_temp_path {t}/{p}-scgi;
""".format(t=t, p=prefix, logs=run.logs, w=workers)


class Upstream(Server):
    """nginx returning a 30-byte body, keep-alive; pinned with the load side.

    Part body64k: /body64k answers 64 KiB (`return 200` of a string built from
    a 1 KiB one: nginx takes no config token over 4 KiB; no file, so nginx's
    unprivileged workers need no access to the run's directory) after reading
    and discarding the request body. /body64k-check answers the same but
    reads the body for real first (a mirror subrequest with the body, in
    memory), then logs $request_length to upstream-body64k-check.log:
    body_received() shows that a proxy forwarded the whole request body. Only
    the check uses it (the mirror costs a subrequest); the measured path is
    /body64k. (Its content handler finds no file, and error_page turns the
    404, or 403 in a private directory, into /bench-checked, which answers.)
    """
    name = "upstream"

    def __init__(self, run, cpus, port, nginx):
        super().__init__(run, cpus)
        self.port = port
        self.nginx = nginx

    def start(self):
        conf = os.path.join(self.run.conf, "upstream-nginx.conf")
        with open(conf, "w") as f:
            listens = "".join("    listen %s:%d backlog=4096;\n" % (a, self.port)
                              for a in self.run.upstream_addresses)
            self.check_log = os.path.join(self.run.logs, "upstream-body64k-check.log")
            kib = 'set $kib "%s";' % ("u" * 1024)
            body = '"%s"' % ("$kib" * (BODY64K_SIZE // 1024))
            f.write(_nginx_common(self.run, "upstream") + """  log_format bodylen '$request_length $status $body_bytes_sent';
  server {
%s    default_type text/plain;
    location / { return 200 "%s\\n"; }
    location = %s { %s return 200 %s; }
    location = %s-check {
      client_body_buffer_size 128k;
      mirror /bench-mirror;
      mirror_request_body on;
      root %s;
      log_not_found off;
      error_page 403 404 =200 /bench-checked;
    }
    location = /bench-checked { internal; access_log %s bodylen; %s return 200 %s; }
    location = /bench-mirror { internal; return 204; }
  }
}
""" % (listens, BODY, BODY64K_PATH, kib, body, BODY64K_PATH, os.path.join(self.run.tmp, "no-such-dir"),
       self.check_log, kib, body))
        self.log_path = os.path.join(self.run.logs, "upstream.log")
        self.proc = self.run.procs.start([self.nginx, "-p", self.run.tmp, "-e", os.path.join(self.run.logs, "upstream-error.log"),
                                          "-c", conf], self.log_path, self.cpus)
        self.check_serves()

    def body_checks(self):
        """Lines in the upstream's /body64k-check log so far."""
        try:
            with open(self.check_log) as f:
                return f.read().count("\n")
        except OSError:
            return 0

    def body_received(self, after):
        """(request_length, status) of the first /body64k-check request logged
        after line `after` (body_checks()), or None."""
        try:
            with open(self.check_log) as f:
                fields = f.read().split("\n")[after].split()
            return int(fields[0]), int(fields[1])
        except (OSError, IndexError, ValueError):
            return None


class Torii(Server):
    name = "torii"

    def __init__(self, run, cpus, binary, config_dir=None, name="torii", extra_args=(), extra_files=None):
        super().__init__(run, cpus)
        self.binary = binary
        self.name = name
        self.config_dir = config_dir
        self.extra_args = list(extra_args)
        self.extra_files = dict(extra_files or {})  # more manifests next to the bench config

    def start(self, ready_timeout=10.0):
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise SystemExit("bench/compare: torii: no executable at %s (build it, or leave torii out with --only)"
                             % self.binary)
        port_map = {80: None}
        bench_config = self.config_dir is None  # bench/config/ (not a scale case's)
        if bench_config:
            self.config_dir = os.path.join(self.run.conf, self.name)
            os.makedirs(self.config_dir, exist_ok=True)
            for f in sorted(os.listdir(os.path.join(HERE, "config"))):
                if f.endswith(".yaml"):
                    shutil.copy(os.path.join(HERE, "config", f), self.config_dir)
            if self.run.want_tls:
                # parts h2, https1: an HTTPS server on Gateway port 443 (ALPN h2, http/1.1), every host
                cert, key, _ = make_certificate(self.run)
                with open(os.path.join(self.config_dir, "gateway.yaml"), "a") as f:
                    f.write(TORII_HTTPS_SERVER % (cert, key))
                port_map[443] = None
        for filename, text in self.extra_files.items():
            with open(os.path.join(self.config_dir, filename), "w") as f:
                f.write(text)
        up = os.path.join(self.config_dir, "upstream.yaml")
        if os.path.exists(up):
            text = open(up).read().replace("18090", str(self.run.upstream_port))
            # --endpoints: more WorkloadEntries of the same Service.
            for i, address in enumerate(self.run.upstream_addresses[1:], start=2):
                text += ("---\napiVersion: networking.istio.io/v1beta1\nkind: WorkloadEntry\n"
                         "metadata:\n  name: upstream-%d\nspec:\n  address: %s\n  labels:\n    app: upstream\n"
                         % (i, address))
            open(up, "w").write(text)
        port_map = {gw: free_port() for gw in port_map}
        self.port = port_map[80]
        if self.run.want_h2c and bench_config:
            self.h2c_port = self.port  # a plain HTTP server takes HTTP/2 prior knowledge on the same port
        self.tls_port = port_map.get(443)
        self.admin_port = free_port()
        self.log_path = os.path.join(self.run.logs, self.name + ".log")
        argv = [self.binary, "run", "--config", self.config_dir, "--workers", "1", "--bind", "127.0.0.1",
                "--port-map", ",".join("%d=%d" % kv for kv in sorted(port_map.items())),
                "--admin", "127.0.0.1:%d" % self.admin_port] + self.extra_args
        self.started_at = time.monotonic()
        self.argv_used = argv
        self.proc = self.run.procs.start(argv, self.log_path, self.cpus)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("bench/compare: torii (%s) exited with code %d:\n%s"
                                 % (self.binary, self.proc.returncode, _tail(self.log_path)))
            try:
                if http_get(self.admin_port, "/ready")[0] == 200:
                    self.ready_seconds = time.monotonic() - self.started_at
                    return
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.05)
        raise SystemExit("bench/compare: torii (%s) not ready after %.0f s:\n%s"
                         % (self.binary, ready_timeout, _tail(self.log_path)))

    def stats(self, filter_regex=None):
        """/stats as {name: int}; `filter_regex`: only the names it matches (Envoy's ?filter=)."""
        path = "/stats" if filter_regex is None else "/stats?filter=" + urllib.parse.quote(filter_regex)
        # With 10,000 clusters Torii renders ~50 MB of stats before it filters
        # (~2.5 s on the 2-core VM): more than http_get's default 2 s.
        _, _, body = http_get(self.admin_port, path, timeout=15.0)
        out = {}
        for line in body.splitlines():
            k, _, v = line.partition(":")
            try:
                out[k.strip()] = int(v)
            except ValueError:
                pass
        return out

    def reload(self, i):
        write_atomic(os.path.join(self.config_dir, "virtualservice.yaml"), torii_virtualservice(i))

    def applied(self, i, timeout=10.0):
        """True once the route change `i` is in force (admin /config_dump)."""
        needle = '"/bench-reload-%d/"' % i
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if needle in http_get(self.admin_port, "/config_dump", timeout=10)[2]:
                    return True
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.1)
        return False


# Appended to the copy of bench/config/gateway.yaml when the run has TLS parts.
TORII_HTTPS_SERVER = """  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts:
    - "*"
    tls:
      mode: SIMPLE
      serverCertificate: %s
      privateKey: %s
"""


def torii_virtualservice(i=None):
    """bench/config/virtualservice.yaml; with i, a first route for the prefix
    /bench-reload-<i>/ (to the same upstream) before the catch-all one, so
    each change is a real routing change. (A response-header change, as for
    nginx and HAProxy, would be closer, but VirtualService `headers` is not
    supported by Torii yet.)"""
    text = open(os.path.join(HERE, "config", "virtualservice.yaml")).read()
    if i is None:
        return text
    return text.replace("""  http:
""", """  http:
  - match:
    - uri:
        prefix: /bench-reload-%d/
    route:
    - destination:
        host: upstream
        port:
          number: 80
""" % i, 1)


class Nginx(Server):
    name = "nginx"

    def __init__(self, run, cpus, nginx, workers=1, name="nginx"):
        super().__init__(run, cpus)
        self.nginx = nginx
        self.workers = workers  # worker_processes (part workers2: 2)
        self.name = name  # also the prefix of its conf, log, pid and temp files

    def write_conf(self, i=None):
        extra = '      add_header x-bench-reload "%d";\n' % i if i is not None else ""
        with open(self.conf, "w") as f:
            servers = "".join("    server %s:%d;\n" % (a, self.run.upstream_port) for a in self.run.upstream_addresses)
            balance = "    least_conn;\n" if len(self.run.upstream_addresses) > 1 else ""
            # keepalive: idle upstream connections kept. 1024, not fewer: at 100 HTTP/2 streams
            # in flight nginx 1.22 held more than 128 upstream connections and closed the
            # extras after each request (~0.2 new connections per request); 50 HTTP/1.1
            # clients never reach 128.
            # Bodies (part body64k) stay in memory: a request body up to 128 KiB is
            # read into one buffer (nginx's default buffering of the request, without
            # the temp file it writes past client_body_buffer_size, 8/16 KiB by
            # default); the response gets 8 x 16 KiB proxy buffers and never a temp
            # file. Requests without a body (every other part) do not use them.
            f.write(_nginx_common(self.run, self.name, self.workers) + """  client_body_buffer_size 128k;
  proxy_buffers 8 16k;
  proxy_max_temp_file_size 0;
  upstream up {
%s%s    keepalive 1024;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:%d backlog=4096;
%s    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # the edge work an Istio gateway does too
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-Id $request_id;
%s    }
  }
}
""" % (servers, balance, self.port, self.protocol_listens(), extra))

    def protocol_listens(self):
        """The h2c and TLS listeners of parts h2c, h2, https1 (none otherwise: the
        other parts' config stays as it was). nginx 1.22 takes `http2` on a listen
        without `ssl` as HTTP/2 with prior knowledge only; and its default
        ssl_protocols stop at TLSv1.2, so TLSv1.3 is named, as the others offer it."""
        out = ""
        if self.h2c_port:
            out += "    listen 127.0.0.1:%d http2 backlog=4096;\n" % self.h2c_port
        if self.tls_port:
            cert, key, _ = make_certificate(self.run)
            out += ("    listen 127.0.0.1:%d ssl http2 backlog=4096;\n"
                    "    ssl_certificate %s;\n    ssl_certificate_key %s;\n"
                    "    ssl_protocols TLSv1.2 TLSv1.3;\n" % (self.tls_port, cert, key))
        return out

    def start(self):
        self.port = free_port()
        self.h2c_port = free_port() if self.run.want_h2c else None
        self.tls_port = free_port() if self.run.want_tls else None
        self.conf = os.path.join(self.run.conf, self.name + ".conf")
        self.write_conf()
        self.log_path = os.path.join(self.run.logs, self.name + ".log")
        self.error_log = os.path.join(self.run.logs, self.name + "-error.log")
        self.argv = [self.nginx, "-p", self.run.tmp, "-e", self.error_log, "-c", self.conf]
        self.proc = self.run.procs.start(self.argv, self.log_path, self.cpus)
        self.check_serves()

    def reload(self, i):
        self.write_conf(i)
        subprocess.run(self.argv + ["-s", "reload"], check=True, capture_output=True, timeout=10)

    def applied(self, i, timeout=10.0):
        return wait_http_header(self.port, "x-bench-reload", str(i), timeout)


class Haproxy(Server):
    name = "haproxy"

    def __init__(self, run, cpus, haproxy, threads=1, name="haproxy"):
        super().__init__(run, cpus)
        self.haproxy = haproxy
        self.threads = threads  # nbthread (part workers2: 2)
        self.name = name

    def write_conf(self, i=None):
        extra = "  http-response set-header x-bench-reload %d\n" % i if i is not None else ""
        # parts h2c, h2, https1 only (the other parts' config stays as it was):
        # HTTP/2 prior knowledge on its own bind, TLS with ALPN h2 and http/1.1
        binds = proto_https = ""
        if self.h2c_port:
            binds += "  bind 127.0.0.1:%d proto h2\n" % self.h2c_port
        if self.tls_port:
            binds += "  bind 127.0.0.1:%d ssl crt %s alpn h2,http/1.1\n" % (self.tls_port,
                                                                          make_certificate(self.run)[2])
            proto_https = "  http-request set-header X-Forwarded-Proto https if { ssl_fc }\n"
        with open(self.conf, "w") as f:
            f.write("""global
  nbthread %d
  maxconn 8000

defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse always

frontend fe
  bind 127.0.0.1:%d
%s  # the edge work an Istio gateway does too
  option forwardfor
  http-request set-header X-Forwarded-Proto http
%s  unique-id-format %%{+X}o%%ci:%%cp_%%fi:%%fp_%%Ts_%%rt:%%pid
  unique-id-header X-Request-Id
%s  default_backend be

backend be
%s""" % (self.threads, self.port, binds, proto_https, extra, ("  balance leastconn\n" if len(self.run.upstream_addresses) > 1 else "") +
                  "".join("  server up%d %s:%d\n" % (i, a, self.run.upstream_port)
                          for i, a in enumerate(self.run.upstream_addresses, start=1))))

    def start(self):
        self.port = free_port()
        self.h2c_port = free_port() if self.run.want_h2c else None
        self.tls_port = free_port() if self.run.want_tls else None
        self.conf = os.path.join(self.run.conf, self.name + ".cfg")
        self.write_conf()
        check = subprocess.run([self.haproxy, "-c", "-q", "-f", self.conf], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit("bench/compare: haproxy config check failed: " + check.stdout + check.stderr)
        self.log_path = os.path.join(self.run.logs, self.name + ".log")
        # -W: master-worker (the master stays, reloads on SIGUSR2); -db: stay in the foreground
        self.proc = self.run.procs.start([self.haproxy, "-W", "-db", "-f", self.conf], self.log_path, self.cpus)
        self.check_serves()

    def reload(self, i):
        self.write_conf(i)
        os.kill(self.proc.pid, signal.SIGUSR2)

    def applied(self, i, timeout=10.0):
        return wait_http_header(self.port, "x-bench-reload", str(i), timeout)
