// One finished, sampled gateway span as a worker hands it to the exporter:
// a fixed-size record (ids, times, status and a few truncated strings), so
// recording it is one copy into a preallocated buffer and the request path
// never allocates for tracing. The exporter thread turns records into OTLP
// (telemetry/otlp_encoder.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "telemetry/trace_context.h"

namespace torii::telemetry {

// A string cut to N-1 bytes (a span attribute need not be whole: Istio's
// maxTagLength defaults to 256 too).
template <size_t N>
struct FixedString {
  char data[N];
  uint16_t size = 0;
  void assign(std::string_view s) {
    size = static_cast<uint16_t>(std::min(s.size(), N - 1));
    std::memcpy(data, s.data(), size);
  }
  // Appends what fits.
  void append(std::string_view s) {
    const size_t n = std::min(s.size(), N - 1 - size);
    std::memcpy(data + size, s.data(), n);
    size = static_cast<uint16_t>(size + n);
  }
  std::string_view view() const { return {data, size}; }
};

struct SpanRecord {
  TraceId trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;  // 0: a root span
  int64_t start_us = 0;         // wall clock, microseconds since the epoch
  int64_t end_us = 0;
  uint64_t request_bytes = 0;  // body bytes (Envoy's request_size / response_size tags)
  uint64_t response_bytes = 0;
  uint32_t response_flags = 0;  // proxy/stream_info.h flag bits
  uint16_t status = 0;          // 0: no response was sent
  FixedString<16> method;
  FixedString<16> protocol;
  FixedString<256> url;  // scheme://authority/path?query, as Envoy's http.url tag
  FixedString<160> upstream_cluster;
  FixedString<192> operation;  // the route's decorator: the span's name
  FixedString<48> upstream_address;
  FixedString<48> peer_address;
  FixedString<40> request_id;
  FixedString<128> user_agent;
};

}  // namespace torii::telemetry
