// One data-plane thread: its event loop, its own SO_REUSEPORT listening
// sockets, its downstream connections, its upstream clusters/pools, its
// stats, and its current snapshot.
//
// The control thread talks to a worker only through post()ed closures
// (apply_update, start_drain); everything else runs on the worker's thread.
// Owned by the Server.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "compile/snapshot.h"
#include "net/event_loop.h"
#include "net/tcp_listener.h"
#include "net/timer.h"
#include "net/unique_fd.h"
#include "proxy/date_cache.h"
#include "proxy/server.h"
#include "proxy/stats.h"
#include "proxy/stream_info.h"
#include "upstream/cluster_manager.h"

namespace torii::proxy {

class DownstreamConnection;
class L4Connection;
class ShadowRequests;

// A listener socket handed from the control thread to one worker.
struct ListenerHandoff {
  std::string name;
  net::UniqueFd fd;
};

class Worker {
 public:
  // `clusters`: the process-wide per-cluster state (null: private, tests).
  Worker(int index, const ServerOptions& options, upstream::SharedClusterRegistry* clusters = nullptr);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void join();
  bool started() const { return thread_.joinable(); }

  // Control thread: queue a snapshot swap plus listener changes, applied
  // together so a new listener never serves with an older snapshot.
  void post_update(compile::SnapshotPtr snapshot, std::vector<ListenerHandoff> added,
                   std::vector<std::string> removed);
  // Control thread: stop accepting, finish in-flight requests for up to
  // drain_timeout_ms, then make the thread exit.
  void post_drain(DrainKind kind = DrainKind::Shutdown);

  const WorkerStats& stats() const { return stats_; }
  const telemetry::RequestMetrics& metrics() const { return metrics_; }
  // Any thread: when (wall clock, us) this worker started serving snapshot
  // `version`; -1 if it has not yet, or adopted so many snapshots since that
  // the time is forgotten (the last kAdoptedKept are kept).
  int64_t adopted_at_us(uint64_t version) const;
  static constexpr size_t kAdoptedKept = 32;

  // ---- worker thread only ----
  net::EventLoop& loop() { return loop_; }
  WorkerStats& mutable_stats() { return stats_; }
  telemetry::RequestMetrics& mutable_metrics() { return metrics_; }
  const ServerOptions& options() const { return options_; }
  const compile::SnapshotPtr& snapshot() const { return snapshot_; }
  upstream::ClusterManager& clusters() { return clusters_; }
  // Per-request DNS for forward-proxy routes; created on first use.
  DynamicHostCache& dynamic_hosts();
  DateCache& date() { return date_; }
  bool draining() const { return draining_; }
  // Draining, and an idle keep-alive HTTP/1.1 connection (or one whose
  // response did not say `Connection: close`) is to be closed now: always
  // on shutdown; in an upgrade drain once half the drain time has passed
  // (before that, closing it could race with the client's next request).
  bool drain_closes_idle() const { return draining_ && drain_closes_idle_; }
  // A downstream connection is finished: destroy it at the end of the iteration.
  void remove_connection(DownstreamConnection& connection);
  // Layer 4 (proxy/l4_connection.h): an L4 connection is finished, or
  // (`handed_over`) its socket went to start_http(), which counts it on.
  void remove_l4_connection(L4Connection& connection, bool handed_over);
  // Serves an accepted socket as HTTP (HTTPS when the listener terminates TLS).
  void start_http(net::UniqueFd fd, std::string peer_ip, const std::string& listener_name);
  // One stored copy of each listener name this worker has accepted on, for
  // the life of the worker: a connection keeps a reference, not its own
  // string (issue 17). Grows only with names, never with connections.
  const std::string& intern_listener_name(const std::string& name);
  // Access log (set before start()). `have_path`: --access-log was given
  // (without it only a Telemetry naming the `envoy` provider logs, to
  // /dev/stdout as Istio's does).
  void set_access_log(const telemetry::AccessLogFormat* format, telemetry::AccessLogWriter* writer,
                      bool have_path) {
    access_log_format_ = format;
    access_log_writer_ = writer;
    access_log_have_path_ = have_path;
  }
  // Writes the stream's line if `snapshot` (the one the stream routed
  // with) says so: its Telemetry's disabled/filter, else --access-log.
  void log_stream(const StreamInfo& info, const http::HeaderMap* request_headers,
                  const compile::Snapshot* snapshot);
  // Tracing (set before start()): the exporter for sampled spans, or null.
  void set_span_exporter(telemetry::SpanExporter* exporter) { span_exporter_ = exporter; }
  // A tracer is configured: --otlp-endpoint, or a Telemetry `tracing` rule
  // in `snapshot` (then headers propagate even with nothing to export to).
  bool tracer_on(const compile::Snapshot* snapshot) const {
    return span_exporter_ != nullptr || (snapshot != nullptr && snapshot->tracing.configured);
  }
  // Random sampling percentage in force (basis points): the Telemetry's
  // randomSamplingPercentage, else --trace-sampling.
  uint32_t trace_sampling(const compile::Snapshot* snapshot) const {
    return snapshot != nullptr && snapshot->tracing.sampling_basis_points >= 0
               ? static_cast<uint32_t>(snapshot->tracing.sampling_basis_points)
               : options_.trace_sampling_basis_points;
  }
  // Spans are exported (an exporter, and no disableSpanReporting).
  bool export_spans(const compile::Snapshot* snapshot) const {
    return span_exporter_ != nullptr && (snapshot == nullptr || !snapshot->tracing.disable_span_reporting);
  }
  // Hands a sampled span to the exporter; never waits (a full buffer drops it).
  void record_span(const telemetry::SpanRecord& span) {
    WorkerStats::inc(span_exporter_->append(index_, span) ? stats_.tracing_spans_buffered
                                                          : stats_.tracing_spans_buffer_full);
  }
  // Wall clock (CLOCK_REALTIME) in microseconds, for %START_TIME%.
  static int64_t wall_clock_us();
  // Mirrored requests in flight (they outlive the streams that made them).
  ShadowRequests& shadows() { return *shadows_; }

 private:
  class ListenerSlot;
  friend class ListenerSlot;

  void run();
  void apply_update(compile::SnapshotPtr snapshot, std::vector<ListenerHandoff>& added,
                    const std::vector<std::string>& removed);
  void start_drain(DrainKind kind);
  // The upgrade drain's second half: idle connections close, HTTP/2 ones get GOAWAY.
  void drain_open_connections(bool graceful_goaway);
  // The HTTP connections accepted on these (removed) listeners.
  void drain_connections_of(const std::vector<std::string>& listeners);
  void accept(net::UniqueFd fd, const sockaddr_storage& peer, const std::string& listener_name);
  void maybe_finish_drain();

  // Declaration order is destruction order reversed: the loop outlives
  // everything that registers with it; pools outlive connections.
  const int index_;
  const ServerOptions& options_;
  net::EventLoop loop_;
  WorkerStats stats_;
  telemetry::RequestMetrics metrics_;
  std::set<std::string, std::less<>> listener_names_;  // outlives the connections
  DateCache date_;
  upstream::ClusterManager clusters_;
  std::unique_ptr<DynamicHostCache> dynamic_hosts_;  // before clusters_ goes: it unbinds their state
  compile::SnapshotPtr snapshot_;
  // Ring of (version, adoption time) by version % kAdoptedKept, for the
  // reload history; written by this worker (time, then version with
  // release), read by the admin thread.
  struct Adopted {
    std::atomic<uint64_t> version{0};
    std::atomic<int64_t> at_us{-1};
  };
  std::array<Adopted, kAdoptedKept> adopted_{};
  std::vector<std::unique_ptr<ListenerSlot>> listeners_;
  std::list<std::unique_ptr<DownstreamConnection>> connections_;
  std::list<std::unique_ptr<L4Connection>> l4_connections_;
  std::unique_ptr<ShadowRequests> shadows_;
  const telemetry::AccessLogFormat* access_log_format_ = nullptr;
  telemetry::AccessLogWriter* access_log_writer_ = nullptr;
  bool access_log_have_path_ = false;
  telemetry::SpanExporter* span_exporter_ = nullptr;
  std::string access_log_line_;   // reused: formatting a line allocates nothing once grown
  net::Timer drain_timer_;        // drain_timeout_ms: stop regardless
  net::Timer drain_check_timer_;  // stop early once nothing is in flight
  net::Timer drain_close_timer_;  // upgrade drain: half the drain time
  bool draining_ = false;
  bool drain_closes_idle_ = true;
  std::thread thread_;
};

}  // namespace torii::proxy
