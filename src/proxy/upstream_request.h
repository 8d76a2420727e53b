// The upstream half of a stream: picks an endpoint (least request), gets a
// connection from the worker's pool (a pooled keep-alive one, or it waits in
// the endpoint's pending queue for one: upstream/connection_pool.h), sends
// the request head and streams the body, parses the response and reports it
// to the ActiveStream.
//
// While the request waits in the queue, what the stream sends (head, body,
// last chunk) is held in `pending_output_` (a full buffer's worth blocks
// downstream reading) and goes out when the connection comes.
//
// Retry choice: a *reused* connection can be closed by the upstream at the
// moment we send on it (its idle timeout racing ours). If such a connection
// fails before any response byte arrives and the request has no body (so
// it can be replayed exactly from the head we keep), the request is sent
// once more on a fresh connection. Requests with a body, failures on fresh
// connections and connect failures are not retried here: retry policy
// (Istio's default 2 retries on connect-failure etc.) belongs to the route's
// retry policy, not the pool.
//
// HTTP/2 upstreams (the cluster's protocol, or the client's under
// useClientProtocol): the request is a stream on a multiplexed connection
// (upstream/http2_client.h) instead of a whole connection; the same calls
// drive it, the codec frames it (no chunking), and the response comes back
// through the Http2StreamCallbacks below, trailers included. A websocket
// upgrade always goes over HTTP/1.1 (no RFC 8441 extended CONNECT upstream).
//
// Upgrades: for a websocket request (head.upgrade) a 101 response turns the
// exchange into a byte tunnel: bytes after the 101 head, and everything the
// upstream sends later, go to on_upstream_body as they come; send_body()
// writes raw bytes; the upstream closing ends it (on_upstream_complete).
//
// Owned by whoever drives it (RouterRequest, ShadowRequest); destroyed
// deferred. Worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"
#include "http/http1_parser.h"
#include "net/buffer.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/object_pool.h"
#include "proxy/upstream_callbacks.h"
#include "upstream/cluster_info.h"
#include "upstream/cluster_request.h"
#include "upstream/endpoint_state.h"
#include "upstream/http2_client.h"
#include "upstream/pending_request.h"
#include "upstream/upstream_connection.h"

namespace torii::proxy {

class Worker;

struct UpstreamRequestHead {
  std::string_view method;
  std::string_view path_and_query;           // origin-form target
  const http::HeaderMap* headers = nullptr;  // already mutated for upstream
  bool has_body = false;
  bool chunked = false;           // body framed as chunks upstream
  bool upgrade = false;           // websocket: a 101 answer switches to a tunnel
  std::string_view peer_ip;       // downstream client (consistent hash on source IP)
  bool downstream_http2 = false;  // the client speaks HTTP/2 (useClientProtocol)
};

class UpstreamRequest final : public net::ConnectionCallbacks,
                              public http::ResponseCallbacks,
                              public upstream::PendingRequest,
                              public upstream::Http2StreamCallbacks,
                              public net::Deferrable {
 public:
  // Made and destroyed once per request: new/delete reuse a per-thread block.
  TORII_POOLED_NEW(UpstreamRequest)
  UpstreamRequest(UpstreamCallbacks& callbacks, Worker& worker, const upstream::ClusterInfo& cluster,
                  UpstreamRequestHead head);
  ~UpstreamRequest() override;

  // Chooses the endpoint, takes a pooled connection or waits for one, and
  // queues the head (flush() sends it, so a body read in the same batch
  // joins it). May report a failure to the stream before returning (no
  // healthy endpoint, circuit breaker overflow). A request that had to wait
  // tells the stream on_upstream_ready() when its connection comes.
  // Endpoints listed in `avoid` (indices into the cluster's endpoints) are
  // re-picked up to `max_picks` times in all (Envoy's previous_hosts
  // predicate with host_selection_retry_max_attempts).
  void start(const std::vector<size_t>* avoid = nullptr, uint32_t max_picks = 1);
  // Index of the chosen endpoint in cluster.endpoints (after start()).
  size_t endpoint_index() const { return endpoint_index_; }
  // The chosen endpoint (after start(); null if none was).
  const upstream::Endpoint* endpoint() const { return endpoint_; }
  bool tunnel() const { return tunnel_; }
  // Tunnel only: the client finished sending; send what is queued, then
  // close the upstream connection (which ends the exchange).
  void close_tunnel();
  // Queues body bytes (re-framed as a chunk for a chunked request); written
  // early only when a full buffer's worth is queued.
  void send_body(std::string_view data);
  // Queues the last chunk (chunked requests) and flushes.
  void end_request();
  // Writes what is queued; a full upstream buffer blocks downstream reading
  // until on_output_drained().
  void flush();
  // Response back-pressure: stop/resume reading from the upstream.
  void pause_reading(bool paused);
  // The stream no longer wants this exchange: close, never pool.
  void abort();

  // upstream::PendingRequest
  void on_pool_ready(std::unique_ptr<upstream::UpstreamConnection> connection, bool fresh) override;
  void on_pool_ready(upstream::Http2ClientConnection& connection, bool fresh) override;
  void on_pool_failure(upstream::PoolFailure failure, std::string_view transport_failure_reason) override;

  // upstream::Http2StreamCallbacks
  void on_h2_informational(http::ResponseHead& head) override;
  void on_h2_headers(http::ResponseHead& head, bool end_stream) override;
  void on_h2_data(std::string_view data) override;
  void on_h2_complete(http::HeaderMap* trailers) override;
  void on_h2_reset(upstream::StreamResetReason reason) override;
  void on_h2_flush() override;
  void on_h2_send_blocked(bool blocked) override;

  // net::ConnectionCallbacks
  void on_data(net::Buffer& input) override;
  void on_eof() override;
  void on_close(net::CloseReason reason, int error_no) override;
  void on_output_drained() override;

  // http::ResponseCallbacks
  void on_informational(http::ResponseHead& head) override;
  void on_response_head(http::ResponseHead& head) override;
  void on_response_body(std::string_view data) override;

 private:
  void connect_and_send(bool allow_reuse);
  // HTTP/2: a stream on `connection`, with what was held while queued.
  void open_stream(upstream::Http2ClientConnection& connection);
  void send_head();
  // Where request bytes go: the connection, or the hold while queued.
  net::Buffer& output() { return connection_ ? connection_->connection().output() : pending_output_; }
  // The SNI for TLS origination (empty without it).
  std::string_view origination_sni() const;
  void on_response_complete();
  // The final head to the stream (HTTP/1 parser or HTTP/2 stream).
  void deliver_head(http::ResponseHead& head, bool end_stream);
  // The connection closed (or sent EOF) without a complete response: a
  // fresh connection if the request may be replayed, else a failure.
  void connection_ended();
  // Ends the exchange and tells the stream, which answers locally (before
  // response headers) or resets the downstream (after).
  void fail(UpstreamFailure failure);
  void drop_connection();
  void finish_endpoint();
  bool retry_on_fresh_connection();

  UpstreamCallbacks& stream_;
  Worker& worker_;
  const upstream::ClusterInfo& cluster_;
  UpstreamRequestHead head_;
  http::ResponseParser parser_;
  // Traffic policy side (src/upstream): admission, endpoint choice, outlier reports.
  upstream::ClusterRequest cluster_request_;
  std::string set_cookie_;  // generated consistent-hash cookie for the response
  upstream::EndpointState* endpoint_state_ = nullptr;
  const upstream::Endpoint* endpoint_ = nullptr;
  size_t endpoint_index_ = 0;
  std::unique_ptr<upstream::UpstreamConnection> connection_;
  upstream::Http2ClientStream* stream_h2_ = nullptr;  // HTTP/2: our stream, owned by its connection
  net::Buffer pending_output_;                        // request bytes held while queued for a connection
  uint64_t start_ms_ = 0;

  bool http2_ = false;  // HTTP/2 to the upstream
  bool reused_connection_ = false;
  bool retried_ = false;
  bool response_bytes_ = false;    // any byte of a response arrived
  bool response_headers_ = false;  // final response head delivered
  bool request_sent_ = false;      // end_request() done
  bool done_ = false;              // completed, failed or aborted
  bool counted_active_ = false;    // endpoint_state_->active_requests holds us
  bool tunnel_ = false;            // 101 granted: bytes pass through unparsed
  bool tunnel_closing_ = false;    // close_tunnel() called
  bool reading_paused_ = false;    // pause_reading(true): applies to a connection that comes later
  bool blocked_queued_ = false;    // told the stream to stop sending while queued
};

}  // namespace torii::proxy
