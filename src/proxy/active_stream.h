// One request/response exchange on a downstream connection: routes the
// request against the snapshot it started with, answers locally (404, 503,
// 301, ...) or drives an UpstreamRequest, and relays the response with the
// gateway's header changes. The codec that carries it (HTTP/1.1 or HTTP/2)
// is behind the DownstreamStream interface and frames what it is given.
//
// Owned by the connection that carries it; destroyed deferred. Worker
// thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "compile/snapshot.h"
#include "http/message_head.h"
#include "http/request_target.h"
#include "net/event_loop.h"
#include "net/object_pool.h"
#include "net/timer.h"
#include "proxy/local_reply.h"
#include "proxy/stream_info.h"
#include "proxy/tracing.h"
#include "proxy/upstream_callbacks.h"
#include "router/forward_proxy_table.h"
#include "router/route_table.h"
#include "security/jwt_authn.h"

namespace torii::proxy {

class DownstreamStream;
class GrpcWeb;
class RouterRequest;
class Worker;

class ActiveStream final : public net::Deferrable, public UpstreamCallbacks {
 public:
  // Made and destroyed once per request: new/delete reuse a per-thread block.
  TORII_POOLED_NEW(ActiveStream)
  // Takes the parsed head (moves its fields out).
  ActiveStream(DownstreamStream& downstream, Worker& worker, http::RequestHead& head);
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
  // WebSocket tunnel: the client closed its side.
  void on_downstream_tunnel_eof();

  // ---- from the RouterRequest ----
  void on_upstream_informational(http::ResponseHead& head) override;
  void on_upstream_headers(http::ResponseHead& head, uint64_t service_time_ms, bool end_stream) override;
  void on_upstream_body(std::string_view data) override;
  void on_upstream_complete() override;
  void on_upstream_trailers(http::HeaderMap& trailers) override;
  // Sends what the response callbacks queued downstream; called once per
  // batch of upstream input, so a head and its body leave in one write.
  void flush_downstream() override;
  // Failure before response headers (=> local reply), or after (=> reset).
  void on_upstream_failure(UpstreamFailure failure) override;
  void set_upstream_blocked(bool blocked) override;
  void on_transport_failure(std::string_view reason) override { transport_failure_ = reason; }

 private:
  void route();
  // The request names a host another TLS server of the listener serves by
  // name, not the one the handshake's SNI picked (=> 421).
  static bool misdirected(const compile::Listener& listener, const compile::TlsChain* chain,
                          std::string_view authority);
  // ---- route policies (active_stream_policies.cc) ----
  // After the route matched: fault (delay/abort), then CORS, then upstream,
  // in the order of the gateway's HTTP filter chain.
  void run_route_policies();
  const router::VirtualHost* find_vhost(const compile::Listener* listener, const compile::TlsChain* chain,
                                        const router::RequestView& view, bool absolute) const;
  // Envoy's local rate limit filter, first in the chain (active_stream_policies.cc):
  // true when it answered the request (429).
  bool local_rate_limited(const router::RequestView& view, const router::VirtualHost* vhost,
                          const router::Route* route);
  std::vector<router::DescriptorEntries> request_descriptors(const router::LocalRateLimit& limit,
                                                             const router::RequestView& view,
                                                             const router::VirtualHost* vhost,
                                                             const router::Route* route) const;
  void add_x_ratelimit_headers(http::HeaderMap& headers) const;
  // ---- RequestAuthentication (active_stream_jwt.cc) ----
  // Verifies the request's JWTs; false: a 401/403 was sent. May point
  // `path_and_query` at upstream_target_ (a query token removed).
  bool authenticate_jwt(std::string_view& path_and_query);
  // AuthorizationPolicy (active_stream_authz.cc): false when the request
  // was denied (403 sent).
  bool authorize(const router::RequestView& view, const compile::Listener* listener);
  void end_fault_delay();
  void after_fault();
  void send_fault_abort();
  // Picks the cluster and starts the RouterRequest (or answers 503).
  void forward_to_upstream();
  void start_router_request(const upstream::ClusterInfo* cluster);
  // Forward-proxy routes whose endpoints are resolved per request
  // (active_stream_dynamic.cc).
  void resolve_dynamic_host(const router::WeightedCluster& chosen);
  void on_dynamic_host(std::shared_ptr<const upstream::ClusterInfo> cluster);
  // CONNECT on a forward-proxy listener (active_stream_connect.cc).
  void connect_through_forward_proxy(const router::ForwardProxyTable& table);
  void start_connect(const upstream::ClusterInfo* cluster, std::shared_ptr<const upstream::ClusterInfo> keep);
  void write_switching_protocols(http::ResponseHead& head, uint64_t service_time_ms);
  // `details` and `flags`: Envoy's response code details and response
  // flags for the access log (proxy/stream_info.h).
  void send_local_reply(const LocalReply& reply, std::string_view details, uint32_t flags = 0);
  // Response body bytes to the client, counted for %BYTES_SENT%.
  void send_data(std::string_view data, bool end_stream);
  void release_upstream();
  // Telemetry: the stream's one record at its end (the destructor).
  void record_metrics();
  // Tracing: the sampled span, handed to the exporter at the stream's end.
  void record_span();
  void note_response(int status, const http::HeaderMap& headers);

  DownstreamStream& downstream_;
  Worker& worker_;
  compile::SnapshotPtr snapshot_;  // what this request routes with, for its whole life
  http::RequestHead head_;
  http::RequestTarget target_;       // views into head_.target
  std::string upstream_target_;      // origin-form target for the upstream request line
  std::string_view path_and_query_;  // what the upstream request line carries
  std::unique_ptr<RouterRequest> upstream_;
  // The matched route and destination (their response header operations
  // apply to the response); point into snapshot_.
  const router::Route* route_ = nullptr;
  const router::WeightedCluster* chosen_ = nullptr;
  // The last upstream TLS failure and the 503 body that carries it.
  std::shared_ptr<const upstream::ClusterInfo> dynamic_cluster_;  // resolved per request; kept while in use
  std::shared_ptr<void> dns_token_;                               // dropped => pending DNS answer ignored
  std::string transport_failure_;
  std::string failure_body_;
  std::string failure_details_;  // a TLS failure's response code details
  StreamInfo info_;              // for the access log, written when the stream goes
  RequestTrace trace_;           // the gateway's span (proxy/tracing.h)
  // The verified JWT of this request (RequestAuthentication), for
  // AuthorizationPolicy's request.auth.* and requestPrincipals: the parsed
  // claims, shared with the worker's token cache; empty jwt = anonymous.
  security::JwtIdentity jwt_identity_;
  // The client address from X-Forwarded-For with --num-trusted-proxies, when
  // it is not the TCP peer (remote.ip, x-envoy-external-address).
  std::string remote_address_;

  // Fault delay: the request waits; its body is held (back-pressure beyond
  // the buffer limit) until the delay ends.
  std::unique_ptr<net::Timer> fault_timer_;
  std::string held_body_;
  std::unique_ptr<GrpcWeb> grpc_web_;  // a gRPC-Web request (Envoy's grpc_web filter)
  std::string upgrade_;                // the client's Upgrade value (websocket)
  bool holding_ = false;
  bool fault_abort_ = false;    // abort once the delay ends
  bool cors_response_ = false;  // add access-control-* to the response
  bool websocket_ = false;      // Upgrade: websocket, tunnelled if granted

  bool head_request_ = false;
  // content-type application/grpc*: local replies are gRPC's.
  bool grpc_ = false;
  // The local rate limit this request passed, when it asks for
  // enable_x_ratelimit_headers: the upstream's response gets x-ratelimit-*.
  const router::TokenBucket* x_ratelimit_ = nullptr;
  std::shared_ptr<router::TokenBucket> x_ratelimit_hold_;  // a per-value (wildcard descriptor) bucket
  bool grpc_web_response_ = false;                         // a gRPC answer to a gRPC-Web request: translated
  bool expect_continue_ = false;
  bool response_started_ = false;
  bool headers_ended_stream_ = false;  // the response head carried END_STREAM
  bool response_complete_ = false;
  bool local_reply_ = false;  // answered locally: request body is discarded

  // ---- what telemetry records when the stream ends (record_metrics) ----
  // Heads (and trailers) as HTTP/1.1 text; the bodies are info_'s counts.
  uint64_t request_head_bytes_ = 0;
  uint64_t response_head_bytes_ = 0;
  const upstream::Endpoint* endpoint_ = nullptr;  // the endpoint whose response was relayed
  int grpc_status_ = -1;                          // from grpc-status, -1: none
};

}  // namespace torii::proxy
