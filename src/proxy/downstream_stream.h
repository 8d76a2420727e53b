// The client's side of one stream, as the connection that carries it
// exposes it to the ActiveStream: facts about the connection, the response
// encoder, and flow control of the request body.
//
// One routing path for every codec (DESIGN.md "two codecs, one stream"):
// the ActiveStream, the router and the policies never ask whether HTTP/1.1
// or HTTP/2 carries the stream. Each codec turns these calls into its own
// framing: HTTP/1 writes a status line and picks content-length, chunked or
// close-delimited framing and `connection: close`; HTTP/2 sends HEADERS and
// DATA frames and ends the stream with END_STREAM or trailers.
//
// Worker thread only. The implementation outlives the ActiveStream it
// carries (the stream is destroyed deferred, before its connection).
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>

#include "http/header_map.h"
#include "proxy/tcp_tunnel.h"

namespace torii::upstream {
struct ClusterInfo;
}

namespace torii::proxy {

enum class HttpProtocol { Http10, Http11, Http2 };

class DownstreamStream {
 public:
  // ---- the connection ----
  virtual std::string_view peer_ip() const = 0;
  virtual const std::string& listener_name() const = 0;
  virtual bool is_tls() const = 0;
  // The SNI the client sent ("" without TLS or SNI): picks the HTTPS server.
  virtual std::string_view server_name() const = 0;
  virtual HttpProtocol protocol() const = 0;
  // The local address the connection arrived on (a getsockname call: for
  // the rare policy that asks, not kept per connection). false on error.
  virtual bool local_address(sockaddr_storage& out) const = 0;

  // ---- the response ----
  // An interim 100 (the caller checks that the client asked for it).
  virtual void encode_100_continue() = 0;
  // The final response head. `headers` carry no framing or connection
  // fields of their own beyond content-length (the codec adds what it
  // needs); `end_stream`: no body follows. HTTP/1 sends no body bytes for
  // HEAD, 204 and 304 whatever follows.
  virtual void encode_headers(int status, http::HeaderMap& headers, bool end_stream) = 0;
  virtual void encode_data(std::string_view data, bool end_stream) = 0;
  // Ends the response with trailers (HTTP/1.1: the last chunk; trailers are
  // dropped there, as Envoy does unless enable_trailers is set).
  virtual void encode_trailers(http::HeaderMap& trailers) = 0;
  // Sends what the encode calls queued; called once per batch of upstream
  // input, so a head and its body leave in one write.
  virtual void flush() = 0;
  // Response bytes queued for the client beyond the buffer limit: the
  // caller stops reading from the upstream until on_downstream_drained().
  virtual bool above_write_limit() const = 0;
  // The response cannot be finished (the upstream died mid-body): HTTP/1
  // drops the connection, HTTP/2 resets the stream.
  virtual void reset() = 0;

  // ---- the request ----
  // The whole request (body included) was received.
  virtual bool request_complete() const = 0;
  // Upstream back-pressure: stop / resume reading the request body.
  virtual void set_upstream_blocked(bool blocked) = 0;

  // ---- connection-level, HTTP/1 only (HTTP/2 ignores them) ----
  // The response will be followed by a close.
  virtual void close_after_response() = 0;
  virtual bool closing_after_response() const = 0;
  // A websocket 101 went out: from now on bytes pass through unparsed.
  virtual void start_tunnel() = 0;
  // A CONNECT a forward-proxy listener accepted: the connection becomes a
  // byte tunnel and the stream is done. `keep` holds a per-request cluster.
  virtual void start_connect(TcpTunnelTarget target, std::shared_ptr<const upstream::ClusterInfo> keep) = 0;

 protected:
  ~DownstreamStream() = default;
};

}  // namespace torii::proxy
