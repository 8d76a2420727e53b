// RequestAuthentication validation as istiod's (pkg/config/validation
// validation.go ValidateRequestAuthentication), plus what Torii reads itself
// (file:// JWKS URIs).
#include <cctype>
#include <string>

#include "config/validate.h"
#include "config/validate_common.h"
#include "security/jwks.h"

namespace torii::config {

namespace {

bool header_name_ok(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

Diagnostics validate(const RequestAuthentication& policy, const FieldLines& lines) {
  Report r("RequestAuthentication", policy.meta, lines);
  check_policy_attachment(r, policy.selector, policy.target_refs);
  for (size_t i = 0; i < policy.jwt_rules.size(); ++i) {
    const JwtRule& rule = policy.jwt_rules[i];
    const std::string field = at("spec.jwtRules", i);
    if (rule.issuer.empty() && rule.jwks_uri.empty()) r.error(field + ".issuer", "issuer must be non-empty");
    if (!rule.jwks.empty() && !rule.jwks_uri.empty()) {
      r.error(field + ".jwks", "only one of jwks or jwksUri may be set");
    }
    if (!rule.jwks.empty()) {
      security::Jwks jwks;
      std::string error;
      if (!security::Jwks::parse(rule.jwks, jwks, error))
        r.error(field + ".jwks", "does not parse: " + error);
    }
    if (!rule.jwks_uri.empty() && !rule.jwks_uri.starts_with("https://") &&
        !rule.jwks_uri.starts_with("http://") && !rule.jwks_uri.starts_with("file://")) {
      r.error(field + ".jwksUri", "'" + rule.jwks_uri + "' is not an http(s):// or file:// URI");
    }
    for (size_t h = 0; h < rule.from_headers.size(); ++h) {
      if (rule.from_headers[h].name.empty())
        r.error(at(field + ".fromHeaders", h) + ".name", "must be non-empty");
    }
    for (size_t p = 0; p < rule.from_params.size(); ++p) {
      if (rule.from_params[p].empty()) r.error(at(field + ".fromParams", p), "must be non-empty");
    }
    for (size_t c = 0; c < rule.from_cookies.size(); ++c) {
      if (rule.from_cookies[c].empty()) r.error(at(field + ".fromCookies", c), "must be non-empty");
    }
    for (size_t c = 0; c < rule.output_claim_to_headers.size(); ++c) {
      const JwtClaimToHeader& o = rule.output_claim_to_headers[c];
      const std::string f = at(field + ".outputClaimToHeaders", c);
      if (!header_name_ok(o.header)) r.error(f + ".header", "'" + o.header + "' must match ^[-_A-Za-z0-9]+$");
      if (o.claim.empty()) r.error(f + ".claim", "must be non-empty");
    }
  }
  return r.take();
}

}  // namespace torii::config
