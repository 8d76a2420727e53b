#include "proxy/upstream_request.h"

#include <algorithm>

#include "http/http1_serializer.h"
#include "proxy/worker.h"
#include "upstream/request_hash.h"
#include "upstream/shared_cluster_state.h"

namespace torii::proxy {

UpstreamRequest::UpstreamRequest(UpstreamCallbacks& stream, Worker& worker,
                                 const upstream::ClusterInfo& cluster, UpstreamRequestHead head)
    : stream_(stream),
      worker_(worker),
      cluster_(cluster),
      head_(head),
      parser_(*this, http::ParseLimits{worker.options().max_response_headers_bytes,
                                       worker.options().max_request_headers_count}) {
  parser_.expect_response_to(head_.method == "HEAD");
  parser_.accept_switching_protocols(head_.upgrade);
}

UpstreamRequest::~UpstreamRequest() {
  if (queued()) worker_.clusters().pool().cancel(*this);
  finish_endpoint();
  drop_connection();
}

void UpstreamRequest::start(const std::vector<size_t>* avoid, uint32_t max_picks) {
  WorkerStats& stats = worker_.mutable_stats();
  WorkerStats::inc(stats.upstream_rq_total);
  upstream::ClusterState& state = worker_.clusters().cluster(cluster_);
  // DestinationRule traffic policy: hash key, health, balancer.
  std::optional<uint64_t> hash;
  if (cluster_.policy->hash.kind != upstream::HashPolicy::Kind::None) {
    std::string nonce = std::to_string(worker_.clusters().random().next());
    hash = upstream::request_hash(
        cluster_.policy->hash,
        upstream::RequestHashInput{head_.headers, head_.path_and_query, head_.peer_ip, nonce}, &set_cookie_);
  }
  if (cluster_request_.start(state, cluster_, hash, worker_.clusters().random(), worker_.loop().now_ms(),
                             avoid, max_picks) == upstream::ClusterRequest::Admission::NoHealthyUpstream) {
    fail(UpstreamFailure::NoHealthyUpstream);
    return;
  }
  endpoint_index_ = cluster_request_.endpoint_index();
  endpoint_state_ = &cluster_request_.endpoint_state();
  endpoint_ = &cluster_.endpoints[cluster_request_.endpoint_index()];
  ++endpoint_state_->active_requests;
  counted_active_ = true;
  start_ms_ = worker_.loop().now_ms();
  const upstream::UpstreamProtocol protocol = cluster_.policy->protocol;
  http2_ = !head_.upgrade && (protocol == upstream::UpstreamProtocol::Http2 ||
                              (protocol == upstream::UpstreamProtocol::Downstream && head_.downstream_http2));
  connect_and_send(/*allow_reuse=*/true);
}

void UpstreamRequest::connect_and_send(bool allow_reuse) {
  // Circuit breakers (DestinationRule connectionPool) apply in the pool:
  // http1MaxPendingRequests and tcp.maxConnections there, http2MaxRequests
  // when the connection is handed over (ClusterRequest::attach).
  using Status = upstream::ConnectionPool::StreamStatus;
  if (http2_) {
    upstream::Http2ClientConnection* connection = nullptr;
    switch (
        worker_.clusters().pool().new_http2_stream(cluster_request_, *this, origination_sni(), connection)) {
      case Status::Ready:
        open_stream(*connection);
        return;
      case Status::Queued:
        return;  // the body waits in pending_output_; the head is made when the stream opens
      case Status::Overflow:
        fail(UpstreamFailure::Overflow);
        return;
    }
    return;
  }
  switch (worker_.clusters().pool().new_stream(cluster_request_, *this, origination_sni(), *this, allow_reuse,
                                               connection_)) {
    case Status::Ready:
      reused_connection_ = true;
      WorkerStats::inc(worker_.mutable_stats().upstream_cx_reused);
      connection_->connection().set_high_watermark(worker_.options().buffer_limit_bytes);
      send_head();
      return;
    case Status::Queued:
      send_head();  // held until the connection comes
      return;
    case Status::Overflow:
      fail(UpstreamFailure::Overflow);
      return;
  }
}

void UpstreamRequest::on_pool_ready(std::unique_ptr<upstream::UpstreamConnection> connection, bool fresh) {
  connection_ = std::move(connection);
  connection_->unpark(*this);
  reused_connection_ = !fresh;
  if (fresh) {
    cluster_request_.report_connection(upstream::OutlierDetector::Result::ConnectSuccess,
                                       worker_.loop().now_ms());
  } else {
    WorkerStats::inc(worker_.mutable_stats().upstream_cx_reused);
  }
  net::Connection& c = connection_->connection();
  c.set_high_watermark(worker_.options().buffer_limit_bytes);
  if (reading_paused_) c.set_read_enabled(false);
  c.output().move_from(pending_output_);
  // Not inside a downstream read (a connection event or timer): nobody else flushes.
  c.flush();
  if (blocked_queued_) {
    blocked_queued_ = false;
    // Above the watermark, on_output_drained() unblocks later.
    if (!c.above_high_watermark()) stream_.set_upstream_blocked(false);
  }
  stream_.on_upstream_ready();
}

void UpstreamRequest::on_pool_ready(upstream::Http2ClientConnection& connection, bool fresh) {
  if (fresh) {
    cluster_request_.report_connection(upstream::OutlierDetector::Result::ConnectSuccess,
                                       worker_.loop().now_ms());
  }
  open_stream(connection);
  if (!done_) stream_.on_upstream_ready();
}

void UpstreamRequest::open_stream(upstream::Http2ClientConnection& connection) {
  upstream::Http2RequestHead h;
  h.method = head_.method;
  h.path = head_.path_and_query;
  const std::string_view* host = head_.headers->get("host");
  if (host != nullptr) h.authority = *host;
  h.tls = cluster_.policy->tls.enabled;
  h.headers = head_.headers;
  h.end_stream = !head_.has_body;
  stream_h2_ = connection.new_stream(*this, h);
  if (stream_h2_ == nullptr) {
    fail(UpstreamFailure::ConnectionTermination);
    return;
  }
  if (reading_paused_) stream_h2_->set_paused(true);
  // What the client sent while we waited.
  while (!pending_output_.empty()) {
    std::string_view piece = pending_output_.front();
    const size_t n = piece.size();
    stream_h2_->send_data(piece);
    pending_output_.drain(n);
  }
  if (request_sent_ && head_.has_body) stream_h2_->end_stream();
  stream_h2_->flush();
  if (blocked_queued_) {
    blocked_queued_ = false;
    // Still above the limit: on_h2_send_blocked(false) unblocks later.
    if (stream_h2_ != nullptr && !stream_h2_->above_limit()) stream_.set_upstream_blocked(false);
  }
}

void UpstreamRequest::on_pool_failure(upstream::PoolFailure failure,
                                      std::string_view transport_failure_reason) {
  switch (failure) {
    case upstream::PoolFailure::Overflow:
      fail(UpstreamFailure::Overflow);
      return;
    case upstream::PoolFailure::ConnectFailed:
    case upstream::PoolFailure::ConnectTimeout:
      if (!transport_failure_reason.empty()) stream_.on_transport_failure(transport_failure_reason);
      cluster_request_.report_connection(failure == upstream::PoolFailure::ConnectTimeout
                                             ? upstream::OutlierDetector::Result::Timeout
                                             : upstream::OutlierDetector::Result::ConnectFailed,
                                         worker_.loop().now_ms());
      fail(UpstreamFailure::ConnectionFailure);
      return;
  }
}

std::string_view UpstreamRequest::origination_sni() const {
  if (!cluster_.policy->tls.enabled) return {};
  if (!cluster_.policy->tls.sni.empty()) return cluster_.policy->tls.sni;
  // Istio's auto_sni: the request's Host, without its port.
  const std::string_view* host = head_.headers != nullptr ? head_.headers->get("host") : nullptr;
  return host == nullptr ? std::string_view() : router::strip_port(*host);
}

void UpstreamRequest::send_head() {
  // Queued, not written: the stream flushes once the downstream bytes at
  // hand (head and any body) are processed, so they leave in one write.
  http::write_request_head(output(), head_.method, head_.path_and_query, *head_.headers);
}

void UpstreamRequest::flush() {
  if (done_) return;
  if (stream_h2_ != nullptr) {
    stream_h2_->flush();  // over the limit, the stream says so (on_h2_send_blocked)
    return;
  }
  if (!connection_) {
    // Waiting for a connection: hold at most a buffer's worth.
    if (queued() && !blocked_queued_ && pending_output_.size() > worker_.options().buffer_limit_bytes) {
      blocked_queued_ = true;
      stream_.set_upstream_blocked(true);
    }
    return;
  }
  net::Connection& c = connection_->connection();
  c.flush();
  if (c.above_high_watermark()) stream_.set_upstream_blocked(true);
}

void UpstreamRequest::send_body(std::string_view data) {
  if (done_ || data.empty()) return;
  if (http2_) {
    if (stream_h2_ != nullptr) {
      stream_h2_->send_data(data);
    } else if (queued()) {
      pending_output_.append(data);
      if (pending_output_.size() > worker_.options().buffer_limit_bytes) flush();
    }
    return;
  }
  if (!connection_ && !queued()) return;
  net::Buffer& out = output();
  if (head_.chunked) {
    http::write_chunk(out, data);
  } else {
    out.append(data);
  }
  if (out.size() > worker_.options().buffer_limit_bytes) flush();
}

void UpstreamRequest::end_request() {
  request_sent_ = true;
  if (done_) return;
  if (http2_) {
    if (stream_h2_ != nullptr && head_.has_body) stream_h2_->end_stream();
    flush();
    return;
  }
  if (!connection_ && !queued()) return;
  if (head_.chunked) http::write_last_chunk(output());
  flush();
}

void UpstreamRequest::pause_reading(bool paused) {
  reading_paused_ = paused;
  if (stream_h2_ != nullptr) stream_h2_->set_paused(paused);
  if (connection_) connection_->connection().set_read_enabled(!paused);
}

void UpstreamRequest::close_tunnel() {
  if (done_ || !connection_ || !tunnel_) return;
  tunnel_closing_ = true;
  connection_->connection().close_after_flush();
}

void UpstreamRequest::abort() {
  if (done_) return;
  done_ = true;
  if (queued()) worker_.clusters().pool().cancel(*this);
  drop_connection();
  finish_endpoint();
}

void UpstreamRequest::on_data(net::Buffer& input) {
  if (done_) {
    input.clear();
    return;
  }
  response_bytes_ = true;
  while (!input.empty() && !done_ && !tunnel_) {
    http::FeedResult r = parser_.feed(input.front());
    input.drain(r.consumed);
    if (done_) return;  // the driver gave up on this exchange inside a callback
    if (r.status == http::FeedResult::Status::Error) {
      fail(UpstreamFailure::ProtocolError);
      return;
    }
    if (r.status == http::FeedResult::Status::MessageComplete) {
      if (parser_.switched_protocols()) {
        tunnel_ = true;  // what follows is the upgraded protocol
        break;
      }
      on_response_complete();
      return;
    }
  }
  if (tunnel_ && !done_) {
    while (!input.empty() && !done_) {
      std::string_view piece = input.front();
      const size_t n = piece.size();
      stream_.on_upstream_body(piece);
      input.drain(n);
    }
  }
  if (!done_) stream_.flush_downstream();
}

void UpstreamRequest::on_eof() {
  if (done_) return;
  if (tunnel_) {
    // The upstream ended the tunnel; the client gets what was sent before.
    done_ = true;
    finish_endpoint();
    drop_connection();
    stream_.on_upstream_complete();
    return;
  }
  http::FeedResult r = parser_.finish();
  if (r.status == http::FeedResult::Status::MessageComplete) {
    on_response_complete();
    return;
  }
  connection_ended();
}

void UpstreamRequest::on_close(net::CloseReason reason, int /*error_no*/) {
  if (done_) return;
  // The pool hands over connected connections only: connect failures and
  // timeouts went to it (ConnectionPool::on_connect_failed), not here.
  if (tunnel_ && (tunnel_closing_ || reason == net::CloseReason::LocalClose)) {
    done_ = true;
    finish_endpoint();
    stream_.on_upstream_complete();
    return;
  }
  connection_ended();
}

void UpstreamRequest::connection_ended() {
  if (!response_headers_ && retry_on_fresh_connection()) return;
  if (!response_headers_) {
    WorkerStats::inc(worker_.mutable_stats().upstream_rq_reset_before_response);
    cluster_request_.report_connection(upstream::OutlierDetector::Result::ConnectFailed,
                                       worker_.loop().now_ms());
  }
  fail(UpstreamFailure::ConnectionTermination);
}

void UpstreamRequest::on_output_drained() { stream_.set_upstream_blocked(false); }

void UpstreamRequest::on_h2_informational(http::ResponseHead& head) { on_informational(head); }

void UpstreamRequest::on_h2_headers(http::ResponseHead& head, bool end_stream) {
  response_bytes_ = true;
  deliver_head(head, end_stream);
}

void UpstreamRequest::on_h2_data(std::string_view data) { on_response_body(data); }

void UpstreamRequest::on_h2_complete(http::HeaderMap* trailers) {
  stream_h2_ = nullptr;  // over: the connection forgets it
  if (done_) return;
  done_ = true;
  WorkerStats::inc(worker_.mutable_stats().upstream_rq_completed);
  finish_endpoint();
  if (trailers != nullptr) {
    stream_.on_upstream_trailers(*trailers);
  } else {
    stream_.on_upstream_complete();
  }
}

void UpstreamRequest::on_h2_reset(upstream::StreamResetReason reason) {
  stream_h2_ = nullptr;
  if (done_) return;
  UpstreamFailure failure = UpstreamFailure::ConnectionTermination;
  switch (reason) {
    case upstream::StreamResetReason::RemoteReset:
      failure = UpstreamFailure::RemoteReset;
      break;
    case upstream::StreamResetReason::RefusedStream:
      failure = UpstreamFailure::RefusedStream;
      break;
    case upstream::StreamResetReason::ConnectionTermination:
      failure = UpstreamFailure::ConnectionTermination;
      break;
    case upstream::StreamResetReason::ProtocolError:
      failure = UpstreamFailure::ProtocolError;
      break;
  }
  if (!response_headers_) {
    WorkerStats::inc(worker_.mutable_stats().upstream_rq_reset_before_response);
    // A stream the server refused says nothing about the host's health.
    if (failure != UpstreamFailure::RefusedStream)
      cluster_request_.report_connection(upstream::OutlierDetector::Result::ConnectFailed,
                                         worker_.loop().now_ms());
  }
  fail(failure);
}

void UpstreamRequest::on_h2_flush() {
  if (!done_) stream_.flush_downstream();
}

void UpstreamRequest::on_h2_send_blocked(bool blocked) {
  if (!done_) stream_.set_upstream_blocked(blocked);
}

void UpstreamRequest::on_informational(http::ResponseHead& head) {
  if (!done_) stream_.on_upstream_informational(head);
}

void UpstreamRequest::on_response_head(http::ResponseHead& head) { deliver_head(head, false); }

void UpstreamRequest::deliver_head(http::ResponseHead& head, bool end_stream) {
  if (done_) return;
  response_headers_ = true;
  cluster_request_.report_status(head.status, worker_.loop().now_ms());
  if (!set_cookie_.empty()) head.headers.add("set-cookie", set_cookie_);
  stream_.on_upstream_headers(head, worker_.loop().now_ms() - start_ms_, end_stream);
}

void UpstreamRequest::on_response_body(std::string_view data) {
  // The driver may have abandoned this response (a retry) in on_upstream_headers.
  if (!done_) stream_.on_upstream_body(data);
}

void UpstreamRequest::on_response_complete() {
  done_ = true;
  WorkerStats::inc(worker_.mutable_stats().upstream_rq_completed);
  connection_->count_request_served();
  net::Connection& c = connection_->connection();
  // Reusable only after a clean, complete exchange: the whole request went
  // out, the upstream wants keep-alive and sent nothing beyond the response.
  bool reusable = parser_.keep_alive() && request_sent_ && c.is_open() && !c.peer_closed() &&
                  c.input().empty() && c.output().empty();
  finish_endpoint();
  if (reusable) {
    c.set_read_enabled(true);
    worker_.clusters().pool().release(std::move(connection_), cluster_);
  } else {
    drop_connection();
  }
  stream_.on_upstream_complete();
}

void UpstreamRequest::fail(UpstreamFailure failure) {
  done_ = true;
  if (queued()) worker_.clusters().pool().cancel(*this);
  drop_connection();
  finish_endpoint();
  stream_.on_upstream_failure(failure);
}

bool UpstreamRequest::retry_on_fresh_connection() {
  if (retried_ || !reused_connection_ || response_bytes_ || head_.has_body) return false;
  retried_ = true;
  drop_connection();
  connect_and_send(/*allow_reuse=*/false);
  flush();  // not inside a downstream read: nobody else will
  return true;
}

void UpstreamRequest::drop_connection() {
  // An HTTP/2 stream is reset (its connection stays for the others).
  if (stream_h2_ != nullptr) {
    upstream::Http2ClientStream* stream = stream_h2_;
    stream_h2_ = nullptr;
    stream->reset();
  }
  // The pool frees it later (we may be inside its own callback) and may
  // open another in its place for requests waiting on the endpoint.
  if (connection_) worker_.clusters().pool().close(std::move(connection_));
}

void UpstreamRequest::finish_endpoint() {
  cluster_request_.finish();
  if (!counted_active_) return;
  counted_active_ = false;
  --endpoint_state_->active_requests;
}

}  // namespace torii::proxy
