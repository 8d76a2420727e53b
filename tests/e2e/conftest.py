"""pytest fixtures for Torii's end-to-end tests.

Run (CTest does this, one file per test):
    TORII_BIN=build/torii TORII_SOURCE_DIR=$PWD /usr/bin/python3 -m pytest -q tests/e2e/test_X.py

Every process a fixture starts (torii, gunicorn/httpbin, echo servers) is in
its own process group and is stopped at teardown, even when the test failed;
children also get SIGKILL if the test runner itself dies (PR_SET_PDEATHSIG).
"""

import pytest

import harness

# (test id, what, seconds) of every "within one second" measurement, printed at the end.
MEASUREMENTS = []


def record_measurement(request, what, seconds):
    MEASUREMENTS.append((request.node.nodeid, what, seconds))
    request.node.user_properties.append((what, round(seconds, 4)))


def pytest_terminal_summary(terminalreporter):
    if MEASUREMENTS:
        terminalreporter.write_sep("-", "measured reload / propagation times")
        for nodeid, what, seconds in MEASUREMENTS:
            over = "  OVER %.0f s" % harness.RELOAD_SPEC if seconds > harness.RELOAD_SPEC else ""
            terminalreporter.write_line("%7.3f s  %s  (%s)%s" % (seconds, what, nodeid, over))


@pytest.fixture
def measure(request):
    """measure(what, seconds): record a timing, shown in the terminal summary."""
    return lambda what, seconds: record_measurement(request, what, seconds)


# --------------------------------------------------------------------------------------
# upstreams


@pytest.fixture(scope="module")
def httpbin(tmp_path_factory):
    """httpbin on 127.0.0.1:<free port>, shared by the tests of one module."""
    workdir = tmp_path_factory.mktemp("httpbin")
    up = harness.start_httpbin(workdir)
    yield up
    up.proc.terminate(10)
    up.proc.cleanup()


class _Starter:
    """Tracks what it started; stops it all at teardown."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.upstreams = []

    def echo(self, name, host="127.0.0.1", port=None, extra_args=()):
        up = harness.start_echo(self.workdir, name, host=host, port=port, extra_args=extra_args)
        self.upstreams.append(up)
        return up

    def httpbin(self, host="127.0.0.1", port=None, workers=2, threads=8):
        up = harness.start_httpbin(self.workdir, host=host, port=port, workers=workers, threads=threads)
        self.upstreams.append(up)
        return up

    def close(self):
        for up in self.upstreams:
            try:
                up.proc.terminate(10)
            finally:
                up.proc.cleanup()


@pytest.fixture
def upstreams(tmp_path):
    """Factory: upstreams.echo(name, host=...), upstreams.httpbin(...); stopped at teardown."""
    s = _Starter(tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def module_upstreams(tmp_path_factory):
    """Like `upstreams`, shared by the tests of one module."""
    s = _Starter(tmp_path_factory.mktemp("upstreams"))
    yield s
    s.close()


# --------------------------------------------------------------------------------------
# torii


class _ToriiFactory:
    def __init__(self, workdir):
        self.workdir = workdir
        self.started = []

    def __call__(self, manifests=None, config_paths=None, port_map=None, extra_args=(),
                 wait_ready=True, ready_timeout=harness.READY_TIMEOUT, name=None):
        name = name or ("torii" if not self.started else "torii%d" % (len(self.started) + 1))
        t = harness.start_torii(self.workdir, manifests=manifests, config_paths=config_paths,
                                port_map=port_map, extra_args=extra_args, wait_ready=False, name=name)
        self.started.append(t)
        if wait_ready:
            harness.wait_ready_or_fail(t, ready_timeout)
        return t

    def close(self):
        problems = []
        for t in self.started:
            try:
                if t.alive():
                    rc = t.stop()
                    if rc is None:
                        problems.append("torii pid %d did not exit within %.0f s of SIGTERM"
                                        % (t.pid, harness.STOP_TIMEOUT))
                    elif rc != t.expected_exit_code:
                        problems.append("torii pid %d exited with %s after SIGTERM (expected %s)"
                                        % (t.pid, rc, t.expected_exit_code))
                else:
                    rc = t.proc.poll()
                    if rc != t.expected_exit_code and not (t.stopped_by_test or t.death_reported):
                        problems.append("torii pid %d died during the test with exit code %s"
                                        % (t.pid, rc))
            finally:
                t.proc.cleanup()
            if problems and problems[-1].startswith("torii pid %d" % t.pid):
                problems[-1] += "\n" + t.proc.log_tail(40)
        return problems


@pytest.fixture
def torii(tmp_path):
    """Factory: torii(manifests={file: yaml}, port_map=..., extra_args=...) -> harness.Torii.

    Waits for /ready (10 s). At teardown sends SIGTERM and asserts exit code 0.
    """
    f = _ToriiFactory(tmp_path)
    yield f
    problems = f.close()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
