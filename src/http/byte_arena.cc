#include "http/byte_arena.h"

#include <cstring>
#include <new>
#include <vector>

namespace torii::http {

struct ByteArena::Chunk {
  Chunk* next;    // the chunk filled before this one
  uint32_t size;  // bytes of data after this header
  uint32_t used;
  char* data() { return reinterpret_cast<char*>(this + 1); }
};

namespace {

constexpr size_t kStandardData = ByteArena::kChunkBytes - sizeof(void*) - 2 * sizeof(uint32_t);

// Per-thread cache of standard chunks, bounded so a burst of concurrent
// requests does not pin memory afterwards (256 x 2 KiB per thread).
class ChunkPool {
 public:
  static constexpr size_t kMaxCached = 256;
  ~ChunkPool();
  void* get() {
    if (free_.empty()) return ::operator new(ByteArena::kChunkBytes);
    void* p = free_.back();
    free_.pop_back();
    return p;
  }
  void put(void* p) {
    if (free_.size() < kMaxCached) {
      free_.push_back(p);
    } else {
      ::operator delete(p);
    }
  }

 private:
  std::vector<void*> free_;
};

// Set once this thread's pool is destroyed: a map released later in the
// thread's exit (or a static one at process exit) frees its chunks directly.
// A bool needs no destructor, so it is still readable then.
thread_local bool pool_gone = false;

ChunkPool::~ChunkPool() {
  for (void* p : free_) ::operator delete(p);
  pool_gone = true;
}

ChunkPool& pool() {
  thread_local ChunkPool p;
  return p;
}

void* get_chunk() { return pool_gone ? ::operator new(ByteArena::kChunkBytes) : pool().get(); }

void put_chunk(void* p) {
  if (pool_gone) {
    ::operator delete(p);
  } else {
    pool().put(p);
  }
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
