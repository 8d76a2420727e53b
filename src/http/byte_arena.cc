#include "http/byte_arena.h"

#include <cstring>
#include <new>

#include "net/thread_cache.h"

namespace torii::http {

struct ByteArena::Chunk {
  Chunk* next;    // the chunk filled before this one
  uint32_t size;  // bytes of data after this header
  uint32_t used;
  char* data() { return reinterpret_cast<char*>(this + 1); }
};

namespace {

constexpr size_t kStandardData = ByteArena::kChunkBytes - sizeof(void*) - 2 * sizeof(uint32_t);

struct DeleteChunk {
  void operator()(void* p) const { ::operator delete(p); }
};
// Standard chunks, 256 per thread (512 KiB).
using ChunkCache = net::ThreadCache<void*, 256, DeleteChunk>;

void* get_chunk() {
  void* p = nullptr;
  return ChunkCache::take(p) ? p : ::operator new(ByteArena::kChunkBytes);
}

void put_chunk(void* p) {
  if (!ChunkCache::give(p)) ::operator delete(p);
}

// Branch-free so the compiler vectorises store_lower's loop.
char lower(char c) {
  const auto u = static_cast<unsigned char>(c);
  return static_cast<char>(u | (static_cast<unsigned char>(u - 'A') < 26 ? 0x20 : 0));
}

// Empty fields get a view of a static "" rather than a null one: callers
// memcpy/append views, and a null source is undefined even for 0 bytes.
constexpr std::string_view kEmpty{""};

}  // namespace

char* ByteArena::allocate(size_t n) {
  if (current_ != nullptr && current_->size - current_->used >= n) {
    char* p = current_->data() + current_->used;
    current_->used += static_cast<uint32_t>(n);
    return p;
  }
  // A field too large for a standard chunk gets a chunk of its own size.
  const bool standard = n <= kStandardData;
  const size_t data_size = standard ? kStandardData : n;
  void* memory = standard ? get_chunk() : ::operator new(sizeof(Chunk) + data_size);
  Chunk* c = new (memory) Chunk{current_, static_cast<uint32_t>(data_size), static_cast<uint32_t>(n)};
  current_ = c;
  return c->data();
}

std::string_view ByteArena::store(std::string_view s) {
  if (s.empty()) return kEmpty;
  char* p = allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

std::string_view ByteArena::store_lower(std::string_view s) {
  if (s.empty()) return kEmpty;
  char* p = allocate(s.size());
  for (size_t i = 0; i < s.size(); ++i) p[i] = lower(s[i]);
  return {p, s.size()};
}

void ByteArena::clear() {
  while (current_ != nullptr) {
    Chunk* c = current_;
    current_ = c->next;
    if (c->size == kStandardData) {
      put_chunk(c);
    } else {
      ::operator delete(c);
    }
  }
}

}  // namespace torii::http
