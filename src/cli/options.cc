#include "cli/options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "telemetry/access_log_format.h"
#include "telemetry/span_exporter.h"

namespace torii::cli {

namespace {

bool parse_uint(const std::string& s, uint64_t max, uint64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && out <= max;
}

// "10.0.0.1", "10.0.0.1:5353", "::1", "[::1]:5353": what c-ares' server list takes.
bool is_dns_server_address(const std::string& s) {
  auto ip = [](const std::string& text, int family) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(family, text.c_str(), buf) == 1;
  };
  auto port_ok = [](const std::string& p) {
    uint64_t n = 0;
    return parse_uint(p, 65535, n) && n != 0;
  };
  if (s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string::npos || !ip(s.substr(1, close - 1), AF_INET6)) return false;
    return close + 1 == s.size() || (s[close + 1] == ':' && port_ok(s.substr(close + 2)));
  }
  if (ip(s, AF_INET) || ip(s, AF_INET6)) return true;
  const size_t colon = s.rfind(':');
  return colon != std::string::npos && ip(s.substr(0, colon), AF_INET) && port_ok(s.substr(colon + 1));
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool parse_labels(const std::string& value, config::Labels& labels, std::string& error) {
  labels.clear();
  for (const std::string& kv : split(value, ',')) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--labels: expected k=v[,k=v], got '" + kv + "'";
      return false;
    }
    labels[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return true;
}

bool parse_port_map(const std::string& value, std::map<uint32_t, uint32_t>& map, std::string& error) {
  for (const std::string& pair : split(value, ',')) {
    size_t eq = pair.find('=');
    uint64_t from = 0, to = 0;
    if (eq == std::string::npos || !parse_uint(pair.substr(0, eq), 65535, from) ||
        !parse_uint(pair.substr(eq + 1), 65535, to) || from == 0) {
      error =
          "--port-map: expected GWPORT=LISTENPORT[,...] with GWPORT 1..65535 and LISTENPORT 0..65535, got '" +
          pair + "'";
      return false;
    }
    map[static_cast<uint32_t>(from)] = static_cast<uint32_t>(to);
  }
  return true;
}

// The etcd source's flags (docs/scale_out.md), shared by run, apply, get and delete.
bool parse_etcd_flag(const std::string& flag, const std::string& value, Options& o, std::string& error) {
  if (value.empty()) {
    error = flag + ": expected a value, got ''";
    return false;
  }
  if (flag == "--etcd") {
    if (!sources::parse_endpoints(value, o.etcd.endpoints, error)) {
      error = "--etcd: " + error;
      return false;
    }
  } else if (flag == "--etcd-prefix") {
    if (!value.starts_with("/")) {
      error = "--etcd-prefix: expected a key prefix starting with '/', got '" + value + "'";
      return false;
    }
    o.etcd.prefix = value.ends_with("/") ? value : value + "/";
  } else if (flag == "--etcd-user") {
    o.etcd.user = value;
  } else if (flag == "--etcd-password-file") {
    o.etcd.password_file = value;
  } else if (flag == "--etcd-cacert") {
    o.etcd.cacert = value;
  } else if (flag == "--etcd-cert") {
    o.etcd.cert = value;
  } else if (flag == "--etcd-key") {
    o.etcd.key = value;
  } else if (flag == "--etcd-cache") {
    o.etcd_cache_dir = value;
  } else if (flag == "--replica-name") {
    o.replica_name = value;
  } else {
    error = "unknown option '" + flag + "'";
    return false;
  }
  return true;
}

}  // namespace

bool parse_admin_address(const std::string& value, std::string& host, uint16_t& port, std::string& error) {
  size_t colon = value.rfind(':');
  uint64_t p = 0;
  if (colon == std::string::npos || !parse_uint(value.substr(colon + 1), 65535, p)) {
    error = "--admin: expected ADDR:PORT or off, got '" + value + "'";
    return false;
  }
  host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  port = static_cast<uint16_t>(p);
  return true;
}

std::string usage() {
  return R"(usage:
  torii run --config PATH [--config PATH ...] [options]
  torii validate --config PATH [--config PATH ...] [options]
  torii explain --config PATH [options] [--json] METHOD URL [-H 'Name: value' ...]
                            where would this request go, and why (nothing is sent)
  torii get listeners|routes|clusters|endpoints [--admin ADDR:PORT] [-o wide|json]
                            tables of a running instance, read from its admin endpoint
                            (default: 127.0.0.1:15000, as --admin below)
  torii apply -f FILE|DIR|- --etcd URLS [--dry-run] [options]
                            validate, then write the objects to etcd in one transaction
  torii delete (-f FILE | KIND NAME [-n NS]) --etcd URLS
  torii get KIND [NAME] [-n NS | -A] [-o yaml|json|wide] --etcd URLS
                            objects in etcd (KIND: vs, gw, dr, se, ... or replicas);
                            exit codes: 0 done, 1 invalid input or conflict, 2 etcd unreachable
  torii help                this text (also: torii --help, torii COMMAND --help)
  torii --version           the version: git describe of the build, or the release number

Configuration:
  --config PATH             file or directory of multi-document YAML (repeatable)
  --default-namespace NS    namespace of objects without metadata.namespace (default: default)
  --no-watch                do not reload when the files change

Config from etcd (docs/scale_out.md; run, apply, get and delete):
  --etcd URL[,URL...]       etcd endpoints (http:// or https://), alone or with --config
  --etcd-prefix P           key prefix (default: /torii/)
  --etcd-user NAME          authenticate as NAME, the password read from --etcd-password-file PATH
  --etcd-cacert PATH        CA for https endpoints (default: the system's)
  --etcd-cert PATH, --etcd-key PATH   client certificate and key for etcd
  --etcd-cache DIR          keep the last config read there; start from it when etcd is down
  --replica-name NAME       this replica's name in etcd's replica status (default: HOST:ADMIN-PORT)

Who this gateway is:
  --namespace NS            namespace the gateway runs in (default: istio-system)
  --labels k=v[,k=v]        the gateway's labels, matched by Gateway.spec.selector
                            (default: istio=ingressgateway)
  --gateway-class NAME      serve the Gateway API Gateways of this gatewayClassName
                            (default: istio)
  --domain-suffix S         cluster domain suffix (default: cluster.local)
  --locality R[/Z[/S]]      the gateway's region/zone/subzone, for DestinationRule
                            locality load balancing (default: none)

Listening:
  --port-map GW=PORT[,...]  bind Gateway port GW on PORT (default: the Gateway port as-is);
                            PORT 0: a port the kernel picks, kept across reloads (see /listeners)
  --bind ADDR               address for servers without `bind` (default: 0.0.0.0)
  --admin ADDR:PORT         admin endpoint (default: 127.0.0.1:15000; port 0: a port the kernel
                            picks, logged as "admin endpoint on ADDR:PORT"); --admin off: none
  --admin-address-path PATH once the admin endpoint is bound, write its ADDR:PORT to PATH
                            (replaced in one step: a reader never sees it half-written)
  --workers N               worker threads (default: number of cores)

HTTP behaviour and limits (Envoy's defaults unless noted):
  --reject-http10           answer HTTP/1.0 requests with 426 as Istio does (default: serve them)
  --max-request-headers-kb N   request header bytes before 431 (default: 60)
  --max-request-headers N      request header count before 431 (default: 100)
  --max-response-headers-kb N  upstream response header bytes before 502 (default: 80)
  --buffer-limit-kb N          per-direction buffer before back-pressure (default: 1024)
  --http2-max-concurrent-streams N  streams a client may open on one HTTP/2 connection (default: 100)
  --http2-stream-window-kb N   HTTP/2 initial stream flow-control window (default: 64)
  --http2-connection-window-kb N   HTTP/2 connection flow-control window (default: 1024)
  --idle-timeout-s N           downstream idle connection timeout (default: 3600)
  --upstream-idle-timeout-s N  idle upstream keep-alive connection timeout (default: 3600)
  --delayed-close-timeout-ms N how long a close the gateway starts waits for the client's close
                               after its FIN, reading and dropping what the client still sends;
                               0 = close at once (default: 2000; Envoy delayed_close_timeout)
  --drain-timeout-s N          on SIGTERM or after a takeover, how long in-flight requests may take
                               (default: 5, Istio's terminationDrainDuration)

Zero-downtime binary upgrade (docs/upgrade.md):
  --upgrade-socket PATH        listen on the Unix socket PATH for a new torii taking over
                               (default: off; the systemd unit uses /run/torii/upgrade.sock)
  --takeover PATH              start by taking the listening sockets (and the admin socket) of the
                               torii listening on PATH; serve on them, then tell it to drain: it
                               answers HTTP/1.1 with `Connection: close`, sends HTTP/2 clients
                               GOAWAY after half the drain time, and exits when its connections
                               are done or --drain-timeout-s is over. Fails, leaving it serving,
                               when nobody listens there or the configuration has errors.
                               Give --upgrade-socket PATH too to be upgradable in turn

DNS (ServiceEntry resolution DNS / DNS_ROUND_ROBIN):
  --dns-server ADDR[:PORT][,...]  name servers (default: those of /etc/resolv.conf)
  --dns-refresh-rate-s N       refresh when an answer has no TTL (default: 60, Istio's dnsRefreshRate)
  --dns-min-ttl-s N            floor under a record's TTL (default: 1)
  --dns-grace-s N              keep the last addresses of a name that stops resolving (default: 300)

Forward proxy and outbound traffic (apps without a sidecar; docs/forward_proxy.md):
  --forward-proxy-port GW[,GW...]  the plaintext HTTP servers on these Gateway port numbers also
                               act as forward proxies (HTTP_PROXY): absolute-form requests
                               (GET http://host[:port]/path) go to `host` as the app's sidecar
                               would send them, if a ServiceEntry or Service has that host (exact
                               or *.suffix) and port; others get 403; CONNECT host:port is
                               tunnelled to allowed hosts (default: none)
  --outbound-traffic-policy M  ALLOW_ANY or REGISTRY_ONLY (Istio meshConfig.outboundTrafficPolicy;
                               default ALLOW_ANY): what forward-proxy routes to a host no Service
                               or ServiceEntry has get: ALLOW_ANY passes them through to that host
                               (resolved by DNS), REGISTRY_ONLY answers 502 (BlackHoleCluster)
  --forward-proxy-max-hosts N  names kept in each worker's per-request DNS cache (default: 1024)

Access log and request identity (docs/access-log.md):
  --access-log PATH            write an access log line per HTTP request to PATH (/dev/stdout works;
                               default: off, as Istio's meshConfig.accessLogFile); SIGUSR1 reopens it
  --access-log-format F        text (Istio's default line), json (Istio's JSON map), or an Envoy
                               format string with %COMMAND% operators (default: text)
  --preserve-request-id        keep a client's x-request-id (default: replaced, as an Istio gateway does)
  --jwks-refresh-interval-s N  how often an http(s) jwksUri is fetched again (default 1200, as
                               istiod's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL); failures retry sooner
  --jwks-fetch-timeout-s N     connect + response limit of one JWKS fetch (default 5)
  --jwks-ca-file PATH          CA certificates trusted for https JWKS URIs, besides the system ones
  --num-trusted-proxies N      trusted proxies in front (Istio's gatewayTopology.numTrustedProxies;
                               default 0): the client address for remoteIpBlocks, remote.ip and
                               x-envoy-external-address is the N-th X-Forwarded-For entry from the right

Tracing (docs/tracing.md):
  --otlp-endpoint URL          export sampled spans (one SERVER span per request) to an OpenTelemetry
                               collector over OTLP/HTTP, e.g. http://127.0.0.1:4318/v1/traces; turns
                               trace-context propagation (traceparent, B3) on (default: no tracer:
                               trace headers pass through untouched, as a stock Istio gateway)
  --trace-sampling PERCENT     random sampling for requests that carry no sampling decision, 0-100 in
                               steps of 0.01, when no Telemetry sets randomSamplingPercentage
                               (default: 1, Istio's meshConfig default)

Route policies:
  --no-retry-non-idempotent    retry requests with a non-idempotent method (anything but GET, HEAD,
                               OPTIONS, TRACE, PUT, DELETE) only after a connect failure, never after
                               a response, reset or timeout (default: retried as Istio does)
  --tunnel-idle-timeout-s N    close an idle websocket tunnel after N s; 0 = never (default: 3600)
  --max-mirror-requests N      mirrored requests in flight per worker before mirrors are dropped
                               (default: 1024)
  --no-mirror-host-suffix      send mirrored requests with the original Host (Istio >= 1.28's
                               DISABLE_SHADOW_HOST_SUFFIX); default: Envoy's "<host>-shadow"

Metrics (/stats/prometheus on the admin endpoint; docs/metrics.md):
  --workload-name NAME         the gateway's workload (Deployment) name in Istio's metrics
                               (source_workload; default: istio-ingressgateway, or
                               istio-egressgateway with --labels istio=egressgateway);
                               source_workload_namespace is --namespace, source_app/version and
                               the canonical service/revision come from --labels
  --cluster-id ID              source_cluster (istiod's CLUSTER_ID; default: Kubernetes)
  --no-istio-metrics           do not record Istio's standard metrics (istio_requests_total, ...)

TCP and TLS passthrough:
  --tcp-idle-timeout-s N       close a TCP/TLS-passthrough/CONNECT tunnel with no byte either way
                               for N s; 0 = never (default: 3600, Envoy tcp_proxy idle_timeout)
  --tls-inspector-timeout-s N  how long a TLS passthrough listener waits for the ClientHello
                               (default: 15, Envoy listener_filters_timeout)
)";
}

bool parse_options(int argc, char** argv, int first, Options& o, std::string& error,
                   std::vector<std::string>* positional) {
  unsigned cores = std::thread::hardware_concurrency();
  o.server.workers = cores == 0 ? 1 : static_cast<int>(cores);
  std::string workload_name;  // --workload-name; default from the role below
  for (int i = first; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    // Accept both "--flag value" and "--flag=value".
    size_t eq = flag.find('=');
    bool inline_value = flag.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inline_value) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    auto need_value = [&]() -> bool {
      if (inline_value) return true;
      if (i + 1 >= argc) {
        error = flag + ": missing value";
        return false;
      }
      value = argv[++i];
      return true;
    };
    auto uint_flag = [&](uint64_t max, uint64_t& out, uint64_t min = 0) -> bool {
      if (!need_value()) return false;
      if (!parse_uint(value, max, out) || out < min) {
        error = flag + ": expected a number " +
                (min == 0 ? "up to " : "from " + std::to_string(min) + " to ") + std::to_string(max) +
                ", got '" + value + "'";
        return false;
      }
      return true;
    };
    // For limits where 0 has no meaning: an error, not a silent 1.
    auto positive_flag = [&](uint64_t max, uint64_t& out) -> bool { return uint_flag(max, out, 1); };
    uint64_t n = 0;
    if (flag == "--help" || flag == "-h") {
      o.help = true;
      return true;
    } else if (flag == "--config") {
      if (!need_value()) return false;
      o.config_paths.push_back(value);
    } else if (flag == "--namespace") {
      if (!need_value()) return false;
      o.identity.namespace_ = value;
    } else if (flag == "--labels") {
      if (!need_value() || !parse_labels(value, o.identity.labels, error)) return false;
    } else if (flag == "--default-namespace") {
      if (!need_value()) return false;
      o.load.default_namespace = value;
    } else if (flag == "--gateway-class") {
      if (!need_value()) return false;
      o.identity.gateway_class = value;
    } else if (flag == "--port-map") {
      if (!need_value() || !parse_port_map(value, o.identity.port_map, error)) return false;
    } else if (flag == "--bind") {
      if (!need_value()) return false;
      o.identity.bind = value;
    } else if (flag == "--admin") {
      if (!need_value()) return false;
      o.admin = value != "off";
      if (o.admin && !parse_admin_address(value, o.admin_address, o.admin_port, error)) return false;
    } else if (flag == "--admin-address-path") {
      if (!need_value()) return false;
      if (value.empty()) {
        error = "--admin-address-path: expected a file path, got ''";
        return false;
      }
      o.admin_address_path = value;
    } else if (flag == "--workers") {
      if (!uint_flag(256, n)) return false;
      if (n == 0) {
        error = "--workers: must be at least 1";
        return false;
      }
      o.server.workers = static_cast<int>(n);
    } else if (flag == "--domain-suffix") {
      if (!need_value()) return false;
      o.identity.domain_suffix = value;
    } else if (flag == "--locality") {
      if (!need_value()) return false;
      if (value.empty() || std::count(value.begin(), value.end(), '/') > 2 ||
          value.find('*') != std::string::npos) {
        error = "--locality: expected region[/zone[/subzone]], got '" + value + "'";
        return false;
      }
      o.identity.locality = value;
    } else if (flag == "--no-watch") {
      o.watch = false;
    } else if (flag == "--reject-http10") {
      o.server.accept_http10 = false;
    } else if (flag == "--max-request-headers-kb") {
      if (!uint_flag(8192, n)) return false;
      o.server.max_request_headers_bytes = static_cast<uint32_t>(n * 1024);
    } else if (flag == "--max-response-headers-kb") {
      if (!positive_flag(8192, n)) return false;
      o.server.max_response_headers_bytes = static_cast<uint32_t>(n * 1024);
    } else if (flag == "--max-request-headers") {
      if (!uint_flag(10000, n)) return false;
      o.server.max_request_headers_count = static_cast<uint32_t>(n);
    } else if (flag == "--http2-max-concurrent-streams") {
      if (!positive_flag(1u << 31, n)) return false;
      o.server.http2_max_concurrent_streams = static_cast<uint32_t>(n);
    } else if (flag == "--http2-stream-window-kb") {
      // RFC 9113 6.9.1: a window is at most 2^31-1 bytes; 64 KiB is the floor
      // Torii accepts (the RFC's own initial window is 65,535 bytes).
      if (!uint_flag((1u << 31) / 1024 - 1, n, 64)) return false;
      o.server.http2_stream_window_bytes = static_cast<uint32_t>(n * 1024);
    } else if (flag == "--http2-connection-window-kb") {
      if (!uint_flag((1u << 31) / 1024 - 1, n, 64)) return false;
      o.server.http2_connection_window_bytes = static_cast<uint32_t>(n * 1024);
    } else if (flag == "--buffer-limit-kb") {
      if (!uint_flag(1024 * 1024, n)) return false;
      o.server.buffer_limit_bytes = static_cast<uint32_t>(n * 1024);
    } else if (flag == "--idle-timeout-s") {
      if (!uint_flag(86400 * 7, n)) return false;
      o.server.downstream_idle_timeout_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--upstream-idle-timeout-s") {
      if (!uint_flag(86400 * 7, n)) return false;
      o.server.upstream_idle_timeout_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--delayed-close-timeout-ms") {
      if (!uint_flag(60 * 1000, n)) return false;
      o.server.delayed_close_timeout_ms = static_cast<uint32_t>(n);
    } else if (flag == "--drain-timeout-s") {
      if (!uint_flag(3600, n)) return false;
      o.server.drain_timeout_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--upgrade-socket" || flag == "--takeover") {
      if (!need_value()) return false;
      if (value.empty()) {
        error = flag + ": expected a Unix socket path, got ''";
        return false;
      }
      (flag == "--takeover" ? o.takeover_path : o.upgrade_socket_path) = value;
    } else if (flag == "--access-log") {
      if (!need_value()) return false;
      if (value.empty()) {
        error = "--access-log: expected a file path (e.g. /dev/stdout), got ''";
        return false;
      }
      o.server.access_log_path = value;
    } else if (flag == "--access-log-format") {
      if (!need_value()) return false;
      telemetry::AccessLogFormat format;
      std::string format_error;
      if (!telemetry::AccessLogFormat::parse(value, format, format_error)) {
        error = "--access-log-format: " + format_error;
        return false;
      }
      o.server.access_log_format = value;
    } else if (flag == "--otlp-endpoint") {
      if (!need_value()) return false;
      telemetry::OtlpEndpoint endpoint;
      std::string endpoint_error;
      if (!telemetry::parse_otlp_endpoint(value, endpoint, endpoint_error)) {
        error = "--otlp-endpoint: " + endpoint_error;
        return false;
      }
      o.server.otlp_endpoint = value;
    } else if (flag == "--trace-sampling") {
      if (!need_value()) return false;
      char* end = nullptr;
      const double percent = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || !(percent >= 0 && percent <= 100)) {
        error = "--trace-sampling: expected a percentage from 0 to 100 (e.g. 1 or 0.5), got '" + value + "'";
        return false;
      }
      o.server.trace_sampling_basis_points = static_cast<uint32_t>(std::lround(percent * 100));
    } else if (flag == "--preserve-request-id") {
      o.server.preserve_request_id = true;
    } else if (flag == "--jwks-refresh-interval-s") {
      if (!positive_flag(86400 * 7, n)) return false;
      o.jwks.refresh_ms = n * 1000;
    } else if (flag == "--jwks-fetch-timeout-s") {
      if (!positive_flag(300, n)) return false;
      o.jwks.timeout_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--jwks-ca-file") {
      if (!need_value()) return false;
      o.jwks.ca_file = value;
    } else if (flag == "--num-trusted-proxies") {
      if (!uint_flag(64, n)) return false;
      o.server.num_trusted_proxies = static_cast<uint32_t>(n);
    } else if (flag == "--no-retry-non-idempotent") {
      o.server.retry_non_idempotent = false;
    } else if (flag == "--tunnel-idle-timeout-s") {
      if (!uint_flag(86400 * 7, n)) return false;
      o.server.tunnel_idle_timeout_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--max-mirror-requests") {
      if (!uint_flag(1000000, n)) return false;
      o.server.max_mirror_requests = static_cast<uint32_t>(n);
    } else if (flag == "--tcp-idle-timeout-s") {
      if (!uint_flag(86400 * 7, n)) return false;
      o.server.tcp_idle_timeout_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--tls-inspector-timeout-s") {
      if (!positive_flag(3600, n)) return false;
      o.server.tls_inspector_timeout_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--no-mirror-host-suffix") {
      o.server.mirror_host_suffix = false;
    } else if (flag == "--workload-name") {
      if (!need_value()) return false;
      if (value.empty()) {
        error = "--workload-name: expected a name";
        return false;
      }
      workload_name = value;
    } else if (flag == "--cluster-id") {
      if (!need_value()) return false;
      if (value.empty()) {
        error = "--cluster-id: expected a name";
        return false;
      }
      o.server.identity.cluster_id = value;
    } else if (flag == "--no-istio-metrics") {
      o.server.istio_metrics = false;
    } else if (flag == "--forward-proxy-port") {
      if (!need_value()) return false;
      const std::vector<std::string> ports = split(value, ',');
      if (ports.empty()) {  // "" or ",": split drops empty pieces
        error = "--forward-proxy-port: expected Gateway port numbers 1..65535, got '" + value + "'";
        return false;
      }
      for (const std::string& port : ports) {
        uint64_t number = 0;
        if (!parse_uint(port, 65535, number) || number == 0) {
          error = "--forward-proxy-port: expected Gateway port numbers 1..65535, got '" + port + "'";
          return false;
        }
        o.identity.forward_proxy_ports.insert(static_cast<uint32_t>(number));
      }
    } else if (flag == "--outbound-traffic-policy") {
      if (!need_value()) return false;
      if (value != "ALLOW_ANY" && value != "REGISTRY_ONLY") {
        error = "--outbound-traffic-policy: expected ALLOW_ANY or REGISTRY_ONLY, got '" + value + "'";
        return false;
      }
      o.identity.outbound_registry_only = value == "REGISTRY_ONLY";
    } else if (flag == "--forward-proxy-max-hosts") {
      if (!positive_flag(1000000, n)) return false;
      o.server.dynamic_hosts.max_hosts = static_cast<uint32_t>(n);
    } else if (flag == "--dns-server") {
      if (!need_value()) return false;
      for (const std::string& server : split(value, ',')) {
        if (server.empty()) continue;
        if (!is_dns_server_address(server)) {
          error = "--dns-server: '" + server + "' is not IP[:PORT] (IPv6 as [IP]:PORT)";
          return false;
        }
        o.dns.servers.push_back(server);
      }
    } else if (flag == "--dns-refresh-rate-s") {
      if (!uint_flag(86400, n)) return false;
      o.dns_refresh.default_refresh_ms = static_cast<uint32_t>(std::max<uint64_t>(n, 1) * 1000);
    } else if (flag == "--dns-min-ttl-s") {
      if (!uint_flag(86400, n)) return false;
      o.dns_refresh.min_refresh_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag == "--dns-grace-s") {
      if (!uint_flag(86400 * 7, n)) return false;
      o.dns_refresh.grace_ms = static_cast<uint32_t>(n * 1000);
    } else if (flag.starts_with("--etcd") || flag == "--replica-name") {
      if (!need_value() || !parse_etcd_flag(flag, value, o, error)) return false;
    } else if (positional != nullptr && !flag.starts_with("-")) {
      positional->push_back(flag);
    } else {
      error = "unknown option '" + flag + "'";
      return false;
    }
  }
  if (!o.admin && !o.admin_address_path.empty()) {
    error = "--admin-address-path: there is no admin endpoint (--admin off)";
    return false;
  }
  if (!o.etcd.enabled() && (!o.etcd_cache_dir.empty() || !o.replica_name.empty() || !o.etcd.user.empty())) {
    error = "--etcd-* and --replica-name need --etcd ENDPOINTS";
    return false;
  }
  if (o.config_paths.empty() && !o.etcd.enabled()) {
    error = "at least one --config PATH (or --etcd ENDPOINTS) is required";
    return false;
  }
  // Per-request DNS (forward proxy) uses the same servers and TTL rules as
  // ServiceEntry resolution.
  o.server.dynamic_hosts.resolver = o.dns;
  o.server.dynamic_hosts.min_ttl_ms = o.dns_refresh.min_refresh_ms;
  o.server.dynamic_hosts.default_ttl_ms = o.dns_refresh.default_refresh_ms;
  // The metrics' source_* labels: the gateway as a stock install names it.
  telemetry::GatewayIdentity& who = o.server.identity;
  who.workload_namespace = o.identity.namespace_;
  who.labels = o.identity.labels;
  if (!workload_name.empty()) {
    who.workload = workload_name;
  } else {
    auto role = o.identity.labels.find("istio");
    who.workload = role != o.identity.labels.end() && role->second == "egressgateway"
                       ? "istio-egressgateway"
                       : "istio-ingressgateway";
  }
  return true;
}

}  // namespace torii::cli
