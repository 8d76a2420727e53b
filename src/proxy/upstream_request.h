// The upstream half of a stream: picks an endpoint (least request), takes a
// pooled keep-alive connection or opens one (connect timeout from the
// cluster), sends the request head and streams the body, parses the
// response and reports it to the ActiveStream.
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
// Owned by its ActiveStream; destroyed deferred. Worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/header_map.h"
#include "http/http1_parser.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "proxy/active_stream.h"
#include "upstream/cluster_info.h"
#include "upstream/cluster_request.h"
#include "upstream/endpoint_state.h"
#include "upstream/upstream_connection.h"

namespace torii::proxy {

class Worker;

struct UpstreamRequestHead {
  std::string_view method;
  std::string_view path_and_query;           // origin-form target
  const http::HeaderMap* headers = nullptr;  // already mutated for upstream
  bool has_body = false;
  bool chunked = false;      // body framed as chunks upstream
  std::string_view peer_ip;  // downstream client (consistent hash on source IP)
};

class UpstreamRequest final : public net::ConnectionCallbacks,
                              public http::ResponseCallbacks,
                              public net::Deferrable {
 public:
  UpstreamRequest(ActiveStream& stream, Worker& worker, const upstream::ClusterInfo& cluster,
                  UpstreamRequestHead head);
  ~UpstreamRequest() override;

  // Chooses the endpoint, takes or opens a connection and queues the head
  // (flush() sends it, so a body read in the same batch joins it). May
  // report a failure to the stream before returning (connect refused at once).
  void start();
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

  // net::ConnectionCallbacks
  void on_connected() override;
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
  void send_head();
  void on_response_complete();
  // Ends the exchange and tells the stream, which answers locally (before
  // response headers) or resets the downstream (after).
  void fail(UpstreamFailure failure);
  void drop_connection();
  void finish_endpoint();
  bool retry_on_fresh_connection();

  ActiveStream& stream_;
  Worker& worker_;
  const upstream::ClusterInfo& cluster_;
  UpstreamRequestHead head_;
  http::ResponseParser parser_;
  // Traffic policy side (src/upstream): admission, endpoint choice, outlier reports.
  upstream::ClusterRequest cluster_request_;
  std::string set_cookie_;  // generated consistent-hash cookie for the response
  upstream::EndpointState* endpoint_state_ = nullptr;
  const upstream::Endpoint* endpoint_ = nullptr;
  std::unique_ptr<upstream::UpstreamConnection> connection_;
  uint64_t start_ms_ = 0;

  bool reused_connection_ = false;
  bool retried_ = false;
  bool response_bytes_ = false;    // any byte of a response arrived
  bool response_headers_ = false;  // final response head delivered
  bool request_sent_ = false;      // end_request() done
  bool done_ = false;              // completed, failed or aborted
  bool counted_active_ = false;    // endpoint_state_->active_requests holds us
};

}  // namespace torii::proxy
