// Gateway API validation: what the CRD schemas and their CEL rules make the
// API server refuse (GATEWAY_API.md §0). Problems a controller reports in
// status instead (unknown backends, listeners it does not support) are the
// compiler's (compile/gateway_api_translation.cc), not errors here.
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "config/names.h"
#include "config/validate.h"
#include "config/validate_common.h"

namespace torii::config {
namespace {

// Gateway API Hostname: a DNS name, optionally with one leading `*.`, never
// an IP address.
void check_hostname(Report& r, const std::string& field, const std::string& host) {
  if (host.empty()) return;
  if (is_ip_address(host)) {
    r.error(field, "hostname \"" + host + "\" must be a DNS name, not an IP address");
    return;
  }
  std::string_view name = host;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (!check_dns1123_labels(name).empty())
    r.error(field, "hostname \"" + host +
                       "\" is not a valid DNS name (a wildcard is only allowed as a leading \"*.\")");
}

bool is_valid_regex(const std::string& pattern) { return check_regex(pattern).empty(); }

void check_header_filter(Report& r, const std::string& field, const std::optional<gwapi::HTTPHeaderFilter>& h,
                         const char* name) {
  if (!h) {
    r.error(field, std::string("filter type requires ") + name);
    return;
  }
  auto check_values = [&](const char* key, const std::vector<std::pair<std::string, std::string>>& list) {
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string f = at(field + "." + name + "." + key, i);
      if (list[i].first.empty()) r.error(f + ".name", "header name is required");
      for (char c : list[i].second) {
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
          r.error(f + ".value", "header value contains a control character");
      }
      std::string lower = list[i].first;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!seen.insert(lower).second)
        r.error(f + ".name", "header \"" + list[i].first + "\" is listed twice");
    }
  };
  check_values("set", h->set);
  check_values("add", h->add);
}

void check_path_modifier(Report& r, const std::string& field,
                         const std::optional<gwapi::HTTPPathModifier>& p) {
  if (!p) return;
  if (p->type == "ReplaceFullPath") {
    if (!p->replace_prefix_match.empty())
      r.error(field, "replacePrefixMatch must not be set with type ReplaceFullPath");
  } else if (p->type == "ReplacePrefixMatch") {
    if (!p->replace_full_path.empty())
      r.error(field, "replaceFullPath must not be set with type ReplacePrefixMatch");
  } else {
    r.error(field + ".type", "unsupported path modifier type \"" + p->type +
                                 "\" (expected ReplaceFullPath or ReplacePrefixMatch)");
  }
}

void check_filters(Report& r, const std::string& field, const std::vector<gwapi::HTTPRouteFilter>& filters,
                   const gwapi::HTTPRouteRule& rule) {
  std::set<std::string> seen;
  for (size_t i = 0; i < filters.size(); ++i) {
    const gwapi::HTTPRouteFilter& f = filters[i];
    const std::string path = at(field, i);
    if (f.type != "RequestMirror" && f.type != "ExtensionRef" && !seen.insert(f.type).second)
      r.error(path + ".type", "filter type " + f.type + " may appear only once per rule");
    if (f.type == "RequestHeaderModifier") {
      check_header_filter(r, path, f.request_header_modifier, "requestHeaderModifier");
    } else if (f.type == "ResponseHeaderModifier") {
      check_header_filter(r, path, f.response_header_modifier, "responseHeaderModifier");
    } else if (f.type == "RequestRedirect") {
      if (!f.request_redirect) {
        r.error(path, "filter type RequestRedirect requires requestRedirect");
        continue;
      }
      const auto& rd = *f.request_redirect;
      if (!rd.scheme.empty() && rd.scheme != "http" && rd.scheme != "https")
        r.error(path + ".requestRedirect.scheme", "scheme must be http or https");
      static const std::set<uint32_t> kCodes = {301, 302, 303, 307, 308};
      if (!kCodes.contains(rd.status_code))
        r.error(path + ".requestRedirect.statusCode", "statusCode must be 301, 302, 303, 307 or 308");
      check_hostname(r, path + ".requestRedirect.hostname", rd.hostname);
      check_path_modifier(r, path + ".requestRedirect.path", rd.path);
    } else if (f.type == "URLRewrite") {
      if (!f.url_rewrite) {
        r.error(path, "filter type URLRewrite requires urlRewrite");
        continue;
      }
      check_hostname(r, path + ".urlRewrite.hostname", f.url_rewrite->hostname);
      check_path_modifier(r, path + ".urlRewrite.path", f.url_rewrite->path);
    } else if (f.type == "RequestMirror") {
      if (!f.request_mirror) {
        r.error(path, "filter type RequestMirror requires requestMirror");
        continue;
      }
      if (f.request_mirror->percent && f.request_mirror->fraction)
        r.error(path + ".requestMirror", "only one of percent or fraction may be set");
      if (f.request_mirror->percent && *f.request_mirror->percent > 100)
        r.error(path + ".requestMirror.percent", "percent must be between 0 and 100");
      if (f.request_mirror->fraction) {
        const auto [num, den] = *f.request_mirror->fraction;
        if (den < 1 || num < 0 || num > den)
          r.error(path + ".requestMirror.fraction",
                  "numerator must be between 0 and denominator (at least 1)");
      }
    } else if (f.type == "CORS") {
      if (!f.cors) {
        r.error(path, "filter type CORS requires cors");
        continue;
      }
      for (size_t o = 0; o < f.cors->allow_origins.size(); ++o) {
        if (f.cors->allow_origins[o].empty())
          r.error(at(path + ".cors.allowOrigins", o), "an origin is required");
      }
      if (f.cors->max_age_s < 1) r.error(path + ".cors.maxAge", "maxAge must be at least 1");
    } else if (f.type == "ExtensionRef" || f.type == "ExternalAuth") {
      // Reported by the compiler in route status, as Istio does (InvalidFilter).
    } else {
      r.error(path + ".type", "unsupported filter type \"" + f.type + "\"");
    }
    // CEL rules that involve the whole rule.
    const bool prefix_rewrite =
        (f.type == "URLRewrite" && f.url_rewrite && f.url_rewrite->path &&
         f.url_rewrite->path->type == "ReplacePrefixMatch") ||
        (f.type == "RequestRedirect" && f.request_redirect && f.request_redirect->path &&
         f.request_redirect->path->type == "ReplacePrefixMatch");
    if (prefix_rewrite && (rule.matches.size() != 1 || rule.matches[0].path.type != "PathPrefix"))
      r.error(path, "ReplacePrefixMatch needs exactly one match with a PathPrefix path");
  }
  if (seen.contains("RequestRedirect") && seen.contains("URLRewrite"))
    r.error(field, "RequestRedirect and URLRewrite cannot both be set on one rule");
}

void check_value_matches(Report& r, const std::string& field,
                         const std::vector<gwapi::HTTPValueMatch>& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string f = at(field, i);
    if (list[i].name.empty()) r.error(f + ".name", "name is required");
    if (list[i].type != "Exact" && list[i].type != "RegularExpression")
      r.error(f + ".type", "type must be Exact or RegularExpression");
    else if (list[i].type == "RegularExpression" && !is_valid_regex(list[i].value))
      r.error(f + ".value", "invalid regular expression \"" + list[i].value + "\"");
  }
}

void check_backend_ref(Report& r, const std::string& field, const gwapi::BackendObjectReference& b) {
  if (b.name.empty()) r.error(field + ".name", "name is required");
}

}  // namespace

Diagnostics validate(const gwapi::GatewayClass& gateway_class, const FieldLines& lines) {
  Report r("GatewayClass", gateway_class.meta, lines);
  if (gateway_class.controller_name.empty()) r.error("spec.controllerName", "controllerName is required");
  return r.take();
}

Diagnostics validate(const gwapi::Gateway& gateway, const FieldLines& lines) {
  Report r(gwapi::kGatewayKind, gateway.meta, lines);
  if (gateway.gateway_class_name.empty()) r.error("spec.gatewayClassName", "gatewayClassName is required");
  if (gateway.listeners.empty()) r.error("spec.listeners", "at least one listener is required");
  if (gateway.listeners.size() > 64) r.error("spec.listeners", "at most 64 listeners are allowed");
  std::set<std::string> names;
  std::set<std::tuple<uint32_t, std::string, std::string>> combinations;
  for (size_t i = 0; i < gateway.listeners.size(); ++i) {
    const gwapi::Listener& l = gateway.listeners[i];
    const std::string f = at("spec.listeners", i);
    if (l.name.empty()) r.error(f + ".name", "name is required");
    if (!l.name.empty() && !names.insert(l.name).second)
      r.error(f + ".name", "listener name \"" + l.name + "\" must be unique within the Gateway");
    if (l.port < 1 || l.port > 65535) r.error(f + ".port", "port must be between 1 and 65535");
    if (l.protocol.empty()) r.error(f + ".protocol", "protocol is required");
    check_hostname(r, f + ".hostname", l.hostname);
    if (!combinations.insert({l.port, l.protocol, l.hostname}).second)
      r.error(f, "combination of port, protocol and hostname must be unique for each listener");
    if ((l.protocol == "HTTP" || l.protocol == "TCP" || l.protocol == "UDP") && l.tls)
      r.error(f + ".tls", "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']");
    if ((l.protocol == "HTTPS" || l.protocol == "TLS") && !l.tls)
      r.error(f + ".tls", "tls mode must be set for protocol " + l.protocol);
    if ((l.protocol == "TCP" || l.protocol == "UDP") && !l.hostname.empty())
      r.error(f + ".hostname", "hostname must not be specified for protocols ['TCP', 'UDP']");
    if (l.tls) {
      if (l.tls->mode != "Terminate" && l.tls->mode != "Passthrough")
        r.error(f + ".tls.mode", "mode must be Terminate or Passthrough");
      if (l.protocol == "HTTPS" && l.tls->mode == "Terminate" && l.tls->certificate_refs.empty())
        r.error(f + ".tls.certificateRefs",
                "certificateRefs or options must be specified when mode is Terminate");
      for (size_t c = 0; c < l.tls->certificate_refs.size(); ++c) {
        if (l.tls->certificate_refs[c].name.empty())
          r.error(at(f + ".tls.certificateRefs", c) + ".name", "name is required");
      }
    }
    static const std::set<std::string> kFrom = {"All", "Same", "Selector", "None"};
    if (!kFrom.contains(l.from))
      r.error(f + ".allowedRoutes.namespaces.from", "from must be All, Same, Selector or None");
    if (l.from == "Selector" && !l.selector)
      r.error(f + ".allowedRoutes.namespaces.selector", "selector must be specified when from is Selector");
  }
  return r.take();
}

Diagnostics validate(const gwapi::HTTPRoute& route, const FieldLines& lines) {
  Report r(route.kind, route.meta, lines);
  if (route.parent_refs.size() > 32) r.error("spec.parentRefs", "at most 32 parentRefs are allowed");
  for (size_t i = 0; i < route.parent_refs.size(); ++i) {
    if (route.parent_refs[i].name.empty()) r.error(at("spec.parentRefs", i) + ".name", "name is required");
  }
  for (size_t i = 0; i < route.hostnames.size(); ++i)
    check_hostname(r, at("spec.hostnames", i), route.hostnames[i]);
  if (route.rules.size() > 16) r.error("spec.rules", "at most 16 rules are allowed");
  size_t total_matches = 0;
  for (size_t i = 0; i < route.rules.size(); ++i) {
    const gwapi::HTTPRouteRule& rule = route.rules[i];
    const std::string f = at("spec.rules", i);
    if (rule.matches.size() > 64) r.error(f + ".matches", "at most 64 matches are allowed per rule");
    total_matches += rule.matches.size();
    for (size_t m = 0; m < rule.matches.size(); ++m) {
      const gwapi::HTTPRouteMatch& match = rule.matches[m];
      const std::string mf = at(f + ".matches", m);
      const std::string& type = match.path.type;
      if (type != "Exact" && type != "PathPrefix" && type != "RegularExpression") {
        r.error(mf + ".path.type", "type must be Exact, PathPrefix or RegularExpression");
      } else if (type == "RegularExpression") {
        if (!is_valid_regex(match.path.value))
          r.error(mf + ".path.value", "invalid regular expression \"" + match.path.value + "\"");
      } else {
        if (!match.path.value.starts_with("/")) r.error(mf + ".path.value", "value must be an absolute path");
        if (match.path.value.find("//") != std::string::npos)
          r.error(mf + ".path.value", "must not contain '//'");
        if (match.path.value.find('?') != std::string::npos ||
            match.path.value.find('#') != std::string::npos)
          r.error(mf + ".path.value", "must not contain '?' or '#'");
      }
      check_value_matches(r, mf + ".headers", match.headers);
      check_value_matches(r, mf + ".queryParams", match.query_params);
      static const std::set<std::string> kMethods = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                     "CONNECT", "OPTIONS", "TRACE", "PATCH"};
      if (!match.method.empty() && !kMethods.contains(match.method))
        r.error(mf + ".method", "unsupported method \"" + match.method + "\"");
    }
    check_filters(r, f + ".filters", rule.filters, rule);
    if (rule.retry) {
      for (size_t c = 0; c < rule.retry->codes.size(); ++c) {
        if (rule.retry->codes[c] < 400 || rule.retry->codes[c] > 599)
          r.error(at(f + ".retry.codes", c), "a retry code must be between 400 and 599");
      }
      if (rule.retry->attempts && *rule.retry->attempts < 0)
        r.error(f + ".retry.attempts", "attempts must be >= 0");
    }
    const bool redirect =
        std::any_of(rule.filters.begin(), rule.filters.end(),
                    [](const gwapi::HTTPRouteFilter& x) { return x.type == "RequestRedirect"; });
    if (redirect && !rule.backend_refs.empty())
      r.error(f, "RequestRedirect filter must not be used together with backendRefs");
    for (size_t b = 0; b < rule.backend_refs.size(); ++b) {
      const std::string bf = at(f + ".backendRefs", b);
      check_backend_ref(r, bf, rule.backend_refs[b].ref);
      if (rule.backend_refs[b].weight < 0 || rule.backend_refs[b].weight > 1000000)
        r.error(bf + ".weight", "weight must be between 0 and 1000000");
      check_filters(r, bf + ".filters", rule.backend_refs[b].filters, rule);
    }
  }
  if (total_matches > 128) r.error("spec.rules", "at most 128 matches are allowed across all rules");
  return r.take();
}

Diagnostics validate(const gwapi::ReferenceGrant& grant, const FieldLines& lines) {
  Report r("ReferenceGrant", grant.meta, lines);
  if (grant.from.empty()) r.error("spec.from", "at least one from entry is required");
  if (grant.to.empty()) r.error("spec.to", "at least one to entry is required");
  for (size_t i = 0; i < grant.from.size(); ++i) {
    if (grant.from[i].kind.empty()) r.error(at("spec.from", i) + ".kind", "kind is required");
    if (grant.from[i].namespace_.empty()) r.error(at("spec.from", i) + ".namespace", "namespace is required");
  }
  for (size_t i = 0; i < grant.to.size(); ++i) {
    if (grant.to[i].kind.empty()) r.error(at("spec.to", i) + ".kind", "kind is required");
  }
  return r.take();
}

}  // namespace torii::config
