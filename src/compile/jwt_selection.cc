#include "compile/jwt_selection.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "compile/policy_attachment.h"
#include "security/base64url.h"
#include "security/jwks_fetch.h"

namespace torii::compile {

namespace {

uint64_t monotonic_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

bool applies(const config::RequestAuthentication& p, const GatewayIdentity& identity) {
  return policy_applies(p.meta, p.selector, p.target_refs, identity);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::shared_ptr<const security::JwtAuthn> build_jwt_authn(
    const config::ObjectList<config::RequestAuthentication>& policies, const GatewayIdentity& identity,
    DiagnosticSink& diagnostics, std::set<std::string>& jwks_files) {
  std::vector<security::JwtProvider> providers;
  for (const config::RequestAuthentication& policy : policies) {
    if (!applies(policy, identity)) continue;
    for (size_t i = 0; i < policy.jwt_rules.size(); ++i) {
      const config::JwtRule& rule = policy.jwt_rules[i];
      const std::string field = "spec.jwtRules[" + std::to_string(i) + "]";
      security::JwtProvider p;
      p.issuer = rule.issuer;
      p.audiences = rule.audiences;
      p.source = "RequestAuthentication " + policy.meta.namespace_ + "/" + policy.meta.name + " " + field;
      std::string document = rule.jwks;
      if (rule.jwks_uri.starts_with("file://")) {
        const std::string path = rule.jwks_uri.substr(7);
        jwks_files.insert(path);
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        document = text.str();
        if (!in) {
          diagnostics.warning(
              "RequestAuthentication", policy.meta, field + ".jwksUri",
              "cannot read '" + path + "': tokens of issuer '" + rule.issuer + "' are rejected");
        }
      } else if (rule.jwks_uri.starts_with("http://") || rule.jwks_uri.starts_with("https://")) {
        // Fetched on the control thread (security/jwks_fetch.h): at once the
        // first time, then refreshed by the control loop.
        security::RemoteJwks& remote = security::RemoteJwks::instance();
        if (remote.enabled()) {
          std::string error;
          const std::optional<std::string> fetched = remote.get(rule.jwks_uri, error, monotonic_ms());
          if (fetched) {
            document = *fetched;
          } else {
            // istiod's CreateFakeJwks: a key set whose one RSA key (kid
            // "abc") matches nothing, so tokens fail with Envoy's usual
            // answers ("Jwks doesn't have key to match kid or alg from Jwt"
            // for most, "Jwt verification fails" for an RS/PS token without
            // a kid), as at an Istio gateway whose istiod could not fetch.
            document = R"({"keys":[{"e":"AQAB","kid":"abc","kty":"RSA","n":")" +
                       security::base64url_encode("Error-IstiodFailedToFetchJwksUri-" + rule.jwks_uri) +
                       R"("}]})";
            diagnostics.warning("RequestAuthentication", policy.meta, field + ".jwksUri",
                                "cannot fetch '" + rule.jwks_uri + "' (" + error + "): tokens of issuer '" +
                                    rule.issuer + "' are rejected until it can be");
          }
        }
      }
      if (!document.empty()) {
        auto jwks = std::make_shared<security::Jwks>();
        std::string error;
        if (security::Jwks::parse(document, *jwks, error)) {
          p.jwks = std::move(jwks);
        } else {
          diagnostics.warning(
              "RequestAuthentication", policy.meta, field + ".jwksUri",
              "JWKS does not parse (" + error + "): tokens of issuer '" + rule.issuer + "' are rejected");
        }
      }
      using Kind = security::JwtLocation::Kind;
      for (const config::JwtHeaderLocation& h : rule.from_headers)
        p.locations.push_back({Kind::Header, lower(h.name), h.prefix});
      for (const std::string& name : rule.from_params) p.locations.push_back({Kind::Param, name, ""});
      for (const std::string& name : rule.from_cookies) p.locations.push_back({Kind::Cookie, name, ""});
      if (p.locations.empty()) {
        // Envoy's defaults, which any explicit location turns off.
        p.locations.push_back({Kind::Header, "authorization", "Bearer "});
        p.locations.push_back({Kind::Param, "access_token", ""});
      }
      p.forward_original_token = rule.forward_original_token;
      p.output_payload_to_header = lower(rule.output_payload_to_header);
      for (const config::JwtClaimToHeader& c : rule.output_claim_to_headers)
        p.claim_headers.push_back({lower(c.header), c.claim});
      providers.push_back(std::move(p));
    }
  }
  if (providers.empty()) return nullptr;
  std::stable_sort(
      providers.begin(), providers.end(),
      [](const security::JwtProvider& a, const security::JwtProvider& b) { return a.issuer < b.issuer; });
  return std::make_shared<const security::JwtAuthn>(std::move(providers));
}

}  // namespace torii::compile
