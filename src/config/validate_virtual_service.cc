// VirtualService validation (istiod: ValidateVirtualService in validation.go,
// validateHTTPRoute and friends in virtualservice.go).
#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/header_value.h"
#include "config/names.h"
#include "config/validate.h"
#include "config/validate_common.h"
#include "config/validate_l4_routes.h"
#include "config/validate_route_policies.h"

namespace torii::config {
namespace {

constexpr size_t kDirectResponseBodyLimit = 1024 * 1024;
constexpr size_t kDirectResponseBodyWarn = 100 * 1024;

enum class RouteType { Independent, Root, Delegate };

void check_string_match(Report& r, const std::string& field, const StringMatch& m, bool empty_prefix_ok) {
  if (m.kind == StringMatch::Kind::Prefix && m.value.empty() && !empty_prefix_ok) {
    r.error(field + ".prefix", "prefix string match should not be empty");
  }
  if (m.kind == StringMatch::Kind::Regex) {
    if (m.value.empty()) {
      r.error(field + ".regex", "regex string match should not be empty");
    } else {
      r.error_unless_empty(field + ".regex", check_regex(m.value));
    }
  }
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// istio pkg/jwt ToRoutingClaim: "@request.auth.claims" (any case) followed by
// ".claim[.nested]" or "[claim][nested]".
bool is_jwt_claim_key(std::string_view name) {
  constexpr std::string_view kPrefix = "@request.auth.claims";
  if (name.size() < kPrefix.size() || !equals_ignore_case(name.substr(0, kPrefix.size()), kPrefix)) {
    return false;
  }
  const std::string_view rest = name.substr(kPrefix.size());
  if (rest.starts_with('.')) return rest.size() > 1;
  return rest.size() > 2 && rest.starts_with('[') && rest.ends_with(']');
}

// Pseudo-headers a match may name (istiod's pseudoHeaders set).
bool is_pseudo_header(std::string_view name) {
  return name == ":method" || name == ":scheme" || name == ":authority" || name == ":path" ||
         name == ":status";
}

// istiod ValidateHTTPHeaderNameOrJwtClaimRoute: a token, a pseudo-header or
// a JWT claim key (whether the VS may use claims is checked at the VS level).
void check_match_header_name(Report& r, const std::string& field, const std::string& name) {
  if (name.empty()) {
    r.error(field, "header name cannot be empty");
  } else if (!is_jwt_claim_key(name) && !is_pseudo_header(name) && !is_http_token(name)) {
    r.error(field, "header name " + name + " is not a valid header name");
  } else if (name == ":status") {
    r.warning(field,
              "\":status\" is a response pseudo-header: no request carries it, so this condition sees it "
              "absent (as Envoy does)");
  }
}

bool is_authority_header(std::string_view name) {
  return equals_ignore_case(name, ":authority") || equals_ignore_case(name, "host");
}

// istiod ValidateHTTPHeaderValue: no control characters but tab, and a
// well-formed Envoy format string (config/header_value.h). An authority
// (`host_rewrite_literal` in Envoy) is taken literally, so only the syntax
// check applies to it.
void check_header_value(Report& r, const std::string& field, const std::string& value, bool authority) {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7F) {
      r.error(field, "header value configuration " + value + " is invalid");
      return;
    }
  }
  if (std::string err = check_header_value_format(value); !err.empty()) {
    r.error(field, "header value configuration: " + err);
  } else if (!authority && has_header_variables(value)) {
    r.warning(field, "header value " + quote(value) +
                         " uses Envoy's %VARIABLE% substitution, which Torii does not implement; this "
                         "operation is not applied");
  }
}

// Request set/add may rewrite the authority (":authority" or "host"); nothing
// else may touch pseudo-headers or Host (istiod
// ValidateHTTPHeaderWithAuthorityOperationName / ValidateHTTPHeaderOperationName).
// istiod checks no characters beyond that; a name that is not an HTTP token
// cannot be sent, so Torii leaves such an operation out, with a warning.
void check_header_operations(Report& r, const std::string& field, const HeaderOperations& ops, bool request) {
  auto check_name = [&](const std::string& f, const std::string& name, bool may_set_authority) {
    if (name.empty()) {
      r.error(f, "header name cannot be empty");
    } else if (may_set_authority && is_authority_header(name)) {
      // allowed: host rewrite
    } else if (equals_ignore_case(name, "host")) {
      r.error(f, "invalid header " + quote(name) + ": cannot set Host header");
    } else if (name.starts_with(":")) {
      r.error(f, "invalid header " + quote(name) + ": header cannot have \":\" prefix");
    } else if (!is_http_token(name)) {
      r.warning(f, "header name " + quote(name) +
                       " is not a valid HTTP header name (RFC 9110 token); this operation is not applied");
    }
  };
  using Values = std::map<std::string, std::string>;
  const std::pair<const char*, const Values*> appends[] = {{".set", &ops.set}, {".add", &ops.add}};
  for (const auto& [key, values] : appends) {
    for (const auto& [name, value] : *values) {
      const std::string f = entry(field + key, name);
      check_name(f, name, request);
      check_header_value(r, f, value, request && is_authority_header(name));
    }
  }
  for (size_t i = 0; i < ops.remove.size(); ++i) check_name(at(field + ".remove", i), ops.remove[i], false);
}

void check_headers(Report& r, const std::string& field, const HeapOptional<Headers>& headers) {
  if (!headers) return;
  check_header_operations(r, field + ".request", headers->request, true);
  check_header_operations(r, field + ".response", headers->response, false);
}

// istiod: validateGatewayNames. Warnings for the legacy FQDN form.
void check_gateway_names(Report& r, const std::string& field, const std::vector<std::string>& gateways) {
  for (size_t i = 0; i < gateways.size(); ++i) {
    const std::string& name = gateways[i];
    const std::string f = at(field, i);
    const size_t slash = name.find('/');
    if (slash == std::string::npos) {
      if (name.find('.') != std::string::npos) {
        const size_t dot = name.find('.');
        const size_t dot2 = name.find('.', dot + 1);
        const std::string recommended =
            name.substr(dot + 1, dot2 == std::string::npos ? std::string::npos : dot2 - dot - 1) + "/" +
            name.substr(0, dot);
        r.warning(f, "using legacy gatewayName format " + quote(name) +
                         "; prefer the <namespace>/<name> format: " + quote(recommended));
      }
      r.error_unless_empty(f, check_fqdn(name));
      continue;
    }
    const std::string ns = name.substr(0, slash);
    const std::string gw = name.substr(slash + 1);
    if (ns.empty() || gw.empty()) r.error(f, "config namespace and gateway name cannot be empty");
    // istiod refuses "./name" here, though its resolver would read it as the
    // VirtualService's namespace (so does the compiler, for objects built in code).
    if (!is_dns1123_label(ns)) r.error(f, "invalid value for namespace: " + quote(ns));
    if (!is_dns1123_label(gw)) r.error(f, "invalid value for gateway name: " + quote(gw));
  }
}

// istiod validateHTTPRouteMatchRequest. Regexes are allowed in delegating
// rules since Istio 1.14 (istio/istio#38692); the merge decides conflicts.
void check_match(Report& r, const std::string& field, const HTTPMatchRequest& m) {
  auto check = [&](const std::string& f, const std::optional<StringMatch>& sm, bool empty_prefix_ok) {
    if (sm) check_string_match(r, f, *sm, empty_prefix_ok);
  };
  check(field + ".uri", m.uri, true);  // `prefix: ""` is allowed for the path
  check(field + ".scheme", m.scheme, false);
  check(field + ".method", m.method, false);
  check(field + ".authority", m.authority, false);
  const std::pair<const char*, const std::map<std::string, StringMatch>*> maps[] = {
      {"headers", &m.headers}, {"withoutHeaders", &m.without_headers}, {"queryParams", &m.query_params}};
  for (const auto& [key, matches] : maps) {
    const std::string base = field + "." + key;
    const bool is_header = std::string_view(key) != "queryParams";
    for (const auto& [name, sm] : *matches) {
      const std::string f = entry(base, name);
      if (is_header) check_match_header_name(r, f, name);
      check_string_match(r, f, sm, false);
    }
  }
  if (m.port != 0) r.error_unless_empty(field + ".port", check_port(m.port));
  check_labels(r, field + ".sourceLabels", m.source_labels);
  check_gateway_names(r, field + ".gateways", m.gateways);
  if (!m.source_namespace.empty() && !is_dns1123_label(m.source_namespace)) {
    r.error(field + ".sourceNamespace", "sourceNamespace match " + m.source_namespace + " is invalid");
  }
}

// Exactly one action: route, redirect, directResponse or delegate.
void check_conflicts(Report& r, const std::string& field, const HTTPRoute& route, RouteType type) {
  if (type == RouteType::Root) {
    const std::string root = "root HTTP route " + (route.name.empty() ? "" : route.name + " ");
    if (route.redirect) r.error(field + ".redirect", root + "must not specify redirect");
    if (!route.route.empty()) r.error(field + ".route", root + "must not specify route");
    // istiod allows it: delegate rules without their own directResponse
    // inherit it (mergeHTTPRoute), and it then takes precedence over their route.
    if (route.direct_response) {
      r.warning(field + ".directResponse",
                "the delegate's rules inherit this directResponse and answer with it unless they have their "
                "own redirect or directResponse (their route is not used)");
    }
    return;
  }
  if (type == RouteType::Delegate && route.delegate) {
    r.error(field + ".delegate", "delegate HTTP route cannot contain delegate");
  }
  if (route.redirect) {
    if (!route.route.empty()) r.error(field, "HTTP route cannot contain both route and redirect");
    if (route.has_fault) r.error(field, "HTTP route cannot contain both fault and redirect");
    if (route.rewrite) r.error(field, "HTTP route rule cannot contain both rewrite and redirect");
    if (route.direct_response) r.error(field, "HTTP route cannot contain both redirect and direct_response");
  } else if (route.direct_response) {
    if (!route.route.empty()) r.error(field, "HTTP route cannot contain both route and direct_response");
    if (route.has_fault) r.error(field, "HTTP route cannot contain both fault and direct_response");
    if (route.rewrite) r.error(field, "HTTP route rule cannot contain both rewrite and direct_response");
  } else if (route.route.empty()) {
    r.error(field, "HTTP route, redirect or direct_response is required");
  }
}

void check_redirect(Report& r, const std::string& field, const HTTPRoute& route) {
  const HTTPRedirect& redirect = *route.redirect;
  if (redirect.uri.empty() && redirect.prefix_rewrite.empty() && redirect.authority.empty() &&
      redirect.scheme.empty() && redirect.port == 0 && redirect.derive_port.empty()) {
    r.error(field, "redirect must specify URI, authority, scheme, or port");
  }
  if (!redirect.uri.empty() && !redirect.prefix_rewrite.empty()) {
    r.error(field, "redirect may only specify one of uri or prefix_rewrite");
  }
  if (!redirect.prefix_rewrite.empty()) {
    // Only a prefix match says which part of the path to replace.
    for (const HTTPMatchRequest& m : route.match) {
      if (m.uri && m.uri->kind != StringMatch::Kind::Prefix) {
        r.error(field + ".prefixRewrite",
                "redirect prefix_rewrite requires all URI matches to use prefix match type");
        break;
      }
    }
  }
  if (redirect.redirect_code != 0 && (redirect.redirect_code < 300 || redirect.redirect_code > 399)) {
    r.error(field + ".redirectCode",
            std::to_string(redirect.redirect_code) + " is not a valid redirect code, must be 3xx");
  }
  if (!redirect.scheme.empty() && redirect.scheme != "http" && redirect.scheme != "https") {
    r.error(field + ".scheme", "invalid redirect scheme, must be \"http\" or \"https\"");
  }
  if (redirect.port > 0) r.error_unless_empty(field + ".port", check_port(redirect.port));
  if (!redirect.derive_port.empty() && redirect.derive_port != "FROM_PROTOCOL_DEFAULT" &&
      redirect.derive_port != "FROM_REQUEST_PORT") {
    r.error(field + ".derivePort", "invalid derivePort " + quote(redirect.derive_port) +
                                       ", must be FROM_PROTOCOL_DEFAULT or FROM_REQUEST_PORT");
  }
}

void check_direct_response(Report& r, const std::string& field, const HTTPDirectResponse& response) {
  if (response.body) {
    if (response.body->size() > kDirectResponseBodyLimit) {
      r.error(field + ".body",
              "large direct_responses may impact control plane performance, must be less than 1MB");
    } else if (response.body->size() > kDirectResponseBodyWarn) {
      r.warning(field + ".body", "large direct_responses may impact control plane performance");
    }
  }
  // 600 passes, as in istiod, despite the message.
  if (response.status < 200 || response.status > 600) {
    r.error(field + ".status", "HTTP status " + std::to_string(response.status) + " is not in range 200-599");
  }
}

void check_rewrite(Report& r, const std::string& field, const HTTPRewrite& rewrite) {
  if (!rewrite.uri.empty() && rewrite.uri_regex_rewrite) {
    r.error(field, "rewrite may only contain one of URI or UriRegexRewrite");
  }
  if (rewrite.uri.empty() && !rewrite.uri_regex_rewrite && rewrite.authority.empty()) {
    r.error(field,
            "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or "
            "UriRegexRewrite may be specified");
  }
  if (rewrite.uri_regex_rewrite) {
    const auto& [match, replacement] = *rewrite.uri_regex_rewrite;
    const std::string f = field + ".uriRegexRewrite";
    if (match.empty() || replacement.empty()) {
      r.error(f, "UriRegexRewrite requires both Rewrite and Match fields to be specified");
    } else {
      r.error_unless_empty(f + ".match", check_regex(match));
    }
  }
}

// Known HTTP status codes (Go's http.StatusText), accepted as retryOn entries.
bool is_http_status(int code) {
  static const std::set<int> kCodes = {
      100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
      308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
      422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511};
  return kCodes.contains(code);
}

bool is_retry_on_policy(const std::string& policy) {
  static const std::set<std::string> kPolicies = {
      "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx",
      "refused-stream", "retriable-status-codes", "retriable-headers", "envoy-ratelimited",
      "http3-post-connect-failure",
      // gRPC (x-envoy-retry-grpc-on)
      "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"};
  if (kPolicies.contains(policy)) return true;
  // Go's strconv.Atoi: an optional sign, then digits ("0503" and "+503" are 503).
  std::string_view digits = policy;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
  digits.remove_prefix(std::min(digits.find_first_not_of('0'), digits.size() - 1));
  return policy.front() != '-' && digits.size() <= 3 && is_http_status(std::stoi(std::string(digits)));
}

void check_retries(Report& r, const std::string& field, const HTTPRetry& retry) {
  if (retry.attempts < 0) r.error(field + ".attempts", "attempts cannot be negative");
  if (retry.attempts == 0 && (retry.per_try_timeout_ms != -1 || !retry.retry_on.empty() ||
                              retry.retry_remote_localities.has_value())) {
    r.error(field, "http retry policy configured when attempts are set to 0 (disabled)");
  }
  if (retry.per_try_timeout_ms != -1 && retry.per_try_timeout_ms < 1) {
    r.error(field + ".perTryTimeout", "duration must be greater than 1ms");
  }
  if (!retry.retry_on.empty()) {
    // Entries are not trimmed: "5xx, reset" is rejected, as by istiod.
    size_t start = 0;
    while (true) {
      const size_t comma = retry.retry_on.find(',', start);
      const std::string policy =
          retry.retry_on.substr(start, comma == std::string::npos ? comma : comma - start);
      if (!is_retry_on_policy(policy))
        r.error(field + ".retryOn", quote(policy) + " is not a valid retryOn policy");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
}

// The authority may be rewritten in one place only.
void check_authority_rewrite(Report& r, const std::string& field, const HTTPRoute& route) {
  std::string current = route.rewrite ? route.rewrite->authority : "";
  if (!route.headers) return;
  for (const auto* ops : {&route.headers->request.set, &route.headers->request.add}) {
    for (const auto& [name, value] : *ops) {
      if (!is_authority_header(name)) continue;
      if (!current.empty()) {
        r.error(field + ".headers.request", "authority header cannot be set multiple times: have " +
                                                quote(current) + ", attempting to set " + quote(value));
        return;
      }
      current = value;
    }
  }
}

void check_destinations(Report& r, const std::string& field, const std::vector<HTTPRouteDestination>& route) {
  int64_t total_weight = 0;
  for (size_t i = 0; i < route.size(); ++i) {
    const HTTPRouteDestination& d = route[i];
    const std::string f = at(field, i);
    check_headers(r, f + ".headers", d.headers);
    check_destination(r, f + ".destination", d.destination);
    if (d.weight < 0) r.error(f + ".weight", "weight " + std::to_string(d.weight) + " < 0");
    total_weight += d.weight;
  }
  // Weights are relative; the old "must sum to 100" rule is gone from Istio.
  if (route.size() > 1 && total_weight == 0) r.error(field, "total destination weight = 0");
}

void check_http_route(Report& r, const std::string& field, const HTTPRoute& route, bool in_delegate_vs) {
  const RouteType type =
      in_delegate_vs ? RouteType::Delegate : (route.delegate ? RouteType::Root : RouteType::Independent);
  check_conflicts(r, field, route, type);
  for (size_t i = 0; i < route.match.size(); ++i) check_match(r, at(field + ".match", i), route.match[i]);
  check_headers(r, field + ".headers", route.headers);
  if (route.redirect) check_redirect(r, field + ".redirect", route);
  if (route.direct_response) check_direct_response(r, field + ".directResponse", *route.direct_response);
  if (route.retries) check_retries(r, field + ".retries", *route.retries);
  check_route_policies(r, field, route);
  if (route.rewrite) check_rewrite(r, field + ".rewrite", *route.rewrite);
  check_authority_rewrite(r, field, route);
  check_destinations(r, field + ".route", route.route);
  if (route.timeout_ms != -1 && route.timeout_ms < 1)
    r.error(field + ".timeout", "duration must be greater than 1ms");
}

// istiod isSniHost: some TLS match names SNI hosts.
bool has_sni_hosts(const VirtualService& vs) {
  return std::any_of(vs.tls.begin(), vs.tls.end(), [](const L4Route& route) {
    return std::any_of(route.match.begin(), route.match.end(),
                       [](const L4MatchAttributes& m) { return !m.sni_hosts.empty(); });
  });
}

// A match with its name and position left out, to find duplicates.
std::string match_key(const HTTPMatchRequest& m) {
  std::string key;
  auto add = [&key](std::string_view tag, const std::optional<StringMatch>& sm) {
    key += tag;
    if (sm) key += std::to_string(static_cast<int>(sm->kind)) + ":" + sm->value;
    key += '\x1f';
  };
  auto add_map = [&](std::string_view tag, const std::map<std::string, StringMatch>& matches) {
    for (const auto& [name, sm] : matches) add(std::string(tag) + name, sm);
    key += '\x1e';
  };
  add("u", m.uri);
  add("s", m.scheme);
  add("m", m.method);
  add("a", m.authority);
  add_map("h", m.headers);
  add_map("w", m.without_headers);
  add_map("q", m.query_params);
  key +=
      std::to_string(m.port) + '\x1f' + m.source_namespace + '\x1f' + (m.ignore_uri_case ? "i" : "") + '\x1f';
  for (const auto& g : m.gateways) key += g + '\x1d';
  for (const auto& [k, v] : m.source_labels) key += k + "=" + v + '\x1d';
  return key;
}

// istiod's analyzeUnreachableHTTPRules: warnings, the rules are still accepted.
void warn_unreachable_rules(Report& r, const std::vector<HTTPRoute>& routes) {
  auto rule_name = [&](size_t i) {
    return routes[i].name.empty() ? "#" + std::to_string(i) : quote(routes[i].name);
  };
  std::map<std::string, size_t> seen;  // match key -> rule index
  bool catch_all_seen = false;
  for (size_t i = 0; i < routes.size(); ++i) {
    const std::string field = at("spec.http", i);
    if (routes[i].match.empty()) {
      if (catch_all_seen) {
        r.warning(field, "virtualService rule " + rule_name(i) +
                             " not used (only the last rule can have no matches)");
      }
      catch_all_seen = true;
      continue;
    }
    if (catch_all_seen) {
      r.warning(field,
                "virtualService rule " + rule_name(i) + " not used (route without matches defined before)");
      continue;
    }
    size_t duplicates = 0;
    for (size_t j = 0; j < routes[i].match.size(); ++j) {
      const HTTPMatchRequest& m = routes[i].match[j];
      const auto [it, inserted] = seen.emplace(match_key(m), i);
      if (inserted) continue;
      ++duplicates;
      const std::string match_name = m.name.empty() ? "#" + std::to_string(j) : quote(m.name);
      r.warning(at(field + ".match", j), "virtualService rule " + rule_name(i) + " match " + match_name +
                                             " is not used (duplicate/overlapping match in rule " +
                                             rule_name(it->second) + ")");
    }
    if (duplicates == routes[i].match.size()) {
      r.warning(field, "virtualService rule " + rule_name(i) + " not used (all matches used by prior rules)");
    }
  }
}

}  // namespace

Diagnostics validate(const VirtualService& vs, const FieldLines& lines) {
  Report r("VirtualService", vs.meta, lines);
  const bool is_delegate = vs.hosts.empty();
  if (is_delegate) {
    if (!vs.gateways.empty())
      r.error("spec.gateways", "delegate virtual service must have no gateways specified");
    if (vs.has_tls) r.error("spec.tls", "delegate virtual service must have no tls route specified");
    if (vs.has_tcp) r.error("spec.tcp", "delegate virtual service must have no tcp route specified");
  }

  bool applies_to_gateway = false;
  if (!vs.gateways.empty()) {
    check_gateway_names(r, "spec.gateways", vs.gateways);
    applies_to_gateway = std::find(vs.gateways.begin(), vs.gateways.end(), "mesh") == vs.gateways.end();
  }
  const bool applies_to_mesh = !applies_to_gateway;

  if (!applies_to_gateway) {
    std::string gateways = "[";
    for (size_t i = 0; i < vs.gateways.size(); ++i) gateways += (i ? " " : "") + vs.gateways[i];
    gateways += "]";
    for (size_t i = 0; i < vs.http.size(); ++i) {
      for (size_t j = 0; j < vs.http[i].match.size(); ++j) {
        const HTTPMatchRequest& m = vs.http[i].match[j];
        const std::string base = at(at("spec.http", i) + ".match", j);
        for (const auto* headers : {&m.headers, &m.without_headers}) {
          for (const auto& [name, sm] : *headers) {
            if (!is_jwt_claim_key(name)) continue;
            r.error(entry(base + (headers == &m.headers ? ".headers" : ".withoutHeaders"), name),
                    "JWT claim based routing (key: " + name +
                        ") is only supported for gateway, found no gateways: " + gateways);
          }
        }
      }
    }
  }

  bool hosts_valid = true;
  for (size_t i = 0; i < vs.hosts.size(); ++i) {
    const std::string& host = vs.hosts[i];
    const std::string err = applies_to_gateway ? check_gateway_bound_domain(has_sni_hosts(vs), host)
                                               : check_wildcard_domain(host);
    if (!err.empty()) {
      if (!is_ip_address(host)) {
        r.error(at("spec.hosts", i), err);
        hosts_valid = false;
      }
    } else if (applies_to_mesh && host == "*") {
      r.error(at("spec.hosts", i),
              "wildcard host * is not allowed for virtual services bound to the mesh gateway");
      hosts_valid = false;
    }
  }
  if (hosts_valid) {
    // Overlaps count too: `*.foo.com` and `*.com` are duplicates.
    for (size_t i = 0; i < vs.hosts.size(); ++i) {
      for (size_t j = i + 1; j < vs.hosts.size(); ++j) {
        if (hosts_overlap(vs.hosts[i], vs.hosts[j])) {
          r.error(at("spec.hosts", j),
                  "duplicate hosts in virtual service: " + vs.hosts[i] + " & " + vs.hosts[j]);
        }
      }
    }
  }

  if (vs.http.empty() && !vs.has_tcp && !vs.has_tls)
    r.error("spec", "http, tcp or tls must be provided in virtual service");
  for (size_t i = 0; i < vs.http.size(); ++i)
    check_http_route(r, at("spec.http", i), vs.http[i], is_delegate);
  check_l4_routes(r, vs);
  check_export_to(r, "spec.exportTo", vs.meta.namespace_, vs.export_to, false);
  warn_unreachable_rules(r, vs.http);
  return r.take();
}

void check_vs_gateway_names(Report& r, const std::string& field, const std::vector<std::string>& gateways) {
  check_gateway_names(r, field, gateways);
}

}  // namespace torii::config
