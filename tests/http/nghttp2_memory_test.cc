#include "http/nghttp2_memory.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace torii::http {
namespace {

nghttp2_mem& mem() { return *nghttp2_pooled_memory(); }
void* alloc(size_t n) { return mem().malloc(n, mem().mem_user_data); }
void release(void* p) { mem().free(p, mem().mem_user_data); }

TEST(Nghttp2MemoryTest, AFreedBlockServesTheNextRequestOfItsSize) {
  void* a = alloc(100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % alignof(std::max_align_t), 0u);
  std::memset(a, 0xab, 100);
  release(a);
  void* b = alloc(90);  // same size class (128-byte blocks)
  EXPECT_EQ(b, a);
  void* c = alloc(100);  // the list is empty again: a new block
  EXPECT_NE(c, a);
  release(b);
  release(c);
}

TEST(Nghttp2MemoryTest, LargeBlocksGoToMalloc) {
  void* big = alloc(100 * 1024);
  ASSERT_NE(big, nullptr);
  std::memset(big, 1, 100 * 1024);
  release(big);
  release(nullptr);  // as free(NULL)
}

TEST(Nghttp2MemoryTest, CallocZeroesAndChecksOverflow) {
  auto* p = static_cast<unsigned char*>(alloc(200));
  std::memset(p, 0xff, 200);
  release(p);
  auto* z = static_cast<unsigned char*>(mem().calloc(50, 4, mem().mem_user_data));
  ASSERT_NE(z, nullptr);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(z[i], 0) << i;
  release(z);
  EXPECT_EQ(mem().calloc(SIZE_MAX / 2, 4, mem().mem_user_data), nullptr);
}

TEST(Nghttp2MemoryTest, ReallocKeepsTheBytesAcrossSizes) {
  auto* p = static_cast<char*>(mem().realloc(nullptr, 10, mem().mem_user_data));
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "0123456789", 10);
  p = static_cast<char*>(mem().realloc(p, 12, mem().mem_user_data));  // fits its block: same pointer
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  p = static_cast<char*>(mem().realloc(p, 3000, mem().mem_user_data));  // a bigger class
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  p = static_cast<char*>(mem().realloc(p, 50000, mem().mem_user_data));  // to malloc
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  p = static_cast<char*>(mem().realloc(p, 70000, mem().mem_user_data));  // malloc to malloc
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  EXPECT_EQ(mem().realloc(p, 0, mem().mem_user_data), nullptr);  // frees
}

TEST(Nghttp2MemoryTest, ManyBlocksAndOtherThreads) {
  std::vector<void*> blocks;
  for (int i = 0; i < 5000; ++i) {
    void* p = alloc(static_cast<size_t>(1 + i % 2000));
    std::memset(p, i & 0xff, static_cast<size_t>(1 + i % 2000));
    blocks.push_back(p);
  }
  std::thread other([&blocks] {
    // Freed on a thread that did not make them (kept up to its bound, the
    // rest freed), then that thread exits and frees its lists.
    for (size_t i = 0; i < blocks.size(); i += 2) release(blocks[i]);
  });
  other.join();
  for (size_t i = 1; i < blocks.size(); i += 2) release(blocks[i]);
}

}  // namespace
}  // namespace torii::http
