// Descriptors of the local rate limit: how rate limit actions turn a request
// into descriptors, and how configured descriptors decide (Envoy's
// LocalRateLimiterImpl::requestAllowed order).
#include "router/rate_limit_descriptors.h"

#include <gtest/gtest.h>

#include "http/header_map.h"
#include "router/route_table.h"

namespace torii::router {
namespace {

constexpr int64_t kHour = 3600LL * 1000 * 1000 * 1000;

std::shared_ptr<TokenBucket> hourly(uint64_t n) { return std::make_shared<TokenBucket>(n, 1, kHour); }

LimitDescriptor exact(DescriptorEntries entries, uint64_t tokens, double fill_rate = 1) {
  LimitDescriptor d;
  d.entries = std::move(entries);
  d.bucket = hourly(tokens);
  d.fill_rate = fill_rate;
  return d;
}

DescriptorEntries one(std::string key, std::string value) {
  DescriptorEntries d;
  d.emplace_back(std::move(key), std::move(value));
  return d;
}

std::vector<DescriptorEntries> request_of(std::vector<DescriptorEntries> ds) { return ds; }

RateLimitAction header_action(std::string header, std::string key, bool skip = false) {
  RateLimitAction a;
  a.kind = RateLimitAction::Kind::RequestHeader;
  a.header_name = header;
  a.source = header_source(header);
  a.key = std::move(key);
  a.skip_if_absent = skip;
  return a;
}

TEST(RateLimitDescriptors, ActionsBuildOneDescriptorPerRuleAndAMissingHeaderDropsIt) {
  http::HeaderMap headers;
  headers.add("x-user", "alice");
  headers.add("x-user", "second");  // Envoy reads the first value
  RequestView view;
  view.method = "GET";
  view.path_and_query = "/a?b=1";
  view.query = "b=1";
  view.headers = &headers;

  RateLimitRule user{0, {header_action("x-user", "user"), header_action(":method", "method")}};
  RateLimitRule missing{0, {header_action("x-none", "none")}};
  RateLimitRule skipped{0, {header_action("x-none", "none", true), header_action(":path", "path")}};
  RateLimitRule other_stage{1, {header_action("x-user", "user")}};
  RateLimitAction generic;
  generic.kind = RateLimitAction::Kind::GenericKey;
  generic.key = "generic_key";
  generic.value = "v";
  RateLimitAction remote;
  remote.kind = RateLimitAction::Kind::MaskedRemoteAddress;
  remote.key = "masked_remote_address";
  remote.v4_prefix_len = 24;
  RateLimitRule rest{0, {generic, remote}};

  std::vector<DescriptorEntries> out;
  const std::vector<RateLimitRule> rules{user, missing, skipped, other_stage, rest};
  populate_descriptors(rules, 0, view, "192.168.7.9", out);
  ASSERT_EQ(out.size(), 3u);
  DescriptorEntries first = one("user", "alice");
  first.emplace_back("method", "GET");
  EXPECT_EQ(out[0], first);
  EXPECT_EQ(out[1], one("path", "/a?b=1"));
  DescriptorEntries third = one("generic_key", "v");
  third.emplace_back("masked_remote_address", "192.168.7.0/24");
  EXPECT_EQ(out[2], third);
}

TEST(RateLimitDescriptors, MaskedAddress) {
  EXPECT_EQ(masked_address("10.1.2.3", 16, 128), "10.1.0.0/16");
  EXPECT_EQ(masked_address("10.1.2.3", 32, 128), "10.1.2.3/32");
  EXPECT_EQ(masked_address("10.1.2.3", 0, 128), "0.0.0.0/0");
  EXPECT_EQ(masked_address("2001:db8::1", 32, 64), "2001:db8::/64");
  EXPECT_EQ(masked_address("not-an-ip", 32, 128), "");
}

TEST(RateLimitDescriptors, MatchedDescriptorsAndTheDefaultBucketAllTakeATokenStrictestFirst) {
  std::vector<LimitDescriptor> ds{exact(one("k", "fast"), 5, 10), exact(one("k", "slow"), 1, 0.1)};
  auto def = hourly(100);
  const std::vector<DescriptorEntries> both = request_of({one("k", "fast"), one("k", "slow")});
  RateLimitVerdict v = decide(ds, def.get(), true, both);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.bucket, ds[1].bucket.get());  // the strictest (slowest filling) is the context
  EXPECT_EQ(def->remaining(), 99u);
  v = decide(ds, def.get(), true, both);
  EXPECT_FALSE(v.allowed);  // "slow" is empty; it is consumed first, so "fast" keeps its tokens
  EXPECT_EQ(v.bucket, ds[1].bucket.get());
  EXPECT_EQ(ds[0].bucket->remaining(), 4u);
  EXPECT_EQ(def->remaining(), 99u);
}

TEST(RateLimitDescriptors, WithoutAlwaysConsumeTheDefaultBucketIsOnlyForUnmatchedRequests) {
  std::vector<LimitDescriptor> ds{exact(one("k", "a"), 5)};
  auto def = hourly(1);
  const std::vector<DescriptorEntries> a = request_of({one("k", "a")});
  EXPECT_TRUE(decide(ds, def.get(), false, a).allowed);
  EXPECT_EQ(def->remaining(), 1u);
  EXPECT_TRUE(decide(ds, def.get(), false, {}).allowed);
  EXPECT_FALSE(decide(ds, def.get(), false, {}).allowed);
  EXPECT_TRUE(decide(ds, def.get(), false, a).allowed);  // still its own bucket
  EXPECT_TRUE(decide(ds, nullptr, true, {}).allowed);    // no token_bucket: never limited
}

TEST(RateLimitDescriptors, WildcardGivesEachValueABucketAndForgetsTheLeastRecentlyUsed) {
  LimitDescriptor w;
  w.entries = one("user", "");
  w.wildcard = true;
  w.dynamic = std::make_shared<DynamicBuckets>(1, 1, kHour, 2);
  std::vector<LimitDescriptor> ds{exact(one("user", "vip"), 3), w};
  auto user = [](std::string u) { return request_of({one("user", std::move(u))}); };
  EXPECT_TRUE(decide(ds, nullptr, true, user("a")).allowed);
  EXPECT_FALSE(decide(ds, nullptr, true, user("a")).allowed);
  EXPECT_TRUE(decide(ds, nullptr, true, user("b")).allowed);
  EXPECT_TRUE(decide(ds, nullptr, true, user("vip")).allowed);  // the exact descriptor wins
  EXPECT_TRUE(decide(ds, nullptr, true, user("vip")).allowed);
  EXPECT_EQ(w.dynamic->size(), 2u);
  EXPECT_TRUE(decide(ds, nullptr, true, user("c")).allowed);  // evicts "a"
  EXPECT_EQ(w.dynamic->size(), 2u);
  EXPECT_TRUE(decide(ds, nullptr, true, user("a")).allowed);  // a new bucket (evicts "b")
  EXPECT_TRUE(decide(ds, nullptr, true, user("b")).allowed);
  // Keys and entry counts must match exactly.
  EXPECT_TRUE(decide(ds, nullptr, true, request_of({one("other", "a")})).allowed);
  DescriptorEntries two = one("user", "a");
  two.emplace_back("extra", "x");
  EXPECT_FALSE(w.matches(two));
}

}  // namespace
}  // namespace torii::router
