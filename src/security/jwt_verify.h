// The checks of a parsed JWT, each as Envoy's jwt library does it
// (source/common/jwt/verify.cc, check_audience.cc): time with a clock skew,
// audiences, and the signature against a JWKS.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "security/jwks.h"
#include "security/jwt.h"

namespace torii::security {

// Envoy's default clock_skew_seconds (Istio sets none).
inline constexpr int64_t kJwtClockSkewSeconds = 60;

// "Jwt not yet valid" when now + skew < nbf; "Jwt is expired" when exp is
// set and now > exp + skew. iat is not checked, a token without exp never
// expires (Istio sets no require_expiration).
JwtStatus check_jwt_time(const Jwt& jwt, int64_t now, int64_t skew = kJwtClockSkewSeconds);

// `allowed` empty: any audience. Otherwise one of the token's audiences must
// equal one of them, both sides without an http:// or https:// prefix and a
// trailing '/'.
JwtStatus check_jwt_audiences(const Jwt& jwt, const std::vector<std::string>& allowed);

// Tries the keys whose kid (when both have one) and alg match the token's:
// Ok on the first that verifies, VerificationFail when candidates exist but
// none verifies, JwksKidAlgMismatch when there is no candidate.
JwtStatus verify_jwt_signature(const Jwt& jwt, const Jwks& jwks);

}  // namespace torii::security
