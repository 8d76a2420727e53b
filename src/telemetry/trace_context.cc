#include "telemetry/trace_context.h"

namespace torii::telemetry {

namespace {

constexpr char kHex[] = "0123456789abcdef";

int hex_digit(char c, bool upper_ok) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (upper_ok && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly 1..16 hex digits into `out`.
bool parse_hex64(std::string_view s, uint64_t& out, bool upper_ok) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    const int d = hex_digit(c, upper_ok);
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

// 16 or 32 hex digits.
bool parse_trace_id(std::string_view s, TraceId& out, bool& wide, bool upper_ok) {
  if (s.size() == 32) {
    wide = true;
    return parse_hex64(s.substr(0, 16), out.hi, upper_ok) && parse_hex64(s.substr(16), out.lo, upper_ok);
  }
  if (s.size() == 16) {
    wide = false;
    out.hi = 0;
    return parse_hex64(s, out.lo, upper_ok);
  }
  return false;
}

bool sampling_flag(char c, Sampled& out) {
  switch (c) {
    case '1':
    case 'd':  // debug: sampled
      out = Sampled::Yes;
      return true;
    case '0':
      out = Sampled::No;
      return true;
    default:
      return false;
  }
}

}  // namespace

bool parse_traceparent(std::string_view v, ParentContext& out) {
  // version "-" trace-id "-" parent-id "-" flags
  if (v.size() < kTraceparentSize || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  uint64_t version = 0;
  if (!parse_hex64(v.substr(0, 2), version, false) || version == 0xff) return false;
  // Version 00 is exactly 55 characters; later versions may append fields.
  if (version == 0 ? v.size() != kTraceparentSize : v.size() > kTraceparentSize && v[55] != '-') return false;
  ParentContext c;
  bool wide = true;
  uint64_t flags = 0;
  if (!parse_trace_id(v.substr(3, 32), c.trace_id, wide, false) ||
      !parse_hex64(v.substr(36, 16), c.span_id, false) || !parse_hex64(v.substr(53, 2), flags, false)) {
    return false;
  }
  if (c.trace_id.empty() || c.span_id == 0) return false;
  c.sampled = (flags & 1) != 0 ? Sampled::Yes : Sampled::No;
  c.has_context = true;
  c.trace_id_128 = true;
  out = c;
  return true;
}

bool parse_b3_single(std::string_view v, ParentContext& out) {
  ParentContext c;
  if (v.size() == 1) {  // a decision only
    if (!sampling_flag(v[0], c.sampled)) return false;
    out = c;
    return true;
  }
  const size_t dash = v.find('-');
  if (dash == std::string_view::npos) return false;
  if (!parse_trace_id(v.substr(0, dash), c.trace_id, c.trace_id_128, true) || c.trace_id.empty())
    return false;
  std::string_view rest = v.substr(dash + 1);
  if (rest.size() < 16 || !parse_hex64(rest.substr(0, 16), c.span_id, true) || c.span_id == 0) return false;
  rest.remove_prefix(16);
  if (!rest.empty()) {
    // "-{flag}" then optionally "-{parent 16 hex}".
    if (rest.size() < 2 || rest[0] != '-' || !sampling_flag(rest[1], c.sampled)) return false;
    rest.remove_prefix(2);
    if (!rest.empty()) {
      uint64_t parent = 0;
      if (rest.size() != 17 || rest[0] != '-' || !parse_hex64(rest.substr(1), parent, true)) return false;
    }
  }
  c.has_context = true;
  out = c;
  return true;
}

bool parse_b3_multi(const B3Headers& h, ParentContext& out) {
  ParentContext c;
  if (h.flags != nullptr && *h.flags == "1") {
    c.sampled = Sampled::Yes;  // debug implies sampled
  } else if (h.sampled != nullptr) {
    const std::string_view s = *h.sampled;
    if (s == "1" || s == "true" || s == "d") {
      c.sampled = Sampled::Yes;
    } else if (s == "0" || s == "false") {
      c.sampled = Sampled::No;
    } else {
      return false;
    }
  }
  if (h.trace_id == nullptr && h.span_id == nullptr) {
    if (h.parent_span_id != nullptr) return false;
    out = c;  // a decision only (or nothing)
    return true;
  }
  // Envoy's Zipkin extractor needs both ids; one without the other is broken.
  if (h.trace_id == nullptr || h.span_id == nullptr) return false;
  if (!parse_trace_id(*h.trace_id, c.trace_id, c.trace_id_128, true) || c.trace_id.empty()) return false;
  if (h.span_id->size() != 16 || !parse_hex64(*h.span_id, c.span_id, true) || c.span_id == 0) return false;
  if (h.parent_span_id != nullptr && !h.parent_span_id->empty()) {
    uint64_t parent = 0;
    if (h.parent_span_id->size() != 16 || !parse_hex64(*h.parent_span_id, parent, true)) return false;
  }
  c.has_context = true;
  out = c;
  return true;
}

namespace {

// Two hex digits per byte, from one table lookup.
struct HexPairs {
  char pairs[512];
  constexpr HexPairs() : pairs() {
    for (int i = 0; i < 256; ++i) {
      pairs[2 * i] = kHex[i >> 4];
      pairs[2 * i + 1] = kHex[i & 0xF];
    }
  }
};
constexpr HexPairs kHexPairs;

}  // namespace

void write_hex64(char* out, uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    const char* pair = kHexPairs.pairs + 2 * (value & 0xFF);
    out[2 * i] = pair[0];
    out[2 * i + 1] = pair[1];
    value >>= 8;
  }
}

size_t write_trace_id(char* out, const TraceId& trace_id, bool wide) {
  if (!wide) {
    write_hex64(out, trace_id.lo);
    return 16;
  }
  write_hex64(out, trace_id.hi);
  write_hex64(out + 16, trace_id.lo);
  return 32;
}

void write_traceparent(char* out, const TraceId& trace_id, uint64_t span_id, bool sampled) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  write_trace_id(out + 3, trace_id, true);
  out[35] = '-';
  write_hex64(out + 36, span_id);
  out[52] = '-';
  out[53] = '0';
  out[54] = sampled ? '1' : '0';
}

size_t write_b3_single(char* out, const TraceId& trace_id, bool wide, uint64_t span_id, bool sampled,
                       uint64_t parent_span_id) {
  size_t n = write_trace_id(out, trace_id, wide);
  out[n++] = '-';
  write_hex64(out + n, span_id);
  n += 16;
  out[n++] = '-';
  out[n++] = sampled ? '1' : '0';
  if (parent_span_id != 0) {
    out[n++] = '-';
    write_hex64(out + n, parent_span_id);
    n += 16;
  }
  return n;
}

}  // namespace torii::telemetry
