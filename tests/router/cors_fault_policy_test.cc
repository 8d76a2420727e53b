// CORS filter decisions (Envoy cors_filter.cc) and fault percentages (§3.8, §3.10).
#include <gtest/gtest.h>

#include "router/cors_policy.h"
#include "router/fault_policy.h"

namespace torii::router {
namespace {

StringMatcher exact(const char* v) { return StringMatcher{StringMatcher::Kind::Exact, v, nullptr, false}; }
StringMatcher prefix(const char* v) { return StringMatcher{StringMatcher::Kind::Prefix, v, nullptr, false}; }
StringMatcher regex(const char* v) {
  return StringMatcher{StringMatcher::Kind::Regex, v, std::make_shared<re2::RE2>(v), false};
}

http::HeaderMap request(std::initializer_list<std::pair<const char*, const char*>> fields) {
  http::HeaderMap h;
  for (const auto& [name, value] : fields) h.add(name, value);
  return h;
}

CorsPolicy policy() {
  CorsPolicy p;
  p.allow_origins = {exact("https://a.com"), prefix("https://app."), regex(R"(https://.*\.b\.org)")};
  p.allow_methods = "GET,POST";
  p.allow_headers = "x-a,x-b";
  p.expose_headers = "x-exposed";
  p.max_age = "3600";
  p.allow_credentials = true;
  return p;
}

TEST(CorsPolicyTest, OriginMatching) {
  CorsPolicy p = policy();
  EXPECT_TRUE(p.origin_allowed("https://a.com"));
  EXPECT_FALSE(p.origin_allowed("https://a.com.evil"));
  EXPECT_TRUE(p.origin_allowed("https://app.example"));
  EXPECT_TRUE(p.origin_allowed("https://x.b.org"));
  EXPECT_FALSE(p.origin_allowed("https://x.b.org.evil"));  // regex is a full match
  EXPECT_FALSE(p.origin_allowed("http://a.com"));
  // A matcher that accepts "*" allows every origin (Envoy).
  p.allow_origins = {exact("*")};
  EXPECT_TRUE(p.origin_allowed("https://anything"));
}

TEST(CorsPolicyTest, Decisions) {
  const CorsPolicy p = policy();
  EXPECT_EQ(decide_cors(p, "GET", request({})).kind, CorsDecision::Kind::None);
  EXPECT_EQ(decide_cors(p, "GET", request({{"origin", ""}})).kind, CorsDecision::Kind::None);

  CorsDecision d = decide_cors(p, "GET", request({{"origin", "https://a.com"}}));
  EXPECT_EQ(d.kind, CorsDecision::Kind::Forward);
  EXPECT_TRUE(d.origin_allowed);
  // OPTIONS without Access-Control-Request-Method is not a preflight.
  EXPECT_EQ(decide_cors(p, "OPTIONS", request({{"origin", "https://a.com"}})).kind,
            CorsDecision::Kind::Forward);

  d = decide_cors(p, "OPTIONS",
                  request({{"origin", "https://a.com"}, {"access-control-request-method", "POST"}}));
  EXPECT_EQ(d.kind, CorsDecision::Kind::Preflight);
  EXPECT_TRUE(d.origin_allowed);

  // Unmatched preflight: forwarded by default (FORWARD), answered with IGNORE.
  auto unmatched = request({{"origin", "https://evil.com"}, {"access-control-request-method", "POST"}});
  d = decide_cors(p, "OPTIONS", unmatched);
  EXPECT_EQ(d.kind, CorsDecision::Kind::Forward);
  EXPECT_FALSE(d.origin_allowed);
  CorsPolicy ignore = p;
  ignore.forward_not_matching_preflights = false;
  d = decide_cors(ignore, "OPTIONS", unmatched);
  EXPECT_EQ(d.kind, CorsDecision::Kind::Preflight);
  EXPECT_FALSE(d.origin_allowed);
  http::HeaderMap out;
  add_preflight_headers(ignore, d, unmatched, out);
  EXPECT_EQ(out.get("access-control-allow-origin"), nullptr);
  EXPECT_EQ(*out.get("access-control-allow-methods"), "GET,POST");
}

TEST(CorsPolicyTest, PreflightAndResponseHeaders) {
  const CorsPolicy p = policy();
  auto req = request({{"origin", "https://a.com"}, {"access-control-request-method", "POST"}});
  CorsDecision d = decide_cors(p, "OPTIONS", req);
  http::HeaderMap out;
  add_preflight_headers(p, d, req, out);
  EXPECT_EQ(*out.get("access-control-allow-origin"), "https://a.com");
  EXPECT_EQ(*out.get("access-control-allow-credentials"), "true");
  EXPECT_EQ(*out.get("access-control-allow-methods"), "GET,POST");
  EXPECT_EQ(*out.get("access-control-allow-headers"), "x-a,x-b");
  EXPECT_EQ(*out.get("access-control-max-age"), "3600");
  EXPECT_EQ(out.get("access-control-expose-headers"), nullptr);

  CorsPolicy star = p;
  star.allow_methods = "*";
  star.allow_headers = "*";
  star.max_age.clear();
  star.allow_credentials = false;
  auto req2 = request({{"origin", "https://a.com"},
                       {"access-control-request-method", "PATCH"},
                       {"access-control-request-headers", "x-z"}});
  http::HeaderMap out2;
  add_preflight_headers(star, decide_cors(star, "OPTIONS", req2), req2, out2);
  EXPECT_EQ(*out2.get("access-control-allow-methods"), "PATCH");
  EXPECT_EQ(*out2.get("access-control-allow-headers"), "x-z");
  EXPECT_EQ(out2.get("access-control-max-age"), nullptr);
  EXPECT_EQ(out2.get("access-control-allow-credentials"), nullptr);

  http::HeaderMap response;
  response.add("access-control-allow-origin", "upstream-value");
  add_cors_response_headers(p, "https://a.com", response);
  EXPECT_EQ(response.get_joined("access-control-allow-origin"), "https://a.com");  // overwritten
  EXPECT_EQ(*response.get("access-control-expose-headers"), "x-exposed");
  EXPECT_EQ(*response.get("access-control-allow-credentials"), "true");
}

TEST(FaultPolicyTest, PercentagesAsIstiodTranslatesThem) {
  EXPECT_EQ(percent_to_per_million(0), 0u);
  EXPECT_EQ(percent_to_per_million(100), 1000000u);
  EXPECT_EQ(percent_to_per_million(50), 500000u);
  EXPECT_EQ(percent_to_per_million(0.0001), 1u);
  EXPECT_EQ(percent_to_per_million(12.34567), 123456u);  // truncated, as uint32(value * 10000)
}

TEST(FaultPolicyTest, FractionHit) {
  EXPECT_FALSE(fraction_hit(0, 0));
  EXPECT_TRUE(fraction_hit(1000000, 999999));
  EXPECT_TRUE(fraction_hit(1, 0));
  EXPECT_FALSE(fraction_hit(1, 1));
  EXPECT_TRUE(fraction_hit(500000, 1000000 + 499999));
  EXPECT_FALSE(fraction_hit(500000, 1000000 + 500000));
  // Over a uniform sweep the hit rate is the fraction.
  int hits = 0;
  for (uint64_t r = 0; r < 1000000; r += 7) hits += fraction_hit(250000, r) ? 1 : 0;
  EXPECT_NEAR(hits / (1000000.0 / 7), 0.25, 0.001);
}

}  // namespace
}  // namespace torii::router
