// Test helpers: keys generated with OpenSSL, their JWKs, and signed tokens.
#pragma once

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "security/base64url.h"
#include "security/jwks.h"

namespace torii::security::test {

inline EvpPkeyPtr generate_key(const char* type, const char* param = nullptr) {
  if (std::string(type) == "EC") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", param));
  if (std::string(type) == "RSA") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

inline std::string bn_b64(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64url_encode(bytes);
}

// The public JWK of `key` ("kty" from its type).
inline nlohmann::json jwk_of(EVP_PKEY* key, const std::string& kid, const std::string& alg = "") {
  nlohmann::json j;
  if (EVP_PKEY_is_a(key, "RSA")) {
    j = {
        {"kty", "RSA"}, {"n", bn_b64(key, OSSL_PKEY_PARAM_RSA_N)}, {"e", bn_b64(key, OSSL_PKEY_PARAM_RSA_E)}};
  } else if (EVP_PKEY_is_a(key, "EC")) {
    unsigned char point[200];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    const size_t half = (len - 1) / 2;
    std::string raw(reinterpret_cast<char*>(point) + 1, len - 1);
    j = {{"kty", "EC"},
         {"crv", half == 32   ? "P-256"
                 : half == 48 ? "P-384"
                              : "P-521"},
         {"x", base64url_encode(raw.substr(0, half))},
         {"y", base64url_encode(raw.substr(half))}};
  } else {
    unsigned char raw[32];
    size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(key, raw, &len);
    j = {{"kty", "OKP"},
         {"crv", "Ed25519"},
         {"x", base64url_encode(std::string(reinterpret_cast<char*>(raw), len))}};
  }
  if (!kid.empty()) j["kid"] = kid;
  if (!alg.empty()) j["alg"] = alg;
  return j;
}

inline std::string jwks_of(const std::vector<nlohmann::json>& keys) {
  return nlohmann::json{{"keys", keys}}.dump();
}

// A compact JWS of `payload` signed with `key` under `alg`.
inline std::string sign_jwt(EVP_PKEY* key, const std::string& alg, const nlohmann::json& payload,
                            const std::string& kid = "") {
  nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  const std::string signed_part = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
  const EVP_MD* md = nullptr;
  const std::string bits = alg.substr(2);
  if (alg != "EdDSA") md = bits == "256" ? EVP_sha256() : bits == "384" ? EVP_sha384() : EVP_sha512();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, md, nullptr, key);
  if (alg.starts_with("PS")) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signed_part.data());
  EVP_DigestSign(ctx, nullptr, &len, data, signed_part.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, data, signed_part.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg.starts_with("ES")) {
    // DER -> r || s, each the curve size.
    const size_t half = bits == "256" ? 32 : bits == "384" ? 48 : 66;
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(2 * half, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(half));
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + half,
                 static_cast<int>(half));
    ECDSA_SIG_free(es);
    sig = raw;
  }
  return signed_part + "." + base64url_encode(sig);
}

}  // namespace torii::security::test
