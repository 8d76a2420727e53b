#include "net/object_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace torii::net {
namespace {

struct Pooled {
  TORII_POOLED_NEW(Pooled)
  explicit Pooled(int v) : value(v) {}
  virtual ~Pooled() = default;
  int value;
  char payload[200] = {};
};

// Bigger than Pooled: its blocks must not come from (or go to) Pooled's cache.
struct Bigger final : Pooled {
  Bigger() : Pooled(7) {}
  char more[300] = {};
};

TEST(ObjectPoolTest, ReusesTheBlockOfADestroyedObject) {
  auto* first = new Pooled(1);
  void* block = first;
  delete first;
  auto* second = new Pooled(2);
  EXPECT_EQ(static_cast<void*>(second), block);
  EXPECT_EQ(second->value, 2);
  delete second;
}

TEST(ObjectPoolTest, ADerivedObjectOfAnotherSizeGoesToMalloc) {
  auto* small = new Pooled(1);
  void* cached = small;
  delete small;  // now the only cached block... unless Bigger took it
  std::unique_ptr<Pooled> big = std::make_unique<Bigger>();
  EXPECT_NE(static_cast<void*>(big.get()), cached);
  EXPECT_EQ(big->value, 7);
  big.reset();  // through the base pointer: the right size reaches operator delete
  auto* again = new Pooled(3);
  EXPECT_EQ(static_cast<void*>(again), cached);
  delete again;
}

TEST(ObjectPoolTest, KeepsABoundedNumberOfBlocks) {
  std::vector<Pooled*> many;
  const size_t n = ObjectPool<Pooled>::kMaxCached + 50;
  for (size_t i = 0; i < n; ++i) many.push_back(new Pooled(static_cast<int>(i)));
  for (Pooled* p : many) delete p;  // the last 50 go back to malloc
  for (size_t i = 0; i < n; ++i) many[i] = new Pooled(static_cast<int>(i));
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(many[i]->value, static_cast<int>(i));
  for (Pooled* p : many) delete p;
}

TEST(ObjectPoolTest, AnObjectMayDieOnAnotherThread) {
  auto* made_here = new Pooled(5);
  std::thread other([made_here] {
    delete made_here;  // joins the other thread's cache, freed when it exits
    auto* there = new Pooled(6);
    EXPECT_EQ(there->value, 6);
    delete there;
  });
  other.join();
  auto* here = new Pooled(8);
  EXPECT_EQ(here->value, 8);
  delete here;
}

}  // namespace
}  // namespace torii::net
