#include "router/cors_policy.h"

namespace torii::router {

bool CorsPolicy::origin_allowed(std::string_view origin) const {
  for (const StringMatcher& m : allow_origins) {
    if (m.matches("*") || m.matches(origin)) return true;
  }
  return false;
}

CorsDecision decide_cors(const CorsPolicy& policy, std::string_view method, const http::HeaderMap& request) {
  CorsDecision d;
  const std::string_view* origin = request.get("origin");
  if (origin == nullptr || origin->empty()) return d;
  d.origin_allowed = policy.origin_allowed(*origin);
  d.kind = CorsDecision::Kind::Forward;
  if (method != "OPTIONS") return d;
  const std::string_view* request_method = request.get("access-control-request-method");
  if (request_method == nullptr || request_method->empty()) return d;
  if (!d.origin_allowed && policy.forward_not_matching_preflights) return d;
  d.kind = CorsDecision::Kind::Preflight;
  return d;
}

void add_preflight_headers(const CorsPolicy& policy, const CorsDecision& decision,
                           const http::HeaderMap& request, http::HeaderMap& out) {
  const std::string_view* origin = request.get("origin");
  if (decision.origin_allowed && origin != nullptr) out.set("access-control-allow-origin", *origin);
  if (policy.allow_credentials) out.set("access-control-allow-credentials", "true");
  // Envoy echoes the requested method / headers for a literal "*".
  if (!policy.allow_methods.empty()) {
    const std::string_view* requested = request.get("access-control-request-method");
    out.set("access-control-allow-methods",
            policy.allow_methods == "*" && requested != nullptr ? *requested : policy.allow_methods);
  }
  if (!policy.allow_headers.empty()) {
    const std::string_view* requested = request.get("access-control-request-headers");
    out.set("access-control-allow-headers", policy.allow_headers == "*"
                                                ? (requested != nullptr ? *requested : std::string())
                                                : policy.allow_headers);
  }
  if (!policy.max_age.empty()) out.set("access-control-max-age", policy.max_age);
}

void add_cors_response_headers(const CorsPolicy& policy, std::string_view origin, http::HeaderMap& response) {
  response.set("access-control-allow-origin", origin);
  if (policy.allow_credentials) response.set("access-control-allow-credentials", "true");
  if (!policy.expose_headers.empty()) response.set("access-control-expose-headers", policy.expose_headers);
}

}  // namespace torii::router
