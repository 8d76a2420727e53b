// The HTTP/2 connection manager of one client connection (nghttp2 server
// session): each stream becomes an ActiveStream, the same one HTTP/1 runs,
// behind the DownstreamStream interface.
//
// The DownstreamConnection that accepted the socket hands it over (the
// client sent the h2c preface, or TLS negotiated ALPN "h2"); this object
// then borrows its net::Connection and takes its callbacks, as a CONNECT
// tunnel does.
//
// Translation, as Envoy's codec does it:
// * request: :method, :path (the request-target), :authority becomes the
//   `host` field (first), :scheme is dropped (the gateway sets
//   x-forwarded-proto from the connection); split `cookie` fields are
//   joined with "; " for HTTP/1.1 upstreams (RFC 9113 8.2.3); a body
//   without content-length is sent chunked to an HTTP/1.1 upstream.
// * response: :status plus the fields the stream gives, without
//   connection-specific ones (RFC 9113 8.2.2).
//
// Limits (Envoy's edge values): 100 concurrent streams, 64 KiB initial
// stream window, 1 MiB connection window, request header bytes and count
// as on HTTP/1 (431 once exceeded). Request body bytes are acknowledged
// (WINDOW_UPDATE) only once handed to the upstream, so upstream
// back-pressure reaches the client through flow control. Floods: see
// http2_flood_guard.h and the nghttp2 options in the constructor.
//
// Owned by its DownstreamConnection. Worker thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "proxy/http2_flood_guard.h"

typedef struct nghttp2_session nghttp2_session;

namespace torii::proxy {

class DownstreamConnection;
class Worker;

class Http2Connection final : public net::ConnectionCallbacks {
 public:
  // `on_closed` runs once the connection is closed (then this object may go).
  Http2Connection(Worker& worker, net::Connection& connection, DownstreamConnection& owner,
                  std::function<void()> on_closed);
  ~Http2Connection() override;
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Sends our SETTINGS and processes what the client already sent.
  void start();
  // Worker drain: GOAWAY with the last stream we took; in-flight streams
  // finish, then the connection closes. `graceful`: shutdown notice and
  // PING first, that GOAWAY once the PING is answered.
  void start_drain(bool graceful = false);

  // net::ConnectionCallbacks
  void on_data(net::Buffer& input) override;
  void on_eof() override;
  void on_close(net::CloseReason reason, int error_no) override;
  void on_output_drained() override;

  class Stream;

 private:
  friend class Stream;
  struct Callbacks;  // nghttp2's C callbacks, as static members
  friend struct Callbacks;

  // Serialises what nghttp2 has queued into the connection's output, up to
  // its high watermark, and writes it. Deferred while inside nghttp2's
  // receive (it must not be re-entered).
  void send_pending();
  // Ends the session with GOAWAY(error) after a protocol error or a flood.
  void terminate(uint32_t error_code);
  void close_now();
  void maybe_close();
  void on_idle_timeout();
  void send_final_goaway();
  void update_idle_timer();
  void stream_closed(Stream& stream, uint32_t error_code);
  void consume(int32_t stream_id, size_t bytes);

  Worker& worker_;
  net::Connection& connection_;
  DownstreamConnection& owner_;
  std::function<void()> on_closed_;
  nghttp2_session* session_ = nullptr;
  // The open streams, unordered (nghttp2 maps ids to them): a vector, so
  // opening one allocates nothing once it has grown (a map allocated a node
  // per stream).
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<Stream*> to_flush_;  // streams whose request body arrived in this read
  std::vector<Stream*> flushing_;  // to_flush_ swapped out while flushing (keeps both capacities)
  Http2FloodGuard flood_guard_;
  net::Timer idle_timer_;
  net::Timer final_goaway_timer_;  // graceful drain: GOAWAY even without the PING's answer
  uint32_t header_limit_bytes_ = 0;
  uint32_t header_limit_count_ = 0;
  bool in_recv_ = false;      // inside nghttp2_session_mem_recv
  bool send_wanted_ = false;  // send_pending() asked for while in_recv_
  bool closing_ = false;      // close_after_flush() called
  bool closed_ = false;       // on_closed_ ran
  bool flooded_ = false;      // a callback found a flood: GOAWAY ENHANCE_YOUR_CALM
  bool draining_ = false;
  bool final_goaway_sent_ = false;
  bool awaiting_drain_ping_ = false;  // shutdown notice sent, final GOAWAY not yet
  // The graceful drain's PING payload, and how long its answer may take.
  static constexpr uint8_t kDrainPing[8] = {'t', 'o', 'r', 'i', 'i', 'd', 'r', 'n'};
  // Envoy waits its drain_timeout (5 s) between the notice and the GOAWAY.
  static constexpr uint64_t kFinalGoawayAfterMs = 5000;
};

}  // namespace torii::proxy
