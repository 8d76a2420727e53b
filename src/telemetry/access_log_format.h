// Access-log line formats: Envoy's command operators (%REQ(X?Y):N%,
// %RESPONSE_FLAGS%, ...) compiled once into a list of operations, and
// Istio's two built-in formats (ISTIO_TELEMETRY.md 4.2, 4.3): `text` (Istio's
// default text line) and `json` (Istio's JSON map, one object per line).
//
// Cost per line: one pass over the compiled operations appending into a
// caller-owned string (reused by the worker, so no allocation once it has
// grown), a header lookup per %REQ%; %START_TIME% in the default form is
// formatted once per second per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"
#include "proxy/stream_info.h"

namespace torii::telemetry {

// Istio's meshConfig defaults (pkg/config/mesh: EnvoyTextLogFormat, EnvoyJSONLogFormatIstio).
extern const std::string_view kIstioTextFormat;

class AccessLogFormat {
 public:
  // `spec`: "text" (Istio's default line), "json" (Istio's JSON map), a JSON
  // object {"key": "<format>", ...} (a custom JSON format, as
  // meshConfig.accessLogFormat in JSON mode), or an Envoy format string
  // (a newline is appended if missing, as Istio does). Unknown operators
  // are errors naming them.
  static bool parse(std::string_view spec, AccessLogFormat& out, std::string& error);

  // Appends one line (with its newline) to `out`. `request_headers`: the
  // request as the upstream received it (null: none); `now_ms` on the
  // StreamInfo's monotonic clock, for a stream that never finished.
  void format(const proxy::StreamInfo& info, const http::HeaderMap* request_headers, uint64_t now_ms,
              std::string& out) const;

  bool json() const { return json_; }

 private:
  enum class Kind : uint8_t {
    Literal,
    StartTime,
    RequestHeader,
    ResponseHeader,
    Protocol,
    ResponseCode,
    ResponseFlags,
    ResponseFlagsLong,
    ResponseCodeDetails,
    ConnectionTerminationDetails,
    UpstreamTransportFailureReason,
    BytesReceived,
    BytesSent,
    Duration,
    UpstreamHost,
    UpstreamCluster,
    UpstreamLocalAddress,
    DownstreamLocalAddress,
    DownstreamRemoteAddress,
    DownstreamRemoteAddressWithoutPort,
    RequestedServerName,
    RouteName,
    Hostname,
  };
  struct Op {
    Kind kind = Kind::Literal;
    std::string text;         // literal text; header name (lower-case); START_TIME format
    std::string alternative;  // REQ(X?Y): Y
    size_t max_length = 0;    // :N, 0 = whole
    bool without_query = false;
  };
  // One value: a string (empty = unset, printed "-" / null) or a number.
  struct Value {
    std::string_view text;
    int64_t number = 0;
    bool is_number = false;
    bool unset = false;
  };
  struct JsonField {
    std::string key;
    std::vector<Op> ops;
  };

  static bool parse_text(std::string_view spec, std::vector<Op>& ops, std::string& error);
  static bool parse_operator(std::string_view body, Op& op, std::string& error);
  static bool parse_json(std::string_view spec, AccessLogFormat& out, std::string& error);
  Value evaluate(const Op& op, const proxy::StreamInfo& info, const http::HeaderMap* request_headers,
                 uint64_t now_ms, char (&scratch)[512]) const;
  void append_text(const std::vector<Op>& ops, const proxy::StreamInfo& info,
                   const http::HeaderMap* request_headers, uint64_t now_ms, std::string& out,
                   bool json_string) const;

  bool json_ = false;
  std::vector<Op> ops_;
  std::vector<JsonField> fields_;
  std::string hostname_;
};

}  // namespace torii::telemetry
