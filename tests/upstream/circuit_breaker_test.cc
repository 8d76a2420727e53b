#include "upstream/circuit_breaker.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace torii::upstream {
namespace {

using R = ClusterCircuitBreaker::Resource;

TEST(CircuitBreakerTest, AdmitsUpToTheLimit) {
  ClusterCircuitBreaker cb;
  EXPECT_TRUE(cb.try_acquire(R::Requests, 2));
  EXPECT_TRUE(cb.try_acquire(R::Requests, 2));
  EXPECT_FALSE(cb.try_acquire(R::Requests, 2));
  EXPECT_EQ(cb.active(R::Requests), 2u);
  cb.release(R::Requests);
  EXPECT_TRUE(cb.try_acquire(R::Requests, 2));
  // resources are independent
  EXPECT_TRUE(cb.try_acquire(R::Connections, 1));
  EXPECT_FALSE(cb.try_acquire(R::Connections, 1));
}

TEST(CircuitBreakerTest, UnlimitedByDefaultAndLimitChangesApplyAtOnce) {
  ClusterCircuitBreaker cb;
  CircuitBreakerLimits defaults;
  for (int i = 0; i < 10000; ++i)
    ASSERT_TRUE(cb.try_acquire(R::PendingRequests, defaults.max_pending_requests));
  // A reload lowers the limit: the 10000 in flight stay, no new one is admitted.
  EXPECT_FALSE(cb.try_acquire(R::PendingRequests, 10));
}

TEST(CircuitBreakerTest, RetryBudget) {
  ClusterCircuitBreaker cb;
  CircuitBreakerLimits limits;
  limits.max_retries = 1;
  EXPECT_TRUE(cb.try_acquire_retry(limits));
  EXPECT_FALSE(cb.try_acquire_retry(limits));
  cb.release_retry();
  EXPECT_TRUE(cb.try_acquire_retry(limits));
}

TEST(CircuitBreakerTest, NeverExceededUnderContention) {
  ClusterCircuitBreaker cb;
  std::atomic<int> inside{0}, max_inside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (!cb.try_acquire(R::Requests, 3)) continue;
        int now = ++inside;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        --inside;
        cb.release(R::Requests);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(max_inside.load(), 3);
  EXPECT_EQ(cb.active(R::Requests), 0u);
}

}  // namespace
}  // namespace torii::upstream
