#!/usr/bin/env bash
# Builds the Debian package from a built tree (cpack -G DEB), installs it as
# a user would (apt-get install ./torii_<version>_<arch>.deb), installs it a
# second time (a reinstall must work and change nothing), and checks the
# installed gateway: its version is this build's, `torii validate` accepts
# the installed example configuration, the binary serves it, the `torii` user
# exists and systemd accepts the unit (systemd-analyze verify, when there).
# Run by scripts/test.sh as one stage; needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

rm -f "$BUILD_DIR"/torii_*.deb
(cd "$BUILD_DIR" && cpack -G DEB)
debs=("$BUILD_DIR"/torii_*_*.deb)
[ ${#debs[@]} -eq 1 ] || { echo "expected one torii_<version>_<arch>.deb, got: ${debs[*]}"; exit 1; }
deb=${debs[0]}
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"

# The package's own conffiles win over nothing here: keep an admin's edits.
apt_install=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${apt_install[@]}" "./$deb"
"${apt_install[@]}" --reinstall "./$deb"

echo "--- installed: $(/usr/bin/torii --version)"
[ "$(/usr/bin/torii --version)" = "$("$BUILD_DIR"/torii --version)" ] \
  || { echo "/usr/bin/torii is not this build's"; exit 1; }
/usr/bin/torii validate --config /etc/torii
getent passwd torii
test -f /etc/default/torii
test -f /usr/share/doc/torii/upgrade.md

# The installed binary serves the installed example (on a port the kernel picks).
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
/usr/bin/torii run --config /etc/torii --port-map 80=0 --admin 127.0.0.1:0 \
  --admin-address-path "$work/admin" --workers 1 >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$work/admin" ] && break; sleep 0.1; done
port=""
for _ in $(seq 100); do
  port=$(curl -sf "http://$(cat "$work/admin")/listeners?format=json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["listener_statuses"][0]["local_address"]["socket_address"]["port_value"])' \
    2>/dev/null) && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/log"; echo "the installed torii did not open its listener"; exit 1; }
curl -sf "http://127.0.0.1:$port/" | grep -q "Torii is running" \
  || { cat "$work/log"; echo "the installed torii did not serve the example"; exit 1; }
kill "$pid"
wait "$pid"
echo "--- the installed torii served the example on port $port and exited 0"

if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /usr/lib/systemd/system/torii.service
  echo "--- systemd-analyze verify: ok"
else
  echo "--- systemd-analyze not installed: unit not verified"
fi
