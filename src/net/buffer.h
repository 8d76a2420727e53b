// A byte queue made of fixed-size slices: appending, reading from a socket
// and writing to one never move bytes already queued, and move_from() hands
// whole slices over instead of copying. Slice memory comes from a small
// per-thread free list, so a steady stream of reads/writes does not hit
// malloc.
//
// Owned by one connection on one thread; not thread-safe.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace torii::net {

class Buffer {
 public:
  static constexpr size_t kSliceSize = 16 * 1024;

  Buffer() = default;
  ~Buffer();
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void append(const void* data, size_t n);
  void append(std::string_view s) { append(s.data(), s.size()); }
  // Moves every byte of `other` to the end of this buffer (slice hand-over).
  void move_from(Buffer& other);
  // Drops the first n bytes (n <= size()).
  void drain(size_t n);
  void clear();

  // The first contiguous run of readable bytes (empty if the buffer is).
  std::string_view front() const;
  // Fills up to `max` iovecs with the readable regions, in order; returns how many.
  size_t peek(iovec* iov, size_t max) const;
  std::string to_string() const;

  // One read appended to the buffer, offering at least `max_bytes` of room,
  // so a result below `max_bytes` means the socket had no more. At most one
  // slice (an empty buffer) is a recv(); more is a readv().
  // Returns bytes read, 0 on EOF, -1 with errno set (EAGAIN included).
  ssize_t read_from(int fd, size_t max_bytes);
  // One send()/sendmsg(MSG_NOSIGNAL) of as much as the socket takes; drains what
  // was written. Returns bytes written or -1 with errno set.
  ssize_t write_to(int fd);

  // From now on this thread counts the slices its buffers hold (taken and
  // not yet given back) in `*gauge`, with single-writer relaxed stores (a
  // worker's /stats gauge buffer_slices_active: issue 17's check that idle
  // connections hold none). A slice given back on another thread than the
  // one that took it moves the count between threads; the sum stays right.
  static void count_slices_in(std::atomic<uint64_t>* gauge);

 private:
  struct Slice {
    char* data = nullptr;
    uint32_t begin = 0;  // first readable byte
    uint32_t end = 0;    // one past the last readable byte
    size_t readable() const { return end - begin; }
    size_t writable() const { return kSliceSize - end; }
  };
  Slice* tail() { return head_ == slices_.size() ? nullptr : &slices_.back(); }
  void push_slice(Slice s);
  void pop_front_slice();

  std::vector<Slice> slices_;  // live slices are [head_, size())
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace torii::net
