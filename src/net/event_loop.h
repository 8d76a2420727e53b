// One epoll event loop per worker thread.
//
// * File descriptors are registered through IoWatch, which owns the fd and its
//   registration. Each registration lives in a slot of the loop's table and
//   epoll carries (slot, generation), never a raw object pointer, so an event
//   that was already fetched for a connection closed earlier in the same
//   batch is recognised as stale and dropped instead of reaching freed memory.
// * Timers: see net/timer.h.
// * post(fn) is the only thread-safe entry point (plus stop()): other threads
//   queue work that runs on the loop thread (eventfd wake-up).
// * defer_delete(obj) destroys obj at the end of the current iteration, when
//   no callback of it can be on the stack. Objects never `delete this`.
// * IoWatch::activate() injects an event that is delivered on the next
//   iteration (used to resume reading an edge-triggered socket).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "net/timer.h"
#include "net/unique_fd.h"

namespace torii::net {

// Receives readiness events (EPOLLIN/EPOLLOUT/EPOLLRDHUP/EPOLLHUP/EPOLLERR bits).
class IoHandler {
 public:
  virtual void on_io(uint32_t events) = 0;
  virtual ~IoHandler() = default;
};

// Base for objects whose destruction is deferred to the end of an iteration.
class Deferrable {
 public:
  virtual ~Deferrable() = default;
};

class EventLoop;

// Owns a file descriptor and its registration in one loop. Destroying (or
// reset()) unregisters and closes the fd; events already fetched for it are
// dropped.
class IoWatch {
 public:
  IoWatch() = default;
  // `events` are epoll flags, e.g. EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET.
  IoWatch(EventLoop& loop, UniqueFd fd, uint32_t events, IoHandler& handler);
  ~IoWatch() { reset(); }
  IoWatch(IoWatch&& other) noexcept;
  IoWatch& operator=(IoWatch&& other) noexcept;
  IoWatch(const IoWatch&) = delete;
  IoWatch& operator=(const IoWatch&) = delete;

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  // Delivers `events` to the handler on the next loop iteration.
  void activate(uint32_t events);
  // Changes the epoll interest set (EPOLL_CTL_MOD); rarely needed.
  void set_events(uint32_t events);
  void reset();
  // Unregisters (EPOLL_CTL_DEL) and hands the still-open fd back, e.g. to
  // pass an accepted socket on to another owner after peeking at it.
  UniqueFd release();

 private:
  EventLoop* loop_ = nullptr;
  UniqueFd fd_;
  uint64_t token_ = 0;  // (generation << 32) | slot
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(). Call on the thread that owns the loop.
  void run();
  // Thread-safe: makes run() return after the current iteration.
  void stop();
  // Thread-safe: runs `fn` on the loop thread.
  void post(std::function<void()> fn);

  void defer_delete(std::unique_ptr<Deferrable> object);
  // Destroys deferred objects now; for owners tearing down outside run().
  void flush_deferred_deletes();

  // Monotonic milliseconds, refreshed once per iteration.
  uint64_t now_ms() const { return now_ms_; }
  void update_time();
  TimerQueue& timers() { return timers_; }
  bool in_loop_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  friend class IoWatch;
  struct Slot {
    IoHandler* handler = nullptr;
    uint32_t generation = 0;
  };
  class Waker;

  uint64_t register_fd(int fd, uint32_t events, IoHandler& handler);
  void unregister(uint64_t token);
  void modify(int fd, uint64_t token, uint32_t events);
  void activate(uint64_t token, uint32_t events);
  void dispatch(uint64_t token, uint32_t events);
  void run_posted();
  void run_activations();

  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<std::pair<uint64_t, uint32_t>> activations_;
  std::vector<std::unique_ptr<Deferrable>> deferred_;
  std::vector<std::unique_ptr<Deferrable>> spare_batch_;  // capacity for flush_deferred_deletes()
  TimerQueue timers_;
  uint64_t now_ms_ = 0;
  std::thread::id thread_id_;
  std::atomic<bool> stop_requested_{false};

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace torii::net
