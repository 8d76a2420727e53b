#include "security/jwt_verify.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include <memory>
#include <string_view>

namespace torii::security {

namespace {

std::string_view sanitize_audience(std::string_view aud) {
  if (aud.starts_with("http://")) {
    aud.remove_prefix(7);
  } else if (aud.starts_with("https://")) {
    aud.remove_prefix(8);
  }
  if (aud.ends_with('/')) aud.remove_suffix(1);
  return aud;
}

const EVP_MD* digest_of(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::RS256:
    case JwtAlg::PS256:
    case JwtAlg::ES256:
      return EVP_sha256();
    case JwtAlg::RS384:
    case JwtAlg::PS384:
    case JwtAlg::ES384:
      return EVP_sha384();
    case JwtAlg::RS512:
    case JwtAlg::PS512:
    case JwtAlg::ES512:
      return EVP_sha512();
    case JwtAlg::EdDSA:
      return nullptr;  // Ed25519 hashes internally
  }
  return nullptr;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// JWS ECDSA signatures are r || s, each the curve's size (RFC 7518 3.4);
// OpenSSL verifies DER.
bool ecdsa_raw_to_der(std::string_view raw, size_t half, std::string& der) {
  if (raw.size() != 2 * half) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (sig == nullptr) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(p, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(p + half, static_cast<int>(half), nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* out = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &out);
  ECDSA_SIG_free(sig);
  if (len <= 0) return false;
  der.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return true;
}

bool verify_with(const Jwt& jwt, const Jwk& jwk) {
  std::string der;
  std::string_view sig = jwt.signature;
  if (jwt.alg == JwtAlg::ES256 || jwt.alg == JwtAlg::ES384 || jwt.alg == JwtAlg::ES512) {
    const size_t half = jwt.alg == JwtAlg::ES256 ? 32 : jwt.alg == JwtAlg::ES384 ? 48 : 66;
    if (!ecdsa_raw_to_der(sig, half, der)) return false;
    sig = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, digest_of(jwt.alg), nullptr, jwk.key.get()) != 1)
    return false;
  if (jwt.alg == JwtAlg::PS256 || jwt.alg == JwtAlg::PS384 || jwt.alg == JwtAlg::PS512) {
    // RFC 7518 3.5: salt length = hash length, MGF1 with the same hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, digest_of(jwt.alg)) != 1) {
      return false;
    }
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(jwt.signed_part.data()),
                          jwt.signed_part.size()) == 1;
}

// The key type and curve an algorithm needs.
bool key_fits(JwtAlg alg, const Jwk& jwk) {
  switch (alg) {
    case JwtAlg::RS256:
    case JwtAlg::RS384:
    case JwtAlg::RS512:
    case JwtAlg::PS256:
    case JwtAlg::PS384:
    case JwtAlg::PS512:
      return jwk.kty == "RSA";
    case JwtAlg::ES256:
      return jwk.kty == "EC" && jwk.crv == "P-256";
    case JwtAlg::ES384:
      return jwk.kty == "EC" && jwk.crv == "P-384";
    case JwtAlg::ES512:
      return jwk.kty == "EC" && jwk.crv == "P-521";
    case JwtAlg::EdDSA:
      return jwk.kty == "OKP" && jwk.crv == "Ed25519";
  }
  return false;
}

}  // namespace

JwtStatus check_jwt_time(const Jwt& jwt, int64_t now, int64_t skew) {
  if (jwt.nbf != 0 && now + skew < jwt.nbf) return JwtStatus::NotYetValid;
  if (jwt.exp != 0 && now > jwt.exp + skew) return JwtStatus::Expired;
  return JwtStatus::Ok;
}

JwtStatus check_jwt_audiences(const Jwt& jwt, const std::vector<std::string>& allowed) {
  if (allowed.empty()) return JwtStatus::Ok;
  for (const std::string& a : jwt.audiences) {
    for (const std::string& b : allowed) {
      if (sanitize_audience(a) == sanitize_audience(b)) return JwtStatus::Ok;
    }
  }
  return JwtStatus::AudienceNotAllowed;
}

JwtStatus verify_jwt_signature(const Jwt& jwt, const Jwks& jwks) {
  bool candidate = false;
  for (const Jwk& jwk : jwks.keys) {
    if (!jwt.kid.empty() && !jwk.kid.empty() && jwk.kid != jwt.kid) continue;
    if (!jwk.alg.empty() && jwk.alg != jwt.alg_name) continue;
    if (!key_fits(jwt.alg, jwk)) continue;
    candidate = true;
    if (verify_with(jwt, jwk)) return JwtStatus::Ok;
  }
  if (jwt.alg == JwtAlg::EdDSA && candidate && jwt.signature.size() != 64) {
    return JwtStatus::Ed25519SignatureWrongLength;
  }
  return candidate ? JwtStatus::VerificationFail : JwtStatus::JwksKidAlgMismatch;
}

}  // namespace torii::security
