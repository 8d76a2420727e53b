"""The tools the harness needs, from Debian packages, installed when missing.

Packages are installed with RUNLEVEL=1 so their system services (nginx on
:80, haproxy) are not started: the harness runs its own instances. If an
install starts them anyway, they are stopped by their pid files, and only
when those pid files did not exist before the install.
"""

import os
import shutil
import subprocess
import sys

# tool -> (Debian package, alternatives tried in order when the first is unavailable)
TOOLS = {
    "nginx": ("nginx-light", "nginx"),
    "haproxy": ("haproxy",),
    "wrk": ("wrk",),
    "h2load": ("nghttp2-client",),
    "curl": ("curl",),
    "openssl": ("openssl",),
}
SBIN = ("/usr/sbin", "/sbin")


def which(tool):
    path = shutil.which(tool)
    if path:
        return path
    for d in SBIN:
        if os.access(os.path.join(d, tool), os.X_OK):
            return os.path.join(d, tool)
    return None


def missing(tools):
    return [t for t in tools if which(t) is None]


def ensure(tools, install, log):
    """Returns {tool: path}; installs what is missing (or raises SystemExit)."""
    need = missing(tools)
    if need:
        packages = [TOOLS[t][0] for t in need]
        if not install:
            raise SystemExit("bench/compare: missing %s (apt-get install -y %s, or drop --no-install)"
                             % (", ".join(need), " ".join(packages)))
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        had = {p: os.path.exists(p) for p in ("/run/nginx.pid", "/run/haproxy.pid")}
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", RUNLEVEL="1")
        log("installing " + " ".join(packages))
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env, stdout=sys.stderr)
        for tool in need:
            for package in TOOLS[tool]:
                r = subprocess.run(sudo + ["env", "RUNLEVEL=1", "apt-get", "install", "-y", "-qq",
                                           "--no-install-recommends", package], env=env,
                                   stdout=sys.stderr, stderr=sys.stderr)
                if r.returncode == 0:
                    break
            else:
                raise SystemExit("bench/compare: could not install %s (tried %s)" % (tool, ", ".join(TOOLS[tool])))
        for pid_file, existed in had.items():
            if not existed and os.path.exists(pid_file):
                try:
                    pid = int(open(pid_file).read().split()[0])
                    subprocess.run(sudo + ["kill", "-TERM", str(pid)], check=False)
                    log("stopped the system service the install started (%s, pid %d)" % (pid_file, pid))
                except (OSError, ValueError, IndexError):
                    pass
        still = missing(tools)
        if still:
            raise SystemExit("bench/compare: still missing after install: " + ", ".join(still))
    return {t: which(t) for t in tools}


def versions(paths):
    def first_line(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            text = (r.stdout or "") + (r.stderr or "")
            return text.strip().splitlines()[0] if text.strip() else "?"
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    out = {}
    if paths.get("nginx"):
        out["nginx"] = first_line([paths["nginx"], "-v"]).replace("nginx version: ", "")
    if paths.get("haproxy"):
        out["haproxy"] = first_line([paths["haproxy"], "-v"])
    if paths.get("wrk"):
        out["wrk"] = first_line([paths["wrk"], "-v"])
    if paths.get("h2load"):
        out["h2load"] = first_line([paths["h2load"], "--version"])
    return out
