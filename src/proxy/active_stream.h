// One request/response exchange on a downstream connection: routes the
// request against the snapshot it started with, answers locally (404, 503,
// 301, ...) or drives an UpstreamRequest, and relays the response with the
// gateway's header changes, re-framing the body where needed.
//
// Owned by its DownstreamConnection; destroyed deferred. Worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "compile/snapshot.h"
#include "http/message_head.h"
#include "http/request_target.h"
#include "net/event_loop.h"
#include "proxy/local_reply.h"
#include "router/route_table.h"

namespace torii::proxy {

class DownstreamConnection;
class UpstreamRequest;
class Worker;

enum class UpstreamFailure {
  ConnectionFailure,      // connect refused / failed / timed out  -> 503 UF
  ConnectionTermination,  // closed or reset before response headers -> 503 UC
  ProtocolError,          // unparseable response -> 502 UPE
  Overflow,               // circuit breaker (DestinationRule connectionPool) -> 503 UO + x-envoy-overloaded
  NoHealthyUpstream,      // every endpoint ejected by outlier detection -> 503 UH
};

class ActiveStream final : public net::Deferrable {
 public:
  // Takes the parsed head (moves its fields out).
  ActiveStream(DownstreamConnection& downstream, Worker& worker, http::RequestHead& head);
  ~ActiveStream() override;

  // Routes and starts the upstream request or sends a local reply.
  void start();
  void on_request_body(std::string_view data);
  void on_request_complete();
  // The downstream connection is going away: abandon the upstream side.
  void on_downstream_reset();
  // Downstream output drained below its low watermark.
  void on_downstream_drained();
  // Sends what the request body callbacks queued upstream (one write per
  // batch of input, not one per parser callback).
  void flush_upstream();

  bool response_started() const { return response_started_; }

  // ---- from UpstreamRequest ----
  void on_upstream_informational(http::ResponseHead& head);
  void on_upstream_headers(http::ResponseHead& head, uint64_t service_time_ms);
  void on_upstream_body(std::string_view data);
  void on_upstream_complete();
  // Sends what the response callbacks queued downstream; called once per
  // batch of upstream input, so a head and its body leave in one write.
  void flush_downstream();
  // Failure before response headers (=> local reply), or after (=> reset).
  void on_upstream_failure(UpstreamFailure failure);
  void set_upstream_blocked(bool blocked);

 private:
  void route();
  void send_local_reply(const LocalReply& reply);
  void release_upstream();

  DownstreamConnection& downstream_;
  Worker& worker_;
  compile::SnapshotPtr snapshot_;  // what this request routes with, for its whole life
  http::RequestHead head_;
  http::RequestTarget target_;   // views into head_.target
  std::string upstream_target_;  // origin-form target for the upstream request line
  std::unique_ptr<UpstreamRequest> upstream_;
  // The matched route and destination (their response header operations
  // apply to the response); point into snapshot_.
  const router::Route* route_ = nullptr;
  const router::WeightedCluster* chosen_ = nullptr;

  bool head_request_ = false;
  bool expect_continue_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool rechunk_response_ = false;  // upstream body sent as chunked downstream
  bool local_reply_ = false;       // answered locally: request body is discarded
};

}  // namespace torii::proxy
