// What an UpstreamRequest reports to whoever drives it: the router layer
// (RouterRequest, which retries) for client requests, a ShadowRequest for
// mirrors; the ActiveStream receives the same calls from the RouterRequest.
// Worker thread only.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/message_head.h"

namespace torii::proxy {

enum class UpstreamFailure {
  ConnectionFailure,      // connect refused / failed / timed out  -> 503 UF
  ConnectionTermination,  // closed or reset before response headers -> 503 UC
  RemoteReset,            // HTTP/2: the upstream reset the stream before headers -> 503 UR
  RefusedStream,          // HTTP/2: REFUSED_STREAM, or above a GOAWAY's last stream id -> 503 UR
  ProtocolError,          // unparseable response -> 502 UPE
  Timeout,                // route timeout or last per-try timeout -> 504 UT
  Overflow,               // circuit breaker (DestinationRule connectionPool) -> 503 UO + x-envoy-overloaded
  NoHealthyUpstream,      // every endpoint ejected by outlier detection -> 503 UH
};

class UpstreamCallbacks {
 public:
  // A 1xx other than 101.
  virtual void on_upstream_informational(http::ResponseHead& head) = 0;
  // The final response head (or a granted 101 switch). `end_stream`: the
  // response is the head alone (an HTTP/2 HEADERS frame with END_STREAM,
  // e.g. a gRPC trailers-only answer), and on_upstream_complete() follows.
  virtual void on_upstream_headers(http::ResponseHead& head, uint64_t service_time_ms, bool end_stream) = 0;
  virtual void on_upstream_body(std::string_view data) = 0;
  virtual void on_upstream_complete() = 0;
  // The response ended with trailers (HTTP/2 upstreams; gRPC's grpc-status).
  // Instead of on_upstream_complete(); the default drops them.
  virtual void on_upstream_trailers(http::HeaderMap& /*trailers*/) { on_upstream_complete(); }
  // Sends what the response callbacks queued; once per batch of upstream input.
  virtual void flush_downstream() = 0;
  // The attempt waited in the endpoint's pending queue and now has its
  // connection (Envoy's onPoolReady): the per-try timeout starts here. Not
  // called for an attempt that found a pooled connection at once.
  virtual void on_upstream_ready() {}
  // Failure before response headers (=> local reply), or after (=> reset).
  virtual void on_upstream_failure(UpstreamFailure failure) = 0;
  // The upstream connection's output is above / back below its limit.
  virtual void set_upstream_blocked(bool blocked) = 0;
  // Why the TLS handshake to the upstream failed (Envoy's "transport failure
  // reason"); comes just before on_upstream_failure(ConnectionFailure).
  virtual void on_transport_failure(std::string_view /*reason*/) {}

 protected:
  ~UpstreamCallbacks() = default;
};

}  // namespace torii::proxy
