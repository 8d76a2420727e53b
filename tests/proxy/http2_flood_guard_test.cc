#include "proxy/http2_flood_guard.h"

#include <gtest/gtest.h>

namespace torii::proxy {
namespace {

constexpr uint8_t kData = 0x0, kHeaders = 0x1, kPriority = 0x2, kWindowUpdate = 0x8, kContinuation = 0x9;
constexpr uint8_t kEndStream = 0x1;

TEST(Http2FloodGuardTest, OneEmptyFrameIsFineTwoInARowAreAFlood) {
  Http2FloodGuard guard;
  EXPECT_TRUE(guard.on_inbound_frame(kData, 0, 0));
  EXPECT_TRUE(guard.on_inbound_frame(kData, 0, 10));  // a payload resets the run
  EXPECT_TRUE(guard.on_inbound_frame(kData, 0, 0));
  EXPECT_FALSE(guard.on_inbound_frame(kData, 0, 0));
}

TEST(Http2FloodGuardTest, EmptyFrameThatEndsTheStreamIsWork) {
  Http2FloodGuard guard;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(guard.on_inbound_frame(kData, kEndStream, 0));
}

TEST(Http2FloodGuardTest, EmptyContinuationCounts) {
  Http2FloodGuard guard;
  EXPECT_TRUE(guard.on_inbound_frame(kHeaders, 0, 0));
  EXPECT_FALSE(guard.on_inbound_frame(kContinuation, 0, 0));
}

TEST(Http2FloodGuardTest, PriorityFramesScaleWithStreams) {
  Http2FloodGuard guard;
  // Envoy: 100 per stream opened, plus 100.
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(guard.on_inbound_frame(kPriority, 0, 5)) << i;
  EXPECT_FALSE(guard.on_inbound_frame(kPriority, 0, 5));
  Http2FloodGuard busy;
  busy.on_stream_opened();
  for (int i = 0; i < 200; ++i) EXPECT_TRUE(busy.on_inbound_frame(kPriority, 0, 5)) << i;
  EXPECT_FALSE(busy.on_inbound_frame(kPriority, 0, 5));
}

TEST(Http2FloodGuardTest, WindowUpdatesScaleWithStreamsAndDataSent) {
  // Envoy: 5 + 2 * (streams opened + 10 * DATA frames sent).
  Http2FloodGuard guard;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guard.on_inbound_frame(kWindowUpdate, 0, 4)) << i;
  EXPECT_FALSE(guard.on_inbound_frame(kWindowUpdate, 0, 4));
  Http2FloodGuard sender;
  for (int i = 0; i < 100; ++i) sender.on_data_frame_sent();
  for (int i = 0; i < 2005; ++i) EXPECT_TRUE(sender.on_inbound_frame(kWindowUpdate, 0, 4)) << i;
  EXPECT_FALSE(sender.on_inbound_frame(kWindowUpdate, 0, 4));
  // A client that opens many streams acknowledges each (gRPC does).
  Http2FloodGuard streams;
  for (int i = 0; i < 1000; ++i) streams.on_stream_opened();
  for (int i = 0; i < 2005; ++i) EXPECT_TRUE(streams.on_inbound_frame(kWindowUpdate, 0, 4)) << i;
  EXPECT_FALSE(streams.on_inbound_frame(kWindowUpdate, 0, 4));
}

TEST(Http2FloodGuardTest, PrematureResetsCloseOnlyPastTheMinimumAndTheRatio) {
  Http2FloodLimits limits;
  limits.premature_reset_min_streams = 10;
  Http2FloodGuard guard(limits);
  for (int i = 0; i < 9; ++i) {
    guard.on_stream_opened();
    EXPECT_TRUE(guard.on_stream_closed(/*premature=*/true, 0));  // too few streams yet
  }
  guard.on_stream_opened();
  EXPECT_FALSE(guard.on_stream_closed(true, 0));  // 10 of 10 premature
}

TEST(Http2FloodGuardTest, LongLivedCancelledStreamsAreNotAttacks) {
  Http2FloodLimits limits;
  limits.premature_reset_min_streams = 10;
  Http2FloodGuard guard(limits);
  for (int i = 0; i < 100; ++i) {
    guard.on_stream_opened();
    EXPECT_TRUE(guard.on_stream_closed(true, /*lifetime_ms=*/5000));
  }
  for (int i = 0; i < 100; ++i) {
    guard.on_stream_opened();
    EXPECT_TRUE(guard.on_stream_closed(i % 3 == 0, 0));  // a third: below half
  }
}

}  // namespace
}  // namespace torii::proxy
