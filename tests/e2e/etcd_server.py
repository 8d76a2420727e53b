"""Real etcd members (Debian's etcd-server 3.4) for the etcd config source's tests.

Each member listens on 127.0.0.1 ports taken with harness.reserve_port() (client
and peer), keeps its data in a directory of the test's tmp dir, and runs in its
own process group (harness.Proc), so the test's teardown stops it. A cluster
of N members is started with one --initial-cluster naming all of them.

Also here: `etcdctl` for what the tests do behind Torii's back (a concurrent
edit, a compaction), and TcpGate, a TCP forwarder the test can close and
reopen to cut a replica off from etcd while etcd itself keeps running.
"""

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests

import harness

ETCD = "/usr/bin/etcd"
ETCDCTL = "/usr/bin/etcdctl"
START_TIMEOUT = 30.0


def etcd_available():
    return os.access(ETCD, os.X_OK) and os.access(ETCDCTL, os.X_OK)


class Member:
    def __init__(self, workdir, name, client_port, peer_port, pki=None):
        self.pki = Path(pki) if pki else None  # harness.make_pki dir with server.* and client.*: TLS to clients
        self.workdir = Path(workdir)
        self.name = name
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = self.workdir / ("etcd-%s" % name)
        self.proc = None

    @property
    def client_url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.pki else "http", self.client_port)

    def tls_args(self):
        return ["--cacert", self.pki / "ca.pem", "--cert", self.pki / "client.pem",
                "--key", self.pki / "client.key"] if self.pki else []

    @property
    def peer_url(self):
        return "http://127.0.0.1:%d" % self.peer_port

    def start(self, initial_cluster, state="new", extra_args=()):
        argv = [ETCD, "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", initial_cluster, "--initial-cluster-state", state,
                "--initial-cluster-token", "torii-test", "--logger", "zap", "--log-level", "warn"]
        if self.pki:
            argv += ["--cert-file", self.pki / "server.pem", "--key-file", self.pki / "server.key",
                     "--trusted-ca-file", self.pki / "ca.pem", "--client-cert-auth"]
        argv += list(extra_args)
        self.proc = harness.Proc("etcd-" + self.name, argv,
                                 self.workdir / ("etcd-%s-%d.log" % (self.name, int(time.time() * 1000))))

    def healthy(self):
        try:
            tls = {"verify": str(self.pki / "ca.pem"),
                   "cert": (str(self.pki / "client.pem"), str(self.pki / "client.key"))} if self.pki else {}
            r = requests.get(self.client_url + "/health", timeout=1, **tls)
            return r.status_code == 200 and r.json().get("health") == "true"
        except (requests.RequestException, ValueError):
            return False

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.cleanup()

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.cleanup()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    """N members on loopback; cluster.endpoints is the comma-separated --etcd value."""

    def __init__(self, workdir, size=1, pki=None):
        self.members = [Member(workdir, "m%d" % i, harness.reserve_port(), harness.reserve_port(), pki)
                        for i in range(size)]
        self.initial = ",".join("%s=%s" % (m.name, m.peer_url) for m in self.members)

    @property
    def endpoints(self):
        return ",".join(m.client_url for m in self.members)

    def start(self):
        for m in self.members:
            m.start(self.initial)
        self.wait_healthy()

    def wait_healthy(self, members=None):
        members = members or [m for m in self.members if m.alive()]
        ok, _ = harness.poll_until(lambda: all(m.healthy() for m in members), START_TIMEOUT)
        if not ok:
            logs = "\n".join(m.proc.log_tail(20) for m in members)
            raise RuntimeError("etcd did not become healthy in %.0f s\n%s" % (START_TIMEOUT, logs))

    def restart(self, member):
        member.start(self.initial, state="existing")

    def stop(self):
        for m in self.members:
            m.stop()

    def leader(self):
        for m in self.members:
            if not m.alive():
                continue
            try:
                r = requests.post(m.client_url + "/v3/maintenance/status", json={}, timeout=2).json()
                if r.get("leader") and r.get("leader") == r["header"].get("member_id"):
                    return m
            except (requests.RequestException, ValueError, KeyError):
                pass
        return None

    def ctl(self, *args, check=True):
        live = ",".join(m.client_url for m in self.members if m.alive())
        argv = [ETCDCTL, "--endpoints", live] + self.members[0].tls_args() + list(args)
        return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                              timeout=30, check=check, env=dict(os.environ, ETCDCTL_API="3"))

    def revision(self):
        out = self.ctl("endpoint", "status", "-w", "json").stdout
        return max(e["Status"]["header"]["revision"] for e in json.loads(out))


class TcpGate:
    """127.0.0.1:<port> forwarded to a target port, until close(); open() again to resume."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.port = harness.reserve_port()
        self.listener = None
        self.connections = []
        self.lock = threading.Lock()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def open(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        """Refuses new connections and cuts the open ones."""
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            for s in self.connections:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.connections = []
