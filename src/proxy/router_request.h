// Envoy's router filter for one request: drives upstream attempts with the
// route's policies (ISTIO_SEMANTICS §3.7, §4.3, §8):
//
// * Timeout: the route `timeout` (for gRPC, the client's grpc-timeout
//   capped by it, as Istio's max_grpc_timeout does) runs from the end of the downstream request
//   and covers every attempt and back-off; on expiry 504 `upstream request
//   timeout` (UT) before response headers, a reset after. The per-try
//   timeout runs from the start of each attempt once the request is
//   complete and it has its connection, as Envoy arms it in onPoolReady:
//   time spent in the pending queue counts against the route timeout only
//   (Envoy: ignored when >= the route timeout).
//   x-envoy-expected-rq-timeout-ms tells the upstream what is left.
// * Retries: on a failure or response the RetryPolicy says to retry, after
//   Envoy's jittered back-off, on another endpoint when there is one
//   (previous_hosts), with x-envoy-attempt-count 1, 2, ... Never once
//   response bytes went downstream; never when the request body outgrew the
//   replay buffer (buffer limit); with --no-retry-non-idempotent, a request
//   whose method is not idempotent is retried only after a connect failure
//   (the upstream never saw it).
// * Mirrors: once the request is complete, each mirror (by its percentage)
//   gets a fire-and-forget copy with the buffered body (ShadowRequests); a
//   body past the buffer limit abandons them (retry_or_shadow_abandoned).
// * WebSocket: a granted 101 cancels the timeouts and turns the exchange
//   into a byte tunnel with an idle timeout (tunnel_idle_timeout_ms).
//
// The request body is copied into the replay buffer while a retry or mirror
// may need it (at most buffer_limit_bytes); the copy is dropped as soon as
// neither can.
//
// Owned by its ActiveStream (destroyed deferred). Worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compile/snapshot.h"
#include "http/header_map.h"
#include "net/event_loop.h"
#include "net/object_pool.h"
#include "net/timer.h"
#include "proxy/stream_info.h"
#include "proxy/upstream_callbacks.h"
#include "proxy/upstream_request.h"
#include "router/route_policies.h"
#include "upstream/cluster_info.h"
#include "upstream/cluster_stats.h"

namespace torii::proxy {

class Worker;

inline constexpr std::string_view kUpstreamRequestTimeout = "upstream request timeout";

class RouterRequest final : public UpstreamCallbacks, public net::Deferrable {
 public:
  // Made and destroyed once per request: new/delete reuse a per-thread block.
  TORII_POOLED_NEW(RouterRequest)
  struct Params {
    compile::SnapshotPtr snapshot;  // keeps policies and clusters alive
    const router::RoutePolicies* policies = nullptr;
    const upstream::ClusterInfo* cluster = nullptr;
    UpstreamRequestHead head;            // head.headers == headers
    http::HeaderMap* headers = nullptr;  // the stream's request headers, edited per attempt
    StreamInfo* info = nullptr;          // the stream's access-log record (upstream host, URX, UO)
  };

  // `downstream` receives the outcome (the ActiveStream).
  RouterRequest(UpstreamCallbacks& downstream, Worker& worker, Params params);
  ~RouterRequest() override;

  // Starts the first attempt; may report a failure before returning.
  void start();
  void send_body(std::string_view data);
  void end_request();
  void flush();
  void pause_reading(bool paused);
  // The stream no longer wants the exchange (a local reply, a reset).
  void abort();
  // Tunnel: the client closed its side.
  void close_tunnel();
  bool tunnel() const { return tunnel_; }
  // The endpoint of the attempt in progress (the one whose response is
  // being relayed); null before an endpoint was picked or after the end.
  const upstream::Endpoint* endpoint() const;

  // ---- UpstreamCallbacks, from the current attempt ----
  void on_upstream_informational(http::ResponseHead& head) override;
  void on_upstream_headers(http::ResponseHead& head, uint64_t service_time_ms, bool end_stream) override;
  void on_upstream_body(std::string_view data) override;
  void on_upstream_complete() override;
  void on_upstream_trailers(http::HeaderMap& trailers) override;
  void flush_downstream() override;
  void on_upstream_ready() override;
  void on_upstream_failure(UpstreamFailure failure) override;
  void set_upstream_blocked(bool blocked) override;
  void on_transport_failure(std::string_view reason) override { downstream_.on_transport_failure(reason); }

 private:
  void start_attempt();
  void release_attempt();
  void release_retry_slot();
  // true if a retry was scheduled.
  bool maybe_retry(bool retriable, bool connect_failure);
  void fail(UpstreamFailure failure);
  void finish();
  // The response is whole: timers off, the attempt released.
  void end_response();
  void set_attempt_headers();
  uint64_t per_try_timeout_ms() const;
  void arm_per_try_timer();
  upstream::ClusterStats& cluster_stats();
  void on_global_timeout();
  void on_per_try_timeout();
  void on_tunnel_idle();
  void stop_buffering();
  void launch_mirrors();

  UpstreamCallbacks& downstream_;
  Worker& worker_;
  Params params_;
  const router::RetryPolicy& retry_;
  // The route timeout (Envoy's global timeout); for gRPC requests the
  // client's grpc-timeout capped by it.
  uint64_t timeout_ms_ = 0;
  std::unique_ptr<UpstreamRequest> attempt_;

  std::string body_;  // replay buffer: the request body from its first byte
  std::vector<size_t> tried_endpoints_;
  uint64_t request_complete_ms_ = 0;
  uint32_t attempts_ = 0;  // started, 1-based
  uint32_t retries_ = 0;   // retries scheduled
  UpstreamFailure last_failure_ = UpstreamFailure::ConnectionFailure;

  net::Timer global_timer_;
  net::Timer per_try_timer_;
  net::Timer backoff_timer_;
  net::Timer idle_timer_;

  bool buffering_ = false;         // body_ holds the whole body so far
  bool replay_lost_ = false;       // the body outgrew the buffer: no retry, no mirror
  bool holds_retry_slot_ = false;  // counted against the cluster's http.maxRetries
  bool request_complete_ = false;
  bool response_started_ = false;  // headers went downstream: no more retries
  bool blocked_ = false;           // told the downstream to stop reading
  bool tunnel_ = false;
  bool done_ = false;
};

}  // namespace torii::proxy
