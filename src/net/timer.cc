#include "net/timer.h"

#include <cassert>

#include "net/event_loop.h"

namespace torii::net {

Timer::Timer(EventLoop& loop, std::function<void()> callback)
    : queue_(loop.timers()), callback_(std::move(callback)) {}

Timer::~Timer() { cancel(); }

void Timer::arm(uint64_t delay_ms) {
  // Clamp to 1 ms so a timer re-armed from its own callback with delay 0
  // cannot fire again in the same run_expired pass.
  schedule(queue_.loop_->now_ms() + (delay_ms == 0 ? 1 : delay_ms));
}

void Timer::arm_now() { schedule(queue_.loop_->now_ms()); }

void Timer::schedule(uint64_t deadline) {
  deadline_ = deadline;
  if (!armed()) {
    heap_key_ = deadline_;
    queue_.push(this);
  } else if (deadline_ < heap_key_) {
    heap_key_ = deadline_;
    queue_.sift_up(heap_index_);
  }
  // Later deadline while queued: leave the heap alone; run_expired re-queues.
}

void Timer::cancel() {
  if (armed()) queue_.remove(this);
}

int TimerQueue::next_timeout_ms(uint64_t now_ms) const {
  if (heap_.empty()) return -1;
  uint64_t key = heap_.front()->heap_key_;
  if (key <= now_ms) return 0;
  uint64_t wait = key - now_ms;
  return wait > 3600 * 1000 ? 3600 * 1000 : static_cast<int>(wait);
}

void TimerQueue::run_expired(uint64_t now_ms) {
  while (!heap_.empty() && heap_.front()->heap_key_ <= now_ms) {
    Timer* t = heap_.front();
    if (t->deadline_ > now_ms) {
      // Pushed out while queued: re-key and keep waiting.
      t->heap_key_ = t->deadline_;
      sift_down(0);
      continue;
    }
    remove(t);
    t->callback_();
  }
}

void TimerQueue::place(size_t i, Timer* t) {
  heap_[i] = t;
  t->heap_index_ = i;
}

void TimerQueue::push(Timer* t) {
  heap_.push_back(t);
  t->heap_index_ = heap_.size() - 1;
  sift_up(heap_.size() - 1);
}

void TimerQueue::remove(Timer* t) {
  size_t i = t->heap_index_;
  assert(i < heap_.size() && heap_[i] == t);
  Timer* last = heap_.back();
  heap_.pop_back();
  t->heap_index_ = Timer::kNotQueued;
  if (last == t) return;
  place(i, last);
  sift_up(i);
  sift_down(last->heap_index_);
}

void TimerQueue::sift_up(size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap_[parent]->heap_key_ <= t->heap_key_) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerQueue::sift_down(size_t i) {
  Timer* t = heap_[i];
  size_t n = heap_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->heap_key_ < heap_[child]->heap_key_) ++child;
    if (heap_[child]->heap_key_ >= t->heap_key_) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace torii::net
