"""Ports the kernel picks, and saying which: `--port-map GW=0`, `GET /listeners`,
`--admin ADDR:0` with `--admin-address-path` (issue 12).

Every other test file starts Torii with `--admin 127.0.0.1:0 --admin-address-path`
(harness.start_torii), so that part is in use everywhere; here it is checked
against the log line and the /listeners page, and port-0 Gateway listeners are
checked with real traffic: each Gateway port mapped to 0 gets a port of its
own, routes by its own Gateway port, keeps its port across reloads, and gets
it back when its Gateway goes and comes back (Torii holds it meanwhile).
"""

import re
import socket
import subprocess

import pytest
import requests

import harness


@pytest.fixture(scope="module")
def echoes(module_upstreams):
    return module_upstreams.echo("web", host="127.0.0.70"), module_upstreams.echo("alt", host="127.0.0.71")


def two_port_gateway():
    return """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}
  - {port: {number: 8080, name: alt, protocol: HTTP}, hosts: ["*"]}
"""


# Gateway port 80 goes to "web", 8080 to "alt": the two listeners must stay apart.
VS = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: by-port}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{port: 8080}]
    route: [{destination: {host: alt, port: {number: 80}}}]
  - match: [{uri: {prefix: %s}}]
    route: [{destination: {host: web, port: {number: 80}}}]
"""


def manifests(echoes, prefix="/"):
    web, alt = echoes
    return {"gw.yaml": two_port_gateway(), "vs.yaml": VS % prefix,
            "backends.yaml": harness.backend(web, "web") + "---\n" + harness.backend(alt, "alt")}


def echo_name(port, path="/"):
    r = requests.get("http://127.0.0.1:%d%s" % (port, path), timeout=harness.HTTP_TIMEOUT)
    return r.json()["name"] if r.status_code == 200 else r.status_code


def test_each_port_mapped_to_zero_gets_its_own_port_and_listeners_says_which(echoes, torii):
    t = torii(manifests(echoes), port_map={80: 0, 8080: 0}, extra_args=("--forward-proxy-port", "80"))
    listeners = t.listeners()
    assert set(listeners) == {"0.0.0.0_0_80", "0.0.0.0_0_8080"}, listeners
    web, alt = listeners["0.0.0.0_0_80"], listeners["0.0.0.0_0_8080"]
    web_port = web["local_address"]["socket_address"]["port_value"]
    alt_port = alt["local_address"]["socket_address"]["port_value"]
    assert web_port != 0 and alt_port != 0 and web_port != alt_port
    assert web["local_address"]["socket_address"]["address"] == "0.0.0.0"
    assert (web["gateway_port"], web["configured_port"], web["kinds"]) == (80, 0, ["HTTP", "FORWARD_PROXY"])
    assert (alt["gateway_port"], alt["configured_port"], alt["kinds"]) == (8080, 0, ["HTTP"])

    # Real traffic: each port routes by its own Gateway port (match.port).
    assert echo_name(web_port) == "web"
    assert echo_name(alt_port) == "alt"

    # Envoy's text form, and the log line a script can wait for.
    text = requests.get(t.admin + "/listeners", timeout=10).text
    assert text == "0.0.0.0_0_80::0.0.0.0:%d\n0.0.0.0_0_8080::0.0.0.0:%d\n" % (web_port, alt_port)
    log = t.log()
    assert "info listener 0.0.0.0_0_80 on 0.0.0.0:%d (Gateway port 80, HTTP,FORWARD_PROXY)\n" % web_port in log
    assert "info listener 0.0.0.0_0_8080 on 0.0.0.0:%d (Gateway port 8080, HTTP)\n" % alt_port in log
    assert "/listeners" in requests.get(t.admin + "/", timeout=10).text


def test_a_port_zero_listener_keeps_its_port_across_reloads_and_comes_back_on_it(echoes, torii):
    t = torii(manifests(echoes), port_map={80: 0, 8080: 0})
    port = t.listeners()["0.0.0.0_0_80"]["local_address"]["socket_address"]["port_value"]
    with requests.Session() as kept:
        assert kept.get("http://127.0.0.1:%d/" % port, timeout=harness.HTTP_TIMEOUT).status_code == 200

        # A route change is a reload: same listener, same port, and the open connection goes on.
        t.write("vs.yaml", VS % "/only")
        ok, _ = harness.poll_until(lambda: echo_name(port, "/") == 404, 10)
        assert ok, t.describe()
        assert t.listeners()["0.0.0.0_0_80"]["local_address"]["socket_address"]["port_value"] == port
        assert kept.get("http://127.0.0.1:%d/only" % port, timeout=harness.HTTP_TIMEOUT).json()["name"] == "web"

    # The Gateway goes: its listeners close (Torii holds the port, refusing connections).
    # It comes back: the same port again.
    t.remove("gw.yaml")
    ok, _ = harness.poll_until(lambda: not t.listeners(), 10)
    assert ok, t.listeners()

    def refused():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return False
        except ConnectionRefusedError:
            return True
    ok, _ = harness.poll_until(refused, 10)
    assert ok, "port %d still accepts after its Gateway was removed" % port
    t.write("gw.yaml", two_port_gateway())
    ok, _ = harness.poll_until(lambda: "0.0.0.0_0_80" in t.listeners(), 10)
    assert ok, t.describe()
    assert t.listeners()["0.0.0.0_0_80"]["local_address"]["socket_address"]["port_value"] == port
    assert echo_name(port, "/only") == "web"


def test_admin_port_zero_is_logged_and_written_to_the_address_file(echoes, torii):
    t = torii(manifests(echoes), port_map={80: 0, 8080: 0})
    written = t.admin_address_path.read_text()
    assert re.fullmatch(r"127\.0\.0\.1:\d+", written), repr(written)  # as Envoy writes it: no newline
    assert "info admin endpoint on %s\n" % written in t.log()
    assert requests.get("http://%s/ready" % written, timeout=10).status_code == 200


def test_admin_off_serves_without_an_admin_endpoint(echoes, tmp_path):
    config = tmp_path / "config"
    for name, text in manifests(echoes).items():
        harness.write_atomic(config / name, text)
    port = harness.reserve_port()
    proc = harness.Proc("torii", [harness.TORII_BIN, "run", "--config", str(config), "--admin", "off",
                                  "--port-map", "80=%d,8080=0" % port], tmp_path / "torii.log")
    try:
        ok, _ = harness.poll_until(lambda: echo_name(port) == "web", harness.READY_TIMEOUT)
        assert ok, proc.log_tail()
        assert "admin endpoint" not in proc.log()
        assert proc.terminate() == 0, proc.log_tail()
    finally:
        proc.cleanup()


def test_admin_address_path_without_admin_is_refused(tmp_path):
    r = subprocess.run([harness.TORII_BIN, "run", "--config", str(tmp_path), "--admin", "off",
                        "--admin-address-path", str(tmp_path / "a")], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "--admin-address-path: there is no admin endpoint (--admin off)" in r.stderr
