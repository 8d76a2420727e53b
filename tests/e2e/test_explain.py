"""`torii explain` and the admin /explain page (beyond Istio; README "torii explain").

The CLI compiles the same files `torii run` would and prints, without sending anything,
the listener, servers, virtual host, every earlier route with the first condition it
failed, the matched rule, destinations with endpoints, and the action. /explain answers
the same question for the configuration in force, and its answer agrees with where
real requests go.
"""

import json
import subprocess
import textwrap
import urllib.parse

import pytest

import harness

VS = """\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: shop
spec:
  hosts: ["shop.example.com"]
  gateways: [gw]
  http:
  - name: admins
    match:
    - headers: {x-user: {exact: alice}}
    route: [{destination: {host: svc-b, port: {number: 80}}}]
  - name: api
    match: [{uri: {prefix: /api/}}]
    rewrite: {uri: /v2/}
    route: [{destination: {host: svc-a, port: {number: 80}}}]
  - name: old
    match: [{uri: {prefix: /old}}]
    redirect: {uri: /new, redirectCode: 302}
  - name: down
    match: [{uri: {exact: /down}}]
    directResponse: {status: 503, body: {string: maintenance}}
"""


def write_config(tmp_path, a, b):
    d = tmp_path / "cfg"
    d.mkdir()
    (d / "gw.yaml").write_text(harness.gateway("gw"))
    (d / "backends.yaml").write_text(harness.yaml_docs(harness.backend(a, "svc-a"), harness.backend(b, "svc-b")))
    (d / "vs.yaml").write_text(textwrap.dedent(VS))
    return d


def run_explain(*args):
    return subprocess.run([harness.TORII_BIN, "explain"] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60)


def test_explain_cli(tmp_path, upstreams):
    a = upstreams.echo("a", host="127.0.0.8")
    b = upstreams.echo("b", host="127.0.0.9")
    cfg = write_config(tmp_path, a, b)

    out = run_explain("--config", cfg, "--port-map", "80=18080", "GET",
                      "http://shop.example.com:18080/api/items?x=1", "-H", "X-User: bob")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "listener:     0.0.0.0_18080 (Gateway port 80, bound on 18080" in text
    assert "default/gw http HTTP hosts *  <- covers this host" in text
    assert "virtual host: shop.example.com" in text
    assert 'skipped     #0 default/shop spec.http[0].match[0] "admins"' in text
    assert 'failed: header x-user exact "alice": value is "bob"' in text
    assert 'matched:      #1 default/shop spec.http[1].match[0] "api"' in text
    assert "-> outbound|80||svc-a.default.svc.cluster.local" in text
    assert "endpoints: %s:%d (WorkloadEntry default/svc-a-a)" % (a.host, a.port) in text
    assert "upstream request: GET /v2/items?x=1  Host: shop.example.com:18080" in text

    out = run_explain("--config", cfg, "--json", "GET", "http://shop.example.com/old/x?y=1")
    e = json.loads(out.stdout)
    assert e["action"] == {"type": "redirect", "status": 302, "location": "http://shop.example.com/new?y=1"}
    assert e["route"]["name"] == "old"

    out = run_explain("--config", cfg, "GET", "http://shop.example.com/nothing")
    assert "result:       404 NR (route_not_found)" in out.stdout

    out = run_explain("--config", cfg, "GET", "not-a-url")
    assert out.returncode == 2
    assert "error: expected an absolute URL" in out.stdout

    out = run_explain("--config", cfg, "GET")
    assert out.returncode == 2
    assert "expected METHOD URL" in out.stderr


def admin_explain(t, method, url, headers=(), fmt=None):
    params = [("method", method), ("url", url)] + [("header", h) for h in headers]
    if fmt:
        params.append(("format", fmt))
    return t._call("GET", t.admin + "/explain?" + urllib.parse.urlencode(params), timeout=10)


def test_admin_explain_agrees_with_real_traffic(ab_torii):
    t, a, b = ab_torii
    host = "shop.example.com"
    base = "http://%s:%d" % (host, t.listen_port)

    # header match: explain says svc-b; the real request reaches b
    r = admin_explain(t, "GET", base + "/x", ["X-User: alice"])
    assert r.status_code == 200
    e = r.json()
    assert e["route"]["name"] == "admins"
    assert e["action"]["destinations"][0]["cluster"] == "outbound|80||svc-b.default.svc.cluster.local"
    real = t.get("/x", headers={"Host": host, "X-User": "alice"}).json()
    assert real["name"] == "b"

    # rewrite: explain's upstream target is what the echo receives
    e = admin_explain(t, "GET", base + "/api/items?x=1").json()
    target = e["action"]["destinations"][0]["upstream_request"]["target"]
    real = t.get("/api/items?x=1", headers={"Host": host}).json()
    assert target == real["path"] == "/v2/items?x=1"

    # direct response
    e = admin_explain(t, "GET", base + "/down").json()
    assert e["action"]["type"] == "direct_response"
    r = t.get("/down", headers={"Host": host})
    assert (r.status_code, r.text) == (e["action"]["status"], e["action"]["body"]) == (503, "maintenance")

    # text format and errors
    r = admin_explain(t, "GET", base + "/old", fmt="text")
    assert r.headers["content-type"].startswith("text/plain")
    assert "action:       redirect 302 location: http://shop.example.com:%d/new" % t.listen_port in r.text
    assert admin_explain(t, "GET", "relative/path").status_code == 400
    assert t._call("GET", t.admin + "/explain", timeout=10).status_code == 400


@pytest.fixture
def ab_torii(upstreams, torii):
    a = upstreams.echo("a", host="127.0.0.8")
    b = upstreams.echo("b", host="127.0.0.9")
    t = torii({
        "gw.yaml": harness.gateway("gw"),
        "backends.yaml": harness.yaml_docs(harness.backend(a, "svc-a"), harness.backend(b, "svc-b")),
        "vs.yaml": textwrap.dedent(VS),
    })
    return t, a, b
