// One request's trace, as Envoy's connection manager and tracer handle it
// at an Istio gateway (ISTIO_TELEMETRY 5.2-5.5, docs/tracing.md).
//
// Always (a stock gateway too): Envoy's random sampling decision
// (randomSamplingPercentage, else --trace-sampling) is made and recorded in
// character 14 of x-request-id ('9' sampled, else the UUID's '4').
//
// With a tracer (--otlp-endpoint or a Telemetry `tracing` rule): the
// incoming context is read -- W3C `traceparent` (Envoy's OpenTelemetry
// tracer), else B3 single `b3` or multi `x-b3-*` (Envoy's Zipkin tracer) --
// and the gateway's span continues it: same trace id, a new span id, the
// caller's span as parent, the caller's sampled flag (random sampling only
// decides for a new root). Upstream gets `traceparent` with the gateway's
// span id (always, as Envoy's OpenTelemetry tracer) and, when the request
// came with B3, the B3 fields in the form(s) it came with. `tracestate`
// passes unchanged. A context header that is present but does not parse
// (and no other valid one) makes no span and leaves every header as it
// came, as Envoy (a NullSpan).
//
// Without a tracer nothing else is read or written: trace headers pass
// through untouched.
//
// Cost: a random draw per request; with a tracer one pass over the request
// fields, a few hex conversions and header writes into the map's arena; no
// allocation.
#pragma once

#include <cstdint>

#include "http/header_map.h"
#include "telemetry/trace_context.h"
#include "upstream/fast_random.h"

namespace torii::proxy {

struct RequestTrace {
  telemetry::TraceId trace_id;
  uint64_t span_id = 0;          // the gateway's span
  uint64_t parent_span_id = 0;   // 0: a root span
  bool active = false;           // a span exists (tracer on, and no unparseable context)
  bool sampled = false;          // the span is recorded (and exported)
  bool b3_single = false;        // the request carried `b3`: rewritten upstream
  bool b3_multi = false;         // ... x-b3-*: rewritten upstream
  bool b3_wide = true;           // B3 trace id width to write back
  bool had_traceparent = false;  // inject: replace it (else append, no lookup)

  // At the request head, with a tracer configured. `random_sampled`:
  // Envoy's random decision (sample_random below), which decides for a new
  // root; `random` draws the ids.
  void start(const http::HeaderMap& headers, bool random_sampled, upstream::FastRandom& random);
  // Writes the gateway's context into the request sent upstream.
  void inject(http::HeaderMap& headers) const;
};

// Envoy's random sampling: true for `basis_points` in 10000 requests.
inline bool sample_random(upstream::FastRandom& random, uint32_t basis_points) {
  return basis_points >= 10000 || (basis_points != 0 && random.below(10000) < basis_points);
}

// Envoy's UUID request-id extension (setTraceReason): character 14 of a
// UUID ("xxxxxxxx-xxxx-Rxxx-...") becomes '9' when sampled, '4' when not;
// a value that is not a UUID is left alone. false: `id` was left alone.
bool record_trace_decision(char* id, size_t size, bool sampled);

}  // namespace torii::proxy
