#include "net/event_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace torii::net {
namespace {

TEST(EventLoopTest, PostFromAnotherThreadRunsOnLoopThread) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread runner([&] { loop.run(); });
  loop.post([&] {
    ran_on = std::this_thread::get_id();
    loop.stop();
  });
  runner.join();
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(EventLoopTest, StopBeforeRunReturnsImmediately) {
  EventLoop loop;
  loop.stop();
  loop.run();  // must not hang
  SUCCEED();
}

struct CountingHandler : IoHandler {
  int calls = 0;
  uint32_t last = 0;
  void on_io(uint32_t events) override {
    ++calls;
    last = events;
  }
};

TEST(EventLoopTest, ActivationDeliversSyntheticEventNextIteration) {
  EventLoop loop;
  CountingHandler handler;
  IoWatch watch(loop, UniqueFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), EPOLLIN | EPOLLET, handler);
  watch.activate(EPOLLIN);
  EXPECT_EQ(handler.calls, 0);
  Timer stop_timer(loop, [&] { loop.stop(); });
  stop_timer.arm(5);
  loop.run();
  EXPECT_EQ(handler.calls, 1);
  EXPECT_EQ(handler.last, static_cast<uint32_t>(EPOLLIN));
}

TEST(EventLoopTest, EventsForAResetWatchAreDropped) {
  EventLoop loop;
  CountingHandler handler;
  IoWatch watch(loop, UniqueFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), EPOLLIN | EPOLLET, handler);
  watch.activate(EPOLLIN);
  watch.reset();  // the pending activation now refers to a dead slot
  Timer stop_timer(loop, [&] { loop.stop(); });
  stop_timer.arm(5);
  loop.run();
  EXPECT_EQ(handler.calls, 0);
}

TEST(EventLoopTest, FdReadinessReachesHandler) {
  EventLoop loop;
  int raw = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct Handler : IoHandler {
    EventLoop* loop;
    int fd;
    bool fired = false;
    void on_io(uint32_t events) override {
      fired = (events & EPOLLIN) != 0;
      uint64_t v;
      ssize_t n = ::read(fd, &v, sizeof(v));
      (void)n;
      loop->stop();
    }
  } handler;
  handler.loop = &loop;
  handler.fd = raw;
  IoWatch watch(loop, UniqueFd(raw), EPOLLIN, handler);
  uint64_t one = 1;
  ASSERT_EQ(::write(raw, &one, sizeof(one)), 8);
  loop.run();
  EXPECT_TRUE(handler.fired);
}

// A worker handed a new config snapshot (post) and a request (fd) in the
// same batch applies the snapshot first, whatever order epoll reports them.
TEST(EventLoopTest, PostedWorkRunsBeforeTheBatchsIoEvents) {
  EventLoop loop;
  int raw = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::vector<std::string> order;
  struct Handler : IoHandler {
    EventLoop* loop;
    std::vector<std::string>* order;
    void on_io(uint32_t) override {
      order->push_back("io");
      loop->stop();
    }
  } handler;
  handler.loop = &loop;
  handler.order = &order;
  IoWatch watch(loop, UniqueFd(raw), EPOLLIN, handler);
  uint64_t one = 1;
  ASSERT_EQ(::write(raw, &one, sizeof(one)), 8);  // ready first...
  loop.post([&] { order.push_back("posted"); });  // ...posted second
  loop.run();
  EXPECT_EQ(order, (std::vector<std::string>{"posted", "io"}));
}

struct Tracked : Deferrable {
  bool* destroyed;
  explicit Tracked(bool* d) : destroyed(d) {}
  ~Tracked() override { *destroyed = true; }
};

TEST(EventLoopTest, DeferredDeleteRunsAtEndOfIteration) {
  EventLoop loop;
  bool destroyed = false;
  bool seen_alive_in_callback = false;
  loop.post([&] {
    loop.defer_delete(std::make_unique<Tracked>(&destroyed));
    seen_alive_in_callback = !destroyed;
  });
  Timer stop_timer(loop, [&] { loop.stop(); });
  stop_timer.arm(5);
  loop.run();
  EXPECT_TRUE(seen_alive_in_callback);
  EXPECT_TRUE(destroyed);
}

}  // namespace
}  // namespace torii::net
