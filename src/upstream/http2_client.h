// The HTTP/2 client codec on one pooled upstream connection (nghttp2 client
// session): Envoy's Http2::ClientConnectionImpl plus the HTTP/2 pool's
// ActiveClient (source/common/http/http2/{codec_impl,conn_pool}.cc).
//
// The pool opens the TCP (or TLS, ALPN h2) connection as for HTTP/1; once it
// is up, this object takes it over and multiplexes requests on it as
// streams, up to min(DestinationRule http.maxConcurrentStreams, the server's
// SETTINGS_MAX_CONCURRENT_STREAMS). The pool hands out streams
// (ConnectionPool::new_http2_stream): a request gets a stream on a connection
// with room, or waits in the endpoint's pending queue while the pool opens
// another connection (within tcp.maxConnections).
//
// A connection stops taking streams (drains) after a GOAWAY from the server,
// after http.maxRequestsPerConnection streams, or at tcp.maxConnectionDuration;
// a draining connection closes once its last stream ends. An idle one (no
// stream) closes after the idle timeout.
//
// Translation as Envoy's codec: :method, :scheme (https when the cluster
// originates TLS), :authority from Host, :path; connection-specific fields
// are not sent (RFC 9113 8.2.2) and `te` only as `te: trailers`. Names are
// lower-cased. Response trailers end the stream as trailers.
//
// Flow control: request body bytes wait in the stream (at most the buffer
// limit, then the request is told to stop sending) until the server's window
// lets them out. Response bytes are acknowledged per stream only while the
// request is not paused (its client is not above its write limit), so a
// slow client holds the server back by at most one stream window; the
// connection window is acknowledged at once, so one slow stream never holds
// the others.
//
// Owned by its endpoint's pool state (EndpointState::http2); the streams by
// the connection. Loop thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/header_map.h"
#include "http/message_head.h"
#include "net/buffer.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"

typedef struct nghttp2_session nghttp2_session;

namespace torii::upstream {

class ConnectionPool;
class UpstreamConnection;
struct EndpointState;
class SharedClusterState;

// Why a stream ended without its whole response.
enum class StreamResetReason : uint8_t {
  RemoteReset,            // RST_STREAM from the server
  RefusedStream,          // REFUSED_STREAM, or above a GOAWAY's last stream id: never processed
  ConnectionTermination,  // the connection closed under it
  ProtocolError,          // the server broke the protocol (malformed response, bad frame)
};

// What a stream reports to the request that opened it.
class Http2StreamCallbacks {
 public:
  virtual void on_h2_informational(http::ResponseHead& head) = 0;
  // `end_stream`: the HEADERS frame ended the response (on_h2_complete follows).
  virtual void on_h2_headers(http::ResponseHead& head, bool end_stream) = 0;
  virtual void on_h2_data(std::string_view data) = 0;
  // The response ended (END_STREAM), with trailers or not (null).
  virtual void on_h2_complete(http::HeaderMap* trailers) = 0;
  virtual void on_h2_reset(StreamResetReason reason) = 0;
  // Once per batch of input that carried something for this stream.
  virtual void on_h2_flush() = 0;
  // The request body waiting in the stream is above / back below the limit.
  virtual void on_h2_send_blocked(bool blocked) = 0;

 protected:
  ~Http2StreamCallbacks() = default;
};

struct Http2RequestHead {
  std::string_view method;
  std::string_view path;
  std::string_view authority;
  bool tls = false;                          // :scheme https
  const http::HeaderMap* headers = nullptr;  // as for HTTP/1 (host becomes :authority)
  bool end_stream = false;                   // no body
};

struct Http2ClientSettings {
  uint32_t stream_window_bytes = 64 * 1024;
  uint32_t connection_window_bytes = 1024 * 1024;
  uint32_t max_concurrent_streams = 1u << 30;  // http.maxConcurrentStreams
  uint64_t max_requests_per_connection = 0;    // 0: unlimited
  uint32_t buffer_limit_bytes = 1024 * 1024;
  uint32_t max_response_header_bytes = 60 * 1024;
  uint32_t max_response_headers = 100;
  uint32_t idle_timeout_ms = 0;  // 0: none
  int64_t max_duration_ms = -1;  // -1: none
};

// Counters this codec bumps (cluster and worker stats), each optional.
struct Http2ClientCounters {
  std::atomic<uint64_t>* rx_reset = nullptr;
  std::atomic<uint64_t>* tx_reset = nullptr;
  std::atomic<uint64_t>* trailers = nullptr;
  std::atomic<uint64_t>* goaway_received = nullptr;
  std::atomic<uint64_t>* rx_messaging_error = nullptr;
  std::atomic<uint64_t>* streams_active = nullptr;  // gauge
  std::atomic<uint64_t>* max_requests = nullptr;    // upstream_cx_max_requests
  std::atomic<uint64_t>* max_duration = nullptr;    // upstream_cx_max_duration_reached
  std::atomic<uint64_t>* idle_timeout = nullptr;    // upstream_cx_idle_timeout
};

class Http2ClientConnection;

class Http2ClientStream {
 public:
  Http2ClientStream(Http2ClientConnection& connection, Http2StreamCallbacks& callbacks)
      : connection_(connection), callbacks_(&callbacks) {}
  Http2ClientStream(const Http2ClientStream&) = delete;
  Http2ClientStream& operator=(const Http2ClientStream&) = delete;

  // Queues request body bytes; they go out as the window allows (flush()).
  void send_data(std::string_view data);
  // The request body is complete (END_STREAM after what is queued).
  void end_stream();
  // Writes what the session has queued.
  void flush();
  // Bytes of request body still held here.
  size_t queued_bytes() const { return body_.size(); }
  bool above_limit() const;
  // Response back-pressure: while paused, received bytes are not acknowledged.
  void set_paused(bool paused);
  // The request gives up: RST_STREAM(CANCEL) unless the stream is over; no
  // callback follows.
  void reset();
  Http2ClientConnection& connection() { return connection_; }

 private:
  friend class Http2ClientConnection;
  struct Callbacks;

  Http2ClientConnection& connection_;
  Http2StreamCallbacks* callbacks_;  // null once detached (reset, complete)
  int32_t id_ = -1;
  net::Buffer body_;  // request body not yet framed
  http::ResponseHead head_;
  http::HeaderMap trailers_;
  size_t header_bytes_ = 0;
  size_t unconsumed_ = 0;      // response bytes not acknowledged (paused)
  bool end_ = false;           // end_stream() called
  bool deferred_ = false;      // the data source ran dry: resume on more
  bool paused_ = false;        // set_paused(true)
  bool headers_done_ = false;  // final response head delivered
  bool in_trailers_ = false;   // the header block being received is trailers
  bool remote_reset_ = false;  // RST_STREAM received
  bool too_large_ = false;     // response headers over the limit
  bool touched_ = false;       // in the connection's flush list for this batch
  bool blocked_ = false;       // told the request to stop sending
  uint32_t remote_error_ = 0;  // its error code
};

class Http2ClientConnection final : public net::ConnectionCallbacks, public net::Deferrable {
 public:
  // Takes over `connection` (connected). start() sends the preface and
  // SETTINGS; call it once the pool holds this object, as it may close
  // (and tell the pool) at once.
  Http2ClientConnection(ConnectionPool& pool, std::unique_ptr<UpstreamConnection> connection,
                        const Http2ClientSettings& settings, Http2ClientCounters counters);
  void start();
  ~Http2ClientConnection() override;
  Http2ClientConnection(const Http2ClientConnection&) = delete;
  Http2ClientConnection& operator=(const Http2ClientConnection&) = delete;

  // A new stream for a request; nullptr if the session refused it.
  Http2ClientStream* new_stream(Http2StreamCallbacks& callbacks, const Http2RequestHead& head);

  // Streams it can still take now (0 while draining or closed).
  uint32_t capacity() const;
  uint32_t active_streams() const { return static_cast<uint32_t>(streams_.size()); }
  bool draining() const { return draining_; }
  bool closed() const { return closed_; }
  UpstreamConnection& upstream() { return *connection_; }
  EndpointState& endpoint();
  // Stops taking streams; closes once the last one ends.
  void drain();
  // Closes now (GOAWAY first): streams get ConnectionTermination.
  void close();
  // Serialises what nghttp2 queued, up to the output's limit, and writes it.
  void send_pending();

  // net::ConnectionCallbacks
  void on_data(net::Buffer& input) override;
  void on_eof() override;
  void on_close(net::CloseReason reason, int error_no) override;
  void on_output_drained() override;

 private:
  friend class Http2ClientStream;
  friend struct Http2ClientStream::Callbacks;

  void stream_closed(Http2ClientStream& stream, uint32_t error_code);
  void fail_streams(StreamResetReason reason);
  void protocol_error();
  void after_stream_change();
  void update_idle_timer();
  void on_idle_timer();
  void on_duration_timer();
  void finish();  // closed: tell the pool once
  // A close asked for inside nghttp2 or a dispatch, done once out of it.
  void close_if_wanted();
  // Serialises what nghttp2 queued into the output (up to its limit) and
  // writes it; false after a session error.
  bool write_out();
  // Ends the session with GOAWAY(error_code); the streams get `reason`.
  void terminate(uint32_t error_code, StreamResetReason reason);
  void resume(Http2ClientStream& stream);
  void touch(Http2ClientStream& stream);
  void consume(Http2ClientStream& stream, size_t bytes);

  ConnectionPool& pool_;
  std::unique_ptr<UpstreamConnection> connection_;
  Http2ClientSettings settings_;
  Http2ClientCounters counters_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Http2ClientStream>> streams_;
  std::vector<Http2ClientStream*> touched_;    // streams with input in this batch
  std::vector<Http2ClientStream*> unblocked_;  // body drained below the limit in this send
  // touched_ or unblocked_ swapped out while their streams are told: a
  // member, so both keep their capacity (no allocation per read or send).
  std::vector<Http2ClientStream*> telling_;
  net::Timer idle_timer_;
  net::Timer duration_timer_;
  net::Timer offer_timer_;  // room came free while requests wait: serve them next iteration
  uint64_t streams_opened_ = 0;
  bool in_recv_ = false;
  bool in_send_ = false;
  bool send_wanted_ = false;
  bool close_wanted_ = false;
  bool draining_ = false;
  bool closed_ = false;
  bool finished_ = false;
  bool goaway_ = false;  // the server sent GOAWAY
};

}  // namespace torii::upstream
