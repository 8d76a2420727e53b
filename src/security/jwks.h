// A JSON Web Key Set (RFC 7517) as Envoy's jwt library reads it
// (source/common/jwt/jwks.cc): RSA (n, e), EC (crv P-256/P-384/P-521, x, y)
// and OKP (crv Ed25519, x) public keys, each turned into an OpenSSL
// EVP_PKEY once, when the configuration is compiled. Keys that do not
// parse are skipped; a set left without keys is an error.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

namespace torii::security {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

struct Jwk {
  std::string kty;  // RSA, EC, OKP
  std::string kid;  // empty: none
  std::string alg;  // empty: any algorithm of the key type
  std::string crv;  // EC: P-256/P-384/P-521; OKP: Ed25519
  EvpPkeyPtr key;
};

struct Jwks {
  std::vector<Jwk> keys;

  // Parses a JWKS document. Returns false with `error` set when it is not
  // JSON, has no `keys` array, or none of its keys is usable.
  static bool parse(std::string_view json, Jwks& out, std::string& error);
};

}  // namespace torii::security
