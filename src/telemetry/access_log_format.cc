#include "telemetry/access_log_format.h"

#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "http/header_map.h"

namespace torii::telemetry {

const std::string_view kIstioTextFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
    "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
    "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW% "
    "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
    "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

namespace {

// Istio's JSON map (EnvoyJSONLogFormatIstio), in Istio's key order.
constexpr std::pair<std::string_view, std::string_view> kIstioJson[] = {
    {"start_time", "%START_TIME%"},
    {"route_name", "%ROUTE_NAME%"},
    {"method", "%REQ(:METHOD)%"},
    {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
    {"protocol", "%PROTOCOL%"},
    {"response_code", "%RESPONSE_CODE%"},
    {"response_flags", "%RESPONSE_FLAGS%"},
    {"response_code_details", "%RESPONSE_CODE_DETAILS%"},
    {"connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%"},
    {"upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%"},
    {"bytes_received", "%BYTES_RECEIVED%"},
    {"bytes_sent", "%BYTES_SENT%"},
    {"duration", "%DURATION%"},
    {"upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"},
    {"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"},
    {"user_agent", "%REQ(USER-AGENT)%"},
    {"request_id", "%REQ(X-REQUEST-ID)%"},
    {"authority", "%REQ(:AUTHORITY)%"},
    {"upstream_host", "%UPSTREAM_HOST%"},
    {"upstream_cluster", "%UPSTREAM_CLUSTER_RAW%"},
    {"upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"},
    {"downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"},
    {"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"},
    {"requested_server_name", "%REQUESTED_SERVER_NAME%"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// JSON string contents, without the quotes.
void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_json_escaped(out, s);
  out.push_back('"');
}

// Text mode: a value goes in as it is, minus what would break the line.
void append_text_value(std::string& out, std::string_view s) {
  // Values almost never hold a line break: look for one with memchr (a few
  // instructions per 32 bytes) and append in bulk; a push_back per character
  // cost ~3k instructions per Istio text line.
  if (s.empty()) return;
  if (std::memchr(s.data(), '\n', s.size()) == nullptr && std::memchr(s.data(), '\r', s.size()) == nullptr) {
    out.append(s);
    return;
  }
  for (char c : s) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
}

// "YYYY-MM-DDTHH:MM:SS" of `seconds`, formatted once per second per thread:
// strftime was ~1k instructions a line, and a busy worker logs thousands of
// lines within the same second.
std::string_view iso_seconds(time_t seconds) {
  thread_local time_t cached_seconds = -1;
  thread_local char cached[32];
  thread_local size_t cached_size = 0;
  if (seconds != cached_seconds) {
    struct tm tm {};
    gmtime_r(&seconds, &tm);
    cached_size = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_seconds = seconds;
  }
  return {cached, cached_size};
}

// "2026-05-01T10:00:00.123Z", or `fmt` with Envoy's %3f/%6f/%9f/%s extensions.
std::string_view format_time(int64_t us, std::string_view fmt, char (&buf)[512]) {
  const time_t seconds = static_cast<time_t>(us / 1000000);
  const int64_t sub_us = us % 1000000;
  if (fmt.empty()) {
    const std::string_view whole = iso_seconds(seconds);
    std::memcpy(buf, whole.data(), whole.size());
    size_t n = whole.size();
    int ms = static_cast<int>(sub_us / 1000);
    buf[n++] = '.';
    buf[n++] = static_cast<char>('0' + ms / 100);
    buf[n++] = static_cast<char>('0' + ms / 10 % 10);
    buf[n++] = static_cast<char>('0' + ms % 10);
    buf[n++] = 'Z';
    return {buf, n};
  }
  // Expand the extensions first, then hand the rest to strftime.
  char pattern[256];
  size_t p = 0;
  for (size_t i = 0; i < fmt.size() && p + 24 < sizeof(pattern); ++i) {
    if (fmt[i] == '%' && i + 2 < fmt.size() && fmt[i + 2] == 'f' && fmt[i + 1] >= '1' && fmt[i + 1] <= '9') {
      const int digits = fmt[i + 1] - '0';
      int64_t ns = sub_us * 1000;
      char all[9];
      for (int d = 8; d >= 0; --d, ns /= 10) all[d] = static_cast<char>('0' + ns % 10);
      std::memcpy(pattern + p, all, static_cast<size_t>(digits));
      p += static_cast<size_t>(digits);
      i += 2;
    } else if (fmt[i] == '%' && i + 1 < fmt.size() && fmt[i + 1] == 's') {
      auto [end, ec] = std::to_chars(pattern + p, pattern + sizeof(pattern), static_cast<int64_t>(seconds));
      (void)ec;
      p = static_cast<size_t>(end - pattern);
      i += 1;
    } else {
      pattern[p++] = fmt[i];
    }
  }
  pattern[p] = '\0';
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  const size_t n = strftime(buf, sizeof(buf), pattern, &tm);
  return {buf, n};
}

}  // namespace

bool AccessLogFormat::parse(std::string_view spec, AccessLogFormat& out, std::string& error) {
  out = AccessLogFormat();
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) out.hostname_ = host;
  if (spec.empty() || spec == "text") return parse_text(kIstioTextFormat, out.ops_, error);
  if (spec == "json") {
    out.json_ = true;
    for (const auto& [key, value] : kIstioJson) {
      JsonField field;
      field.key = std::string(key);
      if (!parse_text(value, field.ops, error)) return false;
      out.fields_.push_back(std::move(field));
    }
    return true;
  }
  if (spec.front() == '{') return parse_json(spec, out, error);
  std::string text(spec);
  if (text.back() != '\n') text.push_back('\n');  // Istio appends one to custom text formats
  return parse_text(text, out.ops_, error);
}

// A flat JSON object of string values: {"key": "%OP% text", ...}. Istio's
// custom JSON formats are exactly that shape.
bool AccessLogFormat::parse_json(std::string_view spec, AccessLogFormat& out, std::string& error) {
  out.json_ = true;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < spec.size() && (spec[i] == ' ' || spec[i] == '\n' || spec[i] == '\t' || spec[i] == '\r')) ++i;
  };
  auto read_string = [&](std::string& s) -> bool {
    skip_space();
    if (i >= spec.size() || spec[i] != '"') return false;
    ++i;
    while (i < spec.size() && spec[i] != '"') {
      if (spec[i] == '\\' && i + 1 < spec.size()) ++i;
      s.push_back(spec[i++]);
    }
    if (i >= spec.size()) return false;
    ++i;
    return true;
  };
  ++i;  // '{'
  skip_space();
  if (i < spec.size() && spec[i] == '}') return true;
  for (;;) {
    JsonField field;
    std::string value;
    if (!read_string(field.key)) {
      error = "JSON format: expected a \"key\" at offset " + std::to_string(i);
      return false;
    }
    skip_space();
    if (i >= spec.size() || spec[i] != ':') {
      error = "JSON format: expected ':' after \"" + field.key + "\"";
      return false;
    }
    ++i;
    if (!read_string(value)) {
      error = "JSON format: the value of \"" + field.key + "\" must be a string";
      return false;
    }
    if (!parse_text(value, field.ops, error)) return false;
    out.fields_.push_back(std::move(field));
    skip_space();
    if (i < spec.size() && spec[i] == ',') {
      ++i;
      continue;
    }
    if (i < spec.size() && spec[i] == '}') {
      ++i;
      skip_space();
      if (i == spec.size()) return true;
    }
    error = "JSON format: expected ',' or '}' at offset " + std::to_string(i);
    return false;
  }
}

bool AccessLogFormat::parse_text(std::string_view spec, std::vector<Op>& ops, std::string& error) {
  size_t i = 0;
  std::string literal;
  while (i < spec.size()) {
    if (spec[i] != '%') {
      literal.push_back(spec[i++]);
      continue;
    }
    // %NAME%, %NAME(arg)%, %NAME(arg):N%; the argument may hold '%'
    // (START_TIME's strftime format), so the ')' is found first.
    size_t scan = i + 1;
    while (scan < spec.size() && ((spec[scan] >= 'A' && spec[scan] <= 'Z') || spec[scan] == '_')) ++scan;
    if (scan < spec.size() && spec[scan] == '(') {
      const size_t close = spec.find(')', scan);
      scan = close == std::string_view::npos ? spec.size() : close;
    }
    const size_t end = spec.find('%', scan);
    if (end == std::string_view::npos) {
      error = "unterminated command operator at offset " + std::to_string(i) + ": '" +
              std::string(spec.substr(i)) + "'";
      return false;
    }
    if (end == i + 1) {  // "%%" is a literal '%'
      literal.push_back('%');
      i = end + 1;
      continue;
    }
    if (!literal.empty()) {
      ops.push_back(Op{Kind::Literal, std::move(literal)});
      literal.clear();
    }
    Op op;
    if (!parse_operator(spec.substr(i + 1, end - i - 1), op, error)) return false;
    ops.push_back(std::move(op));
    i = end + 1;
  }
  if (!literal.empty()) ops.push_back(Op{Kind::Literal, std::move(literal)});
  return true;
}

bool AccessLogFormat::parse_operator(std::string_view body, Op& op, std::string& error) {
  // NAME, NAME(arg), NAME(arg):N
  std::string_view name = body;
  std::string_view arg;
  bool has_arg = false;
  const size_t open = body.find('(');
  if (open != std::string_view::npos) {
    const size_t close = body.rfind(')');
    if (close == std::string_view::npos || close < open) {
      error = "command operator %" + std::string(body) + "%: missing ')'";
      return false;
    }
    name = body.substr(0, open);
    arg = body.substr(open + 1, close - open - 1);
    has_arg = true;
    std::string_view rest = body.substr(close + 1);
    if (!rest.empty()) {
      size_t n = 0;
      if (rest.front() != ':' ||
          std::from_chars(rest.data() + 1, rest.data() + rest.size(), n).ptr != rest.data() + rest.size()) {
        error = "command operator %" + std::string(body) + "%: expected ':N' after ')'";
        return false;
      }
      op.max_length = n;
    }
  }
  struct Simple {
    std::string_view name;
    Kind kind;
  };
  static constexpr Simple kSimple[] = {
      {"PROTOCOL", Kind::Protocol},
      {"RESPONSE_CODE", Kind::ResponseCode},
      {"RESPONSE_FLAGS", Kind::ResponseFlags},
      {"RESPONSE_FLAGS_LONG", Kind::ResponseFlagsLong},
      {"RESPONSE_CODE_DETAILS", Kind::ResponseCodeDetails},
      {"CONNECTION_TERMINATION_DETAILS", Kind::ConnectionTerminationDetails},
      {"UPSTREAM_TRANSPORT_FAILURE_REASON", Kind::UpstreamTransportFailureReason},
      {"BYTES_RECEIVED", Kind::BytesReceived},
      {"BYTES_SENT", Kind::BytesSent},
      {"DURATION", Kind::Duration},
      {"UPSTREAM_HOST", Kind::UpstreamHost},
      {"UPSTREAM_CLUSTER", Kind::UpstreamCluster},
      {"UPSTREAM_CLUSTER_RAW", Kind::UpstreamCluster},
      {"UPSTREAM_LOCAL_ADDRESS", Kind::UpstreamLocalAddress},
      {"DOWNSTREAM_LOCAL_ADDRESS", Kind::DownstreamLocalAddress},
      {"DOWNSTREAM_REMOTE_ADDRESS", Kind::DownstreamRemoteAddress},
      {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS", Kind::DownstreamRemoteAddress},
      {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Kind::DownstreamRemoteAddressWithoutPort},
      {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT", Kind::DownstreamRemoteAddressWithoutPort},
      {"REQUESTED_SERVER_NAME", Kind::RequestedServerName},
      {"ROUTE_NAME", Kind::RouteName},
      {"HOSTNAME", Kind::Hostname},
  };
  if (name == "START_TIME") {
    op.kind = Kind::StartTime;
    op.text = std::string(arg);
    return true;
  }
  if (name == "REQ" || name == "REQUEST_HEADER" || name == "RESP" || name == "RESPONSE_HEADER" ||
      name == "REQ_WITHOUT_QUERY") {
    if (!has_arg || arg.empty()) {
      error = "command operator %" + std::string(body) + "%: needs a header name, e.g. %" +
              std::string(name) + "(USER-AGENT)%";
      return false;
    }
    op.kind = name.starts_with("RESP") ? Kind::ResponseHeader : Kind::RequestHeader;
    op.without_query = name == "REQ_WITHOUT_QUERY";
    const size_t q = arg.find('?');
    op.text = lower(arg.substr(0, q));
    if (q != std::string_view::npos) op.alternative = lower(arg.substr(q + 1));
    return true;
  }
  for (const Simple& s : kSimple) {
    if (name == s.name && !has_arg) {
      op.kind = s.kind;
      return true;
    }
  }
  error =
      "unknown or unsupported command operator %" + std::string(body) + "% (docs/access-log.md lists them)";
  return false;
}

AccessLogFormat::Value AccessLogFormat::evaluate(const Op& op, const proxy::StreamInfo& info,
                                                 const http::HeaderMap* request_headers, uint64_t now_ms,
                                                 char (&scratch)[512]) const {
  Value v;
  auto number = [&v](int64_t n) {
    v.is_number = true;
    v.number = n;
  };
  switch (op.kind) {
    case Kind::Literal:
      v.text = op.text;
      break;
    case Kind::StartTime:
      v.text = format_time(info.start_time_us, op.text, scratch);
      break;
    case Kind::RequestHeader: {
      auto lookup = [&](const std::string& name) -> std::string_view {
        if (name.empty()) return {};
        if (name[0] == ':') {
          if (name == ":method") return info.method;
          if (name == ":path") return info.path;
          if (name == ":authority" && !info.authority.empty()) return info.authority;
          if (name != ":authority" || request_headers == nullptr) return {};
          // HTTP/1 Host and HTTP/2 :authority are both kept as `host`.
          const std::string_view* host = request_headers->get("host");
          return host != nullptr ? *host : std::string_view();
        }
        if (request_headers == nullptr) return {};
        const std::string_view* value = request_headers->get(name);
        return value != nullptr ? *value : std::string_view();
      };
      v.text = lookup(op.text);
      if (v.text.empty() && !op.alternative.empty()) v.text = lookup(op.alternative);
      if (op.without_query) v.text = v.text.substr(0, v.text.find('?'));
      break;
    }
    case Kind::ResponseHeader:
      // Only what the stream remembers of the response (the response head
      // is gone when the line is written); other headers print "-".
      if (op.text == "x-envoy-upstream-service-time" && info.upstream_service_time_ms >= 0) {
        auto [end, ec] = std::to_chars(scratch, scratch + sizeof(scratch), info.upstream_service_time_ms);
        (void)ec;
        v.text = std::string_view(scratch, static_cast<size_t>(end - scratch));
      }
      break;
    case Kind::Protocol:
      v.text = info.protocol;
      break;
    case Kind::ResponseCode:
      number(info.response_code);
      break;
    case Kind::ResponseFlags:
    case Kind::ResponseFlagsLong: {
      const auto* names =
          op.kind == Kind::ResponseFlags ? proxy::kResponseFlagShort : proxy::kResponseFlagLong;
      size_t n = 0;
      // Set bits only (usually none), lowest first: Envoy's order.
      for (uint32_t bits = info.response_flags; bits != 0; bits &= bits - 1) {
        const int bit = __builtin_ctz(bits);
        if (bit >= proxy::kResponseFlagCount) break;
        const std::string_view flag = names[bit];
        if (n + flag.size() + 1 >= sizeof(scratch)) break;
        if (n != 0) scratch[n++] = ',';
        std::memcpy(scratch + n, flag.data(), flag.size());
        n += flag.size();
      }
      v.text = std::string_view(scratch, n);
      break;
    }
    case Kind::ResponseCodeDetails:
      v.text = info.response_code_details;
      break;
    case Kind::ConnectionTerminationDetails:
      break;
    case Kind::UpstreamTransportFailureReason:
      v.text = info.upstream_transport_failure_reason;
      break;
    case Kind::BytesReceived:
      number(static_cast<int64_t>(info.bytes_received));
      break;
    case Kind::BytesSent:
      number(static_cast<int64_t>(info.bytes_sent));
      break;
    case Kind::Duration:
      number(static_cast<int64_t>(info.duration_ms(now_ms)));
      break;
    case Kind::UpstreamHost:
      v.text = info.upstream_host_view();
      break;
    case Kind::UpstreamCluster:
      v.text = info.upstream_cluster;
      break;
    case Kind::UpstreamLocalAddress:
    case Kind::DownstreamLocalAddress:
      break;  // not recorded (docs/access-log.md)
    case Kind::DownstreamRemoteAddress:
    case Kind::DownstreamRemoteAddressWithoutPort:
      v.text = info.downstream_remote_address;
      break;
    case Kind::RequestedServerName:
      v.text = info.requested_server_name;
      break;
    case Kind::RouteName:
      v.text = info.route_name;
      break;
    case Kind::Hostname:
      v.text = hostname_;
      break;
  }
  if (!v.is_number) {
    if (op.max_length != 0 && v.text.size() > op.max_length) v.text = v.text.substr(0, op.max_length);
    v.unset = v.text.empty() && op.kind != Kind::Literal;
  }
  return v;
}

void AccessLogFormat::append_text(const std::vector<Op>& ops, const proxy::StreamInfo& info,
                                  const http::HeaderMap* request_headers, uint64_t now_ms, std::string& out,
                                  bool json_string) const {
  char scratch[512];
  for (const Op& op : ops) {
    if (op.kind == Kind::Literal && !json_string) {
      out.append(op.text);  // half the operations of a text format
      continue;
    }
    const Value v = evaluate(op, info, request_headers, now_ms, scratch);
    if (v.is_number) {
      char digits[24];
      auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), v.number);
      (void)ec;
      out.append(digits, static_cast<size_t>(end - digits));
    } else if (v.unset) {
      out.push_back('-');
    } else if (json_string) {
      // Inside a JSON string: escape, without the quotes.
      append_json_escaped(out, v.text);
    } else {
      append_text_value(out, v.text);
    }
  }
}

void AccessLogFormat::format(const proxy::StreamInfo& info, const http::HeaderMap* request_headers,
                             uint64_t now_ms, std::string& out) const {
  if (!json_) {
    append_text(ops_, info, request_headers, now_ms, out, false);
    return;
  }
  // Envoy's JSON formatter: a field that is one operator keeps its type
  // (numbers bare, unset null); anything else is a string.
  char scratch[512];
  out.push_back('{');
  bool first = true;
  for (const JsonField& field : fields_) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, field.key);
    out.push_back(':');
    if (field.ops.size() == 1 && field.ops[0].kind != Kind::Literal) {
      const Value v = evaluate(field.ops[0], info, request_headers, now_ms, scratch);
      if (v.is_number) {
        char digits[24];
        auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), v.number);
        (void)ec;
        out.append(digits, static_cast<size_t>(end - digits));
      } else if (v.unset) {
        out.append("null");
      } else {
        append_json_string(out, v.text);
      }
      continue;
    }
    out.push_back('"');
    append_text(field.ops, info, request_headers, now_ms, out, true);
    out.push_back('"');
  }
  out.append("}\n");
}

}  // namespace torii::telemetry
