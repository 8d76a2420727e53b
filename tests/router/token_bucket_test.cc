#include "router/token_bucket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace torii::router {
namespace {

// A clock the test moves by hand (one per process: the tests below set it).
std::atomic<int64_t> g_now{1'000'000'000'000};
int64_t fake_now() { return g_now.load(); }
constexpr int64_t kSecond = 1'000'000'000;

int take_all(TokenBucket& bucket, int limit = 1000000) {
  int n = 0;
  while (n < limit && bucket.try_consume()) ++n;
  return n;
}

TEST(TokenBucket, StartsFullAndRefusesWhenEmpty) {
  TokenBucket bucket(5, 1, 60 * kSecond, &fake_now);
  EXPECT_EQ(bucket.remaining(), 5u);
  EXPECT_EQ(take_all(bucket), 5);
  EXPECT_EQ(bucket.remaining(), 0u);
  EXPECT_FALSE(bucket.try_consume());
}

TEST(TokenBucket, RefillsContinuouslyAtTokensPerFillPerInterval) {
  // 4 tokens per second, at most 10.
  TokenBucket bucket(10, 4, kSecond, &fake_now);
  EXPECT_EQ(take_all(bucket), 10);
  g_now += kSecond / 4 - 1;  // not yet a whole token
  EXPECT_FALSE(bucket.try_consume());
  EXPECT_EQ(bucket.ns_until_next_token(), 1);
  g_now += 1;
  EXPECT_TRUE(bucket.try_consume());
  EXPECT_FALSE(bucket.try_consume());
  g_now += kSecond;  // 4 more
  EXPECT_EQ(take_all(bucket), 4);
  g_now += kSecond / 2;  // half an interval: 2, pro rata (not a step at the interval's end)
  EXPECT_EQ(take_all(bucket), 2);
}

TEST(TokenBucket, NeverAboveMaxTokens) {
  TokenBucket bucket(3, 100, kSecond, &fake_now);
  EXPECT_EQ(take_all(bucket), 3);
  g_now += 3600 * kSecond;  // an hour idle earns no more than max_tokens
  EXPECT_EQ(bucket.remaining(), 3u);
  EXPECT_EQ(bucket.ns_until_next_token(), 0);
  EXPECT_EQ(take_all(bucket), 3);
  // A full bucket that gives one token back gets it after 1/100 s, not at once.
  g_now += 3600 * kSecond;
  EXPECT_TRUE(bucket.try_consume());
  EXPECT_EQ(bucket.remaining(), 2u);
  g_now += kSecond / 100;
  EXPECT_EQ(bucket.remaining(), 3u);
}

TEST(TokenBucket, HugeLimitsDoNotOverflow) {
  TokenBucket bucket(4294967295u, 1, 365LL * 24 * 3600 * kSecond, &fake_now);
  EXPECT_TRUE(bucket.try_consume());
  EXPECT_GT(bucket.remaining(), 1000000u);
}

TEST(TokenBucket, ThreadsShareItExactly) {
  // No refill during the test: 1 token per hour, on the real clock.
  TokenBucket bucket(1000, 1, 3600 * kSecond);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      int mine = 0;
      for (int i = 0; i < 500; ++i) mine += bucket.try_consume() ? 1 : 0;
      granted += mine;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1000);
  EXPECT_FALSE(bucket.try_consume());
}

}  // namespace
}  // namespace torii::router
