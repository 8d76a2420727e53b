#include "telemetry/otlp_encoder.h"

#include <string>

#include "proxy/stream_info.h"

namespace torii::telemetry {

namespace {

// Protobuf wire types.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLength = 2;

// opentelemetry.proto.trace.v1.Span.SpanKind / Status.StatusCode
constexpr uint64_t kSpanKindServer = 2;
constexpr uint64_t kStatusError = 2;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, uint32_t field, uint32_t wire) { put_varint(out, (field << 3) | wire); }

void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_tag(out, field, kLength);
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_uint(std::string& out, uint32_t field, uint64_t v) {
  put_tag(out, field, kVarint);
  put_varint(out, v);
}

void put_fixed64(std::string& out, uint32_t field, uint64_t v) {
  put_tag(out, field, kFixed64);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// A sub-message: encoded into `scratch`, then written length-delimited.
template <typename F>
void put_message(std::string& out, uint32_t field, F&& body) {
  std::string inner;
  body(inner);
  put_bytes(out, field, inner);
}

// KeyValue { string key = 1; AnyValue value = 2; }, AnyValue { string string_value = 1; bool bool_value = 2;
// int64 int_value = 3; }
void put_string_attribute(std::string& out, uint32_t field, std::string_view key, std::string_view value) {
  put_message(out, field, [&](std::string& kv) {
    put_bytes(kv, 1, key);
    put_message(kv, 2, [&](std::string& any) { put_bytes(any, 1, value); });
  });
}

void put_int_attribute(std::string& out, uint32_t field, std::string_view key, int64_t value) {
  put_message(out, field, [&](std::string& kv) {
    put_bytes(kv, 1, key);
    put_message(kv, 2, [&](std::string& any) { put_uint(any, 3, static_cast<uint64_t>(value)); });
  });
}

std::string id_bytes(uint64_t hi, uint64_t lo, bool wide) {
  std::string s;
  if (wide) {
    for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>(hi >> (8 * i)));
  }
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>(lo >> (8 * i)));
  return s;
}

std::string response_flags_text(uint32_t flags) {
  if (flags == 0) return "-";
  std::string out;
  for (int bit = 0; bit < proxy::kResponseFlagCount; ++bit) {
    if ((flags & (1u << bit)) == 0) continue;
    if (!out.empty()) out.push_back(',');
    out.append(proxy::kResponseFlagShort[bit]);
  }
  return out;
}

void put_span(std::string& out, const OtlpResource& resource, const SpanRecord& s) {
  // Span fields: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6,
  // start 7, end 8, attributes 9, status 15.
  put_bytes(out, 1, id_bytes(s.trace_id.hi, s.trace_id.lo, true));
  put_bytes(out, 2, id_bytes(0, s.span_id, false));
  if (s.parent_span_id != 0) put_bytes(out, 4, id_bytes(0, s.parent_span_id, false));
  put_bytes(out, 5,
            s.operation.size != 0 ? std::string(s.operation.view()) : span_name(s.upstream_cluster.view()));
  put_uint(out, 6, kSpanKindServer);
  put_fixed64(out, 7, static_cast<uint64_t>(s.start_us) * 1000);
  put_fixed64(out, 8, static_cast<uint64_t>(s.end_us) * 1000);
  // Envoy's HTTP tracing tags (source/common/tracing/http_tracer_impl.cc).
  put_string_attribute(out, 9, "component", "proxy");
  for (const auto& [key, value] : resource.span_attributes) put_string_attribute(out, 9, key, value);
  put_string_attribute(out, 9, "guid:x-request-id", s.request_id.view());
  put_string_attribute(out, 9, "http.url", s.url.view());
  put_string_attribute(out, 9, "http.method", s.method.view());
  put_string_attribute(out, 9, "http.protocol", s.protocol.view());
  put_string_attribute(out, 9, "downstream_cluster", "-");
  put_string_attribute(out, 9, "user_agent", s.user_agent.size ? s.user_agent.view() : "-");
  put_string_attribute(out, 9, "peer.address", s.peer_address.view());
  put_int_attribute(out, 9, "request_size", static_cast<int64_t>(s.request_bytes));
  put_int_attribute(out, 9, "response_size", static_cast<int64_t>(s.response_bytes));
  put_string_attribute(out, 9, "http.status_code", std::to_string(s.status));
  put_string_attribute(out, 9, "response_flags", response_flags_text(s.response_flags));
  if (s.upstream_cluster.size != 0) {
    put_string_attribute(out, 9, "upstream_cluster", s.upstream_cluster.view());
    put_string_attribute(out, 9, "upstream_cluster.name", s.upstream_cluster.view());
  }
  if (s.upstream_address.size != 0)
    put_string_attribute(out, 9, "upstream_address", s.upstream_address.view());
  // Envoy: "error" = "true" for 5xx (and no response); the OpenTelemetry
  // tracer turns that tag into Status ERROR.
  const bool error = s.status == 0 || s.status >= 500;
  if (error) put_string_attribute(out, 9, "error", "true");
  if (error) put_message(out, 15, [](std::string& status) { put_uint(status, 3, kStatusError); });
}

}  // namespace

std::string span_name(std::string_view cluster) {
  if (cluster.empty()) return "ingress";
  // outbound|<port>|<subset>|<host>
  if (!cluster.starts_with("outbound|")) return std::string(cluster) + "/*";
  std::string_view rest = cluster.substr(9);
  const size_t bar = rest.find('|');
  if (bar == std::string_view::npos) return std::string(cluster);
  const std::string_view port = rest.substr(0, bar);
  rest.remove_prefix(bar + 1);
  const size_t bar2 = rest.find('|');
  if (bar2 == std::string_view::npos) return std::string(cluster);
  const std::string_view host = rest.substr(bar2 + 1);
  return std::string(host) + ":" + std::string(port) + "/*";
}

void encode_export_request(const OtlpResource& resource, const SpanRecord* spans, size_t count,
                           std::string& out) {
  // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
  put_message(out, 1, [&](std::string& rs) {
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    put_message(rs, 1, [&](std::string& res) {
      for (const auto& [key, value] : resource.resource_attributes) put_string_attribute(res, 1, key, value);
    });
    put_message(rs, 2, [&](std::string& ss) {
      // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
      put_message(ss, 1, [](std::string& scope) { put_bytes(scope, 1, "torii"); });
      for (size_t i = 0; i < count; ++i)
        put_message(ss, 2, [&](std::string& span) { put_span(span, resource, spans[i]); });
    });
  });
}

}  // namespace torii::telemetry
