#include "compile/action_translation.h"

#include <algorithm>
#include <memory>

#include "compile/host_name.h"
#include "config/header_value.h"
#include "config/names.h"
#include "http/header_map.h"

namespace torii::compile {

namespace {

bool is_internal(std::string_view name) { return name.starts_with(':') || http::iequals(name, "host"); }

bool is_authority(std::string_view name) {
  return http::iequals(name, ":authority") || http::iequals(name, "host");
}

// istiod translateAppendHeaders: returns the authority it saw (last one wins).
// Envoy reads values as format strings: `%%` becomes '%'; an operation
// using %VARIABLE% substitution (not implemented) or whose name is not an
// HTTP token (not sendable) is left out, as validation warned.
std::string append_ops(const std::map<std::string, std::string>& in, bool append, router::HeaderOps& out) {
  std::string authority;
  const size_t first = out.ops.size();
  for (const auto& [name, value] : in) {
    if (is_authority(name)) authority = value;
    if (is_internal(name) || !config::is_http_token(name) || config::has_header_variables(value)) continue;
    out.ops.push_back({http::to_lower(name), config::unescape_header_value(value), append});
  }
  // Sorted by key, stable (std::map already orders the keys as written; the
  // sort only matters when two spellings lower-case alike).
  std::stable_sort(out.ops.begin() + static_cast<std::ptrdiff_t>(first), out.ops.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  return authority;
}

void remove_ops(const std::vector<std::string>& in, router::HeaderOps& out) {
  for (const std::string& name : in) {
    if (!is_internal(name) && config::is_http_token(name)) out.remove.push_back(http::to_lower(name));
  }
}

}  // namespace

router::HeaderMutations translate_headers(const config::Headers& headers) {
  router::HeaderMutations out;
  const std::string set_authority = append_ops(headers.request.set, false, out.request);
  const std::string add_authority = append_ops(headers.request.add, true, out.request);
  remove_ops(headers.request.remove, out.request);
  append_ops(headers.response.set, false, out.response);
  append_ops(headers.response.add, true, out.response);
  remove_ops(headers.response.remove, out.response);
  out.host_rewrite = set_authority.empty() ? add_authority : set_authority;
  return out;
}

router::HeaderMutations translate_rule_headers(const config::HTTPRoute& rule) {
  router::HeaderMutations out;
  if (rule.headers) out = translate_headers(*rule.headers);
  if (rule.rewrite && !rule.rewrite->authority.empty()) out.host_rewrite = rule.rewrite->authority;
  return out;
}

std::optional<router::PathRewrite> translate_rewrite(const config::HTTPRoute& rule,
                                                     const config::VirtualService& vs,
                                                     const std::string& field, DiagnosticSink& diagnostics) {
  router::PathRewrite out;
  if (!rule.rewrite) return out;
  if (rule.rewrite->uri_regex_rewrite) {
    const auto& [pattern, substitution] = *rule.rewrite->uri_regex_rewrite;
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto regex = std::make_shared<re2::RE2>(pattern, options);
    std::string error;
    if (!regex->ok()) {
      error = regex->error();
    } else if (!regex->CheckRewriteString(substitution, &error) && error.empty()) {
      // e.g. \3 with two capture groups (Envoy rejects such a route too).
      error = "invalid substitution \"" + substitution + "\"";
    }
    if (!error.empty()) {
      diagnostics.error(kVirtualServiceKind, vs.meta, field + ".rewrite.uriRegexRewrite",
                        "cannot use regex rewrite: " + error + "; rule dropped", &rule.source);
      return std::nullopt;
    }
    out.kind = router::PathRewrite::Kind::Regex;
    out.regex = std::move(regex);
    out.replacement = substitution;
  } else if (!rule.rewrite->uri.empty()) {
    out.kind = router::PathRewrite::Kind::Prefix;
    out.replacement = rule.rewrite->uri;
  }
  return out;
}

std::optional<router::RedirectAction> translate_redirect(const config::HTTPRoute& rule,
                                                         const config::VirtualService& vs,
                                                         const std::string& field, uint32_t server_port,
                                                         bool tls, DiagnosticSink& diagnostics) {
  const config::HTTPRedirect& in = *rule.redirect;
  router::RedirectAction out;
  switch (in.redirect_code) {
    case 0:
    case 301:
      out.status = 301;
      break;
    case 302:
    case 303:
    case 307:
    case 308:
      out.status = static_cast<int>(in.redirect_code);
      break;
    default:
      // istiod logs "Redirect Code N is not yet supported" and emits the
      // route without an action, which Envoy cannot use. Torii drops the
      // route (requests fall through to later routes) and says so.
      diagnostics.error(
          kVirtualServiceKind, vs.meta, field + ".redirect.redirectCode",
          "redirect code " + std::to_string(in.redirect_code) +
              " passes validation but Istio/Envoy cannot serve it (only 301, 302, 303, 307, 308); "
              "rule dropped",
          &rule.source);
      return std::nullopt;
  }
  out.scheme = in.scheme;
  out.host = in.authority;
  out.path = in.uri;
  if (!in.prefix_rewrite.empty()) {
    out.prefix_rewrite = true;
    out.path_prefix = in.prefix_rewrite;
  }
  uint32_t port = 0;
  const bool port_given = in.port != 0 || !in.derive_port.empty();
  if (in.port != 0) {
    port = in.port;
  } else if (in.derive_port == "FROM_REQUEST_PORT") {
    // Envoy cannot derive the port per request; istiod uses the port the
    // route is built for (the Gateway port, not the bind port).
    port = server_port;
  }
  if (port_given) {
    // istiod: no explicit :80 on http nor :443 on https.
    const std::string scheme = in.scheme.empty() ? (tls ? "https" : "http") : in.scheme;
    if ((port == 80 && scheme == "http") || (port == 443 && scheme == "https")) port = 0;
  }
  if (port != 0) out.port = ":" + std::to_string(port);
  return out;
}

router::DirectResponseAction translate_direct_response(const config::HTTPDirectResponse& response) {
  router::DirectResponseAction out;
  out.status = static_cast<int>(response.status);
  if (response.body) out.body = *response.body;
  return out;
}

}  // namespace torii::compile
