// The request side of RequestAuthentication: Envoy's jwt_authn filter as
// istiod configures it at a gateway (ISTIO_SECURITY.md §10). One JwtAuthn
// per snapshot, built from every jwtRule that applies to the gateway; the
// workers call authenticate() on each request before routing.
//
// Per request, with no token: one header lookup per location (no
// allocation). With a token: a lookup in the worker's cache of verified
// tokens (hash of the token -> parsed claims); only a miss parses the token
// and checks its signature.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"
#include "security/jwks.h"
#include "security/jwt.h"

namespace torii::security {

// Where a token is read from (fromHeaders / fromParams / fromCookies).
struct JwtLocation {
  enum class Kind { Header, Param, Cookie };
  Kind kind = Kind::Header;
  std::string name;    // header names lower-case
  std::string prefix;  // headers only: "Bearer " for the default Authorization
};

// One jwtRule.
struct JwtProvider {
  std::string issuer;
  std::vector<std::string> audiences;
  // Null: the JWKS could not be loaded. As istiod then installs a key whose
  // private half is gone, every token of this issuer fails (fail closed).
  std::shared_ptr<const Jwks> jwks;
  std::vector<JwtLocation> locations;  // defaults filled in when the rule sets none
  bool forward_original_token = false;
  std::string output_payload_to_header;  // lower-case; empty: none
  struct ClaimHeader {
    std::string header;  // lower-case
    std::string claim;   // dotted path for nested objects
  };
  std::vector<ClaimHeader> claim_headers;
  std::string source;  // "RequestAuthentication ns/name jwtRules[i]", for logs
};

// What a stream keeps after a token was verified, for AuthorizationPolicy
// (request.auth.*) and logs. Empty `jwt`: no token (anonymous).
struct JwtIdentity {
  std::shared_ptr<const Jwt> jwt;
  // request.auth.principal: "iss/sub"; empty when either is missing.
  std::string principal() const {
    if (!jwt || jwt->iss.empty() || jwt->sub.empty()) return {};
    return jwt->iss + "/" + jwt->sub;
  }
};

struct JwtOutcome {
  JwtStatus status = JwtStatus::Ok;  // not Ok: reject with jwt_status_http_code()
  // A param location's token was verified and is not forwarded: the caller
  // removes this parameter from the query. Empty: none.
  std::string_view remove_param;
};

class JwtAuthn {
 public:
  explicit JwtAuthn(std::vector<JwtProvider> providers);

  const std::vector<JwtProvider>& providers() const { return providers_; }

  // Runs Envoy's jwt_authn on one request: drops client copies of the
  // output headers, extracts tokens, verifies each (all must pass), then
  // sets the output headers and removes forwarded-away token headers.
  // `query`: the query string without '?'. `now`: Unix seconds.
  JwtOutcome authenticate(http::HeaderMap& headers, std::string_view query, int64_t now,
                          JwtIdentity& identity) const;

  // Verifies one token for the providers that allow `location` (cache
  // first). Exposed for tests.
  JwtStatus verify(std::string_view token, size_t location, int64_t now, std::shared_ptr<const Jwt>& jwt,
                   const JwtProvider*& provider) const;

 private:
  struct Location {
    JwtLocation where;
    std::vector<size_t> providers;  // indexes into providers_ that read from here
  };

  std::vector<JwtProvider> providers_;
  std::vector<Location> locations_;          // distinct locations over all providers
  std::vector<std::string> output_headers_;  // removed from every request first
  uint64_t id_;                              // distinguishes cache entries of different configs
};

// The value of a claim for outputClaimToHeaders: strings as they are,
// integers without decimals, bools as true/false; false for lists, objects
// and missing claims. `path` is dotted ("nested.key").
bool jwt_claim_header_value(const nlohmann::json& payload, std::string_view path, std::string& out);

// The first value of query parameter `name` in `query` (no '?'), undecoded.
bool find_query_param(std::string_view query, std::string_view name, std::string_view& value);
// `path_and_query` without any `name=` parameter.
std::string remove_query_param(std::string_view path_and_query, std::string_view name);

}  // namespace torii::security
