#include "proxy/tracing.h"

#include <gtest/gtest.h>

#include <string>

namespace torii::proxy {
namespace {

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParent = "00f067aa0ba902b7";

std::string value(const http::HeaderMap& h, std::string_view name) {
  const std::string_view* v = h.get(name);
  return v != nullptr ? std::string(*v) : std::string("<absent>");
}

TEST(RequestTraceTest, ContinuesAW3cTraceWithANewSpan) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("traceparent", "00-" + std::string(kTrace) + "-" + std::string(kParent) + "-01");
  h.add("tracestate", "vendor=opaque");
  RequestTrace t;
  t.start(h, /*random_sampled=*/false, random);
  ASSERT_TRUE(t.active);
  EXPECT_TRUE(t.sampled);  // the caller's flag, not the random decision
  EXPECT_EQ(t.parent_span_id, 0x00f067aa0ba902b7ULL);
  t.inject(h);
  const std::string tp = value(h, "traceparent");
  ASSERT_EQ(tp.size(), 55u);
  EXPECT_EQ(tp.substr(0, 36), "00-" + std::string(kTrace) + "-");
  EXPECT_NE(tp.substr(36, 16), kParent);  // the gateway's own span id
  EXPECT_EQ(tp.substr(52), "-01");
  EXPECT_EQ(value(h, "tracestate"), "vendor=opaque");  // passed on unchanged
  EXPECT_FALSE(h.has("x-b3-traceid"));                 // no B3 came: none is added
}

TEST(RequestTraceTest, AnUnsampledParentStaysUnsampled) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("traceparent", "00-" + std::string(kTrace) + "-" + std::string(kParent) + "-00");
  RequestTrace t;
  t.start(h, /*random_sampled=*/true, random);
  ASSERT_TRUE(t.active);
  EXPECT_FALSE(t.sampled);
  t.inject(h);
  EXPECT_TRUE(value(h, "traceparent").ends_with("-00"));
}

TEST(RequestTraceTest, NoContextStartsARootWithTheRandomDecision) {
  upstream::FastRandom random(7);
  http::HeaderMap h;
  RequestTrace t;
  t.start(h, /*random_sampled=*/false, random);
  ASSERT_TRUE(t.active);
  EXPECT_FALSE(t.sampled);
  EXPECT_EQ(t.parent_span_id, 0u);
  EXPECT_FALSE(t.trace_id.empty());
  t.inject(h);
  // Injected even unsampled, as Envoy's OpenTelemetry tracer does.
  const std::string tp = value(h, "traceparent");
  ASSERT_EQ(tp.size(), 55u);
  EXPECT_TRUE(tp.ends_with("-00"));

  RequestTrace sampled;
  http::HeaderMap h2;
  sampled.start(h2, /*random_sampled=*/true, random);
  EXPECT_TRUE(sampled.sampled);
  EXPECT_NE(sampled.trace_id, t.trace_id);
}

TEST(RequestTraceTest, AnUnreadableTraceparentMakesNoSpanAndChangesNothing) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("traceparent", "00-not-a-context-01");
  RequestTrace t;
  t.start(h, true, random);
  EXPECT_FALSE(t.active);
  t.inject(h);
  EXPECT_EQ(value(h, "traceparent"), "00-not-a-context-01");
}

TEST(RequestTraceTest, ContinuesB3MultiAndRewritesTheFields) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
  h.add("x-b3-spanid", "e457b5a2e4d86bd1");
  h.add("x-b3-parentspanid", "05e3ac9a4f6e3b90");
  h.add("x-b3-sampled", "1");
  RequestTrace t;
  t.start(h, false, random);
  ASSERT_TRUE(t.active);
  EXPECT_TRUE(t.sampled);
  t.inject(h);
  EXPECT_EQ(value(h, "x-b3-traceid"), "80f198ee56343ba864fe8b2a57d3eff7");
  EXPECT_EQ(value(h, "x-b3-parentspanid"), "e457b5a2e4d86bd1");  // the caller's span
  const std::string span = value(h, "x-b3-spanid");
  EXPECT_EQ(span.size(), 16u);
  EXPECT_NE(span, "e457b5a2e4d86bd1");
  EXPECT_EQ(value(h, "x-b3-sampled"), "1");
  // traceparent carries the same trace and span.
  EXPECT_EQ(value(h, "traceparent"), "00-80f198ee56343ba864fe8b2a57d3eff7-" + span + "-01");
}

TEST(RequestTraceTest, B3With64BitTraceIdKeepsItsWidth) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("x-b3-traceid", "64fe8b2a57d3eff7");
  h.add("x-b3-spanid", "e457b5a2e4d86bd1");
  h.add("x-b3-sampled", "0");
  RequestTrace t;
  t.start(h, true, random);
  ASSERT_TRUE(t.active);
  EXPECT_FALSE(t.sampled);
  t.inject(h);
  EXPECT_EQ(value(h, "x-b3-traceid"), "64fe8b2a57d3eff7");
  EXPECT_EQ(value(h, "x-b3-sampled"), "0");
  EXPECT_EQ(value(h, "traceparent").substr(0, 36), "00-000000000000000064fe8b2a57d3eff7-");
}

TEST(RequestTraceTest, ContinuesB3SingleInTheSameForm) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
  RequestTrace t;
  t.start(h, false, random);
  ASSERT_TRUE(t.active);
  t.inject(h);
  const std::string b3 = value(h, "b3");
  ASSERT_EQ(b3.size(), 68u);
  EXPECT_EQ(b3.substr(0, 33), "80f198ee56343ba864fe8b2a57d3eff7-");
  EXPECT_NE(b3.substr(33, 16), "e457b5a2e4d86bd1");
  EXPECT_EQ(b3.substr(49), "-1-e457b5a2e4d86bd1");
  EXPECT_FALSE(h.has("x-b3-traceid"));
}

TEST(RequestTraceTest, B3DecisionOnlyStartsARootWithThatDecision) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("b3", "1");
  RequestTrace t;
  t.start(h, /*random_sampled=*/false, random);
  ASSERT_TRUE(t.active);
  EXPECT_TRUE(t.sampled);
  EXPECT_EQ(t.parent_span_id, 0u);
  t.inject(h);
  EXPECT_EQ(value(h, "b3").size(), 32u + 1 + 16 + 2);
}

TEST(RequestTraceTest, W3cWinsOverB3AndB3IsKeptConsistent) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("traceparent", "00-" + std::string(kTrace) + "-" + std::string(kParent) + "-01");
  h.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
  h.add("x-b3-spanid", "e457b5a2e4d86bd1");
  RequestTrace t;
  t.start(h, false, random);
  t.inject(h);
  EXPECT_EQ(value(h, "x-b3-traceid"), kTrace);
  EXPECT_EQ(value(h, "x-b3-parentspanid"), kParent);
}

TEST(RequestTraceTest, AnInvalidTraceparentFallsBackToValidB3) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("traceparent", "garbage");
  h.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
  h.add("x-b3-spanid", "e457b5a2e4d86bd1");
  RequestTrace t;
  t.start(h, false, random);
  ASSERT_TRUE(t.active);
  EXPECT_EQ(t.parent_span_id, 0xe457b5a2e4d86bd1ULL);
}

TEST(RequestTraceTest, InvalidB3AloneMakesNoSpan) {
  upstream::FastRandom random(1);
  http::HeaderMap h;
  h.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");  // no span id
  RequestTrace t;
  t.start(h, true, random);
  EXPECT_FALSE(t.active);
}

TEST(RecordTraceDecisionTest, Character14OfAUuid) {
  char id[] = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
  EXPECT_TRUE(record_trace_decision(id, 36, true));
  EXPECT_EQ(std::string_view(id, 36), "0f1e2d3c-4b5a-9968-8776-a5b4c3d2e1f0");
  EXPECT_TRUE(record_trace_decision(id, 36, false));
  EXPECT_EQ(std::string_view(id, 36), "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
  char other[] = "01234567-0123-x123-0123-012345678901";  // UUID-shaped, no version digit
  EXPECT_FALSE(record_trace_decision(other, 36, true));
  char short_id[] = "client-chosen-id";
  EXPECT_FALSE(record_trace_decision(short_id, sizeof(short_id) - 1, true));
}

TEST(SampleRandomTest, ZeroAndHundredPercentAreExact) {
  upstream::FastRandom random(3);
  int hits = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(sample_random(random, 0));
    EXPECT_TRUE(sample_random(random, 10000));
    hits += sample_random(random, 5000) ? 1 : 0;
  }
  EXPECT_GT(hits, 350);  // 50 %: a seeded generator, so not luck
  EXPECT_LT(hits, 650);
}

}  // namespace
}  // namespace torii::proxy
