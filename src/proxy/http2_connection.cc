#include "proxy/http2_connection.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "http/header_map.h"
#include "http/http2_fields.h"
#include "http/message_head.h"
#include "http/nghttp2_memory.h"
#include "net/object_pool.h"
#include "proxy/active_stream.h"
#include "proxy/downstream_connection.h"
#include "proxy/downstream_stream.h"
#include "proxy/worker.h"

namespace torii::proxy {

namespace {

constexpr int32_t kMaxStreamId = 0x7fffffff;  // the shutdown notice's last-stream-id

using http::http2_field;
using http::is_http2_connection_specific;

// The name/value array a response head or trailers are submitted from:
// nghttp2 copies it at submit, so one per thread serves every stream
// (saves an allocation per response).
std::vector<nghttp2_nv>& nv_scratch() {
  thread_local std::vector<nghttp2_nv> nva;
  return nva;
}

// The response head as nghttp2 name/value pairs (views into `headers`).
void response_nva(int status, const http::HeaderMap& headers, char (&status_digits)[4],
                  std::vector<nghttp2_nv>& out) {
  auto [end, ec] = std::to_chars(status_digits, status_digits + 3, status);
  (void)ec;
  out.clear();
  out.reserve(headers.size() + 1);
  out.push_back(
      http2_field(":status", std::string_view(status_digits, static_cast<size_t>(end - status_digits))));
  for (const http::HeaderMap::Entry& e : headers.entries()) {
    if (is_http2_connection_specific(e.name)) continue;
    out.push_back(http2_field(e.name, e.value));
  }
}

}  // namespace

// ---- one stream ----

class Http2Connection::Stream final : public DownstreamStream, public net::Deferrable {
 public:
  // One per request: new/delete reuse a per-thread block.
  TORII_POOLED_NEW(Stream)
  Stream(Http2Connection& connection, int32_t id, uint64_t now_ms)
      : connection_(connection), id_(id), started_ms_(now_ms) {}
  // The ActiveStream borrows this object: it goes first.
  ~Stream() override { active_.reset(); }

  int32_t id() const { return id_; }
  size_t slot = 0;  // its index in the connection's streams_

  // ---- request, from nghttp2's callbacks ----
  void add_header(std::string_view name, std::string_view value) {
    if (too_large_) return;
    header_bytes_ += name.size() + value.size();
    if (header_bytes_ > connection_.header_limit_bytes_ ||
        ++header_count_ > connection_.header_limit_count_) {
      too_large_ = true;
      return;
    }
    if (!name.empty() && name.front() == ':') {
      if (name == ":method") {
        head_.method = value;
      } else if (name == ":path") {
        head_.target = value;
      } else if (name == ":authority") {
        authority_ = value;
        has_authority_ = true;
      } else if (name == ":protocol") {
        protocol_pseudo_ = true;
      }
      return;  // :scheme: the connection says http or https
    }
    if (name == "cookie") {
      // RFC 9113 8.2.3: split crumbs are joined for HTTP/1.1 upstreams.
      if (!cookies_.empty()) cookies_.append("; ");
      cookies_.append(value);
      return;
    }
    if (name == "host") {
      if (!host_.empty()) host_.append(",");
      host_.append(value);
      has_host_ = true;
      return;
    }
    if (name == "content-length") {
      uint64_t length = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec == std::errc() && end == value.data() + value.size()) {
        head_.has_content_length = true;
        head_.content_length = length;
      }
    }
    head_.headers.add_lower(name, value);
  }

  void on_request_headers(bool end_stream) {
    Worker& worker = connection_.worker_;
    WorkerStats& stats = worker.mutable_stats();
    WorkerStats::inc(stats.downstream_rq_total);
    WorkerStats::inc(stats.downstream_rq_http2_total);
    head_.version_major = 2;
    head_.version_minor = 0;
    request_complete_ = end_stream;
    if (too_large_) {
      WorkerStats::inc(stats.downstream_rq_too_large_headers);
      send_431();
      return;
    }
    if (protocol_pseudo_) {
      // RFC 8441 extended CONNECT (websocket over HTTP/2) is not offered:
      // SETTINGS_ENABLE_CONNECT_PROTOCOL is never sent, so this is an error.
      reset_stream(NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    // RFC 9113 8.3.1: :authority, else Host; one `host` field goes first so
    // routing and an HTTP/1.1 upstream see the same value.
    http::HeaderMap& headers = head_.headers;
    if (has_authority_) {
      headers.add_lower("host", authority_);
    } else if (has_host_) {
      headers.add_lower("host", host_);
    }
    if (!cookies_.empty()) headers.add_lower("cookie", cookies_);
    // CONNECT carries :authority and no :path (RFC 9113 8.5).
    if (head_.target.empty() && head_.method == "CONNECT") head_.target = authority_;
    // A body of unknown length goes chunked to an HTTP/1.1 upstream.
    if (!end_stream && !head_.has_content_length) head_.chunked = true;
    active_ = std::make_unique<ActiveStream>(*this, worker, head_);
    active_->start();
    // No body: the request is whole (the head goes upstream now). Else the
    // head goes with the body bytes of this read, or alone after it.
    if (end_stream && active_ && !closed_) {
      active_->on_request_complete();
    } else {
      queue_flush();
    }
  }

  void queue_flush() {
    if (!flush_queued_ && active_) {
      flush_queued_ = true;
      connection_.to_flush_.push_back(this);
    }
  }

  void on_request_body(std::string_view data) {
    if (active_ && !closed_) active_->on_request_body(data);
    // Acknowledged now unless the upstream pushes back.
    if (upstream_blocked_) {
      unconsumed_ += data.size();
    } else {
      connection_.consume(id_, data.size());
    }
    queue_flush();
  }

  void flush_upstream() {
    flush_queued_ = false;
    if (active_ && !closed_) active_->flush_upstream();
  }

  void on_request_end() {
    if (request_complete_) return;
    request_complete_ = true;
    if (active_ && !closed_) active_->on_request_complete();
  }

  // nghttp2 closed the stream (both sides done, or reset by either side).
  // Returns true if it ended before its response did.
  bool on_closed() {
    closed_ = true;
    const bool premature = !response_end_sent_;
    if (active_ && premature) active_->on_downstream_reset();
    if (unconsumed_ != 0) {
      nghttp2_session_consume_connection(connection_.session_, unconsumed_);
      unconsumed_ = 0;
    }
    return premature;
  }
  uint64_t started_ms() const { return started_ms_; }

  // The response went out whole; a request still coming is cut off with
  // RST_STREAM(NO_ERROR) (RFC 9113 8.1), as Envoy does after early replies.
  void on_response_end_sent() {
    response_end_sent_ = true;
    if (!request_complete_ && !closed_)
      nghttp2_submit_rst_stream(connection_.session_, NGHTTP2_FLAG_NONE, id_, NGHTTP2_NO_ERROR);
  }

  // nghttp2's data source: copies queued body bytes into a DATA frame.
  ssize_t read_body(uint8_t* buf, size_t length, uint32_t* flags) {
    size_t n = 0;
    while (n < length && !out_.empty()) {
      std::string_view piece = out_.front();
      const size_t take = std::min(piece.size(), length - n);
      std::memcpy(buf + n, piece.data(), take);
      out_.drain(take);
      n += take;
    }
    if (out_.empty() && end_queued_) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (trailers_) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        submit_trailers();
      }
    } else if (n == 0) {
      deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    if (blocked_downstream_ && out_.size() <= connection_.worker_.options().buffer_limit_bytes / 2) {
      blocked_downstream_ = false;
      if (active_ && !closed_) active_->on_downstream_drained();
    }
    return static_cast<ssize_t>(n);
  }

  // ---- DownstreamStream ----
  std::string_view peer_ip() const override;
  const std::string& listener_name() const override;
  bool is_tls() const override;
  std::string_view server_name() const override;
  bool local_address(sockaddr_storage& out) const override;
  HttpProtocol protocol() const override { return HttpProtocol::Http2; }

  void encode_100_continue() override {
    if (closed_) return;
    nghttp2_nv nv = http2_field(":status", "100");
    nghttp2_submit_headers(connection_.session_, NGHTTP2_FLAG_NONE, id_, nullptr, &nv, 1, nullptr);
    connection_.send_pending();
  }

  void encode_headers(int status, http::HeaderMap& headers, bool end_stream) override {
    if (closed_) return;
    char digits[4];
    std::vector<nghttp2_nv>& nva = nv_scratch();
    response_nva(status, headers, digits, nva);
    if (end_stream) {
      end_queued_ = true;
      nghttp2_submit_response(connection_.session_, id_, nva.data(), nva.size(), nullptr);
      connection_.send_pending();
      return;
    }
    nghttp2_data_provider provider;
    provider.source.ptr = this;
    provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                                nghttp2_data_source* source, void*) -> ssize_t {
      return static_cast<Stream*>(source->ptr)->read_body(buf, length, flags);
    };
    nghttp2_submit_response(connection_.session_, id_, nva.data(), nva.size(), &provider);
    response_submitted_ = true;
  }

  void encode_data(std::string_view data, bool end_stream) override {
    if (closed_) return;
    out_.append(data);
    if (end_stream) end_queued_ = true;
    resume();
    if (end_stream) connection_.send_pending();
  }

  void encode_trailers(http::HeaderMap& trailers) override {
    if (closed_) return;
    trailers_ = std::make_unique<http::HeaderMap>(std::move(trailers));
    end_queued_ = true;
    resume();
    connection_.send_pending();
  }

  void flush() override { connection_.send_pending(); }

  bool above_write_limit() const override {
    if (out_.size() > connection_.worker_.options().buffer_limit_bytes) {
      blocked_downstream_ = true;
      return true;
    }
    return false;
  }

  void reset() override { reset_stream(NGHTTP2_INTERNAL_ERROR); }

  bool request_complete() const override { return request_complete_; }

  void set_upstream_blocked(bool blocked) override {
    upstream_blocked_ = blocked;
    if (!blocked && unconsumed_ != 0 && !closed_) {
      connection_.consume(id_, unconsumed_);
      unconsumed_ = 0;
      connection_.send_pending();
    }
  }

  // Connection-level HTTP/1 controls: one stream cannot close an HTTP/2
  // connection that carries others; an early reply resets only its stream.
  void close_after_response() override {}
  bool closing_after_response() const override { return false; }
  // Not reachable: websocket upgrades and CONNECT are HTTP/1 only here.
  void start_tunnel() override { reset(); }
  void start_connect(TcpTunnelTarget, std::shared_ptr<const upstream::ClusterInfo>) override { reset(); }

 private:
  void resume() {
    if (deferred_ && response_submitted_) {
      deferred_ = false;
      nghttp2_session_resume_data(connection_.session_, id_);
    }
  }

  void submit_trailers() {
    std::vector<nghttp2_nv>& nva = nv_scratch();
    nva.clear();
    for (const http::HeaderMap::Entry& e : trailers_->entries()) {
      if (!is_http2_connection_specific(e.name)) nva.push_back(http2_field(e.name, e.value));
    }
    nghttp2_submit_trailer(connection_.session_, id_, nva.data(), nva.size());
  }

  void reset_stream(uint32_t error_code) {
    if (closed_) return;
    nghttp2_submit_rst_stream(connection_.session_, NGHTTP2_FLAG_NONE, id_, error_code);
    connection_.send_pending();
  }

  void send_431() {
    // Envoy's codec resets the stream; a 431 tells the client why, as the
    // HTTP/1 codec does.
    http::HeaderMap headers;
    headers.add("content-length", "0");
    headers.add("date", connection_.worker_.date().now());
    headers.add("server", connection_.worker_.options().server_header);
    connection_.worker_.mutable_stats().count_response(431);
    encode_headers(431, headers, true);
  }

  Http2Connection& connection_;
  const int32_t id_;
  const uint64_t started_ms_;
  http::RequestHead head_;
  std::string authority_;
  std::string host_;
  std::string cookies_;
  std::unique_ptr<ActiveStream> active_;
  net::Buffer out_;  // response body waiting for flow-control window
  std::unique_ptr<http::HeaderMap> trailers_;
  size_t header_bytes_ = 0;
  uint32_t header_count_ = 0;
  size_t unconsumed_ = 0;  // request body bytes not yet acknowledged
  bool too_large_ = false;
  bool has_authority_ = false;
  bool has_host_ = false;
  bool protocol_pseudo_ = false;
  bool request_complete_ = false;
  bool upstream_blocked_ = false;
  bool response_submitted_ = false;  // HEADERS with a data source submitted
  bool end_queued_ = false;          // the last body byte (or trailers) is queued
  bool response_end_sent_ = false;   // END_STREAM went out
  bool deferred_ = false;            // the data source said "nothing yet"
  bool closed_ = false;
  bool flush_queued_ = false;
  mutable bool blocked_downstream_ = false;  // told the stream we were above the limit
};

std::string_view Http2Connection::Stream::peer_ip() const { return connection_.owner_.peer_ip(); }
const std::string& Http2Connection::Stream::listener_name() const {
  return connection_.owner_.listener_name();
}
bool Http2Connection::Stream::is_tls() const { return connection_.owner_.is_tls(); }
std::string_view Http2Connection::Stream::server_name() const { return connection_.owner_.server_name(); }
bool Http2Connection::Stream::local_address(sockaddr_storage& out) const {
  return connection_.owner_.local_address(out);
}

// ---- nghttp2 callbacks ----

struct Http2Connection::Callbacks {
  static Http2Connection& self(void* user_data) { return *static_cast<Http2Connection*>(user_data); }

  static Stream* stream(nghttp2_session* session, int32_t id) {
    return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user_data) {
    Http2Connection& c = self(user_data);
    if (!c.flood_guard_.on_inbound_frame(hd->type, hd->flags, static_cast<uint32_t>(hd->length))) {
      c.flooded_ = true;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Http2Connection& c = self(user_data);
    const int32_t id = frame->hd.stream_id;
    auto stream = std::make_unique<Stream>(c, id, c.worker_.loop().now_ms());
    nghttp2_session_set_stream_user_data(session, id, stream.get());
    stream->slot = c.streams_.size();
    c.streams_.push_back(std::move(stream));
    c.flood_guard_.on_stream_opened();
    c.idle_timer_.cancel();
    return 0;
  }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t /*flags*/, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;  // request trailers: not forwarded (HTTP/1.1 upstreams cannot take them)
    }
    if (Stream* s = stream(session, frame->hd.stream_id)) {
      s->add_header(std::string_view(reinterpret_cast<const char*>(name), namelen),
                    std::string_view(reinterpret_cast<const char*>(value), valuelen));
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0 &&
        std::memcmp(frame->ping.opaque_data, kDrainPing, sizeof(kDrainPing)) == 0) {
      self(user_data).send_final_goaway();  // the client has seen the shutdown notice
      return 0;
    }
    Stream* s = frame->hd.stream_id != 0 ? stream(session, frame->hd.stream_id) : nullptr;
    if (s == nullptr) return 0;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          s->on_request_headers(end_stream);
        } else if (end_stream) {
          s->on_request_end();  // trailers end the request
        }
        break;
      case NGHTTP2_DATA:
        if (end_stream) s->on_request_end();
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t /*flags*/, int32_t id, const uint8_t* data,
                           size_t len, void* user_data) {
    Stream* s = stream(session, id);
    if (s == nullptr) {
      // A stream we already forgot: still give the window back.
      nghttp2_session_consume(session, id, len);
      return 0;
    }
    (void)user_data;
    s->on_request_body(std::string_view(reinterpret_cast<const char*>(data), len));
    return 0;
  }

  static int on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    Http2Connection& c = self(user_data);
    if (frame->hd.type == NGHTTP2_DATA) c.flood_guard_.on_data_frame_sent();
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.last_stream_id == kMaxStreamId && c.draining_) {
      // The shutdown notice is out: the PING goes after it (nghttp2 would
      // send a PING queued with it first), so its answer proves the client
      // has read the notice.
      nghttp2_submit_ping(session, NGHTTP2_FLAG_NONE, kDrainPing);
    }
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (end_stream && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
      if (Stream* s = stream(session, frame->hd.stream_id)) s->on_response_end_sent();
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, int32_t id, uint32_t error_code, void* user_data) {
    Stream* s = stream(session, id);
    if (s != nullptr) self(user_data).stream_closed(*s, error_code);
    return 0;
  }
};

// ---- the connection ----

Http2Connection::Http2Connection(Worker& worker, net::Connection& connection, DownstreamConnection& owner,
                                 std::function<void()> on_closed)
    : worker_(worker),
      connection_(connection),
      owner_(owner),
      on_closed_(std::move(on_closed)),
      idle_timer_(worker.loop(), [this] { on_idle_timeout(); }),
      final_goaway_timer_(worker.loop(), [this] { send_final_goaway(); }),
      header_limit_bytes_(worker.options().max_request_headers_bytes),
      header_limit_count_(worker.options().max_request_headers_count) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, &Callbacks::on_begin_frame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Callbacks::on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::on_stream_close);

  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Window updates follow what the upstream took (flow control end to end).
  nghttp2_option_set_no_auto_window_update(option, 1);
  // Closed streams are forgotten at once, as Envoy's codec does: otherwise
  // nghttp2 keeps some of them in its RFC 7540 priority tree (which nothing
  // here uses) and retires one for each stream that closes.
  nghttp2_option_set_no_closed_streams(option, 1);
  // Streams the client opens beyond SETTINGS_MAX_CONCURRENT_STREAMS, even
  // before it acknowledged them, are refused.
  nghttp2_option_set_max_reserved_remote_streams(option, 0);
  // Queued SETTINGS/PING acknowledgements a client that does not read can
  // pile up (CVE-2019-9512, -9515): the session fails beyond this.
  nghttp2_option_set_max_outbound_ack(option, 1000);
  nghttp2_option_set_max_settings(option, 32);
  // CONTINUATION floods (CVE-2024-28182): a header block in at most 8 frames.
  nghttp2_option_set_max_continuations(option, 8);
  // Rapid Reset (CVE-2023-44487): a token bucket of client resets; the
  // premature-reset ratio (flood guard) covers the rest.
  nghttp2_option_set_stream_reset_rate_limit(option, 1000, 100);
  nghttp2_session_server_new3(&session_, callbacks, this, option, http::nghttp2_pooled_memory());
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
}

Http2Connection::~Http2Connection() {
  // Streams hold ActiveStreams that hold this connection's streams: reset
  // them first, then the session.
  for (auto& stream : streams_) stream->on_closed();
  streams_.clear();
  nghttp2_session_del(session_);
}

void Http2Connection::start() {
  WorkerStats::inc(worker_.mutable_stats().downstream_cx_http2_total);
  // Envoy's edge values by default (ServerOptions).
  const ServerOptions& options = worker_.options();
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options.http2_max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options.http2_stream_window_bytes},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, sizeof(settings) / sizeof(settings[0]));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options.http2_connection_window_bytes));
  update_idle_timer();
  if (connection_.input().empty()) {
    send_pending();
  } else {
    on_data(connection_.input());
  }
}

void Http2Connection::on_data(net::Buffer& input) {
  if (closing_ || closed_) {
    input.clear();
    return;
  }
  in_recv_ = true;
  while (!input.empty()) {
    std::string_view piece = input.front();
    ssize_t n =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(piece.data()), piece.size());
    if (n < 0) {
      in_recv_ = false;
      input.clear();
      WorkerStats::inc(worker_.mutable_stats().downstream_cx_protocol_error);
      if (flooded_ || n == NGHTTP2_ERR_FLOODED) {
        WorkerStats::inc(worker_.mutable_stats().http2_inbound_flood);
        terminate(NGHTTP2_ENHANCE_YOUR_CALM);
      } else {
        terminate(NGHTTP2_PROTOCOL_ERROR);
      }
      return;
    }
    input.drain(static_cast<size_t>(n));
  }
  in_recv_ = false;
  // Request bodies of this read go upstream in one write per stream. (A
  // stream closed meanwhile is only deferred-deleted; flush_upstream checks.)
  flushing_.swap(to_flush_);
  for (Stream* s : flushing_) s->flush_upstream();
  flushing_.clear();  // keeps its capacity for the next read: no allocation
  send_pending();
}

void Http2Connection::consume(int32_t stream_id, size_t bytes) {
  if (bytes != 0) nghttp2_session_consume(session_, stream_id, bytes);
}

void Http2Connection::send_pending() {
  if (in_recv_) {
    send_wanted_ = true;
    return;
  }
  if (closed_ || !connection_.is_open()) return;
  send_wanted_ = false;
  net::Buffer& out = connection_.output();
  while (!connection_.above_high_watermark()) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      close_now();
      return;
    }
    if (n == 0) break;
    out.append(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
  }
  connection_.flush();
  maybe_close();
}

void Http2Connection::maybe_close() {
  if (closing_ || closed_) return;
  // Between the shutdown notice and the final GOAWAY the connection stays
  // open even with no stream left (nghttp2 may see nothing more to read):
  // the client may still open streams until it has read the notice.
  if (awaiting_drain_ping_) return;
  if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
    // GOAWAY exchanged (or a fatal error) and no stream left.
    closing_ = true;
    connection_.close_after_flush();
  }
}

void Http2Connection::terminate(uint32_t error_code) {
  nghttp2_session_terminate_session(session_, error_code);
  send_pending();
  if (!closing_ && !closed_) {
    closing_ = true;
    connection_.close_after_flush();
  }
}

void Http2Connection::stream_closed(Stream& stream, uint32_t /*error_code*/) {
  const bool premature = stream.on_closed();
  if (premature) WorkerStats::inc(worker_.mutable_stats().downstream_rq_rx_reset);
  const uint64_t lifetime = worker_.loop().now_ms() - stream.started_ms();
  const bool ok = flood_guard_.on_stream_closed(premature, lifetime);
  nghttp2_session_set_stream_user_data(session_, stream.id(), nullptr);
  std::erase(to_flush_, &stream);
  // Out of streams_ in O(1): the last one takes its slot.
  const size_t slot = stream.slot;
  std::unique_ptr<Stream> owned = std::move(streams_[slot]);
  if (slot + 1 != streams_.size()) {
    streams_[slot] = std::move(streams_.back());
    streams_[slot]->slot = slot;
  }
  streams_.pop_back();
  worker_.loop().defer_delete(std::move(owned));
  if (!ok) {
    WorkerStats::inc(worker_.mutable_stats().http2_premature_reset_close);
    flooded_ = true;
    // From inside nghttp2 (a callback): end the session once it returns.
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  }
  update_idle_timer();
}

void Http2Connection::update_idle_timer() {
  const uint32_t timeout = worker_.options().downstream_idle_timeout_ms;
  if (timeout != 0 && streams_.empty() && !closing_ && !closed_) idle_timer_.arm(timeout);
}

void Http2Connection::on_idle_timeout() {
  if (!streams_.empty() || closing_ || closed_) return;
  // Envoy's idle_timeout on HTTP/2: GOAWAY, then close.
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  send_pending();
  if (!closing_) {
    closing_ = true;
    connection_.close_after_flush();
  }
}

void Http2Connection::start_drain(bool graceful) {
  if (draining_ || closing_ || closed_) return;
  draining_ = true;
  if (graceful) {
    // Envoy's drain sequence (shutdownNotice, then goAway): GOAWAY with the
    // largest stream id tells the client to open no more streams; the PING
    // after it comes back once the client has read the notice, so every
    // stream it opened before is here by then and the final GOAWAY can name
    // the last one without refusing any.
    awaiting_drain_ping_ = true;
    nghttp2_submit_shutdown_notice(session_);      // on_frame_send adds the PING
    final_goaway_timer_.arm(kFinalGoawayAfterMs);  // a client that does not answer PINGs
    send_pending();
    return;
  }
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  send_pending();
  if (streams_.empty() && !closing_) {
    closing_ = true;
    connection_.close_after_flush();
  }
}

void Http2Connection::send_final_goaway() {
  if (final_goaway_sent_ || closing_ || closed_) return;
  final_goaway_sent_ = true;
  awaiting_drain_ping_ = false;
  final_goaway_timer_.cancel();
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  // Called from inside nghttp2's receive (the PING's answer) the GOAWAY is
  // serialised only once that returns: closing here would lose it. Once it
  // is out and no stream is left, send_pending()'s maybe_close() closes.
  send_pending();
}

void Http2Connection::on_eof() {
  // The client will send nothing more: no stream can complete its request.
  close_now();
}

void Http2Connection::on_close(net::CloseReason /*reason*/, int /*error_no*/) { close_now(); }

void Http2Connection::close_now() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.cancel();
  connection_.close();
  for (auto& stream : streams_) {
    if (stream->on_closed()) WorkerStats::inc(worker_.mutable_stats().downstream_rq_rx_reset);
    nghttp2_session_set_stream_user_data(session_, stream->id(), nullptr);
    worker_.loop().defer_delete(std::move(stream));
  }
  streams_.clear();
  to_flush_.clear();
  if (on_closed_) {
    auto done = std::move(on_closed_);
    on_closed_ = nullptr;
    done();
  }
}

void Http2Connection::on_output_drained() { send_pending(); }

}  // namespace torii::proxy
