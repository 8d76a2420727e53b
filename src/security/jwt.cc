#include "security/jwt.h"

#include <array>
#include <utility>

#include "security/base64url.h"

namespace torii::security {

namespace {

constexpr std::array<std::pair<std::string_view, JwtAlg>, 10> kAlgs = {{
    {"RS256", JwtAlg::RS256},
    {"RS384", JwtAlg::RS384},
    {"RS512", JwtAlg::RS512},
    {"PS256", JwtAlg::PS256},
    {"PS384", JwtAlg::PS384},
    {"PS512", JwtAlg::PS512},
    {"ES256", JwtAlg::ES256},
    {"ES384", JwtAlg::ES384},
    {"ES512", JwtAlg::ES512},
    {"EdDSA", JwtAlg::EdDSA},
}};

// Envoy reads iat/nbf/exp as non-negative integers; a JSON number with a
// fraction is rejected (its StructUtils::GetUInt64).
bool read_time(const nlohmann::json& payload, const char* name, int64_t& out) {
  auto it = payload.find(name);
  if (it == payload.end()) return true;
  if (it->is_number_unsigned()) {
    out = static_cast<int64_t>(it->get<uint64_t>());
    return true;
  }
  if (it->is_number_float()) {
    const double v = it->get<double>();
    if (v >= 0 && v == static_cast<double>(static_cast<int64_t>(v))) {
      out = static_cast<int64_t>(v);
      return true;
    }
  }
  return false;
}

bool read_string(const nlohmann::json& payload, const char* name, std::string& out) {
  auto it = payload.find(name);
  if (it == payload.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

}  // namespace

bool parse_jwt_alg(std::string_view name, JwtAlg& out) {
  for (const auto& [n, a] : kAlgs) {
    if (n == name) {
      out = a;
      return true;
    }
  }
  return false;
}

std::string_view jwt_alg_name(JwtAlg alg) {
  for (const auto& [n, a] : kAlgs) {
    if (a == alg) return n;
  }
  return "";
}

JwtStatus Jwt::parse(std::string_view token) {
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return JwtStatus::BadFormat;
  }
  header_segment = token.substr(0, dot1);
  payload_segment = token.substr(dot1 + 1, dot2 - dot1 - 1);
  signed_part = token.substr(0, dot2);

  std::optional<std::string> bytes = base64url_decode(header_segment);
  if (!bytes) return JwtStatus::HeaderBadBase64;
  header = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return JwtStatus::HeaderBadJson;
  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string()) return JwtStatus::HeaderBadAlg;
  alg_name = alg_it->get<std::string>();
  if (!parse_jwt_alg(alg_name, alg)) return JwtStatus::HeaderNotImplementedAlg;
  if (!read_string(header, "kid", kid)) return JwtStatus::HeaderBadKid;

  bytes = base64url_decode(payload_segment);
  if (!bytes) return JwtStatus::PayloadBadBase64;
  payload = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) return JwtStatus::PayloadBadJson;
  if (!read_string(payload, "iss", iss)) return JwtStatus::IssNotString;
  if (!read_string(payload, "sub", sub)) return JwtStatus::SubNotString;
  if (!read_time(payload, "iat", iat)) return JwtStatus::IatNotInteger;
  if (!read_time(payload, "nbf", nbf)) return JwtStatus::NbfNotInteger;
  if (!read_time(payload, "exp", exp)) return JwtStatus::ExpNotInteger;
  if (!read_string(payload, "jti", jti)) return JwtStatus::JtiNotString;
  auto aud = payload.find("aud");
  if (aud != payload.end()) {
    if (aud->is_string()) {
      audiences.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (const nlohmann::json& a : *aud) {
        if (!a.is_string()) return JwtStatus::AudNotString;
        audiences.push_back(a.get<std::string>());
      }
    } else {
      return JwtStatus::AudNotString;
    }
  }

  bytes = base64url_decode(token.substr(dot2 + 1));
  if (!bytes) return JwtStatus::SignatureBadBase64;
  signature = std::move(*bytes);
  return JwtStatus::Ok;
}

}  // namespace torii::security
