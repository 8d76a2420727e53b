// Trace-context headers: W3C `traceparent` and B3 (the multi `x-b3-*`
// fields and the single `b3` field), parsed and written without
// allocating. Pure functions over string views; proxy/tracing.h decides
// what a request does with them (ISTIO_TELEMETRY 5.4, 5.5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace torii::telemetry {

// 128-bit trace id as two words (hi first, as the hex is written). A 64-bit
// B3 trace id has hi == 0 and is written back as 16 hex digits.
struct TraceId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool empty() const { return hi == 0 && lo == 0; }
  bool operator==(const TraceId&) const = default;
};

enum class Sampled : uint8_t { Unset, No, Yes };

// What one propagation format carried.
struct ParentContext {
  TraceId trace_id;
  uint64_t span_id = 0;  // the caller's span: the gateway's span's parent
  Sampled sampled = Sampled::Unset;
  bool has_context = false;  // trace and span ids present (else only a sampling decision)
  bool trace_id_128 = true;  // B3: the trace id came as 32 hex digits
};

// W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>" (lower-case hex only, as
// the spec says). Version 00 must be exactly 55 characters; a later version
// (not "ff") is read by its first four fields and may carry more after a
// '-'. All-zero trace or parent ids are invalid. false: not valid.
bool parse_traceparent(std::string_view value, ParentContext& out);

// B3 single header: "{trace}-{span}[-{1|0|d}[-{parent}]]" or just "1",
// "0" or "d" (a decision without context). false: not valid.
bool parse_b3_single(std::string_view value, ParentContext& out);

// B3 multi headers (null: absent). Trace id 16 or 32 hex, span id 16 hex,
// parent 16 hex if present; x-b3-sampled "1"/"0" (and "true"/"false" from
// old clients); x-b3-flags "1" (debug) means sampled. Only a sampled flag
// (no ids): a decision without context. Ids half present or malformed:
// false.
struct B3Headers {
  const std::string_view* trace_id = nullptr;
  const std::string_view* span_id = nullptr;
  const std::string_view* parent_span_id = nullptr;
  const std::string_view* sampled = nullptr;
  const std::string_view* flags = nullptr;
  bool any() const { return trace_id || span_id || parent_span_id || sampled || flags; }
};
bool parse_b3_multi(const B3Headers& headers, ParentContext& out);

// Writers. `out` must have room for the size given.
inline constexpr size_t kTraceparentSize = 55;
void write_traceparent(char* out, const TraceId& trace_id, uint64_t span_id, bool sampled);
// 16 lower-case hex digits.
void write_hex64(char* out, uint64_t value);
// 32 hex digits, or 16 when !wide; returns how many were written.
size_t write_trace_id(char* out, const TraceId& trace_id, bool wide);
// "{trace}-{span}-{1|0}[-{parent}]": at most 32+1+16+2+17 = 68 bytes.
inline constexpr size_t kB3SingleMaxSize = 68;
size_t write_b3_single(char* out, const TraceId& trace_id, bool wide, uint64_t span_id, bool sampled,
                       uint64_t parent_span_id);

}  // namespace torii::telemetry
