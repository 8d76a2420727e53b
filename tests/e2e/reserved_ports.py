"""Ports for test servers that nothing else can take in the meantime.

The old free_port() bound port 0, closed the socket and handed the number to a
server started later. The kernel picks a port-0 port from
net.ipv4.ip_local_port_range, the range it also takes the source port of every
outgoing connection from: between the close and the server's bind, any
connect() on the machine (another test under `ctest -j2`, a package download)
could take it, and the server died with "Address already in use".

reserve_port() never returns a port inside that range, so neither an outgoing
connection nor another bind(0) can take it. Among the ports outside it, it
returns one that
  * no other process of the suite holds: this process takes a write lock on
    byte <port> of LOCK_FILE (an fcntl record lock) and keeps it until it
    exits; the kernel drops it then, even on SIGKILL. One open file serves any
    number of ports (a lock file per port would cost a descriptor each);
  * this process has not handed out before (record locks belong to the
    process, so locking a byte it already holds succeeds: a set guards that);
  * nothing is bound to right now, TCP or UDP, on any address: a program
    outside the suite may use a port outside the range; such a port is skipped.
A reserved port stays reserved until the process exits, so a server started on
it after an earlier one stopped never meets another test's connections.

tests/common/reserved_ports.h is the C++ twin (same file, same pool, same
rules) for the GoogleTest binaries; bench/benchlib uses this module, so a
benchmark run beside the suite does not collide with it either.
"""

import errno
import fcntl
import os
import random
import socket
import threading

LOCK_FILE = "/tmp/torii-test-ports.lock"
PORT_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
# Below this, ports are left to well-known services (and to people).
LOWEST_PORT = 10000

_mutex = threading.Lock()
_lock_fd = None
_held = set()


def ephemeral_range(path=PORT_RANGE_FILE):
    """(low, high) of the kernel's ephemeral ports (Linux's default if the file is unreadable)."""
    try:
        with open(path) as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def port_pool(low, high):
    """Every port outside [low, high] from LOWEST_PORT up; the whole range if nothing is outside it."""
    pool = [p for p in range(LOWEST_PORT, 65536) if p < low or p > high]
    return pool or list(range(LOWEST_PORT, 65536))


def is_bindable(port):
    """True if nothing is bound to `port` right now, TCP or UDP, on any IPv4 address.

    The TCP probe uses SO_REUSEADDR, as every server of the suite does, so
    connections in TIME_WAIT on the port do not count."""
    for kind, reuse in ((socket.SOCK_STREAM, True), (socket.SOCK_DGRAM, False)):
        with socket.socket(socket.AF_INET, kind) as s:
            if reuse:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                return False
    return True


def _lock_file_fd():
    global _lock_fd
    if _lock_fd is None:
        fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            os.fchmod(fd, 0o666)  # other users' test runs lock it too
        except OSError:
            pass
        # Never closed: closing any descriptor of the file would drop every lock this process holds on it.
        _lock_fd = fd
    return _lock_fd


def _try_lock(fd, port):
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port, os.SEEK_SET)
        return True
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EAGAIN):
            return False  # another process holds it
        raise


def _unlock(fd, port):
    fcntl.lockf(fd, fcntl.LOCK_UN, 1, port, os.SEEK_SET)


def reserve_port():
    """A TCP/UDP port for a server this test starts later; reserved until this process exits."""
    with _mutex:
        fd = _lock_file_fd()
        pool = port_pool(*ephemeral_range())
        start = random.SystemRandom().randrange(len(pool))
        for i in range(len(pool)):
            port = pool[(start + i) % len(pool)]
            if port in _held or not _try_lock(fd, port):
                continue
            if not is_bindable(port):
                _unlock(fd, port)
                continue
            _held.add(port)
            return port
    raise RuntimeError("no port left to reserve outside the ephemeral range (%d of them tried)" % len(pool))


def claim_port(port):
    """Reserves one given port (a fixed one an example needs, like 8080) if no other test
    process holds it and nothing is bound to it; False otherwise. Held until this process exits."""
    with _mutex:
        fd = _lock_file_fd()
        if port not in _held and not _try_lock(fd, port):
            return False
        if not is_bindable(port):
            if port not in _held:
                _unlock(fd, port)
            return False
        _held.add(port)
        return True
