#include "telemetry/otlp_encoder.h"

#include <charconv>
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

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A length-delimited field whose size is known up front: no temporary.
size_t bytes_field_size(size_t size) { return 1 + varint_size(size) + size; }

// KeyValue { string key = 1; AnyValue value = 2; } with AnyValue
// { string string_value = 1; int64 int_value = 3; }, written straight into
// `out` with computed lengths (attributes are most of a span's bytes).
void put_string_attribute(std::string& out, uint32_t field, std::string_view key, std::string_view value) {
  const size_t any = bytes_field_size(value.size());
  put_tag(out, field, kLength);
  put_varint(out, bytes_field_size(key.size()) + bytes_field_size(any));
  put_bytes(out, 1, key);
  put_tag(out, 2, kLength);
  put_varint(out, any);
  put_bytes(out, 1, value);
}

void put_int_attribute(std::string& out, uint32_t field, std::string_view key, int64_t value) {
  const size_t any = 1 + varint_size(static_cast<uint64_t>(value));
  put_tag(out, field, kLength);
  put_varint(out, bytes_field_size(key.size()) + bytes_field_size(any));
  put_bytes(out, 1, key);
  put_tag(out, 2, kLength);
  put_varint(out, any);
  put_uint(out, 3, static_cast<uint64_t>(value));
}

// Ids are big-endian bytes (the hex, as bytes).
void put_id(std::string& out, uint32_t field, uint64_t hi, uint64_t lo, bool wide) {
  char bytes[16];
  size_t n = 0;
  if (wide) {
    for (int i = 7; i >= 0; --i) bytes[n++] = static_cast<char>(hi >> (8 * i));
  }
  for (int i = 7; i >= 0; --i) bytes[n++] = static_cast<char>(lo >> (8 * i));
  put_bytes(out, field, std::string_view(bytes, n));
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

void put_span(std::string& out, std::string_view constant_attributes, const SpanRecord& s) {
  // Span fields: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6,
  // start 7, end 8, attributes 9, status 15.
  put_id(out, 1, s.trace_id.hi, s.trace_id.lo, true);
  put_id(out, 2, 0, s.span_id, false);
  if (s.parent_span_id != 0) put_id(out, 4, 0, s.parent_span_id, false);
  put_bytes(out, 5,
            s.operation.size != 0 ? std::string(s.operation.view()) : span_name(s.upstream_cluster.view()));
  put_uint(out, 6, kSpanKindServer);
  put_fixed64(out, 7, static_cast<uint64_t>(s.start_us) * 1000);
  put_fixed64(out, 8, static_cast<uint64_t>(s.end_us) * 1000);
  // Envoy's HTTP tracing tags (source/common/tracing/http_tracer_impl.cc).
  put_string_attribute(out, 9, "component", "proxy");
  out.append(constant_attributes);  // node_id, zone, istio.*: encoded once per batch
  put_string_attribute(out, 9, "guid:x-request-id", s.request_id.view());
  put_string_attribute(out, 9, "http.url", s.url.view());
  put_string_attribute(out, 9, "http.method", s.method.view());
  put_string_attribute(out, 9, "http.protocol", s.protocol.view());
  put_string_attribute(out, 9, "downstream_cluster", "-");
  put_string_attribute(out, 9, "user_agent", s.user_agent.size ? s.user_agent.view() : "-");
  put_string_attribute(out, 9, "peer.address", s.peer_address.view());
  put_int_attribute(out, 9, "request_size", static_cast<int64_t>(s.request_bytes));
  put_int_attribute(out, 9, "response_size", static_cast<int64_t>(s.response_bytes));
  char status[8];
  auto [status_end, ec] = std::to_chars(status, status + sizeof(status), s.status);
  (void)ec;
  put_string_attribute(out, 9, "http.status_code",
                       std::string_view(status, static_cast<size_t>(status_end - status)));
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
  if (error) {
    put_tag(out, 15, kLength);  // Status { StatusCode code = 3; }
    put_varint(out, 2);
    put_uint(out, 3, kStatusError);
  }
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
  std::string constant;
  for (const auto& [key, value] : resource.span_attributes) put_string_attribute(constant, 9, key, value);
  // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
  std::string scope_spans;
  put_tag(scope_spans, 1, kLength);
  put_varint(scope_spans, bytes_field_size(5));
  put_bytes(scope_spans, 1, "torii");
  std::string span;
  for (size_t i = 0; i < count; ++i) {
    span.clear();  // keeps its capacity: one allocation per batch
    put_span(span, constant, spans[i]);
    put_bytes(scope_spans, 2, span);
  }
  // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
  std::string res;
  for (const auto& [key, value] : resource.resource_attributes) put_string_attribute(res, 1, key, value);
  std::string resource_spans;
  put_bytes(resource_spans, 1, res);
  put_bytes(resource_spans, 2, scope_spans);
  // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
  put_bytes(out, 1, resource_spans);
}

}  // namespace torii::telemetry
