#include "router/match_explain.h"

#include <optional>

namespace torii::router {

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string header_label(const HeaderMatcher& h) {
  std::string what;
  switch (h.source) {
    case HeaderSource::Method:
      what = "method";
      break;
    case HeaderSource::Authority:
      what = "authority";
      break;
    case HeaderSource::Scheme:
      what = "scheme";
      break;
    case HeaderSource::Header:
    case HeaderSource::Path:
    case HeaderSource::None:
      what = (h.invert ? "without header " : "header ") + h.name;
      return what + " " + describe(h.value);
    case HeaderSource::JwtClaim:
      what = (h.invert ? "without JWT claim " : "JWT claim ") + h.name;
      return what + " " + describe(h.value);
  }
  if (h.invert) what = "not " + what;
  return what + " " + describe(h.value);
}

// The value the header matchers see (comma-joined when repeated), or nullopt.
std::optional<std::string> header_value(const HeaderMatcher& h, const RequestView& request) {
  switch (h.source) {
    case HeaderSource::Method:
      return std::string(request.method);
    case HeaderSource::Authority:
      return std::string(request.authority);
    case HeaderSource::Scheme:
      return std::string(request.scheme);
    case HeaderSource::Path:
      return std::string(request.path_and_query.substr(0, request.path_and_query.find('#')));
    case HeaderSource::None:
      return std::nullopt;
    case HeaderSource::JwtClaim:
      return claim_text(request, h.claim_path);
    case HeaderSource::Header:
      break;
  }
  if (request.headers == nullptr) return std::nullopt;
  bool found = false;
  std::string joined = request.headers->get_joined(h.name, &found);
  if (!found) return std::nullopt;
  return joined;
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    size_t eq = param.find('=');
    if (param.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string() : std::string(param.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

std::string describe(const StringMatcher& matcher) {
  std::string out;
  switch (matcher.kind) {
    case StringMatcher::Kind::Exact:
      out = "exact " + quoted(matcher.value);
      break;
    case StringMatcher::Kind::Prefix:
      out = "prefix " + quoted(matcher.value);
      break;
    case StringMatcher::Kind::Regex:
      out = "regex " + quoted(matcher.value);
      break;
    case StringMatcher::Kind::Presence:
      out = "present";
      break;
  }
  if (matcher.ignore_case) out += " (ignore case)";
  return out;
}

std::string describe(const RouteMatch& match) {
  std::string out = "uri " + describe(match.path);
  for (const HeaderMatcher& h : match.headers) out += ", " + header_label(h);
  for (const QueryParamMatcher& q : match.query_params) out += ", query " + q.name + " " + describe(q.value);
  return out;
}

std::string first_failure(const RouteMatch& match, const RequestView& request) {
  if (!match.path.matches(request.path)) {
    return "uri " + describe(match.path) + ": path is " + quoted(request.path);
  }
  for (const HeaderMatcher& h : match.headers) {
    if (h.matches(request)) continue;
    std::optional<std::string> value = header_value(h, request);
    std::string had = value ? "value is " + quoted(*value)
                      : h.source == HeaderSource::JwtClaim
                          ? std::string("no verified token, or no such claim")
                          : std::string("header absent");
    if (h.invert && value) had = "value " + quoted(*value) + " matches";
    return header_label(h) + ": " + had;
  }
  for (const QueryParamMatcher& q : match.query_params) {
    if (q.matches(request.query)) continue;
    std::optional<std::string> value = query_value(request.query, q.name);
    return "query " + q.name + " " + describe(q.value) + ": " +
           (value ? "value is " + quoted(*value) : std::string("parameter absent"));
  }
  return {};
}

}  // namespace torii::router
