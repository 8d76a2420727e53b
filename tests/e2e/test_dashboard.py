"""The admin dashboard (GET / and /dashboard.json, docs/dashboard.md), rendered by a real
headless Chromium: the numbers the page shows (requests per route and per cluster,
endpoint health, a rejected object's file:line error, the reload history) are checked
against /stats, /stats/prometheus and /clusters after real traffic through the gateway.

Chromium runs as `chromium --headless --no-sandbox --dump-dom --virtual-time-budget=N`:
no display, root is fine, and the page's polling runs in virtual time, so the dump
holds what the page drew after a few polls. Every wait polls with a deadline."""

import html.parser
import json
import os
import re
import shutil
import subprocess

import pytest
import requests

import harness

HOST = "shop.example.com"
SVC_A = "outbound|80||svc-a.default.svc.cluster.local"
SVC_B = "outbound|80||svc-b.default.svc.cluster.local"
# A route name with markup in it: the page must show it as text.
SNEAKY = "<img src=x onerror=alert(1)>&amp;"

VS = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: shop
spec:
  hosts: ["shop.example.com"]
  gateways: [gw]
  http:
  - name: "%s"
    match: [{uri: {prefix: /a}}]
    route: [{destination: {host: svc-a, port: {number: 80}}}]
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: svc-b, port: {number: 80}}}]
""" % SNEAKY

# The same with one more route: the reload the history must show.
VS_V2 = VS + """\
  - match: [{uri: {exact: /c}}]
    directResponse: {status: 204}
"""

DR = """\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: svc-b
spec:
  host: svc-b
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 300s, maxEjectionPercent: 100}
"""

# Rejected: a destination weight out of range, on line 11 of bad.yaml.
BAD = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: broken
spec:
  hosts: ["broken.example.com"]
  gateways: [gw]
  http:
  - route:
    - destination: {host: svc-a}
      weight: -5
"""

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/install-deps.sh)")


class Dom(html.parser.HTMLParser):
    """The dumped DOM as a flat list of elements: (tag, attrs, text inside it)."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "line", "polyline", "path"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.stack = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(e)
        if tag not in self.VOID:
            self.stack.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        for e in self.stack:
            e["text"] += data

    def find(self, **attrs):
        return [e for e in self.elements if all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def row(self, **attrs):
        """The one row with these attributes: {class of each cell (td, div): its text}, and the row's text."""
        rows = self.find(**attrs)
        assert len(rows) == 1, (attrs, len(rows))
        start = self.elements.index(rows[0])
        cells = {}
        for e in self.elements[start + 1:]:
            if e["tag"] == "tr":
                break
            if e["tag"] in ("td", "div"):
                for cls in e["attrs"].get("class", "").split():
                    cells.setdefault(cls, e["text"].strip())
        cells["_text"] = rows[0]["text"]
        return cells


def chromium(tmp_path, *args):
    """Runs headless Chromium (as root too: --no-sandbox; no display needed)."""
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", "--user-data-dir=%s" % (tmp_path / "chromium-profile")]
    env = dict(os.environ, HOME=str(tmp_path))
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)


def render(t, tmp_path, budget_ms=6000):
    """The dashboard's DOM after Chromium ran it for `budget_ms` of virtual time."""
    url = "http://127.0.0.1:%d/?interval_ms=500" % t.admin_port
    out = chromium(tmp_path, "--virtual-time-budget=%d" % budget_ms, "--dump-dom", url)
    assert out.returncode == 0, out.stderr[-2000:]
    return Dom(out.stdout)


def rendered(t, tmp_path, check, timeout=60.0):
    """Renders until check(dom) holds (returns the dom), or fails with the last render's problem."""
    last = {}

    def attempt():
        dom = render(t, tmp_path)
        try:
            check(dom)
        except AssertionError as e:
            last["error"] = e
            return None
        return dom
    dom, _ = harness.poll_until(attempt, timeout, interval=0.5)
    assert dom is not None, "the page never showed it: %s" % last.get("error")
    return dom


def prometheus_requests(t, service_name):
    """istio_requests_total summed over the series of one destination_service."""
    text = requests.get(t.admin + "/stats/prometheus", timeout=10).text
    total = 0
    for line in text.splitlines():
        if line.startswith("istio_requests_total{") and 'destination_service="%s"' % service_name in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def dashboard_json(t):
    r = requests.get(t.admin + "/dashboard.json", timeout=10)
    r.raise_for_status()
    return r.json()


def test_dashboard(upstreams, torii, tmp_path, measure):
    a = upstreams.echo("a", host="127.0.0.81")
    b_good = upstreams.echo("b-good", host="127.0.0.82")
    b_bad = upstreams.echo("b-bad", host="127.0.0.83", extra_args=("--status", "503"))
    svc_b = harness.yaml_docs(
        harness.service("svc-b"),
        harness.workload_entry("svc-b-good", b_good.host, {"app": "svc-b"}, {"http": b_good.port}),
        harness.workload_entry("svc-b-bad", b_bad.host, {"app": "svc-b"}, {"http": b_bad.port}))
    t = torii(manifests={"gw.yaml": harness.gateway("gw", hosts=(HOST,)),
                         "svc.yaml": harness.yaml_docs(harness.backend(a, "svc-a"), svc_b),
                         "vs.yaml": VS, "dr.yaml": DR, "bad.yaml": BAD})
    page = requests.get(t.admin + "/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # Self-contained: nothing fetched from elsewhere (the SVG namespace is a name, not a fetch).
    local = page.text.replace("http://www.w3.org/2000/svg", "")
    assert "http://" not in local and "https://" not in local

    # Traffic: 7 requests to /a; /b until the 503 endpoint is ejected (consecutive5xxErrors 1;
    # its one 503 reaches the client: Istio's default retryOn has no status codes), then 3 more.
    for _ in range(7):
        assert requests.get(t.url("/a/x"), headers={"Host": HOST}, timeout=10).status_code == 200
    sent_b = [0]

    def ejected():
        requests.get(t.url("/b/y"), headers={"Host": HOST}, timeout=10)
        sent_b[0] += 1
        clusters = requests.get(t.admin + "/clusters?format=json", timeout=10).json()["clusters"]
        b = next(c for c in clusters if c["name"] == SVC_B)
        return any(e["address"].startswith(b_bad.host + ":") and e["health"] == "ejected" for e in b["endpoints"])
    ok, _ = harness.poll_until(ejected, 30.0, interval=0.05)
    assert ok, "the 503 endpoint was never ejected"
    for _ in range(3):
        assert requests.get(t.url("/b/z"), headers={"Host": HOST}, timeout=10).status_code == 200
    sent_b = sent_b[0] + 3
    assert requests.get(t.url("/nowhere"), headers={"Host": HOST}, timeout=10).status_code == 404

    # What the page must show, from the other admin pages.
    stats = t.stats()
    assert stats["downstream_rq_total"] == 7 + sent_b + 1
    assert stats["cluster.%s.upstream_rq_total" % SVC_A] == 7
    prom_b = prometheus_requests(t, "svc-b.default.svc.cluster.local")
    assert prom_b == sent_b
    listener = "0.0.0.0_%d" % t.listen_port
    route_a = "%s %s default/shop#0.0" % (listener, HOST)
    route_b = "%s %s default/shop#1.0" % (listener, HOST)
    d = dashboard_json(t)
    assert d["totals"]["downstream_rq_total"] == stats["downstream_rq_total"]

    def page_shows_traffic(dom):
        ra = dom.row(data_route=route_a)
        rb = dom.row(data_route=route_b)
        assert ra["requests"] == "7", ra
        assert rb["requests"] == str(sent_b), rb
        ca = dom.row(data_cluster=SVC_A)
        cb = dom.row(data_cluster=SVC_B)
        assert ca["requests"] == str(stats["cluster.%s.upstream_rq_total" % SVC_A]), ca
        assert cb["requests"] == str(prom_b), cb
        assert cb["endpoints"] == "1 / 2", cb
        assert cb["ejections"] == "1", cb
        bad = dom.row(data_endpoint="%s:%d" % (b_bad.host, b_bad.port))
        good = dom.row(data_endpoint="%s:%d" % (b_good.host, b_good.port))
        assert bad["health"] == "ejected" and good["health"] == "healthy", (bad, good)
        assert dom.find(id="card-total")[0]["text"].endswith(str(stats["downstream_rq_total"]))
        # p50/p99 cells hold a duration or a dash (no traffic in the window), never garbage.
        for cell in (ra["p50"], ra["p99"], ca["p99"]):
            assert re.fullmatch(r"\u2013|\d+(\.\d+)? m?s", cell), cell
    dom = rendered(t, tmp_path, page_shows_traffic)

    # Names from YAML are text, not markup; the route links to /explain for its own match.
    row_a = dom.find(data_route=route_a)[0]
    assert SNEAKY in row_a["text"]
    assert not [e for e in dom.elements if e["tag"] == "img"]
    explain = [e["attrs"]["href"] for e in dom.elements
               if e["tag"] == "a" and e["attrs"].get("href", "").startswith("/explain") and SNEAKY in e["text"]]
    assert len(explain) == 1, explain
    r = requests.get(t.admin + explain[0], timeout=10)
    assert r.status_code == 200 and "default/shop" in r.text and SVC_A in r.text, r.text

    # The rejected object with the compiler's file:line error, as /config_dump has it.
    dump = t.config_dump()
    rejected = [o for o in dump["resources"]["rejected"] if o["name"] == "broken"]
    assert len(rejected) == 1 and rejected[0]["errors"], dump["resources"]["rejected"]
    error = rejected[0]["errors"][0]
    where = re.match(r"(\S+:\d+): ", error).group(1)
    assert where.endswith("bad.yaml:11"), error
    row = dom.row(data_rejected="VirtualService default/broken")
    assert row["rejected-error"].startswith(where + ": "), row
    assert "weight" in row["rejected-error"], row

    # A reload appears in the history, with the time it took to serve.
    t.write("vs.yaml", VS_V2)

    def served():
        reloads = dashboard_json(t)["reloads"]
        return reloads[0] if reloads[0]["version"] == 2 and reloads[0]["serving"] else None
    reload, elapsed = harness.poll_until(served, harness.RELOAD_TIMEOUT)
    assert reload, dashboard_json(t)["reloads"]
    measure("edit to dashboard showing it served", elapsed)
    assert reload["trigger"] == "file change" and reload["result"] == "1 object(s) rejected", reload
    assert reload["serve_ms"] >= reload["publish_ms"] >= 0, reload

    def page_shows_reload(dom):
        assert dom.find(id="config-version")[0]["text"] == "2"
        first = dom.row(data_version="1")
        second = dom.row(data_version="2")
        assert "startup" in first["_text"], first
        assert "file change" in second["_text"], second
        assert re.fullmatch(r"\d+(\.\d+)? m?s", second["took"]), second
        assert dom.find(data_route="%s %s default/shop#2.0" % (listener, HOST))
        # Counters survive the reload: the same route, the same count.
        assert dom.row(data_route=route_a)["requests"] == "7"
    rendered(t, tmp_path, page_shows_reload)

    # A screenshot for the eye (and docs/dashboard.png).
    shot = tmp_path / "dashboard.png"
    out = chromium(tmp_path, "--virtual-time-budget=6000", "--window-size=1400,1500", "--hide-scrollbars",
                   "--screenshot=%s" % shot, "http://127.0.0.1:%d/?interval_ms=500" % t.admin_port)
    assert out.returncode == 0 and shot.stat().st_size > 10000, out.stderr[-2000:]


def test_dashboard_json_without_traffic(torii):
    """Before any request: every route and cluster is listed with zeros; the JSON is one document."""
    t = torii(manifests={"gw.yaml": harness.gateway("gw", hosts=(HOST,)), "vs.yaml": VS})
    d = dashboard_json(t)
    assert d["version"] == 1 and d["ready"] is True
    routes = [r for l in d["listeners"] for rt in l["route_tables"] for vh in rt["virtual_hosts"]
              for r in vh["routes"]]
    assert [r["traffic"]["requests"] for r in routes] == [0, 0]
    assert routes[0]["name"] == SNEAKY
    assert json.dumps(d)  # serialisable as it came
    assert requests.get(t.admin + "/help", timeout=10).text.startswith("torii admin")
