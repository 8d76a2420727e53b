#!/usr/bin/python3
"""10,000 objects through etcd (issue 16): a real single-member etcd on loopback, `torii apply`
of 10,000 objects (chunked: etcd takes 128 operations per transaction), a replica started
against it (time to first serve: process start to the last object routed), then N one-object
applies measured from `torii apply` returning to the replica serving the change (p50/p99).

    bench/etcd_scale.py [--objects 10000] [--changes 50] [--torii build/torii]

Prints one summary; bench/RESULTS.md keeps the last one. Uses tests/e2e's harness (ports,
processes) and etcd_server.py."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))

import requests  # noqa: E402

import harness  # noqa: E402
from etcd_server import Cluster  # noqa: E402


def objects(count, upstream_port, generation=0):
    """count objects: 1 Gateway, 1 Service + WorkloadEntry (the upstream), and VirtualServices
    (one host each) making up the rest; VirtualService `vs0` carries the generation."""
    docs = [harness.gateway("gw", hosts=("*",)),
            harness.service("echo"),
            harness.workload_entry("echo-1", "127.0.0.1", {"app": "echo"}, {"http": upstream_port})]
    for i in range(count - 3):
        gen = generation if i == 0 else 0
        docs.append("""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs%d
spec:
  hosts: ["h%d.example.com"]
  gateways: [gw]
  http:
  - route:
    - destination: {host: echo}
    headers:
      response:
        set: {x-generation: "%d"}
""" % (i, i, gen))
    return "---\n".join(docs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=10000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--torii", default=str(HERE.parent / "build" / "torii"))
    args = parser.parse_args()
    torii = os.path.abspath(args.torii)
    work = Path(tempfile.mkdtemp(prefix="torii-etcd-bench-"))
    cluster = Cluster(work, size=1)
    cluster.start()
    echo = harness.start_echo(work, "echo")
    replica = None
    try:
        config = work / "objects.yaml"
        config.write_text(objects(args.objects, echo.port))
        start = time.monotonic()
        r = subprocess.run([torii, "apply", "-f", config, "--etcd", cluster.endpoints], capture_output=True,
                           text=True)
        apply_s = time.monotonic() - start
        assert r.returncode == 0, r.stderr[-2000:]

        port = harness.reserve_port()
        last_host = "h%d.example.com" % (args.objects - 4)
        start = time.monotonic()
        replica = harness.Proc("torii", [torii, "run", "--etcd", cluster.endpoints, "--port-map", "80=%d" % port,
                                         "--admin", "127.0.0.1:0"], work / "torii.log")

        def routed(host):
            try:
                r = requests.get("http://127.0.0.1:%d/" % port, headers={"Host": host}, timeout=2)
                return r if r.status_code == 200 else None
            except requests.RequestException:
                return None
        ok, _ = harness.poll_until(lambda: routed(last_host), 120, interval=0.01)
        first_serve_s = time.monotonic() - start
        assert ok, replica.log_tail()
        rss = harness.rss_bytes(replica.pid)

        times = []
        for gen in range(1, args.changes + 1):
            config.write_text(objects(args.objects, echo.port, gen))
            r = subprocess.run([torii, "apply", "-f", config, "--etcd", cluster.endpoints], capture_output=True,
                               text=True)
            assert r.returncode == 0, r.stderr[-2000:]
            start = time.monotonic()
            ok, _ = harness.poll_until(
                lambda: (lambda r: r is not None and r.headers.get("x-generation") == str(gen))(
                    routed("h0.example.com")), 30, interval=0.002)
            assert ok, replica.log_tail()
            times.append(time.monotonic() - start)
        times.sort()
        p99 = times[max(0, int(len(times) * 0.99) - 1)]
        commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        print("etcd scale: %d objects, %d one-object applies; torii %s; etcd %s" % (
            args.objects, args.changes, commit,
            subprocess.run(["/usr/bin/etcd", "--version"], capture_output=True, text=True).stdout.split("\n")[0]))
        print("  apply of all objects (chunked):     %.2f s" % apply_s)
        print("  replica start -> last object served: %.2f s (RSS %.1f MiB)" % (first_serve_s, rss / 1048576))
        print("  change -> served (apply returned to the replica serving it): p50 %.0f ms, p99 %.0f ms, max %.0f ms"
              % (statistics.median(times) * 1000, p99 * 1000, times[-1] * 1000))
        lines = [line for line in replica.log().splitlines() if "serving (config)" in line]
        print("  last reload: %s" % lines[-1].split("): ", 1)[-1])
    finally:
        if replica is not None:
            replica.terminate()
            replica.cleanup()
        echo.proc.cleanup()
        cluster.stop()


if __name__ == "__main__":
    main()
