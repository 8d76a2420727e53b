// Runs an event loop on the test's thread until a condition holds.
#pragma once

#include <cstdint>
#include <memory>

#include "net/event_loop.h"
#include "net/timer.h"

namespace torii::dns::testing {

// Runs `loop` until `done()` or `timeout_ms`; returns done().
template <typename Done>
bool run_until(net::EventLoop& loop, Done done, uint64_t timeout_ms = 5000) {
  net::Timer guard(loop, [&] { loop.stop(); });
  std::unique_ptr<net::Timer> poll;
  poll = std::make_unique<net::Timer>(loop, [&] {
    if (done()) {
      loop.stop();
    } else {
      poll->arm(5);
    }
  });
  guard.arm(timeout_ms);
  poll->arm(0);
  loop.run();
  return done();
}

}  // namespace torii::dns::testing
