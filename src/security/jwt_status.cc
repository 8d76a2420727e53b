#include "security/jwt_status.h"

namespace torii::security {

std::string_view jwt_status_string(JwtStatus status) {
  switch (status) {
    case JwtStatus::Ok:
      return "OK";
    case JwtStatus::Missing:
      return "Jwt is missing";
    case JwtStatus::NotYetValid:
      return "Jwt not yet valid";
    case JwtStatus::Expired:
      return "Jwt is expired";
    case JwtStatus::BadFormat:
      return "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    case JwtStatus::HeaderBadBase64:
      return "Jwt header is an invalid Base64url encoded";
    case JwtStatus::HeaderBadJson:
      return "Jwt header is an invalid JSON";
    case JwtStatus::HeaderBadAlg:
      return "Jwt header [alg] field is required and must be a string";
    case JwtStatus::HeaderNotImplementedAlg:
      return "Jwt header [alg] is not supported";
    case JwtStatus::HeaderBadKid:
      return "Jwt header [kid] field is not a string";
    case JwtStatus::PayloadBadBase64:
      return "Jwt payload is an invalid Base64url encoded";
    case JwtStatus::PayloadBadJson:
      return "Jwt payload is an invalid JSON";
    case JwtStatus::IssNotString:
      return "Jwt payload [iss] field is not a string";
    case JwtStatus::SubNotString:
      return "Jwt payload [sub] field is not a string";
    case JwtStatus::IatNotInteger:
      return "Jwt payload [iat] field is not an integer";
    case JwtStatus::NbfNotInteger:
      return "Jwt payload [nbf] field is not an integer";
    case JwtStatus::ExpNotInteger:
      return "Jwt payload [exp] field is not an integer";
    case JwtStatus::JtiNotString:
      return "Jwt payload [jti] field is not a string";
    case JwtStatus::AudNotString:
      return "Jwt payload [aud] field is not a string or string list";
    case JwtStatus::SignatureBadBase64:
      return "Jwt signature is an invalid Base64url encoded";
    case JwtStatus::Ed25519SignatureWrongLength:
      return "Jwt ED25519 signature is wrong length";
    case JwtStatus::UnknownIssuer:
      return "Jwt issuer is not configured";
    case JwtStatus::AudienceNotAllowed:
      return "Audiences in Jwt are not allowed";
    case JwtStatus::VerificationFail:
      return "Jwt verification fails";
    case JwtStatus::JwksKidAlgMismatch:
      return "Jwks doesn't have key to match kid or alg from Jwt";
    case JwtStatus::JwksNoValidKeys:
      return "Jwks doesn't have valid keys";
  }
  return "";
}

}  // namespace torii::security
