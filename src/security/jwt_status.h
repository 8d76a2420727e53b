// Why a JWT was rejected, with the exact strings Envoy's jwt_authn filter
// answers with (source/common/jwt/status.cc, the former jwt_verify_lib):
// clients and tests compare the 401/403 body byte for byte.
#pragma once

#include <string_view>

namespace torii::security {

enum class JwtStatus {
  Ok,
  Missing,
  NotYetValid,
  Expired,
  BadFormat,
  HeaderBadBase64,
  HeaderBadJson,
  HeaderBadAlg,
  HeaderNotImplementedAlg,
  HeaderBadKid,
  PayloadBadBase64,
  PayloadBadJson,
  IssNotString,
  SubNotString,
  IatNotInteger,
  NbfNotInteger,
  ExpNotInteger,
  JtiNotString,
  AudNotString,
  SignatureBadBase64,
  Ed25519SignatureWrongLength,
  UnknownIssuer,
  AudienceNotAllowed,
  VerificationFail,
  JwksKidAlgMismatch,
  JwksNoValidKeys,
};

std::string_view jwt_status_string(JwtStatus status);

// Envoy answers 403 for an audience mismatch and 401 for everything else
// (jwt_authn filter.cc onComplete).
inline int jwt_status_http_code(JwtStatus status) {
  return status == JwtStatus::AudienceNotAllowed ? 403 : 401;
}

}  // namespace torii::security
