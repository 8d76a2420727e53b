#include "router/route_match.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "router/route_table.h"

namespace torii::router {

namespace {

// Finds the value Envoy's header matchers see for `matcher`. Pseudo-headers
// come from the RequestView; a repeated header is joined with ',' into
// `scratch` (the only case that allocates).
bool find_header(const RequestView& request, const HeaderMatcher& matcher, std::string_view* value,
                 std::string* scratch) {
  // JwtClaim is matched in HeaderMatcher::matches.
  if (matcher.source != HeaderSource::Header) return pseudo_header(request, matcher.source, value);
  if (request.headers == nullptr) return false;
  bool found = false;
  bool joined = false;
  for (const http::HeaderMap::Entry& entry : request.headers->entries()) {
    if (entry.name != matcher.name) continue;
    if (!found) {
      *value = entry.value;
      found = true;
      continue;
    }
    if (!joined) {
      scratch->assign(*value);
      joined = true;
    }
    scratch->push_back(',');
    scratch->append(entry.value);
  }
  if (joined) *value = *scratch;
  return found;
}

// Envoy splits the query on '&' and takes the first occurrence of a key; a
// parameter without '=' has the empty value.
bool find_query_param(std::string_view query, std::string_view name, std::string_view* value) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    if (!key.empty() && key == name) {
      *value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

}  // namespace

bool pseudo_header(const RequestView& request, HeaderSource source, std::string_view* value) {
  switch (source) {
    case HeaderSource::Method:
      *value = request.method;
      // Every HTTP request carries these; an empty view means the codec had none.
      return !value->empty();
    case HeaderSource::Authority:
      *value = request.authority;
      return !value->empty();
    case HeaderSource::Scheme:
      *value = request.scheme;
      return !value->empty();
    case HeaderSource::Path:
      // Envoy's codec never lets a fragment reach :path (it rejects the request).
      *value = request.path_and_query.substr(0, request.path_and_query.find('#'));
      return !value->empty();
    case HeaderSource::Header:
    case HeaderSource::None:
    case HeaderSource::JwtClaim:
      return false;
  }
  return false;
}

HeaderSource header_source(std::string_view name) {
  if (name.empty() || name.front() != ':') return HeaderSource::Header;
  if (name == ":method") return HeaderSource::Method;
  if (name == ":authority") return HeaderSource::Authority;
  if (name == ":path") return HeaderSource::Path;
  if (name == ":scheme") return HeaderSource::Scheme;
  return HeaderSource::None;  // :status is a response header; others do not exist
}

bool StringMatcher::matches(std::string_view input) const {
  switch (kind) {
    case Kind::Exact:
      return ignore_case ? http::iequals(input, value) : input == value;
    case Kind::Prefix:
      if (input.size() < value.size()) return false;
      return ignore_case ? http::iequals(input.substr(0, value.size()), value) : input.starts_with(value);
    case Kind::Regex:
      // RE2 full match: Istio regexes must match the whole value.
      return regex != nullptr && re2::RE2::FullMatch(input, *regex);
    case Kind::Presence:
      return true;
  }
  return false;
}

namespace {

const nlohmann::json* find_claim(const RequestView& request, const std::vector<std::string>& path) {
  const nlohmann::json* node = request.jwt_payload;
  for (const std::string& key : path) {
    if (node == nullptr || !node->is_object()) return nullptr;
    auto it = node->find(key);
    node = it == node->end() ? nullptr : &*it;
  }
  return node;
}

}  // namespace

std::optional<std::string> claim_text(const RequestView& request, const std::vector<std::string>& path) {
  const nlohmann::json* claim = find_claim(request, path);
  if (claim == nullptr) return std::nullopt;
  return claim->is_string() ? claim->get<std::string>() : claim->dump();
}

bool HeaderMatcher::matches(const RequestView& request) const {
  if (source == HeaderSource::JwtClaim) {
    const nlohmann::json* claim = find_claim(request, claim_path);
    auto one = [&](const nlohmann::json& v) {
      return v.is_string() && value.matches(v.get_ref<const std::string&>());
    };
    bool matched = false;
    if (claim != nullptr && claim->is_array()) {
      matched = std::any_of(claim->begin(), claim->end(), one);
    } else if (claim != nullptr) {
      matched = one(*claim);
    }
    return matched != invert;  // withoutHeaders: no token or no such claim satisfies it
  }
  std::string scratch;
  std::string_view header_value;
  bool present = find_header(request, *this, &header_value, &scratch);
  if (!present) {
    // Envoy: a missing header satisfies only an inverted presence matcher,
    // unless it is to be treated as "" (withoutHeaders with a value form).
    if (!treat_missing_as_empty) return invert && value.kind == StringMatcher::Kind::Presence;
    header_value = {};
  }
  return value.matches(header_value) != invert;
}

bool QueryParamMatcher::matches(std::string_view query) const {
  std::string_view param_value;
  if (!find_query_param(query, name, &param_value)) return false;
  return value.matches(param_value);
}

bool RouteMatch::matches(const RequestView& request) const {
  if (!path.matches(request.path)) return false;
  for (const HeaderMatcher& header : headers) {
    if (!header.matches(request)) return false;
  }
  for (const QueryParamMatcher& param : query_params) {
    if (!param.matches(request.query)) return false;
  }
  return true;
}

bool RouteMatch::is_catch_all() const {
  if (!headers.empty() || !query_params.empty()) return false;
  switch (path.kind) {
    case StringMatcher::Kind::Prefix:
      return path.value == "/" || path.value.empty();
    case StringMatcher::Kind::Regex:
      return path.value == ".*";
    case StringMatcher::Kind::Presence:
      return true;
    case StringMatcher::Kind::Exact:
      return false;
  }
  return false;
}

const char* kind_name(StringMatcher::Kind kind) {
  switch (kind) {
    case StringMatcher::Kind::Exact:
      return "exact";
    case StringMatcher::Kind::Prefix:
      return "prefix";
    case StringMatcher::Kind::Regex:
      return "regex";
    case StringMatcher::Kind::Presence:
      return "present";
  }
  return "?";
}

}  // namespace torii::router
