// The HTTP/1 connection manager of one client connection: parses requests,
// runs one ActiveStream at a time (pipelined requests wait, parsed but
// unanswered, until the previous response is written, so answers stay in
// order), applies keep-alive / close rules, timeouts and back-pressure.
// It is the DownstreamStream of its current ActiveStream: it frames the
// response as HTTP/1 (content-length, chunked or close-delimited).
//
// Owned by its Worker (which destroys it, deferred, after it reports
// itself finished). Worker thread only.
#pragma once

#include <list>
#include <memory>
#include <string>

#include "http/http1_parser.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "proxy/downstream_stream.h"
#include "proxy/local_reply.h"
#include "proxy/tcp_tunnel.h"

namespace torii::proxy {

class ActiveStream;
class ConnectTunnel;
class Http2Connection;
class Worker;

class DownstreamConnection final : public net::ConnectionCallbacks,
                                   public http::RequestCallbacks,
                                   public DownstreamStream,
                                   public net::Deferrable {
 public:
  // `listener_name`: the worker's interned copy (Worker::intern_listener_name).
  DownstreamConnection(Worker& worker, net::UniqueFd fd, std::string peer_ip,
                       const std::string& listener_name);
  ~DownstreamConnection() override;

  std::list<std::unique_ptr<DownstreamConnection>>::iterator position;  // in the worker's list

  // HTTPS listeners: TLS between the client and us (before any byte is read).
  void start_tls(std::unique_ptr<net::TlsSession> session) { connection_.start_tls(std::move(session)); }

  // ---- DownstreamStream, for the active stream ----
  std::string_view peer_ip() const override { return peer_ip_; }
  const std::string& listener_name() const override { return *listener_name_; }
  bool is_tls() const override { return connection_.tls() != nullptr; }
  std::string_view server_name() const override {
    return connection_.tls() ? std::string_view(connection_.tls()->server_name()) : std::string_view();
  }
  HttpProtocol protocol() const override { return http10_ ? HttpProtocol::Http10 : HttpProtocol::Http11; }
  bool local_address(sockaddr_storage& out) const override;
  void encode_100_continue() override;
  void encode_headers(int status, http::HeaderMap& headers, bool end_stream) override;
  void encode_data(std::string_view data, bool end_stream) override;
  void encode_trailers(http::HeaderMap& trailers) override;
  void flush() override { connection_.flush(); }
  bool above_write_limit() const override { return connection_.above_high_watermark(); }
  // Drops the connection (the response cannot be finished).
  void reset() override;
  bool request_complete() const override { return request_complete_; }
  // Upstream back-pressure on the request body.
  void set_upstream_blocked(bool blocked) override;
  // The response will be followed by a close (client asked, HTTP/1.0, drain, error).
  bool closing_after_response() const override { return close_after_response_; }
  void close_after_response() override { close_after_response_ = true; }
  // The upstream granted a websocket upgrade: from now on every byte the
  // client sends goes to the stream unparsed, and the connection closes when
  // the stream ends.
  void start_tunnel() override;
  // Once the request head is parsed, the connection becomes a byte tunnel
  // (proxy/connect_tunnel.h) and the stream is done.
  void start_connect(TcpTunnelTarget target, std::shared_ptr<const upstream::ClusterInfo> keep) override;
  // Worker drain: close now if idle, else after the current response.
  // HTTP/2: GOAWAY; `graceful_goaway`: first a shutdown notice and a PING,
  // the GOAWAY naming the last stream once the PING is answered (RFC 9113
  // 6.8), so a stream the client opened meanwhile is not refused.
  void start_drain(bool graceful_goaway = false);
  // Done with HTTP: response sent, waiting only for the client's FIN.
  bool lingering() const { return connection_.lingering(); }

  // net::ConnectionCallbacks
  void on_data(net::Buffer& input) override;
  void on_eof() override;
  void on_close(net::CloseReason reason, int error_no) override;
  void on_output_drained() override;

  // http::RequestCallbacks
  void on_request_head(http::RequestHead& head) override;
  void on_request_body(std::string_view data) override;

 private:
  void process_input(net::Buffer& input);
  // The parser for the next request: made (from a per-thread free list) on
  // the first byte, dropped once the connection is idle again.
  void acquire_parser();
  void release_parser();
  void on_parse_error();
  void maybe_finish_stream();
  void finish_stream();
  void resume_parsing();
  // Abrupt: drops anything unsent. For resets and idle connections.
  void close_now();
  // Sends what is queued, then closes (no further requests are read).
  void close_gracefully();
  void update_read_enabled();
  // `details`/`flags`: Envoy's, for the access-log line of a request that
  // never became a stream (codec errors); `log` false when a stream that
  // logs itself was there.
  void reply_and_close(const LocalReply& reply, std::string_view details, uint32_t flags, bool log = true);
  void on_idle_timeout();
  void on_request_headers_timeout();
  void begin_connect();
  // Envoy's codec_type AUTO: HTTP/2 when TLS negotiated ALPN "h2" or a
  // cleartext client starts with the HTTP/2 preface (prior knowledge).
  // true: the bytes are HTTP/2's (or too few yet to tell).
  bool take_http2(net::Buffer& input);
  // The stream wrote the last byte of its response.
  void on_response_complete();

  Worker& worker_;
  net::Connection connection_;
  // Only while a request is read or answered (or pipelined bytes wait):
  // an idle keep-alive connection holds no parser state (issue 17).
  std::unique_ptr<http::RequestParser> parser_;
  std::string peer_ip_;
  const std::string* listener_name_;  // the worker's interned copy
  std::unique_ptr<ActiveStream> stream_;
  net::Timer idle_timer_;
  // Only with request_headers_timeout_ms set (off by default, as Envoy's).
  std::unique_ptr<net::Timer> headers_timer_;

  bool in_feed_ = false;            // inside parser_.feed(): do not resume or finish
  bool awaiting_response_ = false;  // parser paused after a complete request
  bool request_complete_ = false;
  bool response_complete_ = false;
  bool close_after_response_ = false;
  bool client_closes_ = false;  // the request said it is the client's last
  bool peer_eof_ = false;
  bool closing_ = false;            // close_after_flush() called: no more requests
  bool finished_ = false;           // handed back to the worker
  bool upstream_blocked_ = false;   // request body: upstream buffer full
  bool pipeline_blocked_ = false;   // too many read-ahead bytes while a response is pending
  bool waiting_for_drain_ = false;  // next request waits for output to drain
  bool tunnel_ = false;             // upgraded: bytes pass through unparsed
  bool connect_started_ = false;    // connect_ owns the connection's callbacks
  bool codec_chosen_ = false;       // HTTP/1 or HTTP/2 decided (first bytes seen)
  // The current request and how its response is framed.
  bool http10_ = false;
  bool head_request_ = false;
  bool chunked_response_ = false;  // body sent as chunks
  bool raw_response_ = false;      // after a 101: bytes as they come
  bool body_allowed_ = true;       // not HEAD, 204 or 304
  // CONNECT tunnel, or the HTTP/2 session; declared last so they go before
  // connection_ (they borrow it and take its callbacks).
  std::unique_ptr<ConnectTunnel> connect_;
  std::unique_ptr<Http2Connection> h2_;
};

}  // namespace torii::proxy
