// "@request.auth.claims" route matches (router::HeaderSource::JwtClaim): a
// string claim, any string element of a list claim, nested paths; no token,
// no claim or another type never match; withoutHeaders inverts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "router/route_match.h"
#include "router/route_table.h"

namespace torii::router {
namespace {

HeaderMatcher claim(std::vector<std::string> path, StringMatcher::Kind kind, std::string value,
                    bool invert = false) {
  HeaderMatcher m;
  m.name = "@request.auth.claims." + path.front();
  m.source = HeaderSource::JwtClaim;
  m.claim_path = std::move(path);
  m.value = StringMatcher{kind, std::move(value), nullptr, false};
  m.invert = invert;
  return m;
}

TEST(ClaimMatchTest, StringsListsNestedAndTypes) {
  const nlohmann::json payload = nlohmann::json::parse(
      R"({"groups": ["users", "admins"], "team": "blue", "org": {"unit": "edge"}, "level": 7, "dotted.name": "x"})");
  RequestView view;
  view.jwt_payload = &payload;
  EXPECT_TRUE(claim({"groups"}, StringMatcher::Kind::Exact, "admins").matches(view));
  EXPECT_FALSE(claim({"groups"}, StringMatcher::Kind::Exact, "ops").matches(view));
  EXPECT_TRUE(claim({"team"}, StringMatcher::Kind::Prefix, "bl").matches(view));
  EXPECT_TRUE(claim({"org", "unit"}, StringMatcher::Kind::Exact, "edge").matches(view));
  EXPECT_TRUE(claim({"dotted.name"}, StringMatcher::Kind::Exact, "x").matches(view));
  EXPECT_FALSE(claim({"level"}, StringMatcher::Kind::Exact, "7").matches(view));  // a number is not a string
  EXPECT_FALSE(claim({"missing"}, StringMatcher::Kind::Presence, "").matches(view));
  EXPECT_TRUE(claim({"missing"}, StringMatcher::Kind::Exact, "x", true).matches(view));  // withoutHeaders
  EXPECT_FALSE(claim({"team"}, StringMatcher::Kind::Exact, "blue", true).matches(view));
}

TEST(ClaimMatchTest, NoTokenNeverMatches) {
  RequestView anonymous;
  EXPECT_FALSE(claim({"team"}, StringMatcher::Kind::Presence, "").matches(anonymous));
  EXPECT_TRUE(claim({"team"}, StringMatcher::Kind::Exact, "blue", true).matches(anonymous));
  EXPECT_FALSE(claim_text(anonymous, {"team"}).has_value());
}

}  // namespace
}  // namespace torii::router
