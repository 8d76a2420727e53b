"""Failure behaviour (ISTIO_SEMANTICS.md §8) and bad configuration (§9, DESIGN "bad config
never takes the gateway down").

What a client sees, exactly as from istio-ingressgateway:
  no route                      -> 404, empty body                         (NR)
  unknown cluster/subset/host   -> 503, empty body                         (NC)
  cluster without endpoints     -> 503, "no healthy upstream"              (UH)
  connect failure               -> 503, "upstream connect error or disconnect/reset
                                   before headers. reset reason: connection failure" (UF)
"""

import re
import textwrap

import pytest

import harness

CONNECT_FAILURE_BODY = (b"upstream connect error or disconnect/reset before headers. "
                        b"reset reason: connection failure")
HOST = "failures.example.com"


@pytest.fixture(scope="module")
def backends(module_upstreams):
    echo = module_upstreams.echo("v1", host="127.0.0.2")
    closed_port = harness.reserve_port()  # nothing listens there
    return echo, closed_port


def failure_manifests(echo, closed_port):
    return {
        "gateway.yaml": harness.gateway("gw", hosts=["*"]),
        "echo.yaml": harness.yaml_docs(
            harness.service("echo", port=80),
            harness.workload_entry("echo-v1", echo.host, {"app": "echo", "version": "v1"}, {"http": echo.port}),
            """
            apiVersion: networking.istio.io/v1alpha3
            kind: DestinationRule
            metadata:
              name: echo
            spec:
              host: echo
              subsets:
              - name: v1
                labels:
                  version: v1
              - name: v9          # no WorkloadEntry has version=v9
                labels:
                  version: v9
            """,
        ),
        "dead.yaml": harness.yaml_docs(
            harness.service("dead", port=80),
            harness.workload_entry("dead-1", "127.0.0.3", {"app": "dead"}, {"http": closed_port}),
        ),
        "vs.yaml": textwrap.dedent("""\
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: failures
            spec:
              hosts:
              - %s
              gateways:
              - gw
              http:
              - match: [{uri: {prefix: /ok}}]
                route: [{destination: {host: echo, subset: v1, port: {number: 80}}}]
              - match: [{uri: {prefix: /fqdn}}]
                route: [{destination: {host: echo.default.svc.cluster.local, port: {number: 80}}}]
              - match: [{uri: {prefix: /no-endpoints}}]
                route: [{destination: {host: echo, subset: v9, port: {number: 80}}}]
              - match: [{uri: {prefix: /unknown-subset}}]
                route: [{destination: {host: echo, subset: nope, port: {number: 80}}}]
              - match: [{uri: {prefix: /unknown-host}}]
                route: [{destination: {host: nosuch, port: {number: 80}}}]
              - match: [{uri: {prefix: /dotted-short-name}}]
                route: [{destination: {host: echo.default, port: {number: 80}}}]
              - match: [{uri: {prefix: /wrong-port}}]
                route: [{destination: {host: echo, port: {number: 9999}}}]
              - match: [{uri: {prefix: /connect-fail}}]
                route: [{destination: {host: dead, port: {number: 80}}}]
            """ % HOST),
    }


@pytest.fixture
def gw(backends, torii):
    echo, closed_port = backends
    return torii(failure_manifests(echo, closed_port))


def get(t, path, host=HOST, **kw):
    return t.get(path, headers={"Host": host}, **kw)


def assert_local_reply(r, status, body):
    assert r.status_code == status, (r.status_code, r.content[:300])
    assert r.content == body
    assert r.headers.get("server") == "istio-envoy"
    assert "x-envoy-upstream-service-time" not in r.headers
    if body:
        assert r.headers.get("content-type", "").startswith("text/plain"), r.headers  # §4.2


# --------------------------------------------------------------------------------------


def test_healthy_routes_work(gw):
    """Baseline: the same config serves the good routes (short name and FQDN, §1.2)."""
    r = get(gw, "/ok")
    assert r.status_code == 200 and r.json()["name"] == "v1"
    r = get(gw, "/fqdn")
    assert r.status_code == 200 and r.json()["name"] == "v1"


def test_subset_without_endpoints_is_no_healthy_upstream(gw):
    """§8 UH: the cluster exists (subset v9 is defined) but no endpoint has version=v9."""
    before = gw.stat("no_healthy_upstream")
    assert_local_reply(get(gw, "/no-endpoints"), 503, b"no healthy upstream")
    ok, _ = harness.poll_until(lambda: gw.stat("no_healthy_upstream") > before, 2)
    assert ok, gw.stats()


def test_unknown_subset_is_503_empty(gw):
    """§0.8, §8 NC: subset not in any DestinationRule => no such cluster => 503, empty body."""
    assert_local_reply(get(gw, "/unknown-subset"), 503, b"")


def test_unknown_host_is_503_empty(gw):
    """§1.4, §8 NC: a destination host no Service has still gets a route; the cluster is missing."""
    assert_local_reply(get(gw, "/unknown-host"), 503, b"")


def test_dotted_short_name_is_not_expanded(gw):
    """§1.2: `echo.default` contains a dot, so it is looked up literally and matches nothing."""
    assert_local_reply(get(gw, "/dotted-short-name"), 503, b"")


def test_wrong_destination_port_is_503_empty(gw):
    """§0.8: clusters are per (host, port, subset); port 9999 is not a port of Service echo."""
    assert_local_reply(get(gw, "/wrong-port"), 503, b"")


def test_connect_failure_body(gw):
    """§8 UF: endpoint refuses the connection => 503 with Envoy's exact body."""
    before = gw.stat("upstream_cx_connect_fail")
    assert_local_reply(get(gw, "/connect-fail"), 503, CONNECT_FAILURE_BODY)
    ok, _ = harness.poll_until(lambda: gw.stat("upstream_cx_connect_fail") > before, 2)
    assert ok, gw.stats()
    # the gateway is fine afterwards
    assert get(gw, "/ok").status_code == 200


def test_no_matching_host_or_path_is_404(gw):
    """§0.4-0.7, §8 NR: a Host no VirtualService covers, or a path no rule matches => 404 empty."""
    before = gw.stat("no_route")
    assert_local_reply(get(gw, "/ok", host="unknown.example.com"), 404, b"")
    assert_local_reply(get(gw, "/ok", host="sub.failures.example.com"), 404, b"")
    assert_local_reply(get(gw, "/nothing-here"), 404, b"")
    ok, _ = harness.poll_until(lambda: gw.stat("no_route") >= before + 3, 2)
    assert ok, gw.stats()


# --------------------------------------------------------------------------------------
# rejected edits keep the last good version (§9; DESIGN: bad config never takes the gateway down)

GOOD_EDITABLE = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: editable
spec:
  hosts:
  - edit.example.com
  gateways:
  - gw
  http:
  - match: [{uri: {prefix: /old}}]
    route: [{destination: {host: echo, port: {number: 80}}}]
"""

BAD_EDITS = {
    # weight must be >= 0 (§9 Destinations)
    "negative-weight": """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: editable
spec:
  hosts:
  - edit.example.com
  gateways:
  - gw
  http:
  - match: [{uri: {prefix: /new}}]
    route:
    - destination: {host: echo, port: {number: 80}}
      weight: -1
""",
    # regexes must compile with RE2 (§9 Generic)
    "bad-regex": """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: editable
spec:
  hosts:
  - edit.example.com
  gateways:
  - gw
  http:
  - match: [{uri: {regex: "/new(["}}]
    route: [{destination: {host: echo, port: {number: 80}}}]
""",
}

# Rules Torii used to let through and istiod refuses (docs/validation.md): refused the same way.
TIGHTENED_EDITS = {
    # header values are Envoy format strings: a lone '%' is an error
    "lone-percent": GOOD_EDITABLE.replace("/old", "/new").replace(
        "    route:", "    headers: {request: {set: {x-discount: \"10%\"}}}\n    route:"),
    # a null header match: istiod "header match x-user cannot be null"
    "null-header": GOOD_EDITABLE.replace("{uri: {prefix: /old}}", "{uri: {prefix: /new}, headers: {x-user: null}}"),
    # `regex: "*"` is presence only in withoutHeaders; elsewhere an invalid regex
    "star-regex": GOOD_EDITABLE.replace("{uri: {prefix: /old}}", "{uri: {prefix: /new}, headers: {x-user: {regex: \"*\"}}}"),
}
BAD_EDITS.update(TIGHTENED_EDITS)
EXPECTED_ERROR = {"negative-weight": "weight", "bad-regex": "regex", "lone-percent": "Un-escaped %",
                  "null-header": "cannot be null", "star-regex": "regex"}

FIXED_EDITABLE = GOOD_EDITABLE.replace("/old", "/new")


def rejected_entries(dump, name):
    """Objects named `name` that /config_dump lists with errors (any nesting)."""
    return harness.find_in_json(
        dump, lambda v: isinstance(v, dict) and v.get("name") == name and bool(v.get("errors")))


@pytest.mark.parametrize("bad", sorted(BAD_EDITS))
def test_invalid_edit_is_rejected_and_last_good_keeps_serving(backends, torii, measure, bad):
    """An invalid VS edit is refused: the previous version keeps serving, /config_dump
    names the object and the error; fixing the file applies it (§9)."""
    echo, closed_port = backends
    files = failure_manifests(echo, closed_port)
    files["editable.yaml"] = GOOD_EDITABLE
    t = torii(files)
    assert get(t, "/old", host="edit.example.com").status_code == 200

    t.write("editable.yaml", BAD_EDITS[bad])
    entries, elapsed = harness.poll_until(lambda: rejected_entries(t.config_dump(), "editable"), 3)
    measure("invalid edit (%s) visible in /config_dump" % bad, elapsed)
    assert entries, "no error for VirtualService editable in /config_dump:\n%s" % t.describe()
    text = " ".join(str(e) for e in entries)
    assert EXPECTED_ERROR[bad] in text, text

    # last good version still in force; nothing of the bad version is
    assert get(t, "/old", host="edit.example.com").status_code == 200
    assert get(t, "/new", host="edit.example.com").status_code == 404
    assert get(t, "/ok").status_code == 200
    assert t.ready_status() == 200

    t.write("editable.yaml", FIXED_EDITABLE)
    ok, elapsed = harness.poll_until(lambda: get(t, "/new", host="edit.example.com", timeout=5).status_code == 200,
                                     harness.RELOAD_TIMEOUT)
    measure("fixed edit -> served", elapsed)
    assert ok, t.describe()
    assert get(t, "/old", host="edit.example.com").status_code == 404
    assert not rejected_entries(t.config_dump(), "editable")


def test_bad_object_does_not_block_good_edits(backends, torii):
    """One rejected object does not hold back valid changes to others (§10 #21)."""
    echo, closed_port = backends
    files = failure_manifests(echo, closed_port)
    files["editable.yaml"] = GOOD_EDITABLE
    other = GOOD_EDITABLE.replace("editable", "other").replace("edit.example.com", "other.example.com")
    files["other.yaml"] = other
    t = torii(files)
    assert get(t, "/old", host="other.example.com").status_code == 200

    t.write("editable.yaml", BAD_EDITS["negative-weight"])
    t.write("other.yaml", other.replace("/old", "/new"))
    ok, _ = harness.poll_until(lambda: get(t, "/new", host="other.example.com", timeout=5).status_code == 200, 3)
    assert ok, t.describe()
    assert get(t, "/old", host="edit.example.com").status_code == 200
    assert rejected_entries(t.config_dump(), "editable")


def test_yaml_syntax_error_keeps_serving(backends, torii):
    """A half-written file (YAML syntax error) must not take routes down: the objects
    it held keep their last good version, and the error names the file."""
    echo, closed_port = backends
    files = failure_manifests(echo, closed_port)
    files["editable.yaml"] = GOOD_EDITABLE
    t = torii(files)
    t.write("editable.yaml", GOOD_EDITABLE.replace("  hosts:\n", "  hosts: [\n", 1))

    def error_shown():
        # a diagnostic `.../editable.yaml:LINE: message`, not just an object's `source: file:line`
        return harness.find_in_json(t.config_dump(), lambda v: isinstance(v, str)
                                    and re.search(r"editable\.yaml:\d+: \S", v))
    ok, _ = harness.poll_until(error_shown, 10)
    assert ok, "the YAML error is not visible in /config_dump\n" + t.describe()
    assert get(t, "/old", host="edit.example.com").status_code == 200
    assert get(t, "/ok").status_code == 200


# --------------------------------------------------------------------------------------
# torii validate


BAD_FILE = """\
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: gw
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: bad-weight
  namespace: shop
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - route:
    - destination: {host: echo}
      weight: -1
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: bad-regex
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match:
    - uri:
        regex: "/a(["
    route:
    - destination: {host: echo}
"""


def doc_line_ranges(text):
    """[(first_line, last_line)] (1-based) of each YAML document."""
    ranges, start = [], 1
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        if line.strip() == "---":
            ranges.append((start, i - 1))
            start = i + 1
    ranges.append((start, len(lines)))
    return ranges


# `torii validate`'s last line of stdout, after the diagnostics it counts.
VALIDATE_SUMMARY = re.compile(r"^(\d+) object\(s\) accepted, (\d+) error\(s\), (\d+) warning\(s\); "
                              r"(\d+) listener\(s\), (\d+) cluster\(s\)$")


def validate_summary(res):
    """(accepted, errors, warnings) from the summary, checked to be stdout's last line and stderr empty."""
    lines = res.stdout.splitlines()
    assert lines, "no output on stdout; stderr:\n" + res.stderr
    m = VALIDATE_SUMMARY.match(lines[-1])
    assert m, "last line of stdout is not the summary:\n" + res.stdout
    assert not any(VALIDATE_SUMMARY.match(line) for line in lines[:-1]), res.stdout
    assert res.stderr == "", "validate wrote to stderr:\n" + res.stderr
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_validate_reports_file_line_object_field(tmp_path):
    """`torii validate` prints `file:line: Kind ns/name: field.path: message` per problem, exit 1."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_FILE)
    res = harness.run_torii_validate([bad])
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    # the summary comes after the diagnostics and counts them (errors carry no
    # severity word, warnings and notices do)
    _, errors, warnings = validate_summary(res)
    diagnostics = res.stdout.splitlines()[:-1]
    severity = [re.match(r"^(?:\S+:\d+: )?(warning: |notice: )?", line).group(1) for line in diagnostics]
    assert errors >= 2 and errors == severity.count(None), (errors, res.stdout)
    assert warnings == severity.count("warning: "), (warnings, res.stdout)
    ranges = doc_line_ranges(BAD_FILE)

    def find(kind_ns_name, field_word, doc_index):
        pat = re.compile(r"^(?P<file>\S*bad\.yaml):(?P<line>\d+): %s: (?P<field>\S+): (?P<msg>.+)$"
                         % re.escape(kind_ns_name), re.M)
        hits = [m for m in pat.finditer(out) if field_word in m.group("field")]
        assert hits, "no `bad.yaml:LINE: %s: <field with %r>: message` line in:\n%s" % (kind_ns_name, field_word, out)
        m = hits[0]
        first, last = ranges[doc_index]
        assert first <= int(m.group("line")) <= last, (m.group(0), (first, last))
        return m

    m = find("VirtualService shop/bad-weight", "weight", 1)
    assert m.group("field").startswith("spec.http[0].route[0]"), m.group(0)
    m = find("VirtualService default/bad-regex", "regex", 2)
    assert "spec.http[0].match[0].uri" in m.group("field"), m.group(0)
    # the valid Gateway in the same file is not reported as an error
    assert not re.search(r"^\S*bad\.yaml:\d+: Gateway default/gw:", out, re.M), out


def test_validate_accepts_the_example():
    """`torii validate` on examples/httpbin exits 0 (skipped kinds are notices, not errors)."""
    res = harness.run_torii_validate([harness.SOURCE_DIR / "examples" / "httpbin"])
    assert res.returncode == 0, res.stdout + res.stderr
    accepted, errors, _ = validate_summary(res)
    assert accepted > 0 and errors == 0, res.stdout


ACCEPTED_BY_ISTIOD = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP_PROXY}
    hosts: ["*"]
  - port: {number: 53, name: dns, protocol: UDP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{headers: {":path": {prefix: /a}, "x_weird!#$": {}}}]
    headers: {request: {set: {x-ip: "%DOWNSTREAM_REMOTE_ADDRESS%"}}}
    route: [{destination: {host: echo}}]
  - match: [{uri: {regex: "/b.*"}}]
    delegate: {name: child}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr}
spec:
  host: echo
  trafficPolicy: {retryBudget: {percent: 20}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dyn}
spec:
  hosts: ["*.example.com"]
  resolution: DYNAMIC_DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
"""


def test_validate_accepts_what_istiod_accepts_with_warnings(tmp_path):
    """Objects istiod accepts and Torii used to refuse (docs/validation.md): `torii validate`
    exits 0 and says, as warnings, what Torii does not implement or serves differently."""
    f = tmp_path / "istio.yaml"
    f.write_text(ACCEPTED_BY_ISTIOD)
    res = harness.run_torii_validate([f])
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    for needle in ("warning: VirtualService default/vs: spec.http[0].headers.request.set[x-ip]: "
                   "header value \"%DOWNSTREAM_REMOTE_ADDRESS%\" uses Envoy's %VARIABLE% substitution",
                   "warning: DestinationRule default/dr: spec.trafficPolicy.retryBudget: "
                   "retryBudget is not implemented by Torii",
                   "warning: ServiceEntry default/dyn: spec.resolution: resolution DYNAMIC_DNS is not implemented",
                   "warning: Gateway default/gw: spec.servers[1]: protocol UDP is not supported yet; server skipped"):
        assert needle in out, out


def test_validate_rejects_yaml_syntax_error(tmp_path):
    """A YAML syntax error is reported with the file and line, exit 1."""
    bad = tmp_path / "broken.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports: [\n")
    res = harness.run_torii_validate([bad])
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert re.search(r"broken\.yaml:\d+: ", out), out
