// A compact JWS (RFC 7515) JWT, parsed as Envoy's jwt library does
// (source/common/jwt/jwt.cc): exactly two dots, base64url JSON header and
// payload, `alg` present and implemented, the registered claims typed.
// Parsing checks no signature and no time: see jwt_verify.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "security/jwt_status.h"

namespace torii::security {

enum class JwtAlg { RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA };

// "RS256" ... ; false: not one Torii implements (HS*, none, ...).
bool parse_jwt_alg(std::string_view name, JwtAlg& out);
std::string_view jwt_alg_name(JwtAlg alg);

struct Jwt {
  std::string alg_name;
  JwtAlg alg = JwtAlg::RS256;
  std::string kid;  // empty: none
  std::string iss, sub, jti;
  std::vector<std::string> audiences;  // `aud` as a string or list
  int64_t iat = 0, nbf = 0, exp = 0;   // 0: absent
  nlohmann::json header;
  nlohmann::json payload;
  std::string header_segment;   // base64url as received
  std::string payload_segment;  // base64url as received (outputPayloadToHeader)
  std::string signed_part;      // "<header>.<payload>", what the signature covers
  std::string signature;        // decoded bytes

  // Parses `token`; on failure returns the Envoy status and leaves *this
  // partly filled.
  JwtStatus parse(std::string_view token);
};

}  // namespace torii::security
