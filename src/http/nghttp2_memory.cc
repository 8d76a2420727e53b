#include "http/nghttp2_memory.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace torii::http {

namespace {

// Each block starts with a header (16 bytes, so what nghttp2 gets keeps
// malloc's alignment) holding its size class; kLarge: plain malloc.
constexpr size_t kHeader = 16;
constexpr size_t kMinBlockShift = 5;  // 32 bytes
constexpr size_t kClasses = 8;        // 32 .. 4096 bytes
constexpr size_t kBytesKeptPerClass = 64 * 1024;
constexpr uint32_t kLarge = 0xffffffff;

constexpr size_t block_size(size_t size_class) { return size_t{1} << (size_class + kMinBlockShift); }

// The class whose blocks hold `total` bytes (header included), kClasses if none.
size_t class_for(size_t total) {
  if (total <= block_size(0)) return 0;
  const size_t c = static_cast<size_t>(std::bit_width(total - 1)) - kMinBlockShift;
  return c < kClasses ? c : kClasses;
}

struct FreeBlock {
  FreeBlock* next;
};

struct FreeLists {
  FreeBlock* head[kClasses] = {};
  uint32_t count[kClasses] = {};
  ~FreeLists();
};

// Set once this thread's lists are destroyed (thread exit): blocks then go
// straight to free(). A bool, so it needs no destructor of its own.
thread_local bool lists_gone = false;

FreeLists::~FreeLists() {
  for (size_t c = 0; c < kClasses; ++c) {
    while (head[c] != nullptr) {
      FreeBlock* b = head[c];
      head[c] = b->next;
      std::free(b);
    }
  }
  lists_gone = true;
}

FreeLists& lists() {
  thread_local FreeLists l;
  return l;
}

void* to_user(void* block, uint32_t size_class) {
  std::memcpy(block, &size_class, sizeof(size_class));
  return static_cast<char*>(block) + kHeader;
}

void* block_of(void* ptr) { return static_cast<char*>(ptr) - kHeader; }

uint32_t class_of(void* ptr) {
  uint32_t size_class;
  std::memcpy(&size_class, block_of(ptr), sizeof(size_class));
  return size_class;
}

void* pooled_malloc(size_t size, void*) {
  if (size > SIZE_MAX - kHeader) return nullptr;
  const size_t c = class_for(size + kHeader);
  if (c == kClasses) {
    void* block = std::malloc(size + kHeader);
    return block == nullptr ? nullptr : to_user(block, kLarge);
  }
  if (!lists_gone) {
    FreeLists& l = lists();
    if (FreeBlock* b = l.head[c]) {
      l.head[c] = b->next;
      --l.count[c];
      return to_user(b, static_cast<uint32_t>(c));
    }
  }
  void* block = std::malloc(block_size(c));
  return block == nullptr ? nullptr : to_user(block, static_cast<uint32_t>(c));
}

void pooled_free(void* ptr, void*) {
  if (ptr == nullptr) return;
  const uint32_t c = class_of(ptr);
  void* block = block_of(ptr);
  if (c != kLarge && !lists_gone) {
    FreeLists& l = lists();
    if (l.count[c] < kBytesKeptPerClass / block_size(c)) {
      auto* b = static_cast<FreeBlock*>(block);
      b->next = l.head[c];
      l.head[c] = b;
      ++l.count[c];
      return;
    }
  }
  std::free(block);
}

void* pooled_calloc(size_t n, size_t size, void* user) {
  if (size != 0 && n > SIZE_MAX / size) return nullptr;
  void* p = pooled_malloc(n * size, user);
  if (p != nullptr) std::memset(p, 0, n * size);
  return p;
}

void* pooled_realloc(void* ptr, size_t size, void* user) {
  if (ptr == nullptr) return pooled_malloc(size, user);
  if (size == 0) {
    pooled_free(ptr, user);
    return nullptr;
  }
  const uint32_t c = class_of(ptr);
  if (c == kLarge) {
    if (size > SIZE_MAX - kHeader) return nullptr;
    void* block = std::realloc(block_of(ptr), size + kHeader);
    return block == nullptr ? nullptr : static_cast<char*>(block) + kHeader;
  }
  const size_t capacity = block_size(c) - kHeader;
  if (size <= capacity) return ptr;
  void* grown = pooled_malloc(size, user);
  if (grown == nullptr) return nullptr;  // ptr stays valid, as realloc leaves it
  std::memcpy(grown, ptr, capacity);
  pooled_free(ptr, user);
  return grown;
}

nghttp2_mem pooled_memory = {nullptr, pooled_malloc, pooled_free, pooled_calloc, pooled_realloc};

}  // namespace

nghttp2_mem* nghttp2_pooled_memory() { return &pooled_memory; }

}  // namespace torii::http
