#include "net/event_loop.h"

#include <sys/eventfd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace torii::net {

namespace {
// Reserved token for the loop's own eventfd (slot tokens always have a
// non-zero generation in the high half).
constexpr uint64_t kWakeToken = 0;
constexpr int kMaxEventsPerWait = 256;

uint32_t slot_of(uint64_t token) { return static_cast<uint32_t>(token); }
uint32_t generation_of(uint64_t token) { return static_cast<uint32_t>(token >> 32); }
}  // namespace

IoWatch::IoWatch(EventLoop& loop, UniqueFd fd, uint32_t events, IoHandler& handler)
    : loop_(&loop), fd_(std::move(fd)) {
  token_ = loop.register_fd(fd_.get(), events, handler);
}

IoWatch::IoWatch(IoWatch&& other) noexcept
    : loop_(other.loop_), fd_(std::move(other.fd_)), token_(std::exchange(other.token_, 0)) {}

IoWatch& IoWatch::operator=(IoWatch&& other) noexcept {
  if (this != &other) {
    reset();
    loop_ = other.loop_;
    fd_ = std::move(other.fd_);
    token_ = std::exchange(other.token_, 0);
  }
  return *this;
}

void IoWatch::activate(uint32_t events) {
  if (token_ != 0) loop_->activate(token_, events);
}

UniqueFd IoWatch::release() {
  if (token_ != 0) {
    // The fd stays open, so epoll would keep it: remove it explicitly.
    epoll_ctl(loop_->epoll_fd_.get(), EPOLL_CTL_DEL, fd_.get(), nullptr);
    loop_->unregister(token_);
    token_ = 0;
  }
  return std::move(fd_);
}

void IoWatch::set_events(uint32_t events) {
  if (token_ != 0) loop_->modify(fd_.get(), token_, events);
}

void IoWatch::reset() {
  if (token_ != 0) {
    // Closing the fd removes it from the epoll set (we never dup these fds),
    // so no EPOLL_CTL_DEL syscall is needed.
    loop_->unregister(token_);
    token_ = 0;
  }
  fd_.reset();
}

EventLoop::EventLoop() {
  timers_.loop_ = this;
  epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  wake_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!epoll_fd_.valid() || !wake_fd_.valid()) {
    std::perror("torii: event loop setup");
    std::abort();
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev);
  update_time();
  thread_id_ = std::this_thread::get_id();
}

EventLoop::~EventLoop() { flush_deferred_deletes(); }

void EventLoop::update_time() {
  using namespace std::chrono;
  now_ms_ =
      static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

uint64_t EventLoop::register_fd(int fd, uint32_t events, IoHandler& handler) {
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.push_back(Slot{});
  }
  Slot& slot = slots_[index];
  slot.handler = &handler;
  if (++slot.generation == 0) slot.generation = 1;  // 0 is never a live generation
  uint64_t token = (static_cast<uint64_t>(slot.generation) << 32) | index;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    // Only fails on programming errors (bad fd, duplicate add) or ENOMEM;
    // the owner will see its fd never becomes ready and time out.
    std::perror("torii: epoll_ctl(ADD)");
  }
  return token;
}

void EventLoop::unregister(uint64_t token) {
  uint32_t index = slot_of(token);
  Slot& slot = slots_[index];
  if (slot.generation != generation_of(token)) return;
  slot.handler = nullptr;
  ++slot.generation;  // any event still in flight for the old token is stale now
  if (slot.generation == 0) slot.generation = 1;
  free_slots_.push_back(index);
}

void EventLoop::modify(int fd, uint64_t token, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::activate(uint64_t token, uint32_t events) { activations_.emplace_back(token, events); }

void EventLoop::dispatch(uint64_t token, uint32_t events) {
  uint32_t index = slot_of(token);
  if (index >= slots_.size()) return;
  Slot& slot = slots_[index];
  if (slot.generation != generation_of(token) || slot.handler == nullptr) return;
  slot.handler->on_io(events);
}

void EventLoop::run() {
  thread_id_ = std::this_thread::get_id();
  epoll_event events[kMaxEventsPerWait];
  while (!stop_requested_.load(std::memory_order_acquire)) {
    update_time();
    int timeout = activations_.empty() ? timers_.next_timeout_ms(now_ms_) : 0;
    int n = epoll_wait(epoll_fd_.get(), events, kMaxEventsPerWait, timeout);
    if (n < 0 && errno != EINTR) {
      std::perror("torii: epoll_wait");
      break;
    }
    update_time();
    // Posted work first (a config snapshot handed to this worker, say): a
    // request that arrived in the same batch is then served with it, so
    // once one worker answers with a new config, a request another worker
    // picks up afterwards cannot still see the old one.
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeToken) {
        run_posted();
        break;
      }
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 != kWakeToken) dispatch(events[i].data.u64, events[i].events);
    }
    run_activations();
    timers_.run_expired(now_ms_);
    flush_deferred_deletes();
  }
  stop_requested_.store(false, std::memory_order_relaxed);
}

void EventLoop::stop() {
  stop_requested_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)ignored;
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)ignored;
}

void EventLoop::run_posted() {
  uint64_t count;
  ssize_t ignored = ::read(wake_fd_.get(), &count, sizeof(count));
  (void)ignored;
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    work.swap(posted_);
  }
  for (auto& fn : work) fn();
}

void EventLoop::run_activations() {
  if (activations_.empty()) return;
  // Swap first: handlers may activate again; those wait for the next round.
  std::vector<std::pair<uint64_t, uint32_t>> batch;
  batch.swap(activations_);
  for (const auto& [token, events] : batch) dispatch(token, events);
  if (activations_.empty()) {
    batch.clear();
    activations_.swap(batch);  // keep the capacity
  }
}

void EventLoop::defer_delete(std::unique_ptr<Deferrable> object) {
  if (object) deferred_.push_back(std::move(object));
}

void EventLoop::flush_deferred_deletes() {
  // Destructors may defer more objects; loop until quiet. The batch's
  // capacity is kept for the next call, so a steady request flow allocates
  // nothing here (a nested call from a destructor just finds it taken).
  std::vector<std::unique_ptr<Deferrable>> batch;
  batch.swap(spare_batch_);
  while (!deferred_.empty()) {
    batch.swap(deferred_);
    batch.clear();
  }
  spare_batch_.swap(batch);
}

}  // namespace torii::net
