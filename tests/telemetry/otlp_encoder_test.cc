#include "telemetry/otlp_encoder.h"

#include <gtest/gtest.h>

#include <string>

#include "telemetry/span_exporter.h"

namespace torii::telemetry {
namespace {

TEST(OtlpEncoderTest, SpanNameIsIstiosRouteDecorator) {
  EXPECT_EQ(span_name("outbound|8000||httpbin.default.svc.cluster.local"),
            "httpbin.default.svc.cluster.local:8000/*");
  EXPECT_EQ(span_name("outbound|80|v1|reviews.default.svc.cluster.local"),
            "reviews.default.svc.cluster.local:80/*");
  EXPECT_EQ(span_name(""), "ingress");
}

// The encoding, read back field by field: the bytes a collector parses.
struct Reader {
  std::string_view in;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; !in.empty(); shift += 7) {
      const auto b = static_cast<uint8_t>(in.front());
      in.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
    return v;
  }
  std::string_view bytes() {
    const size_t n = varint();
    std::string_view out = in.substr(0, n);
    in.remove_prefix(n);
    return out;
  }
};

TEST(OtlpEncoderTest, EncodesIdsKindAndErrorStatus) {
  SpanRecord s;
  s.trace_id = TraceId{0x0102030405060708ULL, 0x090a0b0c0d0e0f10ULL};
  s.span_id = 0x1112131415161718ULL;
  s.parent_span_id = 0x2122232425262728ULL;
  s.start_us = 1;
  s.end_us = 2;
  s.status = 503;
  s.method.assign("GET");
  OtlpResource resource;
  resource.resource_attributes = {{"service.name", "gw.ns"}};
  std::string out;
  encode_export_request(resource, &s, 1, out);

  Reader r{out};
  ASSERT_EQ(r.varint(), (1u << 3) | 2);  // resource_spans
  Reader rs{r.bytes()};
  EXPECT_TRUE(r.in.empty());
  ASSERT_EQ(rs.varint(), (1u << 3) | 2);  // resource
  EXPECT_NE(rs.bytes().find("service.name"), std::string_view::npos);
  ASSERT_EQ(rs.varint(), (2u << 3) | 2);  // scope_spans
  Reader ss{rs.bytes()};
  ASSERT_EQ(ss.varint(), (1u << 3) | 2);  // scope
  ss.bytes();
  ASSERT_EQ(ss.varint(), (2u << 3) | 2);  // span
  Reader span{ss.bytes()};
  ASSERT_EQ(span.varint(), (1u << 3) | 2);
  EXPECT_EQ(span.bytes(),
            std::string_view("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  ASSERT_EQ(span.varint(), (2u << 3) | 2);
  EXPECT_EQ(span.bytes(), std::string_view("\x11\x12\x13\x14\x15\x16\x17\x18", 8));
  ASSERT_EQ(span.varint(), (4u << 3) | 2);
  EXPECT_EQ(span.bytes(), std::string_view("\x21\x22\x23\x24\x25\x26\x27\x28", 8));
  ASSERT_EQ(span.varint(), (5u << 3) | 2);
  EXPECT_EQ(span.bytes(), "ingress");
  ASSERT_EQ(span.varint(), (6u << 3) | 0);
  EXPECT_EQ(span.varint(), 2u);  // SPAN_KIND_SERVER
  // The status (field 15) comes last: code 2 (ERROR) for a 503.
  EXPECT_TRUE(out.ends_with(std::string("\x7a\x02\x18\x02", 4)));
}

TEST(OtlpEndpointTest, ParsesHttpUrls) {
  OtlpEndpoint e;
  std::string error;
  ASSERT_TRUE(parse_otlp_endpoint("http://127.0.0.1:4318/v1/traces", e, error));
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 4318);
  EXPECT_EQ(e.path, "/v1/traces");
  ASSERT_TRUE(parse_otlp_endpoint("http://collector", e, error));
  EXPECT_EQ(e.port, 80);
  EXPECT_EQ(e.path, "/v1/traces");
  ASSERT_TRUE(parse_otlp_endpoint("http://[::1]:4318/otlp/v1/traces", e, error));
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.path, "/otlp/v1/traces");
  EXPECT_FALSE(parse_otlp_endpoint("https://c:4318/v1/traces", e, error));
  EXPECT_NE(error.find("https is not supported"), std::string::npos);
  EXPECT_FALSE(parse_otlp_endpoint("c:4318", e, error));
  EXPECT_FALSE(parse_otlp_endpoint("http://c:99999/v1/traces", e, error));
  EXPECT_FALSE(parse_otlp_endpoint("http://:4318/", e, error));
}

TEST(SpanExporterTest, AFullChannelDropsInsteadOfWaiting) {
  OtlpEndpoint e;
  std::string error;
  ASSERT_TRUE(parse_otlp_endpoint("http://127.0.0.1:1/v1/traces", e, error));
  SpanExporter exporter(e, OtlpResource{}, /*channels=*/2, /*channel_capacity=*/2);  // not started
  SpanRecord s;
  EXPECT_TRUE(exporter.append(0, s));
  EXPECT_TRUE(exporter.append(0, s));
  EXPECT_FALSE(exporter.append(0, s));  // full: the caller counts a drop
  EXPECT_TRUE(exporter.append(1, s));   // channels are per worker
}

TEST(SpanExporterTest, ACollectorThatIsDownCostsTheSpansNotTheCaller) {
  OtlpEndpoint e;
  std::string error;
  // Port 1 on loopback: refused at once.
  ASSERT_TRUE(parse_otlp_endpoint("http://127.0.0.1:1/v1/traces", e, error));
  SpanExporter exporter(e, OtlpResource{}, 1);
  SpanRecord s;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(exporter.append(0, s));
  exporter.start();  // after the appends: all three go in its first batch
  exporter.stop();   // posts what is buffered: one failed batch
  EXPECT_EQ(exporter.spans_sent(), 0u);
  EXPECT_EQ(exporter.spans_export_failed(), 3u);
  EXPECT_EQ(exporter.export_failures(), 1u);
}

}  // namespace
}  // namespace torii::telemetry
