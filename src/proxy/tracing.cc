#include "proxy/tracing.h"

namespace torii::proxy {

namespace {

using telemetry::ParentContext;
using telemetry::Sampled;

// The context fields of one request, found in one pass.
struct ContextFields {
  const std::string_view* traceparent = nullptr;
  const std::string_view* b3 = nullptr;
  telemetry::B3Headers multi;
};

ContextFields find_fields(const http::HeaderMap& headers) {
  ContextFields f;
  for (const auto& e : headers.entries()) {
    const std::string_view n = e.name;
    // Sizes and single characters first: most fields are none of these, and
    // a string_view == is a memcmp call.
    const size_t size = n.size();
    if (size == 11 && n[0] == 't' && n[5] == 'p' && n == "traceparent") {
      if (f.traceparent == nullptr) f.traceparent = &e.value;
    } else if (size == 2 && n[0] == 'b' && n[1] == '3') {
      if (f.b3 == nullptr) f.b3 = &e.value;
    } else if (size >= 10 && n[3] == '3' && n[2] == 'b' && n[0] == 'x' && n[1] == '-' && n[4] == '-') {
      const std::string_view rest = n.substr(5);
      const std::string_view** slot = rest == "traceid"        ? &f.multi.trace_id
                                      : rest == "spanid"       ? &f.multi.span_id
                                      : rest == "parentspanid" ? &f.multi.parent_span_id
                                      : rest == "sampled"      ? &f.multi.sampled
                                      : rest == "flags"        ? &f.multi.flags
                                                               : nullptr;
      if (slot != nullptr && *slot == nullptr) *slot = &e.value;  // the first one, as Envoy
    }
  }
  return f;
}

uint64_t nonzero(upstream::FastRandom& random) {
  uint64_t v = random.next();
  return v != 0 ? v : 1;
}

}  // namespace

void RequestTrace::start(const http::HeaderMap& headers, bool random_sampled, upstream::FastRandom& random) {
  const ContextFields f = find_fields(headers);
  had_traceparent = f.traceparent != nullptr;
  b3_single = f.b3 != nullptr;
  b3_multi = f.multi.any();

  // W3C first (Envoy's OpenTelemetry tracer), then B3 (Envoy's Zipkin
  // tracer reads `b3` before x-b3-*).
  ParentContext parent;
  bool valid = false;
  bool invalid = false;
  if (f.traceparent != nullptr) {
    valid = telemetry::parse_traceparent(*f.traceparent, parent);
    invalid = !valid;
  }
  if (!valid && (b3_single || b3_multi)) {
    ParentContext b3;
    const bool ok =
        b3_single ? telemetry::parse_b3_single(*f.b3, b3) : telemetry::parse_b3_multi(f.multi, b3);
    if (ok && (b3.has_context || !invalid)) {
      parent = b3;
      valid = true;
      invalid = false;
      b3_wide = b3.trace_id_128;
    } else if (!ok) {
      invalid = true;
    }
  }
  if (invalid) {
    // Envoy: a context it cannot read gives a NullSpan -- nothing recorded,
    // nothing injected, the headers pass as they came.
    active = false;
    return;
  }
  active = true;
  span_id = nonzero(random);
  if (valid && parent.has_context) {
    trace_id = parent.trace_id;
    parent_span_id = parent.span_id;
  } else {
    trace_id.hi = random.next();
    trace_id.lo = nonzero(random);
    parent_span_id = 0;
    b3_wide = true;  // Istio's Zipkin tracer writes 128-bit ids
  }
  // The caller's decision wins (parent-based sampling); random sampling
  // decides only when none came.
  sampled = parent.sampled == Sampled::Unset ? random_sampled : parent.sampled == Sampled::Yes;
}

void RequestTrace::inject(http::HeaderMap& headers) const {
  if (!active) return;
  char traceparent[telemetry::kTraceparentSize];
  telemetry::write_traceparent(traceparent, trace_id, span_id, sampled);
  const std::string_view value(traceparent, sizeof(traceparent));
  if (had_traceparent) {
    headers.set("traceparent", value);
  } else {
    headers.add_lower("traceparent", value);  // known absent: no search
  }
  if (b3_multi) {
    char hex[32];
    headers.set("x-b3-traceid", std::string_view(hex, telemetry::write_trace_id(hex, trace_id, b3_wide)));
    telemetry::write_hex64(hex, span_id);
    headers.set("x-b3-spanid", std::string_view(hex, 16));
    if (parent_span_id != 0) {
      telemetry::write_hex64(hex, parent_span_id);
      headers.set("x-b3-parentspanid", std::string_view(hex, 16));
    } else {
      headers.remove("x-b3-parentspanid");
    }
    headers.set("x-b3-sampled", sampled ? "1" : "0");
  }
  if (b3_single) {
    char b3[telemetry::kB3SingleMaxSize];
    headers.set("b3", std::string_view(b3, telemetry::write_b3_single(b3, trace_id, b3_wide, span_id, sampled,
                                                                      parent_span_id)));
  }
}

bool record_trace_decision(char* id, size_t size, bool sampled) {
  if (size != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-') return false;
  const char c = id[14];
  // '4' none, '9' sampled, 'a' forced, 'b' client (Envoy's trace reasons).
  if (c != '4' && c != '9' && c != 'a' && c != 'b') return false;
  id[14] = sampled ? '9' : '4';
  return true;
}

}  // namespace torii::proxy
