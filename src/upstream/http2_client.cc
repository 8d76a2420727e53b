#include "upstream/http2_client.h"

#include <nghttp2/nghttp2.h>

#include <strings.h>
#include <algorithm>
#include <charconv>
#include <cstring>

#include "http/http2_fields.h"
#include "http/nghttp2_memory.h"
#include "upstream/connection_pool.h"
#include "upstream/upstream_connection.h"

namespace torii::upstream {

namespace {

// Never sent: RFC 9113 8.2.2 fields, `host` (it becomes :authority),
// `http2-settings`, and `te` (sent only as `te: trailers`, below).
bool skipped_request_field(std::string_view name) {
  return http::is_http2_connection_specific(name) || name == "te" || name == "host" ||
         name == "http2-settings";
}

// `te` lists `trailers` (Envoy's sanitizeTE: a token, any case).
bool has_trailers_token(std::string_view value) {
  bool found = false;
  http::for_each_token(value, [&found](std::string_view token) {
    found = token.size() == 8 && strncasecmp(token.data(), "trailers", 8) == 0;
    return !found;
  });
  return found;
}

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void bump(std::atomic<uint64_t>* counter) {
  if (counter != nullptr) counter->fetch_add(1, std::memory_order_relaxed);
}
void drop(std::atomic<uint64_t>* counter) {
  if (counter != nullptr) counter->fetch_sub(1, std::memory_order_relaxed);
}

Http2ClientStream* stream_of(nghttp2_session* session, int32_t id) {
  return static_cast<Http2ClientStream*>(nghttp2_session_get_stream_user_data(session, id));
}

}  // namespace

// ---- nghttp2's C callbacks ----

struct Http2ClientStream::Callbacks {
  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Http2ClientStream* s = stream_of(session, frame->hd.stream_id);
    if (s == nullptr) return 0;
    if (s->headers_done_) {
      s->in_trailers_ = true;
      s->trailers_.clear();
    } else {
      s->head_.clear();  // a final head after 1xx ones
    }
    s->header_bytes_ = 0;
    return 0;
  }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name_data,
                       size_t name_len, const uint8_t* value_data, size_t value_len, uint8_t /*flags*/,
                       void*) {
    Http2ClientStream* s = stream_of(session, frame->hd.stream_id);
    if (s == nullptr || s->too_large_) return 0;
    std::string_view name(reinterpret_cast<const char*>(name_data), name_len);
    std::string_view value(reinterpret_cast<const char*>(value_data), value_len);
    const Http2ClientSettings& limits = s->connection_.settings_;
    s->header_bytes_ += name.size() + value.size();
    const size_t count = s->in_trailers_ ? s->trailers_.size() : s->head_.headers.size();
    if (s->header_bytes_ > limits.max_response_header_bytes || count >= limits.max_response_headers) {
      s->too_large_ = true;
      // A stream error: nghttp2 resets the stream (PROTOCOL_ERROR).
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (s->in_trailers_) {
      s->trailers_.add_lower(name, value);
      return 0;
    }
    if (!name.empty() && name.front() == ':') {
      if (name == ":status") {
        int status = 0;
        std::from_chars(value.data(), value.data() + value.size(), status);
        s->head_.status = status;
      }
      return 0;
    }
    if (name == "content-length") {
      uint64_t length = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec == std::errc() && end == value.data() + value.size()) {
        s->head_.has_content_length = true;
        s->head_.content_length = length;
      }
    }
    s->head_.headers.add_lower(name, value);
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* c = static_cast<Http2ClientConnection*>(user);
    switch (frame->hd.type) {
      case NGHTTP2_SETTINGS:
        // The server's stream limit may have changed our capacity.
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) c->after_stream_change();
        return 0;
      case NGHTTP2_GOAWAY:
        // No new streams; those above last_stream_id are closed by nghttp2
        // with REFUSED_STREAM (not processed: safe to retry).
        c->goaway_ = true;
        bump(c->counters_.goaway_received);
        c->drain();
        return 0;
      case NGHTTP2_RST_STREAM:
        if (Http2ClientStream* s = stream_of(session, frame->hd.stream_id)) {
          s->remote_reset_ = true;
          s->remote_error_ = frame->rst_stream.error_code;
        }
        return 0;
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA:
        break;
      default:
        return 0;
    }
    Http2ClientStream* s = stream_of(session, frame->hd.stream_id);
    if (s == nullptr || s->callbacks_ == nullptr) return 0;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !s->in_trailers_) {
      c->touch(*s);
      if (s->head_.status >= 100 && s->head_.status < 200) {
        s->callbacks_->on_h2_informational(s->head_);
        return 0;
      }
      s->headers_done_ = true;
      s->callbacks_->on_h2_headers(s->head_, end_stream);
      if (s->callbacks_ == nullptr) return 0;  // the request gave up on it
    }
    if (end_stream) {
      c->touch(*s);
      http::HeaderMap* trailers = s->in_trailers_ ? &s->trailers_ : nullptr;
      if (trailers != nullptr) bump(c->counters_.trailers);
      Http2StreamCallbacks* callbacks = s->callbacks_;
      s->callbacks_ = nullptr;
      // A response that ends before the request body went out: the rest of
      // the request is not wanted (RFC 9113 8.1); without the RST the
      // stream would wait on a window forever, holding its slot.
      if (nghttp2_session_get_stream_local_close(session, s->id_) == 0) {
        s->body_.clear();
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id_, NGHTTP2_NO_ERROR);
      }
      callbacks->on_h2_complete(trailers);
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t /*flags*/, int32_t stream_id,
                           const uint8_t* data, size_t len, void* user) {
    auto* c = static_cast<Http2ClientConnection*>(user);
    // The connection window is acknowledged at once: one paused stream never
    // stalls the others.
    nghttp2_session_consume_connection(session, len);
    Http2ClientStream* s = stream_of(session, stream_id);
    if (s == nullptr || s->callbacks_ == nullptr) {
      if (s != nullptr) nghttp2_session_consume_stream(session, stream_id, len);
      return 0;
    }
    c->touch(*s);
    s->callbacks_->on_h2_data(std::string_view(reinterpret_cast<const char*>(data), len));
    if (s->paused_) {
      s->unconsumed_ += len;
    } else {
      nghttp2_session_consume_stream(session, stream_id, len);
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, int32_t stream_id, uint32_t error_code, void* user) {
    Http2ClientStream* s = stream_of(session, stream_id);
    if (s != nullptr) static_cast<Http2ClientConnection*>(user)->stream_closed(*s, error_code);
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_RST_STREAM)
      bump(static_cast<Http2ClientConnection*>(user)->counters_.tx_reset);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void*) {
    auto* s = static_cast<Http2ClientStream*>(source->ptr);
    size_t n = 0;
    while (n < length && !s->body_.empty()) {
      std::string_view piece = s->body_.front();
      const size_t take = std::min(piece.size(), length - n);
      std::memcpy(buf + n, piece.data(), take);
      s->body_.drain(take);
      n += take;
    }
    if (s->blocked_ && !s->above_limit()) {
      s->blocked_ = false;
      s->connection_.unblocked_.push_back(s);
    }
    if (s->body_.empty()) {
      if (s->end_) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
      } else if (n == 0) {
        s->deferred_ = true;
        return NGHTTP2_ERR_DEFERRED;
      }
    }
    return static_cast<ssize_t>(n);
  }
};

// ---- stream ----

bool Http2ClientStream::above_limit() const {
  return body_.size() > connection_.settings_.buffer_limit_bytes;
}

void Http2ClientStream::send_data(std::string_view data) {
  if (callbacks_ == nullptr || end_ || data.empty()) return;
  body_.append(data);
  connection_.resume(*this);
  if (!blocked_ && above_limit()) {
    blocked_ = true;
    callbacks_->on_h2_send_blocked(true);
  }
}

void Http2ClientStream::end_stream() {
  if (end_) return;
  end_ = true;
  if (callbacks_ != nullptr) connection_.resume(*this);
}

void Http2ClientStream::flush() { connection_.send_pending(); }

void Http2ClientStream::set_paused(bool paused) {
  paused_ = paused;
  if (!paused && unconsumed_ != 0) {
    connection_.consume(*this, unconsumed_);
    unconsumed_ = 0;
  }
}

void Http2ClientStream::reset() {
  if (callbacks_ == nullptr) return;
  callbacks_ = nullptr;
  if (connection_.closed_) return;
  nghttp2_submit_rst_stream(connection_.session_, NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
  connection_.send_pending();
}

// ---- connection ----

Http2ClientConnection::Http2ClientConnection(ConnectionPool& pool,
                                             std::unique_ptr<UpstreamConnection> connection,
                                             const Http2ClientSettings& settings,
                                             Http2ClientCounters counters)
    : pool_(pool),
      connection_(std::move(connection)),
      settings_(settings),
      counters_(counters),
      idle_timer_(pool.loop(), [this] { on_idle_timer(); }),
      duration_timer_(pool.loop(), [this] { on_duration_timer(); }),
      offer_timer_(pool.loop(), [this] {
        if (!closed_) pool_.serve_http2(*this, false);
      }) {
  using C = Http2ClientStream::Callbacks;
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &C::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &C::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &C::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &C::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &C::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &C::on_frame_send);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  // Closed streams are forgotten at once, as Envoy's codec does (nothing
  // here uses the priority tree nghttp2 would keep them in).
  nghttp2_option_set_no_closed_streams(option, 1);
  // Until the server's SETTINGS say otherwise, our own limit applies (the
  // pool counts on it), not nghttp2's guess of 100.
  nghttp2_option_set_peer_max_concurrent_streams(option, settings_.max_concurrent_streams);
  nghttp2_option_set_max_outbound_ack(option, 1000);
  nghttp2_option_set_max_settings(option, 32);
  nghttp2_session_client_new3(&session_, callbacks, this, option, http::nghttp2_pooled_memory());
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  const nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.stream_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings_.max_response_header_bytes},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, sizeof(entries) / sizeof(entries[0]));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(settings_.connection_window_bytes));
  net::Connection& c = connection_->connection();
  c.set_callbacks(*this);
  c.set_high_watermark(settings_.buffer_limit_bytes);
  c.set_read_enabled(true);
}

void Http2ClientConnection::start() {
  if (settings_.max_duration_ms > 0) duration_timer_.arm(static_cast<uint64_t>(settings_.max_duration_ms));
  send_pending();
  update_idle_timer();
  // Bytes that came with the connection's last event (a SETTINGS frame).
  net::Connection& c = connection_->connection();
  if (!closed_ && !c.input().empty()) on_data(c.input());
}

Http2ClientConnection::~Http2ClientConnection() {
  for (auto& [id, stream] : streams_) nghttp2_session_set_stream_user_data(session_, id, nullptr);
  nghttp2_session_del(session_);
}

EndpointState& Http2ClientConnection::endpoint() { return connection_->endpoint(); }

uint32_t Http2ClientConnection::capacity() const {
  if (draining_ || closed_) return 0;
  uint64_t limit = std::min<uint64_t>(
      settings_.max_concurrent_streams,
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
  if (settings_.max_requests_per_connection != 0) {
    const uint64_t left = settings_.max_requests_per_connection > streams_opened_
                              ? settings_.max_requests_per_connection - streams_opened_
                              : 0;
    limit = std::min(limit, left + streams_.size());
  }
  return limit > streams_.size()
             ? static_cast<uint32_t>(std::min<uint64_t>(limit - streams_.size(), UINT32_MAX))
             : 0;
}

Http2ClientStream* Http2ClientConnection::new_stream(Http2StreamCallbacks& callbacks,
                                                     const Http2RequestHead& head) {
  if (closed_) return nullptr;
  auto stream = std::make_unique<Http2ClientStream>(*this, callbacks);
  // Names must be lower case on HTTP/2; an HTTP/1 client's are as it wrote
  // them. Lower-cased copies live in `names` until submit copies them.
  std::vector<nghttp2_nv> nva;
  std::vector<std::string> names;
  const http::HeaderMap& headers = *head.headers;
  names.reserve(headers.size());  // never reallocates: the views into it stay valid
  nva.reserve(headers.size() + 4);
  nva.push_back(http::http2_field(":method", head.method));
  nva.push_back(http::http2_field(":scheme", head.tls ? "https" : "http"));
  nva.push_back(http::http2_field(":authority", head.authority));
  nva.push_back(http::http2_field(":path", head.path));
  for (const http::HeaderMap::Entry& e : headers.entries()) {
    std::string_view name = e.name;
    if (has_upper(name)) {
      std::string& lower = names.emplace_back(name);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch; });
      name = lower;
    }
    if (skipped_request_field(name)) {
      if (name == "te" && has_trailers_token(e.value)) nva.push_back(http::http2_field("te", "trailers"));
      continue;
    }
    nva.push_back(http::http2_field(name, e.value));
  }
  nghttp2_data_provider provider;
  provider.source.ptr = stream.get();
  provider.read_callback = &Http2ClientStream::Callbacks::read_body;
  stream->end_ = head.end_stream;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                            head.end_stream ? nullptr : &provider, stream.get());
  if (id < 0) return nullptr;
  stream->id_ = id;
  ++streams_opened_;
  bump(counters_.streams_active);
  Http2ClientStream* raw = stream.get();
  streams_.emplace(id, std::move(stream));
  idle_timer_.cancel();
  if (settings_.max_requests_per_connection != 0 &&
      streams_opened_ >= settings_.max_requests_per_connection) {
    // Envoy: the connection drains once it carried its last allowed stream.
    bump(counters_.max_requests);
    draining_ = true;
  }
  return raw;
}

void Http2ClientConnection::resume(Http2ClientStream& stream) {
  if (stream.deferred_ && !closed_) {
    stream.deferred_ = false;
    nghttp2_session_resume_data(session_, stream.id_);
  }
}

void Http2ClientConnection::consume(Http2ClientStream& stream, size_t bytes) {
  if (closed_) return;
  nghttp2_session_consume_stream(session_, stream.id_, bytes);
  send_pending();
}

void Http2ClientConnection::touch(Http2ClientStream& stream) {
  if (stream.touched_) return;
  stream.touched_ = true;
  touched_.push_back(&stream);
}

void Http2ClientConnection::on_data(net::Buffer& input) {
  if (closed_) {
    input.clear();
    return;
  }
  // While set, nothing re-enters nghttp2 (sends and closes wait): not from
  // its callbacks, nor from the flushes below, where a request may give up
  // on its stream (its RST goes out after the loop, so no stream this loop
  // holds is freed under it).
  in_recv_ = true;
  while (!input.empty() && !close_wanted_) {
    std::string_view piece = input.front();
    ssize_t n =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(piece.data()), piece.size());
    if (n < 0) {
      in_recv_ = false;
      input.clear();
      protocol_error();
      return;
    }
    input.drain(static_cast<size_t>(n));
  }
  // Each stream's client gets this batch in one write.
  telling_.swap(touched_);
  for (Http2ClientStream* s : telling_) {
    s->touched_ = false;
    if (s->callbacks_ != nullptr) s->callbacks_->on_h2_flush();
  }
  telling_.clear();
  in_recv_ = false;
  if (close_wanted_) input.clear();
  send_pending();
  close_if_wanted();
}

void Http2ClientConnection::close_if_wanted() {
  if (!close_wanted_ || in_recv_ || in_send_) return;
  close_wanted_ = false;
  close();
}

void Http2ClientConnection::send_pending() {
  if (in_recv_ || in_send_) {
    send_wanted_ = true;
    return;
  }
  if (closed_) return;
  in_send_ = true;
  do {
    send_wanted_ = false;
    if (!write_out()) {
      in_send_ = false;
      protocol_error();
      return;
    }
    // Told outside nghttp2's send: they may send more at once.
    telling_.swap(unblocked_);
    for (Http2ClientStream* s : telling_) {
      if (s->callbacks_ != nullptr) s->callbacks_->on_h2_send_blocked(false);
    }
    telling_.clear();
  } while (send_wanted_ && !closed_);
  in_send_ = false;
  if (!closed_ && nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
    // GOAWAY exchanged (or a fatal error) and no stream left.
    close_wanted_ = true;
  }
  close_if_wanted();
}

bool Http2ClientConnection::write_out() {
  net::Connection& c = connection_->connection();
  if (!c.is_open()) return true;
  net::Buffer& out = c.output();
  while (!c.above_high_watermark()) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n == 0) break;
    out.append(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
  }
  c.flush();
  return true;
}

void Http2ClientConnection::on_output_drained() { send_pending(); }

void Http2ClientConnection::stream_closed(Http2ClientStream& stream, uint32_t error_code) {
  nghttp2_session_set_stream_user_data(session_, stream.id_, nullptr);
  drop(counters_.streams_active);
  if (stream.remote_reset_) bump(counters_.rx_reset);
  if (Http2StreamCallbacks* callbacks = stream.callbacks_) {
    stream.callbacks_ = nullptr;
    StreamResetReason reason = StreamResetReason::ProtocolError;
    if (stream.remote_reset_) {
      reason = stream.remote_error_ == NGHTTP2_REFUSED_STREAM ? StreamResetReason::RefusedStream
                                                              : StreamResetReason::RemoteReset;
    } else if (error_code == NGHTTP2_REFUSED_STREAM) {
      reason = StreamResetReason::RefusedStream;  // above the GOAWAY's last stream id
    } else if (error_code == NGHTTP2_NO_ERROR || closed_) {
      reason = StreamResetReason::ConnectionTermination;
    }
    callbacks->on_h2_reset(reason);
  }
  std::erase(touched_, &stream);
  std::erase(unblocked_, &stream);
  streams_.erase(stream.id_);  // nghttp2 is done with it
  after_stream_change();
}

void Http2ClientConnection::after_stream_change() {
  if (closed_) return;
  if (draining_ && streams_.empty()) {
    close();
    return;
  }
  update_idle_timer();
  if (capacity() != 0 && endpoint().pending_http2 != 0) offer_timer_.arm_now();
}

void Http2ClientConnection::update_idle_timer() {
  if (!streams_.empty() || settings_.idle_timeout_ms == 0) {
    idle_timer_.cancel();
    return;
  }
  if (!idle_timer_.armed()) idle_timer_.arm(settings_.idle_timeout_ms);
}

void Http2ClientConnection::on_idle_timer() {
  if (!streams_.empty()) return;
  bump(counters_.idle_timeout);
  close();
}

void Http2ClientConnection::on_duration_timer() {
  bump(counters_.max_duration);
  drain();
}

void Http2ClientConnection::drain() {
  if (closed_) return;
  draining_ = true;
  if (streams_.empty()) close();
}

void Http2ClientConnection::protocol_error() {
  bump(counters_.rx_messaging_error);
  terminate(NGHTTP2_PROTOCOL_ERROR, StreamResetReason::ProtocolError);
}

void Http2ClientConnection::close() {
  // Inside nghttp2 (a callback) or a dispatch: once it has returned.
  if (in_recv_ || in_send_) {
    close_wanted_ = true;
    return;
  }
  terminate(NGHTTP2_NO_ERROR, StreamResetReason::ConnectionTermination);
}

void Http2ClientConnection::terminate(uint32_t error_code, StreamResetReason reason) {
  if (closed_) return;
  closed_ = true;  // first: no stream callback re-enters the session from here
  nghttp2_session_terminate_session(session_, error_code);
  write_out();  // the GOAWAY, on a best-effort basis
  fail_streams(reason);
  finish();
}

void Http2ClientConnection::on_eof() {
  if (closed_) return;
  closed_ = true;
  fail_streams(StreamResetReason::ConnectionTermination);
  finish();
}

void Http2ClientConnection::on_close(net::CloseReason, int) { on_eof(); }

void Http2ClientConnection::fail_streams(StreamResetReason reason) {
  // Streams the server never processed (above a GOAWAY's last id) were
  // closed by nghttp2 already; these were under way, except those whose
  // HEADERS nghttp2 had not even prepared (no stream object yet: held back
  // by the server's stream limit): the server never saw them, so they are
  // refused, which a retry may replay.
  for (auto& [id, stream] : streams_) {
    drop(counters_.streams_active);
    if (Http2StreamCallbacks* callbacks = stream->callbacks_) {
      stream->callbacks_ = nullptr;
      const bool unsent = nghttp2_session_find_stream(session_, id) == nullptr;
      callbacks->on_h2_reset(unsent ? StreamResetReason::RefusedStream : reason);
    }
  }
  touched_.clear();
  unblocked_.clear();
}

void Http2ClientConnection::finish() {
  if (finished_) return;
  finished_ = true;
  idle_timer_.cancel();
  duration_timer_.cancel();
  offer_timer_.cancel();
  pool_.on_http2_closed(*this);
}

}  // namespace torii::upstream
