#include "security/jwks.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>

#include "security/base64url.h"

namespace torii::security {

namespace {

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

std::string member(const nlohmann::json& key, const char* name) {
  auto it = key.find(name);
  return it != key.end() && it->is_string() ? it->get<std::string>() : std::string();
}

BnPtr decode_bn(const nlohmann::json& key, const char* name) {
  std::optional<std::string> bytes = base64url_decode(member(key, name));
  if (!bytes || bytes->empty()) return nullptr;
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                         static_cast<int>(bytes->size()), nullptr));
}

EvpPkeyPtr from_params(const char* type, OSSL_PARAM* params) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    return nullptr;
  }
  return EvpPkeyPtr(key);
}

EvpPkeyPtr rsa_key(const nlohmann::json& key) {
  BnPtr n = decode_bn(key, "n");
  BnPtr e = decode_bn(key, "e");
  if (!n || !e) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  return params ? from_params("RSA", params.get()) : nullptr;
}

EvpPkeyPtr ec_key(const nlohmann::json& key, const std::string& crv) {
  const char* group = crv == "P-256"   ? "prime256v1"
                      : crv == "P-384" ? "secp384r1"
                      : crv == "P-521" ? "secp521r1"
                                       : nullptr;
  const size_t size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 66;
  if (group == nullptr) return nullptr;
  std::optional<std::string> x = base64url_decode(member(key, "x"));
  std::optional<std::string> y = base64url_decode(member(key, "y"));
  if (!x || !y || x->size() != size || y->size() != size) return nullptr;
  // Uncompressed point: 0x04 || x || y.
  std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  return params ? from_params("EC", params.get()) : nullptr;
}

EvpPkeyPtr okp_key(const nlohmann::json& key, const std::string& crv) {
  if (crv != "Ed25519") return nullptr;
  std::optional<std::string> x = base64url_decode(member(key, "x"));
  if (!x || x->size() != 32) return nullptr;
  return EvpPkeyPtr(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size()));
}

}  // namespace

bool Jwks::parse(std::string_view json, Jwks& out, std::string& error) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    error = "Jwks is not valid JSON";
    return false;
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    error = "[keys] does not exist";
    return false;
  }
  for (const nlohmann::json& k : *keys) {
    if (!k.is_object()) continue;
    Jwk jwk;
    jwk.kty = member(k, "kty");
    jwk.kid = member(k, "kid");
    jwk.alg = member(k, "alg");
    jwk.crv = member(k, "crv");
    if (jwk.kty == "RSA") {
      // Envoy: an RSA key's alg, when given, must be RS* or PS*.
      if (!jwk.alg.empty() && !jwk.alg.starts_with("RS") && !jwk.alg.starts_with("PS")) continue;
      jwk.key = rsa_key(k);
    } else if (jwk.kty == "EC") {
      // Without crv, Envoy derives it from alg (ES256 -> P-256, ...).
      if (jwk.crv.empty()) {
        jwk.crv = jwk.alg == "ES384" ? "P-384" : jwk.alg == "ES512" ? "P-521" : "P-256";
      }
      jwk.key = ec_key(k, jwk.crv);
    } else if (jwk.kty == "OKP") {
      jwk.key = okp_key(k, jwk.crv);
    }
    if (jwk.key) out.keys.push_back(std::move(jwk));
  }
  if (out.keys.empty()) {
    error = "Jwks doesn't have valid keys";
    return false;
  }
  return true;
}

}  // namespace torii::security
