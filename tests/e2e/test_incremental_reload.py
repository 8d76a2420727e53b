"""A config change does the work of what changed, not of the whole config
(issue 17): a one-file edit re-parses that file's changed documents only, and
the other files are taken from the load cache; a VirtualService edit shares
every cluster with the previous snapshot. The reload's log line says so
("P of N document(s) parsed (C of F file(s) changed)", "S of C cluster(s)
shared") and gives the split of its time (read, parse, validate, store,
compile, publish).

This is the CI guard the issue asks for: it fails when a one-file change
re-reads and re-parses everything, or builds every cluster again.
"""

import re

import harness

FILES = 4
PER_FILE = 25


def virtual_service(i):
    return """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs-{i}
spec:
  hosts: [h{i}.example]
  gateways: [gw]
  http:
  - route:
    - destination: {{host: echo, port: {{number: 80}}}}
""".format(i=i)


def manifests(echo):
    files = {"gw.yaml": harness.gateway("gw"), "echo.yaml": harness.backend(echo, "echo")}
    for f in range(FILES):
        files["vs-%d.yaml" % f] = "---\n".join(virtual_service(f * PER_FILE + k) for k in range(PER_FILE))
    return files


SERVING = re.compile(r"config version (\d+) serving \(config\): .*; (\d+) of (\d+) document\(s\) parsed "
                     r"\((\d+) of (\d+) file\(s\) changed\); read [\d.]+ ms \(parse [\d.]+, validate [\d.]+\), "
                     r"store [\d.]+ ms, compile [\d.]+ ms \((\d+) of (\d+) cluster\(s\), (\d+) of (\d+) virtual host\(s\) shared\), "
                     r"publish [\d.]+ ms; serving [\d.]+ ms after")


def serving_lines(t):
    return [m.groups() for m in map(SERVING.search, t.log().splitlines()) if m]


def test_one_file_edit_parses_only_its_changed_document(upstreams, torii):
    echo = upstreams.echo("incremental", host="127.0.0.11")
    files = manifests(echo)
    t = torii(manifests=files)
    documents = 2 + 1 + FILES * PER_FILE  # gateway; service + workload entry; the VSs
    first = serving_lines(t)
    assert first, t.describe()
    assert first[0][1:5] == (str(documents), str(documents), str(FILES + 2), str(FILES + 2)), first

    # One document of one file changes: vs-30 (in vs-1.yaml) gets a second host.
    edited = files["vs-1.yaml"].replace("hosts: [h30.example]", "hosts: [h30.example, edited.example]")
    t.write("vs-1.yaml", edited)
    served, _ = harness.poll_until(
        lambda: t.get("/", headers={"Host": "edited.example"}, timeout=5).status_code == 200, harness.RELOAD_TIMEOUT)
    assert served, t.describe()
    assert t.get("/", headers={"Host": "h99.example"}).status_code == 200  # the other files still serve

    # The file events of one write may give more than one reload (the temp
    # file's creation, then the rename): one of them parsed the edited
    # document, and none parsed anything else.
    def reloads():
        return [tuple(map(int, g[1:5])) for g in serving_lines(t)[1:]]

    found, _ = harness.poll_until(lambda: (1, documents, 1, FILES + 2) in reloads(), harness.RELOAD_TIMEOUT)
    assert found, (reloads(), t.describe())
    assert all(parsed <= 1 and changed <= 1 for parsed, _, changed, _ in reloads()), reloads()


def test_a_route_change_shares_the_clusters_and_a_service_change_builds_them(upstreams, torii):
    """The compile side: a VirtualService edit builds no cluster again and
    translates only that VS; an edit to what clusters are built from (here a
    WorkloadEntry) builds all clusters and translates every VS."""
    echo = upstreams.echo("incremental", host="127.0.0.11")
    other = upstreams.echo("incremental-other", host="127.0.0.12")
    files = manifests(echo)
    files["other.yaml"] = harness.backend(other, "other")
    files["vs-other.yaml"] = virtual_service(1000).replace("host: echo", "host: other")
    t = torii(manifests=files)
    assert t.get("/", headers={"Host": "h1000.example"}).json()["name"] == "incremental-other"

    t.write("vs-0.yaml", files["vs-0.yaml"].replace("hosts: [h3.example]", "hosts: [h3.example, new.example]"))
    served, _ = harness.poll_until(
        lambda: t.get("/", headers={"Host": "new.example"}, timeout=5).status_code == 200, harness.RELOAD_TIMEOUT)
    assert served, t.describe()
    # Clusters: 2 of 2 shared. Virtual hosts: all but the edited VS's two
    # (h3.example, new.example) shared. (The log line follows the publish, so
    # it may come just after the first request served: wait for it.)
    def shared_counts(since):
        return [tuple(map(int, g[5:9])) for g in serving_lines(t)[since:]]

    def edit_reload(s):
        return s[:2] == (2, 2) and s[3] == FILES * PER_FILE + 2 and s[2] == s[3] - 2

    found, _ = harness.poll_until(lambda: any(map(edit_reload, shared_counts(1))), harness.RELOAD_TIMEOUT)
    shared = shared_counts(1)
    assert found, (shared, t.describe())
    assert all(s[:2] == (2, 2) and s[2] >= s[3] - 2 for s in shared), (shared, t.describe())

    # The echo backend's WorkloadEntry changes (a label): both clusters are
    # built, every VS translated. (One write may give more than one reload;
    # one of them is this.)
    version = len(serving_lines(t))
    t.write("echo.yaml", harness.backend(echo, "echo", labels={"app": "echo", "changed": "yes"}))
    found, _ = harness.poll_until(lambda: any(a[:3] == (0, 2, 0) for a in shared_counts(version)),
                                  harness.RELOAD_TIMEOUT)
    assert found, (shared_counts(version), t.describe())
    assert t.get("/", headers={"Host": "h1000.example"}).json()["name"] == "incremental-other"
