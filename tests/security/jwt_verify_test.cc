#include <gtest/gtest.h>

#include <ctime>

#include "jwt_test_keys.h"
#include "security/jwt.h"
#include "security/jwt_authn.h"
#include "security/jwt_verify.h"

namespace torii::security {
namespace {

using test::generate_key;
using test::jwk_of;
using test::jwks_of;
using test::sign_jwt;

constexpr int64_t kNow = 1'800'000'000;

Jwks parse_jwks(const std::string& json) {
  Jwks jwks;
  std::string error;
  EXPECT_TRUE(Jwks::parse(json, jwks, error)) << error;
  return jwks;
}

JwtStatus verify_token(const std::string& token, const Jwks& jwks) {
  Jwt jwt;
  const JwtStatus status = jwt.parse(token);
  if (status != JwtStatus::Ok) return status;
  return verify_jwt_signature(jwt, jwks);
}

TEST(JwtStatusTest, EnvoyStrings) {
  EXPECT_EQ(jwt_status_string(JwtStatus::Expired), "Jwt is expired");
  EXPECT_EQ(jwt_status_string(JwtStatus::BadFormat),
            "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  EXPECT_EQ(jwt_status_string(JwtStatus::JwksKidAlgMismatch),
            "Jwks doesn't have key to match kid or alg from Jwt");
  EXPECT_EQ(jwt_status_http_code(JwtStatus::AudienceNotAllowed), 403);
  EXPECT_EQ(jwt_status_http_code(JwtStatus::VerificationFail), 401);
}

TEST(JwtParseTest, Errors) {
  Jwt jwt;
  EXPECT_EQ(jwt.parse("deadbeef"), JwtStatus::BadFormat);
  EXPECT_EQ(Jwt().parse("a.b.c.d"), JwtStatus::BadFormat);
  EXPECT_EQ(Jwt().parse("!!.e30.AA"), JwtStatus::HeaderBadBase64);
  EXPECT_EQ(Jwt().parse(base64url_encode("nojson") + ".e30.AA"), JwtStatus::HeaderBadJson);
  EXPECT_EQ(Jwt().parse(base64url_encode("{}") + ".e30.AA"), JwtStatus::HeaderBadAlg);
  EXPECT_EQ(Jwt().parse(base64url_encode(R"({"alg":"none"})") + ".e30.AA"),
            JwtStatus::HeaderNotImplementedAlg);
  EXPECT_EQ(Jwt().parse(base64url_encode(R"({"alg":"HS256"})") + ".e30.AA"),
            JwtStatus::HeaderNotImplementedAlg);
  const std::string h = base64url_encode(R"({"alg":"RS256"})");
  EXPECT_EQ(Jwt().parse(h + ".!!.AA"), JwtStatus::PayloadBadBase64);
  EXPECT_EQ(Jwt().parse(h + "." + base64url_encode("[1]") + ".AA"), JwtStatus::PayloadBadJson);
  EXPECT_EQ(Jwt().parse(h + "." + base64url_encode(R"({"exp":"soon"})") + ".AA"), JwtStatus::ExpNotInteger);
  EXPECT_EQ(Jwt().parse(h + "." + base64url_encode(R"({"aud":[1]})") + ".AA"), JwtStatus::AudNotString);
  EXPECT_EQ(Jwt().parse(h + "." + base64url_encode(R"({"iss":1})") + ".AA"), JwtStatus::IssNotString);
  Jwt ok;
  ASSERT_EQ(ok.parse(h + "." + base64url_encode(R"({"iss":"i","sub":"s","aud":"a","exp":5})") + ".AA"),
            JwtStatus::Ok);
  EXPECT_EQ(ok.iss, "i");
  EXPECT_EQ(ok.audiences, std::vector<std::string>{"a"});
  EXPECT_EQ(ok.exp, 5);
}

TEST(JwtVerifyTest, TimeWithSixtySecondSkew) {
  Jwt jwt;
  jwt.exp = kNow;
  EXPECT_EQ(check_jwt_time(jwt, kNow + 60), JwtStatus::Ok);
  EXPECT_EQ(check_jwt_time(jwt, kNow + 61), JwtStatus::Expired);
  jwt.exp = 0;
  jwt.nbf = kNow;
  EXPECT_EQ(check_jwt_time(jwt, kNow - 60), JwtStatus::Ok);
  EXPECT_EQ(check_jwt_time(jwt, kNow - 61), JwtStatus::NotYetValid);
}

TEST(JwtVerifyTest, AudiencesIgnoreSchemeAndTrailingSlash) {
  Jwt jwt;
  jwt.audiences = {"https://bookstore.example.com/", "other"};
  EXPECT_EQ(check_jwt_audiences(jwt, {}), JwtStatus::Ok);
  EXPECT_EQ(check_jwt_audiences(jwt, {"bookstore.example.com"}), JwtStatus::Ok);
  EXPECT_EQ(check_jwt_audiences(jwt, {"http://other/"}), JwtStatus::Ok);
  EXPECT_EQ(check_jwt_audiences(jwt, {"nope"}), JwtStatus::AudienceNotAllowed);
}

TEST(JwtVerifyTest, EveryAlgorithmVerifiesAndRejectsAnotherKey) {
  struct Case {
    const char* type;
    const char* param;
    const char* alg;
  };
  const Case cases[] = {{"RSA", nullptr, "RS256"}, {"RSA", nullptr, "RS384"}, {"RSA", nullptr, "RS512"},
                        {"RSA", nullptr, "PS256"}, {"RSA", nullptr, "PS384"}, {"RSA", nullptr, "PS512"},
                        {"EC", "P-256", "ES256"},  {"EC", "P-384", "ES384"},  {"ED25519", nullptr, "EdDSA"}};
  const nlohmann::json payload = {{"iss", "i"}, {"sub", "s"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.alg);
    EvpPkeyPtr key = generate_key(c.type, c.param);
    EvpPkeyPtr other = generate_key(c.type, c.param);
    ASSERT_TRUE(key && other);
    const std::string token = sign_jwt(key.get(), c.alg, payload);
    EXPECT_EQ(verify_token(token, parse_jwks(jwks_of({jwk_of(key.get(), "")}))), JwtStatus::Ok);
    EXPECT_EQ(verify_token(token, parse_jwks(jwks_of({jwk_of(other.get(), "")}))),
              JwtStatus::VerificationFail);
    // A changed payload breaks the signature.
    std::string tampered = token;
    const size_t dot = tampered.find('.');
    tampered.replace(dot + 1, tampered.find('.', dot + 1) - dot - 1,
                     base64url_encode(R"({"iss":"i","sub":"t"})"));
    EXPECT_EQ(verify_token(tampered, parse_jwks(jwks_of({jwk_of(key.get(), "")}))),
              JwtStatus::VerificationFail);
  }
}

TEST(JwtVerifyTest, KidAndAlgSelectKeys) {
  EvpPkeyPtr a = generate_key("EC", "P-256");
  EvpPkeyPtr b = generate_key("EC", "P-256");
  const Jwks jwks = parse_jwks(jwks_of({jwk_of(a.get(), "a"), jwk_of(b.get(), "b")}));
  EXPECT_EQ(verify_token(sign_jwt(b.get(), "ES256", {{"iss", "i"}}, "b"), jwks), JwtStatus::Ok);
  EXPECT_EQ(verify_token(sign_jwt(b.get(), "ES256", {{"iss", "i"}}, "a"), jwks), JwtStatus::VerificationFail);
  EXPECT_EQ(verify_token(sign_jwt(b.get(), "ES256", {{"iss", "i"}}, "c"), jwks),
            JwtStatus::JwksKidAlgMismatch);
  // No kid in the token: every key is tried.
  EXPECT_EQ(verify_token(sign_jwt(b.get(), "ES256", {{"iss", "i"}}), jwks), JwtStatus::Ok);
  // An RSA token against EC keys: no candidate.
  EvpPkeyPtr rsa = generate_key("RSA");
  EXPECT_EQ(verify_token(sign_jwt(rsa.get(), "RS256", {{"iss", "i"}}), jwks), JwtStatus::JwksKidAlgMismatch);
  // A key's alg restricts it.
  const Jwks only_rs384 = parse_jwks(jwks_of({jwk_of(rsa.get(), "", "RS384")}));
  EXPECT_EQ(verify_token(sign_jwt(rsa.get(), "RS256", {{"iss", "i"}}), only_rs384),
            JwtStatus::JwksKidAlgMismatch);
}

TEST(JwksTest, Errors) {
  Jwks jwks;
  std::string error;
  EXPECT_FALSE(Jwks::parse("not json", jwks, error));
  EXPECT_FALSE(Jwks::parse("{}", jwks, error));
  EXPECT_EQ(error, "[keys] does not exist");
  EXPECT_FALSE(Jwks::parse(R"({"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]})", jwks, error));
  EXPECT_EQ(error, "Jwks doesn't have valid keys");
}

// Istio's sample (security/tools/jwt/samples/jwks.json and demo.jwt, copied
// from istio/istio): the token every Istio task uses. Its exp is in 2118.
TEST(JwksTest, IstioSampleDemoToken) {
  const std::string jwks =
      R"({ "keys":[ {"e":"AQAB","kid":"DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ","kty":"RSA","n":"xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ"}]})";
  const std::string token =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6IkRIRmJwb0lVcXJZOHQyenBBMnFYZkNtcjVWTzVaRXI0UnpIVV8tZW52dlEiLCJ0eXAiOiJKV1"
      "QifQ."
      "eyJleHAiOjQ2ODU5ODk3MDAsImZvbyI6ImJhciIsImlhdCI6MTUzMjM4OTcwMCwiaXNzIjoidGVzdGluZ0BzZWN1cmUuaXN0aW8uaW"
      "8iLCJzdWIiOiJ0ZXN0aW5nQHNlY3VyZS5pc3Rpby5pbyJ9."
      "CfNnxWP2tcnR9q0vxyxweaF3ovQYHYZl82hAUsn21bwQd9zP7c-LS9qd_vpdLG4Tn1A15NxfCjp5f7QNBUo-"
      "KC9PJqYpgGbaXhaGx7bEdFWjcwv3nZzvc7M__"
      "ZpaCERdwU7igUmJqYGBYQ51vr2njU9ZimyKkfDe3axcyiBZde7G6dabliUosJvvKOPcKIWPccCgefSj_GNfwIip3-"
      "SsFdlR7BtbVUcqR-yv-XOxJ3Uc1MI0tz3uMiiZcyPV7sNCU4KRnemRIMHVOfuvHsU60_GhGbiSFzgPTAa9WTltbnarTbxudb_"
      "YEOx12JiwYToeX0DCPb43W1tzIBxgm8NxUg";
  Jwt jwt;
  ASSERT_EQ(jwt.parse(token), JwtStatus::Ok);
  EXPECT_EQ(jwt.iss, "testing@secure.istio.io");
  EXPECT_EQ(jwt.exp, 4685989700);  // 2118: the sample does not expire soon
  EXPECT_EQ(verify_jwt_signature(jwt, parse_jwks(jwks)), JwtStatus::Ok);
  EXPECT_EQ(check_jwt_time(jwt, std::time(nullptr)), JwtStatus::Ok);
}

TEST(JwtAuthnTest, ClaimHeaderValues) {
  const nlohmann::json payload =
      nlohmann::json::parse(R"({"s":"v","n":42,"f":1.5,"b":true,"l":["a"],"o":{"k":"deep"}})");
  std::string out;
  EXPECT_TRUE(jwt_claim_header_value(payload, "s", out));
  EXPECT_EQ(out, "v");
  EXPECT_TRUE(jwt_claim_header_value(payload, "n", out));
  EXPECT_EQ(out, "42");
  EXPECT_TRUE(jwt_claim_header_value(payload, "b", out));
  EXPECT_EQ(out, "true");
  EXPECT_TRUE(jwt_claim_header_value(payload, "o.k", out));
  EXPECT_EQ(out, "deep");
  EXPECT_FALSE(jwt_claim_header_value(payload, "l", out));
  EXPECT_FALSE(jwt_claim_header_value(payload, "o", out));
  EXPECT_FALSE(jwt_claim_header_value(payload, "missing", out));
}

TEST(JwtAuthnTest, QueryParams) {
  std::string_view v;
  EXPECT_TRUE(find_query_param("a=1&access_token=t.k.n&b=2", "access_token", v));
  EXPECT_EQ(v, "t.k.n");
  EXPECT_FALSE(find_query_param("access_tokenx=1", "access_token", v));
  EXPECT_EQ(remove_query_param("/p?a=1&access_token=x&b=2", "access_token"), "/p?a=1&b=2");
  EXPECT_EQ(remove_query_param("/p?access_token=x", "access_token"), "/p");
}

JwtProvider provider_for(EVP_PKEY* key, const std::string& issuer) {
  JwtProvider p;
  p.issuer = issuer;
  p.jwks = std::make_shared<Jwks>(parse_jwks(jwks_of({jwk_of(key, "")})));
  p.locations = {{JwtLocation::Kind::Header, "authorization", "Bearer "},
                 {JwtLocation::Kind::Param, "access_token", ""}};
  return p;
}

TEST(JwtAuthnTest, RequestFlow) {
  EvpPkeyPtr key = generate_key("EC", "P-256");
  JwtProvider p = provider_for(key.get(), "iss-1");
  p.output_payload_to_header = "x-jwt-payload";
  p.claim_headers = {{"x-sub", "sub"}};
  const JwtAuthn authn({p});
  const std::string token =
      sign_jwt(key.get(), "ES256", {{"iss", "iss-1"}, {"sub", "alice"}, {"exp", kNow + 100}});

  // No token: allowed, anonymous; forged output headers dropped.
  http::HeaderMap h;
  h.add("x-sub", "forged");
  JwtIdentity id;
  EXPECT_EQ(authn.authenticate(h, "", kNow, id).status, JwtStatus::Ok);
  EXPECT_FALSE(id.jwt);
  EXPECT_FALSE(h.has("x-sub"));

  // A header without the prefix is no token.
  h.add("authorization", "Basic abc");
  EXPECT_EQ(authn.authenticate(h, "", kNow, id).status, JwtStatus::Ok);
  EXPECT_FALSE(id.jwt);

  http::HeaderMap good;
  good.add("authorization", "Bearer " + token);
  ASSERT_EQ(authn.authenticate(good, "", kNow, id).status, JwtStatus::Ok);
  EXPECT_EQ(id.principal(), "iss-1/alice");
  EXPECT_EQ(*good.get("x-sub"), "alice");
  EXPECT_FALSE(good.has("authorization"));  // not forwarded by default
  EXPECT_EQ(*good.get("x-jwt-payload"),
            token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));

  // Cached: the same token again, still checked for time.
  http::HeaderMap again;
  again.add("authorization", "Bearer " + token);
  EXPECT_EQ(authn.authenticate(again, "", kNow, id).status, JwtStatus::Ok);
  http::HeaderMap late;
  late.add("authorization", "Bearer " + token);
  EXPECT_EQ(authn.authenticate(late, "", kNow + 161, id).status, JwtStatus::Expired);

  // From the query; unknown issuer; bad format.
  JwtOutcome q = authn.authenticate(h, "access_token=" + token, kNow, id);
  EXPECT_EQ(q.status, JwtStatus::Ok);
  EXPECT_EQ(q.remove_param, "access_token");
  const std::string other = sign_jwt(key.get(), "ES256", {{"iss", "iss-2"}});
  EXPECT_EQ(authn.authenticate(h, "access_token=" + other, kNow, id).status, JwtStatus::UnknownIssuer);
  http::HeaderMap bad;
  bad.add("authorization", "Bearer deadbeef");
  EXPECT_EQ(authn.authenticate(bad, "", kNow, id).status, JwtStatus::BadFormat);
}

TEST(JwtAuthnTest, SameIssuerTwiceAnyRuleAccepts) {
  EvpPkeyPtr key = generate_key("EC", "P-256");
  JwtProvider strict = provider_for(key.get(), "iss");
  strict.audiences = {"foo"};
  const JwtProvider loose = provider_for(key.get(), "iss");
  const std::string token = sign_jwt(key.get(), "ES256", {{"iss", "iss"}});
  JwtIdentity id;
  http::HeaderMap h;
  h.add("authorization", "Bearer " + token);
  EXPECT_EQ(JwtAuthn({strict, loose}).authenticate(h, "", kNow, id).status, JwtStatus::Ok);
  http::HeaderMap h2;
  h2.add("authorization", "Bearer " + token);
  EXPECT_EQ(JwtAuthn({strict}).authenticate(h2, "", kNow, id).status, JwtStatus::AudienceNotAllowed);
}

}  // namespace
}  // namespace torii::security
