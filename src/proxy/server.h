// The data plane: worker threads, each with its own event loop, its own
// SO_REUSEPORT listening sockets and its own upstream connection pools.
//
// Threading: construct, start(), publish() and stop() from the control
// thread only. Workers never touch each other's state; a new snapshot reaches
// each worker through its own mailbox (eventfd wake-up + swap of its local
// pointer), never through a shared lock on the request path.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compile/snapshot.h"
#include "net/unique_fd.h"
#include "proxy/dynamic_host_cache.h"
#include "proxy/stats.h"
#include "telemetry/access_log_format.h"
#include "telemetry/access_log_writer.h"
#include "telemetry/istio_labels.h"
#include "telemetry/request_metrics.h"
#include "telemetry/span_exporter.h"
#include "upstream/shared_cluster_state.h"

namespace torii::proxy {

// Limits and behaviour switches; every limit has a default (Envoy's, unless
// said otherwise) and a command-line setting.
struct ServerOptions {
  int workers = 1;
  bool accept_http10 = true;                        // Istio answers 426; see README
  uint32_t max_request_headers_bytes = 60 * 1024;   // Envoy: 60 KiB -> 431
  uint32_t max_request_headers_count = 100;         // Envoy: 100 -> 431
  uint32_t max_response_headers_bytes = 80 * 1024;  // Envoy: 80 KiB -> 502
  // Bytes buffered per direction before reading from the other side pauses
  // (Envoy's per_connection_buffer_limit_bytes default is 1 MiB).
  uint32_t buffer_limit_bytes = 1024 * 1024;
  // HTTP/2 from clients: Envoy's edge values (its defaults are 2^31-1
  // streams and 256 MiB windows; its edge best practice is these).
  uint32_t http2_max_concurrent_streams = 100;
  uint32_t http2_stream_window_bytes = 64 * 1024;
  uint32_t http2_connection_window_bytes = 1024 * 1024;
  uint32_t downstream_idle_timeout_ms = 3600 * 1000;  // Envoy HCM: 1 h
  uint32_t upstream_idle_timeout_ms = 3600 * 1000;    // Envoy: 1 h
  uint32_t request_headers_timeout_ms = 0;            // 0 = off (Envoy default)
  uint32_t drain_timeout_ms = 5000;                   // terminationDrainDuration
  // A close the gateway starts waits this long for the client's close after
  // our FIN (Envoy's delayed_close_timeout, 1 s there); 0 = not at all.
  // At most 60000 (net::Connection keeps it in 16 bits).
  uint32_t delayed_close_timeout_ms = 2000;
  std::string server_header = "istio-envoy";
  // ---- route policies (issue 3) ----
  // false: requests with a non-idempotent method (RFC 9110 9.2.2: anything
  // but GET, HEAD, OPTIONS, TRACE, PUT, DELETE) are retried only after a
  // connect failure (--no-retry-non-idempotent; Istio/Envoy retry them).
  bool retry_non_idempotent = true;
  // A websocket tunnel with no byte either way for this long is closed
  // (Envoy's stream idle timeout is off at Istio gateways; 0 = never).
  uint32_t tunnel_idle_timeout_ms = 3600 * 1000;
  // Mirrored requests in flight per worker; beyond it mirrors are dropped.
  uint32_t max_mirror_requests = 1024;
  // Mirror Host/authority gets Envoy's "-shadow" suffix (Envoy's default;
  // Istio >= 1.28 turns it off with DISABLE_SHADOW_HOST_SUFFIX=true).
  bool mirror_host_suffix = true;
  // ---- forward proxy / outbound (issue 5) ----
  // Per-request DNS for forward-proxy routes (proxy/dynamic_host_cache.h):
  // --dns-server, --dns-min-ttl-s, --dns-refresh-rate-s, --forward-proxy-max-hosts.
  DynamicHostOptions dynamic_hosts;
  // ---- layer 4 (issue 5) ----
  // A TCP / TLS-passthrough / CONNECT tunnel with no byte either way for
  // this long is closed (Envoy tcp_proxy idle_timeout default: 1 h; 0 = never).
  uint32_t tcp_idle_timeout_ms = 3600 * 1000;
  // How long a TLS listener waits for the ClientHello it routes by (Envoy's
  // listener_filters_timeout default: 15 s); then the connection is closed.
  uint32_t tls_inspector_timeout_ms = 15 * 1000;
  // ---- telemetry (issue 14) ----
  // Istio's standard metrics (istio_requests_total, ...) on
  // /stats/prometheus; --no-istio-metrics turns their recording off.
  bool istio_metrics = true;
  // Who the gateway is, for their source_* labels (--workload-name,
  // --namespace, --cluster-id, --labels).
  telemetry::GatewayIdentity identity;
  // ---- access log and request identity (issue 14, docs/access-log.md) ----
  // --access-log PATH ("" = off, as Istio's meshConfig.accessLogFile);
  // --access-log-format text|json|<Envoy format>.
  std::string access_log_path;
  std::string access_log_format = "text";
  // Keep a client's x-request-id (Envoy's preserve_external_request_id);
  // Istio gateways replace it.
  bool preserve_request_id = false;
  // --num-trusted-proxies N: Istio's gatewayTopology.numTrustedProxies
  // (Envoy's xff_num_trusted_hops): the client address (remote.ip,
  // x-envoy-external-address) is the N-th X-Forwarded-For entry from the
  // right as received; 0 (the default) trusts no hop: the TCP peer.
  uint32_t num_trusted_proxies = 0;
  // ---- tracing (issue 14, docs/tracing.md) ----
  // --otlp-endpoint http://host:port/v1/traces ("" = no exporter).
  std::string otlp_endpoint;
  // --trace-sampling PERCENT in basis points (0.01 %): random sampling when
  // no Telemetry sets randomSamplingPercentage (Istio's default: 1 %).
  uint32_t trace_sampling_basis_points = 100;
};

class Worker;

// How a drain ends the process's service (Server::drain_and_stop).
enum class DrainKind {
  // SIGTERM/SIGINT: idle connections close at once, HTTP/2 ones get GOAWAY
  // naming the last stream taken; in-flight requests finish.
  Shutdown,
  // A new process took the listening sockets over (docs/upgrade.md): the
  // clients move to it without an error. HTTP/1.1 responses say
  // `Connection: close`; HTTP/2 connections and idle HTTP/1.1 ones are left
  // alone until half the drain time, then get a graceful GOAWAY (shutdown
  // notice, PING, GOAWAY naming the last stream) or are closed.
  Upgrade,
};

// A listener's sockets as one process hands them to the one that replaces it
// (cli/upgrade.h): every worker's SO_REUSEPORT socket, so that connections
// already queued on any of them are accepted by the new process.
struct ListenerSockets {
  std::string name;
  std::string bind;
  uint32_t configured_port = 0;  // 0: --port-map GW=0
  uint16_t bound_port = 0;
  std::vector<net::UniqueFd> sockets;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Parses the access-log format and opens the file (options.access_log_path,
  // else /dev/stdout for a Telemetry that turns logging on); before start().
  // false + error when either fails.
  bool open_access_log(std::string& error);
  // SIGUSR1: the access log's writer reopens its path (logrotate).
  void reopen_access_log();

  // Starts the span exporter for --otlp-endpoint (none without it); before
  // start(). false + error for an endpoint that is not http://host:port/path.
  bool open_span_exporter(std::string& error);
  // The exporter's counters, or null without --otlp-endpoint.
  const telemetry::SpanExporter* span_exporter() const { return span_exporter_.get(); }

  // Starts the worker threads (they serve nothing until the first publish).
  void start();

  // Makes `snapshot` the one new requests use: opens listeners that are new,
  // closes the ones that are gone, leaves unchanged ones alone (connections on
  // them are not disturbed), then hands the snapshot to every worker.
  // A listener on port 0 gets a port from the kernel and keeps it while it
  // stays; when it closes, Server holds the port (bound, not listening) so
  // that the listener gets it back if it returns.
  // Returns one message per listener that could not be bound (the rest serve).
  std::vector<std::string> publish(compile::SnapshotPtr snapshot);

  // True once a snapshot was published and every one of its listeners is bound.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // Stops accepting, lets in-flight requests finish for up to
  // options.drain_timeout_ms, then closes everything and joins the workers.
  void drain_and_stop(DrainKind kind = DrainKind::Shutdown);

  // ---- hot upgrade (cli/upgrade.h) ----
  // Copies (dup) of every open listener's sockets, for the process taking over.
  // Control thread.
  std::vector<ListenerSockets> export_listeners(std::string& error) const;
  // Before the first publish(): sockets from the process this one replaces.
  // A listener of the first snapshot with the same bind address and
  // configured port (and, for port 0, the same name) serves on them instead
  // of binding; sockets no listener takes are closed after that publish.
  void inherit_listeners(std::vector<ListenerSockets> sockets);

  std::vector<const WorkerStats*> worker_stats() const;
  // Each worker's request metrics (Istio's and per-listener), for /stats/prometheus.
  std::vector<const telemetry::RequestMetrics*> worker_metrics() const;
  // When (wall clock, us) the last worker started serving snapshot `version`
  // (published snapshots reach the workers asynchronously); -1 while some
  // worker has not, or too long ago to be remembered (Worker::adopted_at_us).
  int64_t serving_since_us(uint64_t version) const;
  // Per-cluster state shared by all workers (circuit breakers, outlier
  // detection, cluster.<name>.* counters), for /stats and /clusters.
  const upstream::SharedClusterRegistry& clusters() const { return cluster_registry_; }
  const ServerOptions& options() const { return options_; }

  // The port a published listener is bound to (differs from the configured
  // one only when that is 0: --port-map GW=0). 0 if it is not bound.
  // Control thread only.
  uint16_t listener_port(const std::string& name) const;

 private:
  ServerOptions options_;
  upstream::SharedClusterRegistry cluster_registry_;  // outlives the workers
  bool started_ = false;
  bool stopped_ = false;
  telemetry::AccessLogFormat access_log_format_;
  std::unique_ptr<telemetry::AccessLogWriter> access_log_;  // outlives the workers' last line
  std::unique_ptr<telemetry::SpanExporter> span_exporter_;  // outlives the workers' last span
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> ready_{false};
  struct ListenerSet;
  std::unique_ptr<ListenerSet> listeners_;
};

}  // namespace torii::proxy
