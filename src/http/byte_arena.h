// Append-only storage for the bytes of one message's header fields.
//
// A proxied request used to cost about ten small allocations for its header
// names and values (every std::string longer than 15 bytes: user-agent,
// date, x-request-id, x-envoy-upstream-service-time...). Here they are
// copied into chunks that come from a per-thread free list, so a request
// allocates nothing for its header bytes, and views handed out stay valid
// (chunks never move) until clear() or destruction.
//
// Moving an arena hands its chunks over; the views stay valid. Owned by one
// message on one thread; chunks may be released on another thread (they go
// to that thread's free list).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace torii::http {

class ByteArena {
 public:
  // A standard chunk: room for a typical head (names and values of a
  // browser request come to ~500-1500 bytes) in one or two chunks.
  static constexpr size_t kChunkBytes = 2048;

  ByteArena() = default;
  ~ByteArena() { clear(); }
  ByteArena(ByteArena&& other) noexcept : current_(std::exchange(other.current_, nullptr)) {}
  ByteArena& operator=(ByteArena&& other) noexcept {
    if (this != &other) {
      clear();
      current_ = std::exchange(other.current_, nullptr);
    }
    return *this;
  }
  ByteArena(const ByteArena&) = delete;
  ByteArena& operator=(const ByteArena&) = delete;

  // Copies `s` in and returns a view of the copy (empty input: an empty,
  // non-null view).
  std::string_view store(std::string_view s);
  // Copies `s` in lower-cased (ASCII).
  std::string_view store_lower(std::string_view s);
  // Gives back every chunk; views handed out become invalid.
  void clear();

 private:
  struct Chunk;
  char* allocate(size_t n);

  Chunk* current_ = nullptr;  // the chunk being filled; older ones chain from it
};

}  // namespace torii::http
