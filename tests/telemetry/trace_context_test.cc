#include "telemetry/trace_context.h"

#include <gtest/gtest.h>

#include <string>

namespace torii::telemetry {
namespace {

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpan = "00f067aa0ba902b7";

TEST(TraceparentTest, ReadsAValidVersion00Header) {
  ParentContext c;
  ASSERT_TRUE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", c));
  EXPECT_EQ(c.trace_id.hi, 0x4bf92f3577b34da6ULL);
  EXPECT_EQ(c.trace_id.lo, 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(c.span_id, 0x00f067aa0ba902b7ULL);
  EXPECT_EQ(c.sampled, Sampled::Yes);
  EXPECT_TRUE(c.has_context);

  ASSERT_TRUE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", c));
  EXPECT_EQ(c.sampled, Sampled::No);
  // Other flag bits do not matter; bit 0 is "sampled".
  ASSERT_TRUE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", c));
  EXPECT_EQ(c.sampled, Sampled::Yes);
}

TEST(TraceparentTest, RejectsMalformedHeaders) {
  ParentContext c;
  const std::string ok = "00-" + std::string(kTrace) + "-" + std::string(kSpan) + "-01";
  ASSERT_TRUE(parse_traceparent(ok, c));
  EXPECT_FALSE(parse_traceparent("", c));
  EXPECT_FALSE(parse_traceparent(ok.substr(0, 54), c));     // short
  EXPECT_FALSE(parse_traceparent(ok + "-extra", c));        // version 00 is exactly 55
  EXPECT_FALSE(parse_traceparent("ff" + ok.substr(2), c));  // version ff is invalid
  EXPECT_FALSE(
      parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01", c));  // zero trace
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", c));  // zero span
  EXPECT_FALSE(
      parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", c));  // upper case
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", c));  // not hex
  EXPECT_FALSE(parse_traceparent("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", c));  // separator
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x", c));  // flags
}

TEST(TraceparentTest, LaterVersionsAreReadByTheirFirstFourFields) {
  ParentContext c;
  ASSERT_TRUE(
      parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds", c));
  EXPECT_EQ(c.span_id, 0x00f067aa0ba902b7ULL);
  ASSERT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", c));
  EXPECT_FALSE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", c));
}

TEST(TraceparentTest, WritesWhatItReads) {
  char out[kTraceparentSize];
  write_traceparent(out, TraceId{0x4bf92f3577b34da6ULL, 0xa3ce929d0e0e4736ULL}, 0x00f067aa0ba902b7ULL, true);
  EXPECT_EQ(std::string_view(out, sizeof(out)), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  write_traceparent(out, TraceId{0, 1}, 2, false);
  EXPECT_EQ(std::string_view(out, sizeof(out)), "00-00000000000000000000000000000001-0000000000000002-00");
}

TEST(B3SingleTest, ReadsEveryForm) {
  ParentContext c;
  ASSERT_TRUE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", c));
  EXPECT_TRUE(c.has_context);
  EXPECT_TRUE(c.trace_id_128);
  EXPECT_EQ(c.trace_id.hi, 0x80f198ee56343ba8ULL);
  EXPECT_EQ(c.span_id, 0xe457b5a2e4d86bd1ULL);
  EXPECT_EQ(c.sampled, Sampled::Yes);

  ASSERT_TRUE(parse_b3_single("64fe8b2a57d3eff7-e457b5a2e4d86bd1-0", c));  // 64-bit trace id
  EXPECT_FALSE(c.trace_id_128);
  EXPECT_EQ(c.trace_id.hi, 0u);
  EXPECT_EQ(c.trace_id.lo, 0x64fe8b2a57d3eff7ULL);
  EXPECT_EQ(c.sampled, Sampled::No);

  ASSERT_TRUE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1", c));  // no decision
  EXPECT_EQ(c.sampled, Sampled::Unset);
  ASSERT_TRUE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d", c));  // debug
  EXPECT_EQ(c.sampled, Sampled::Yes);

  // A decision alone.
  ASSERT_TRUE(parse_b3_single("0", c));
  EXPECT_FALSE(c.has_context);
  EXPECT_EQ(c.sampled, Sampled::No);
  ASSERT_TRUE(parse_b3_single("1", c));
  EXPECT_EQ(c.sampled, Sampled::Yes);
}

TEST(B3SingleTest, RejectsMalformedValues) {
  ParentContext c;
  EXPECT_FALSE(parse_b3_single("", c));
  EXPECT_FALSE(parse_b3_single("x", c));
  EXPECT_FALSE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7", c));                        // no span
  EXPECT_FALSE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd", c));        // short span
  EXPECT_FALSE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-", c));      // truncated
  EXPECT_FALSE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-2", c));     // bad flag
  EXPECT_FALSE(parse_b3_single("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05", c));  // short parent
  EXPECT_FALSE(parse_b3_single("80f198ee56343ba864fe8b2a57d3ef-e457b5a2e4d86bd1-1", c));    // 30-digit trace
  EXPECT_FALSE(parse_b3_single("zzf198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1", c));  // not hex
}

TEST(B3MultiTest, ReadsIdsAndFlags) {
  std::string_view trace = "80f198ee56343ba864fe8b2a57d3eff7";
  std::string_view span = "e457b5a2e4d86bd1";
  std::string_view parent = "05e3ac9a4f6e3b90";
  std::string_view one = "1", zero = "0", yes = "true";
  B3Headers h;
  h.trace_id = &trace;
  h.span_id = &span;
  h.parent_span_id = &parent;
  h.sampled = &one;
  ParentContext c;
  ASSERT_TRUE(parse_b3_multi(h, c));
  EXPECT_TRUE(c.has_context);
  EXPECT_EQ(c.span_id, 0xe457b5a2e4d86bd1ULL);
  EXPECT_EQ(c.sampled, Sampled::Yes);
  h.sampled = &zero;
  ASSERT_TRUE(parse_b3_multi(h, c));
  EXPECT_EQ(c.sampled, Sampled::No);
  h.sampled = &yes;  // old clients
  ASSERT_TRUE(parse_b3_multi(h, c));
  EXPECT_EQ(c.sampled, Sampled::Yes);
  h.sampled = &zero;
  h.flags = &one;  // debug implies sampled
  ASSERT_TRUE(parse_b3_multi(h, c));
  EXPECT_EQ(c.sampled, Sampled::Yes);
  h.flags = nullptr;
  h.sampled = nullptr;
  ASSERT_TRUE(parse_b3_multi(h, c));
  EXPECT_EQ(c.sampled, Sampled::Unset);

  B3Headers only_sampled;
  only_sampled.sampled = &one;
  ASSERT_TRUE(parse_b3_multi(only_sampled, c));
  EXPECT_FALSE(c.has_context);
  EXPECT_EQ(c.sampled, Sampled::Yes);
}

TEST(B3MultiTest, RejectsHalfOrMalformedIds) {
  std::string_view trace = "80f198ee56343ba864fe8b2a57d3eff7";
  std::string_view span = "e457b5a2e4d86bd1";
  std::string_view bad = "xyz";
  ParentContext c;
  B3Headers h;
  h.trace_id = &trace;  // no span id
  EXPECT_FALSE(parse_b3_multi(h, c));
  h.span_id = &bad;
  EXPECT_FALSE(parse_b3_multi(h, c));
  h.span_id = &span;
  h.parent_span_id = &bad;
  EXPECT_FALSE(parse_b3_multi(h, c));
  h.parent_span_id = nullptr;
  h.sampled = &bad;
  EXPECT_FALSE(parse_b3_multi(h, c));
}

TEST(B3WriteTest, SingleHeaderForms) {
  char out[kB3SingleMaxSize];
  const TraceId wide{0x80f198ee56343ba8ULL, 0x64fe8b2a57d3eff7ULL};
  EXPECT_EQ(std::string_view(
                out, write_b3_single(out, wide, true, 0xe457b5a2e4d86bd1ULL, true, 0x05e3ac9a4f6e3b90ULL)),
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
  EXPECT_EQ(
      std::string_view(out, write_b3_single(out, TraceId{0, 0x64fe8b2a57d3eff7ULL}, false, 1, false, 0)),
      "64fe8b2a57d3eff7-0000000000000001-0");
}

}  // namespace
}  // namespace torii::telemetry
