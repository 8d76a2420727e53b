#include "proxy/downstream_connection.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "proxy/connect_tunnel.h"

#include "http/http1_serializer.h"
#include "net/socket_ops.h"
#include "proxy/active_stream.h"
#include "proxy/header_mutation.h"
#include "proxy/http2_connection.h"
#include "proxy/worker.h"

namespace torii::proxy {

DownstreamConnection::DownstreamConnection(Worker& worker, net::UniqueFd fd, std::string peer_ip,
                                           const std::string& listener_name)
    : worker_(worker),
      connection_(worker.loop(), std::move(fd), *this),
      peer_ip_(std::move(peer_ip)),
      listener_name_(&listener_name),
      idle_timer_(worker.loop(), [this] { on_idle_timeout(); }) {
  if (worker.options().request_headers_timeout_ms != 0)
    headers_timer_ = std::make_unique<net::Timer>(worker.loop(), [this] { on_request_headers_timeout(); });
  connection_.set_high_watermark(worker.options().buffer_limit_bytes);
  connection_.set_linger_timeout_ms(static_cast<uint16_t>(worker.options().delayed_close_timeout_ms));
  if (worker.options().downstream_idle_timeout_ms != 0)
    idle_timer_.arm(worker.options().downstream_idle_timeout_ms);
}

DownstreamConnection::~DownstreamConnection() { release_parser(); }

void DownstreamConnection::acquire_parser() {
  parser_ = std::make_unique<http::RequestParser>(
      *this, http::ParseLimits{worker_.options().max_request_headers_bytes,
                               worker_.options().max_request_headers_count});
  WorkerStats::inc(worker_.mutable_stats().downstream_http1_parsers_active);
}

void DownstreamConnection::release_parser() {
  if (!parser_) return;
  parser_.reset();
  WorkerStats::dec(worker_.mutable_stats().downstream_http1_parsers_active);
}

// ---- reading and parsing ----

void DownstreamConnection::on_data(net::Buffer& input) {
  if (finished_ || closing_) {
    input.clear();
    return;
  }
  if (tunnel_) {
    while (!input.empty() && stream_) {
      std::string_view piece = input.front();
      stream_->on_request_body(piece);
      input.drain(piece.size());
    }
    if (stream_) stream_->flush_upstream();
    input.clear();
    return;
  }
  if (!codec_chosen_ && take_http2(input)) return;
  if (awaiting_response_) {
    // Pipelined bytes wait, parsed later; bound how much we read ahead.
    if (input.size() > worker_.options().buffer_limit_bytes) {
      pipeline_blocked_ = true;
      update_read_enabled();
    }
    return;
  }
  process_input(input);
}

void DownstreamConnection::process_input(net::Buffer& input) {
  uint32_t headers_timeout = worker_.options().request_headers_timeout_ms;
  if (headers_timer_ && !stream_ && !headers_timer_->armed() && !input.empty())
    headers_timer_->arm(headers_timeout);

  if (!parser_ && !input.empty()) acquire_parser();
  in_feed_ = true;
  while (!input.empty() && !awaiting_response_ && !closing_ && !finished_) {
    http::FeedResult r = parser_->feed(input.front());
    input.drain(r.consumed);
    if (r.status == http::FeedResult::Status::Error) {
      in_feed_ = false;
      on_parse_error();
      return;
    }
    if (r.status == http::FeedResult::Status::MessageComplete) {
      awaiting_response_ = true;
      request_complete_ = true;
      if (stream_) stream_->on_request_complete();
    }
  }
  in_feed_ = false;
  if (connect_ && !connect_started_) {
    begin_connect();
    return;
  }
  if (stream_) stream_->flush_upstream();
  if (peer_eof_ && !stream_ && !closing_ && input.empty()) {
    // The client half-closed and what it sent is used up: nothing more can come.
    close_gracefully();
    return;
  }
  if (awaiting_response_ && input.size() > worker_.options().buffer_limit_bytes) {
    pipeline_blocked_ = true;
    update_read_enabled();
  }
  maybe_finish_stream();
}

void DownstreamConnection::on_request_head(http::RequestHead& head) {
  if (headers_timer_) headers_timer_->cancel();
  idle_timer_.cancel();
  WorkerStats& stats = worker_.mutable_stats();
  WorkerStats::inc(stats.downstream_rq_total);
  if (head.http10()) WorkerStats::inc(stats.downstream_rq_http1_0);
  request_complete_ = false;
  response_complete_ = false;
  client_closes_ = !head.keep_alive;
  if (client_closes_ || worker_.draining()) close_after_response_ = true;
  http10_ = head.http10();
  head_request_ = head.method == "HEAD";
  stream_ = std::make_unique<ActiveStream>(*this, worker_, head);
  stream_->start();
}

void DownstreamConnection::on_request_body(std::string_view data) {
  if (stream_) stream_->on_request_body(data);
}

void DownstreamConnection::on_parse_error() {
  WorkerStats& stats = worker_.mutable_stats();
  const http::ParseError error = parser_->error();
  bool too_large = error == http::ParseError::HeadersTooLarge;
  const bool had_stream = stream_ != nullptr;  // it writes its own access-log line
  WorkerStats::inc(too_large ? stats.downstream_rq_too_large_headers : stats.downstream_cx_protocol_error);
  if (stream_ && stream_->response_started()) {
    if (response_complete_) {
      // Answered already (say a 404 while the body was still coming): send
      // that answer, then close.
      close_after_response_ = true;
      finish_stream();
    } else {
      close_now();  // cannot answer twice; the client sees the connection drop
    }
    return;
  }
  if (stream_) {
    stream_->on_downstream_reset();
    worker_.loop().defer_delete(std::move(stream_));
  }
  if (too_large) {
    reply_and_close(LocalReply{431, kHeadersTooLarge, {}}, "http1.headers_too_large", flag::DPE, !had_stream);
  } else if (error == http::ParseError::UnsupportedTransferEncoding) {
    reply_and_close(LocalReply{501, kNotImplemented, {}}, "http1.invalid_transfer_encoding", flag::DPE,
                    !had_stream);
  } else {
    reply_and_close(LocalReply{400, kBadRequest, {}}, "http1.codec_error", flag::DPE, !had_stream);
  }
}

void DownstreamConnection::reply_and_close(const LocalReply& reply, std::string_view details, uint32_t flags,
                                           bool log) {
  if (log) {
    // Envoy logs codec errors too (DPE): a line without request fields.
    StreamInfo info;
    info.start_time_us = Worker::wall_clock_us();
    info.start_ms = info.end_ms = worker_.loop().now_ms();
    info.protocol = http10_ ? "HTTP/1.0" : "HTTP/1.1";
    info.response_code = reply.status;
    info.response_flags = flags;
    info.response_code_details = details;
    info.bytes_sent = reply.body.size();
    info.downstream_remote_address = peer_ip_;
    worker_.log_stream(info, nullptr, worker_.snapshot().get());
  }
  LocalReplyContext context;
  context.server = worker_.options().server_header;
  context.date = worker_.date().now();
  context.close_connection = true;
  write_local_reply(connection_.output(), reply, context);
  worker_.mutable_stats().count_response(reply.status);
  close_gracefully();
}

// ---- HTTP/2 ----

bool DownstreamConnection::take_http2(net::Buffer& input) {
  if (const net::TlsSession* tls = connection_.tls()) {
    codec_chosen_ = true;
    if (tls->negotiated_alpn() != "h2") return false;
  } else {
    // RFC 9113 3.4: the client connection preface. Compare what has come.
    static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    char first[24];
    size_t have = 0;
    iovec iov[4];
    const size_t n = input.peek(iov, 4);
    for (size_t i = 0; i < n && have < sizeof(first); ++i) {
      const size_t take = std::min(iov[i].iov_len, sizeof(first) - have);
      std::memcpy(first + have, iov[i].iov_base, take);
      have += take;
    }
    if (kPreface.substr(0, have) != std::string_view(first, have)) {
      codec_chosen_ = true;
      return false;  // HTTP/1
    }
    if (have < kPreface.size()) return true;  // wait for the rest
    codec_chosen_ = true;
  }
  if (headers_timer_) headers_timer_->cancel();
  idle_timer_.cancel();
  h2_ = std::make_unique<Http2Connection>(worker_, connection_, *this, [this] {
    // The session is over (the connection is closed): hand back to the worker.
    finished_ = true;
    worker_.remove_connection(*this);
  });
  connection_.set_callbacks(*h2_);
  h2_->start();
  return true;
}

// ---- the response, framed as HTTP/1 ----

void DownstreamConnection::encode_100_continue() {
  if (http10_) return;  // HTTP/1.0 knows no interim responses
  connection_.output().append("HTTP/1.1 100 Continue\r\n\r\n");
  connection_.flush();
}

void DownstreamConnection::encode_headers(int status, http::HeaderMap& headers, bool end_stream) {
  if (status == 101) {
    // A granted upgrade: the caller set Connection/Upgrade; what follows is
    // the new protocol's bytes.
    raw_response_ = true;
    http::write_response_head(connection_.output(), status, headers);
    return;
  }
  Http1Framing framing;
  body_allowed_ = !head_request_ && status != 204 && status != 304;
  if (body_allowed_ && !headers.has("content-length")) {
    if (end_stream) {
      headers.add("content-length", "0");
    } else if (http10_) {
      close_after_response_ = true;  // delimited by our close
    } else {
      framing.chunked = chunked_response_ = true;
    }
  }
  framing.close_connection = close_after_response_;
  framing.keep_alive_http10 = http10_ && !close_after_response_;
  add_http1_framing(headers, framing);
  http::write_response_head(connection_.output(), status, headers);
  if (end_stream) on_response_complete();
  // Otherwise no flush: the body in the same upstream read joins the head.
}

void DownstreamConnection::encode_data(std::string_view data, bool end_stream) {
  net::Buffer& out = connection_.output();
  if (raw_response_) {
    out.append(data);
  } else if (!body_allowed_) {
    // HEAD, 204, 304: no body on the wire, whatever the upstream sent.
  } else if (chunked_response_) {
    http::write_chunk(out, data);
    if (end_stream) http::write_last_chunk(out);
  } else {
    out.append(data);
  }
  if (end_stream) {
    on_response_complete();
  } else if (out.size() > worker_.options().buffer_limit_bytes) {
    connection_.flush();  // only a full buffer is written early
  }
}

void DownstreamConnection::encode_trailers(http::HeaderMap& /*trailers*/) {
  // Envoy drops trailers toward HTTP/1 clients unless enable_trailers is on
  // (Istio leaves it off); the body still has to end.
  encode_data({}, true);
}

// ---- finishing a request ----

void DownstreamConnection::on_response_complete() {
  response_complete_ = true;
  connection_.flush();
  maybe_finish_stream();
}

void DownstreamConnection::maybe_finish_stream() {
  // Inside feed() the request may be about to complete in the same call;
  // process_input() comes back here once feed() returns.
  if (in_feed_ || !stream_ || !response_complete_) return;
  // Answered before the request ended: the rest of it cannot be skipped
  // reliably, so this connection carries no further requests.
  if (!request_complete_) close_after_response_ = true;
  finish_stream();
}

void DownstreamConnection::finish_stream() {
  worker_.loop().defer_delete(std::move(stream_));
  // The client said this request is its last ("Connection: close", or
  // HTTP/1.0 without keep-alive), sent it whole, and nothing of its is left
  // unread: it sends nothing more (RFC 9112 §9.6), so there is nothing to
  // linger for.
  // Not a tunnel: its client sends on after the upgrade request.
  const bool client_done = client_closes_ && request_complete_ && !tunnel_ && connection_.input().empty() &&
                           connection_.read_enabled();
  request_complete_ = false;
  response_complete_ = false;
  upstream_blocked_ = false;
  chunked_response_ = false;
  raw_response_ = false;
  body_allowed_ = true;
  connection_.flush();
  if (close_after_response_ || worker_.drain_closes_idle() || (peer_eof_ && connection_.input().empty())) {
    if (client_done) {
      closing_ = true;
      connection_.close_after_flush_without_linger();
    } else {
      close_gracefully();
    }
    return;
  }
  if (worker_.options().downstream_idle_timeout_ms != 0)
    idle_timer_.arm(worker_.options().downstream_idle_timeout_ms);
  if (connection_.above_high_watermark()) {
    waiting_for_drain_ = true;  // resume once the client has read some
    return;
  }
  resume_parsing();
}

void DownstreamConnection::resume_parsing() {
  waiting_for_drain_ = false;
  awaiting_response_ = false;
  pipeline_blocked_ = false;
  update_read_enabled();
  if (connection_.input().empty()) {
    // Idle: the next request's first byte makes a new parser (a paused
    // parser between messages holds nothing the next message needs).
    release_parser();
  } else {
    // A pipelined request is already buffered: parse it next iteration.
    if (parser_) parser_->resume();
    connection_.schedule_read();
  }
}

void DownstreamConnection::reset() { close_now(); }

bool DownstreamConnection::local_address(sockaddr_storage& out) const {
  return net::local_address(connection_.fd(), out);
}

void DownstreamConnection::close_now() {
  if (finished_) return;
  finished_ = true;
  connection_.close();
  if (stream_) {
    stream_->on_downstream_reset();
    worker_.loop().defer_delete(std::move(stream_));
  }
  worker_.remove_connection(*this);
}

void DownstreamConnection::start_connect(TcpTunnelTarget target,
                                         std::shared_ptr<const upstream::ClusterInfo> keep) {
  if (finished_ || connect_) return;
  connect_ =
      std::make_unique<ConnectTunnel>(worker_, connection_, std::move(target), std::move(keep), [this] {
        // The tunnel is over (it closed the connection): hand back to the worker.
        finished_ = true;
        worker_.remove_connection(*this);
      });
  // Inside the parser (the CONNECT head was just parsed): process_input()
  // starts it once feed() returned; later (a DNS answer): now.
  if (!in_feed_) begin_connect();
}

void DownstreamConnection::begin_connect() {
  connect_started_ = true;
  if (headers_timer_) headers_timer_->cancel();
  idle_timer_.cancel();
  tunnel_ = true;
  close_after_response_ = true;
  if (stream_) worker_.loop().defer_delete(std::move(stream_));
  // Bytes after the CONNECT head are still in connection_.input(): the
  // tunnel sends them on once the upstream is up.
  connect_->start();
}

void DownstreamConnection::start_drain(bool graceful_goaway) {
  if (h2_) {
    h2_->start_drain(graceful_goaway);
    return;
  }
  if (connect_started_) return;  // a tunnel: ends by itself or at the drain deadline
  if (!stream_ && !(parser_ && parser_->in_message()) && connection_.output().empty()) {
    // Idle keep-alive connection: nothing in flight, nothing owed.
    close_now();
  } else if (!stream_) {
    close_gracefully();
  } else {
    close_after_response_ = true;
  }
}

void DownstreamConnection::close_gracefully() {
  closing_ = true;
  connection_.close_after_flush();
}

// ---- connection events ----

void DownstreamConnection::on_eof() {
  peer_eof_ = true;
  if (tunnel_) {
    if (stream_) stream_->on_downstream_tunnel_eof();
    return;
  }
  if (stream_) {
    if (!request_complete_) {
      // The client gave up in the middle of its request.
      WorkerStats::inc(worker_.mutable_stats().downstream_rq_rx_reset);
      close_now();
    }
    // Otherwise answer it (a half-closed client may still read), then close.
    return;
  }
  // Pipelined requests still buffered get their answers first.
  if (waiting_for_drain_ && !connection_.input().empty()) return;
  close_gracefully();  // send what is owed (if anything), then close
}

void DownstreamConnection::on_close(net::CloseReason reason, int /*error_no*/) {
  if (finished_) return;
  if (stream_ && reason != net::CloseReason::LocalClose) {
    WorkerStats::inc(worker_.mutable_stats().downstream_rq_rx_reset);
  }
  close_now();
}

void DownstreamConnection::on_output_drained() {
  if (stream_) {
    stream_->on_downstream_drained();
  } else if (waiting_for_drain_) {
    resume_parsing();
  }
}

void DownstreamConnection::set_upstream_blocked(bool blocked) {
  upstream_blocked_ = blocked;
  update_read_enabled();
}

void DownstreamConnection::start_tunnel() {
  tunnel_ = true;
  close_after_response_ = true;
  idle_timer_.cancel();
  pipeline_blocked_ = false;
  update_read_enabled();
  // Bytes the client sent after its upgrade request are already buffered.
  if (!connection_.input().empty()) connection_.schedule_read();
}

void DownstreamConnection::update_read_enabled() {
  connection_.set_read_enabled(!upstream_blocked_ && !pipeline_blocked_);
}

void DownstreamConnection::on_idle_timeout() {
  // Envoy's idle_timeout: no stream active for that long.
  if (!stream_) close_now();
}

void DownstreamConnection::on_request_headers_timeout() {
  if (!stream_ && !closing_)
    reply_and_close(LocalReply{408, kRequestHeaderTimeout, {}}, "request_header_timeout", 0);
}

}  // namespace torii::proxy
