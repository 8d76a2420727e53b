#include "net/timer.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/event_loop.h"

namespace torii::net {
namespace {

TEST(TimerTest, FiresInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  Timer a(loop, [&] { order.push_back(30); });
  Timer b(loop, [&] { order.push_back(10); });
  Timer c(loop, [&] { order.push_back(20); });
  Timer stop(loop, [&] { loop.stop(); });
  a.arm(30);
  b.arm(10);
  c.arm(20);
  stop.arm(50);
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
}

TEST(TimerTest, CancelledTimerDoesNotFire) {
  EventLoop loop;
  bool fired = false;
  Timer t(loop, [&] { fired = true; });
  Timer stop(loop, [&] { loop.stop(); });
  t.arm(5);
  t.cancel();
  EXPECT_FALSE(t.armed());
  stop.arm(20);
  loop.run();
  EXPECT_FALSE(fired);
}

TEST(TimerTest, RearmToLaterDeadlineDelaysFiring) {
  EventLoop loop;
  uint64_t fired_at = 0;
  uint64_t start = loop.now_ms();
  Timer t(loop, [&] { fired_at = loop.now_ms(); });
  Timer push(loop, [&] { t.arm(40); });  // at ~10 ms push the deadline to ~50 ms
  Timer stop(loop, [&] { loop.stop(); });
  t.arm(20);
  push.arm(10);
  stop.arm(100);
  loop.run();
  ASSERT_NE(fired_at, 0u);
  EXPECT_GE(fired_at - start, 45u);
}

TEST(TimerTest, RearmToEarlierDeadline) {
  EventLoop loop;
  bool fired = false;
  Timer t(loop, [&] {
    fired = true;
    loop.stop();
  });
  Timer guard(loop, [&] { loop.stop(); });
  t.arm(10000);
  t.arm(5);
  guard.arm(2000);
  loop.run();
  EXPECT_TRUE(fired);
}

TEST(TimerTest, ManyTimersKeepHeapConsistent) {
  EventLoop loop;
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<int> fired;
  for (int i = 0; i < 200; ++i) {
    timers.push_back(std::make_unique<Timer>(loop, [&fired, i] { fired.push_back(i); }));
  }
  for (int i = 0; i < 200; ++i) timers[i]->arm(1 + (i * 7919) % 13);
  for (int i = 0; i < 200; i += 3) timers[i]->cancel();
  Timer stop(loop, [&] { loop.stop(); });
  stop.arm(40);
  loop.run();
  EXPECT_EQ(fired.size(), 200u - 67u);
  EXPECT_EQ(loop.timers().size(), 0u);
}

TEST(TimerTest, ZeroDelayRearmFromCallbackDoesNotSpin) {
  EventLoop loop;
  int count = 0;
  Timer* self = nullptr;
  Timer t(loop, [&] {
    if (++count < 5) self->arm(0);
  });
  self = &t;
  Timer stop(loop, [&] { loop.stop(); });
  t.arm(0);
  stop.arm(50);
  loop.run();
  EXPECT_EQ(count, 5);
}

TEST(TimerTest, ArmNowFiresInTheSamePass) {
  EventLoop loop;
  uint64_t armed_at = 0, fired_at = 0;
  Timer later(loop, [&] {
    fired_at = loop.now_ms();
    loop.stop();
  });
  Timer first(loop, [&] {
    armed_at = loop.now_ms();
    later.arm_now();  // arm(0) would wait for the clock to move on
  });
  first.arm(5);
  loop.run();
  EXPECT_NE(armed_at, 0u);
  EXPECT_EQ(fired_at, armed_at);
}

}  // namespace
}  // namespace torii::net
