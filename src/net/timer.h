// One-shot timers on an event loop's clock (milliseconds, monotonic).
//
// TimerQueue is a binary min-heap of Timer pointers; each Timer knows its own
// heap slot, so arm/cancel are O(log n) and allocate nothing. Re-arming a
// timer to a *later* deadline (the common idle-timeout case: push the
// deadline out on every read) only records the new deadline; the heap entry
// is fixed up lazily when the old deadline comes due.
//
// Thread: the owning loop's thread only. A Timer must not be destroyed from
// inside its own callback (owners defer their deletion to the end of the
// loop iteration, which is what EventLoop::defer_delete is for).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "net/object_pool.h"

namespace torii::net {

class EventLoop;
class TimerQueue;

class Timer {
 public:
  // Some owners make theirs only when needed (a connection's linger timer):
  // from a per-thread free list, not malloc.
  TORII_POOLED_NEW(Timer)

  Timer(EventLoop& loop, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)arms the timer to fire `delay_ms` from the loop's current time.
  // A delay of 0 fires on the next loop iteration.
  void arm(uint64_t delay_ms);
  // Fires in this iteration's timer pass, once the I/O events at hand are
  // handled (Envoy's scheduleCallbackCurrentIteration); armed from a timer
  // callback, later in the same pass. Never from the timer's own callback:
  // it would fire again at once, for ever.
  void arm_now();
  void cancel();
  bool armed() const { return heap_index_ != kNotQueued; }

 private:
  friend class TimerQueue;
  static constexpr size_t kNotQueued = static_cast<size_t>(-1);

  void schedule(uint64_t deadline);

  TimerQueue& queue_;  // its loop's clock is the timer's
  std::function<void()> callback_;
  uint64_t deadline_ = 0;  // when the owner wants it to fire
  uint64_t heap_key_ = 0;  // what the heap orders by; <= deadline_
  size_t heap_index_ = kNotQueued;
};

class TimerQueue {
 public:
  // Milliseconds until the earliest heap key, -1 if empty, 0 if overdue.
  int next_timeout_ms(uint64_t now_ms) const;
  // Fires every timer whose deadline is <= now_ms.
  void run_expired(uint64_t now_ms);
  size_t size() const { return heap_.size(); }

 private:
  friend class Timer;
  void push(Timer* t);
  void remove(Timer* t);
  void sift_up(size_t i);
  void sift_down(size_t i);
  void place(size_t i, Timer* t);

  std::vector<Timer*> heap_;
  // Set by the loop that owns this queue (Timer reads the clock through it
  // rather than holding a second reference: every connection has one).
  friend class EventLoop;
  const EventLoop* loop_ = nullptr;
};

}  // namespace torii::net
