# Sourced by bench/callgrind_request.sh and bench/ab_request.sh: the fixture
# both measure against. Creates $work (removed on exit), starts an nginx
# upstream on 127.0.0.1:$up_port answering a 30-byte body (pinned with
# `taskset -c $upstream_cpus` when that is set), and writes Torii's config
# (bench/config pointed at that upstream) to $work/config.
# Expects: $up_port; optional $upstream_cpus. Defines cleanup_fixture.
fixture_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
cleanup_fixture() {
  [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}

mkdir -p "$work/logs" "$work/config"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$up_port backlog=4096; location / { return 200 "0123456789012345678901234567\n"; } }
}
NGINX
if [[ -n "${upstream_cpus:-}" ]]; then
  taskset -c "$upstream_cpus" nginx -p "$work" -c "$work/nginx.conf"
else
  nginx -p "$work" -c "$work/nginx.conf"
fi
cp "$fixture_here"/config/*.yaml "$work/config/"
sed -i "s/18090/$up_port/" "$work/config/upstream.yaml"
