"""The command line itself: `torii --version`, `torii help` and `COMMAND --help`.

What a newcomer types first. Help goes to stdout with exit 0 (so `torii run
--help | less` works); a mistake prints the usage to stderr with exit 2.
"""

import re
import shutil
import subprocess

import pytest

import harness

COMMANDS = ("run", "validate", "explain", "get")


def torii(*args):
    ok, why = harness.torii_works()
    if not ok:
        raise harness.ToriiError(why)
    return subprocess.run([harness.TORII_BIN, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=30)


def project_version():
    text = (harness.SOURCE_DIR / "CMakeLists.txt").read_text()
    m = re.search(r"project\(torii VERSION (\S+)", text)
    assert m, "no `project(torii VERSION x.y.z` in CMakeLists.txt"
    return m.group(1)


def git(*args):
    """git's stdout in the source checkout, or None without git or a checkout."""
    if shutil.which("git") is None or not (harness.SOURCE_DIR / ".git").exists():
        return None
    res = subprocess.run(["git", "-c", "safe.directory=%s" % harness.SOURCE_DIR, *args],
                         cwd=harness.SOURCE_DIR, capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else None


def test_version_names_the_commit_or_the_release():
    """`torii --version`: `git describe --always --dirty` of the build's checkout, else the project version."""
    for args in (["--version"], ["version"]):
        res = torii(*args)
        assert res.returncode == 0, res
        assert res.stderr == "", res.stderr
        m = re.fullmatch(r"torii (\S+)\n", res.stdout)
        assert m, res.stdout
        version = m.group(1)
        if git("rev-parse", "--git-dir") is None:
            assert version == project_version(), res.stdout
            continue
        # `git describe --always` gives <hash> or <tag>-<n>-g<hash>, then -dirty when
        # the tree had changes; the binary may be older than HEAD, so check the commit
        # exists rather than that it is HEAD.
        d = re.fullmatch(r"(?:.+-g)?([0-9a-f]{7,40})(-dirty)?|([^-]+)(-dirty)?", version)
        assert d, "not a git describe output: %r" % version
        commit = d.group(1) or d.group(3)
        assert git("rev-parse", "--verify", "--quiet", commit + "^{commit}"), \
            "%r names no commit of %s" % (version, harness.SOURCE_DIR)


@pytest.mark.parametrize("args", [["help"], ["--help"], ["-h"]] + [[c, "--help"] for c in COMMANDS]
                         + [["explain", "-h"], ["run", "--config", "x.yaml", "--help"]],
                         ids=lambda a: " ".join(a))
def test_help_is_the_usage_on_stdout(args):
    res = torii(*args)
    assert res.returncode == 0, res
    assert res.stderr == "", res.stderr
    assert res.stdout.startswith("usage:\n"), res.stdout
    for line in ("torii run --config PATH", "torii validate --config PATH", "torii explain --config PATH",
                 "torii get listeners|routes|clusters|endpoints", "torii --version", "--port-map GW=PORT"):
        assert line in res.stdout, line


@pytest.mark.parametrize("args", [[], ["serve"], ["run"], ["run", "--config", "x", "--no-such-flag"],
                                  ["get"], ["get", "pods"], ["get", "routes", "--no-such-flag"]],
                         ids=lambda a: " ".join(a) or "no arguments")
def test_mistakes_print_the_usage_on_stderr_with_exit_2(args):
    res = torii(*args)
    assert res.returncode == 2, res
    assert res.stdout == "", res.stdout
    assert "usage:\n" in res.stderr, res.stderr
