#include "telemetry/access_log_format.h"

#include <gtest/gtest.h>

namespace torii::telemetry {
namespace {

proxy::StreamInfo sample() {
  proxy::StreamInfo info;
  info.start_time_us = 1777629600123456;  // 2026-05-01T10:00:00.123456Z
  info.start_ms = 1000;
  info.end_ms = 1003;
  info.method = "GET";
  info.path = "/get?x=1";
  info.authority = "httpbin.example.com";
  info.protocol = "HTTP/1.1";
  info.response_code = 200;
  info.response_code_details = proxy::details::kViaUpstream;
  info.bytes_received = 0;
  info.bytes_sent = 431;
  info.upstream_service_time_ms = 2;
  info.set_upstream_host("10.1.2.3", 8080);
  info.upstream_cluster = "outbound|8000||httpbin.default.svc.cluster.local";
  info.route_name = "httpbin";
  info.downstream_remote_address = "10.0.0.7";
  return info;
}

http::HeaderMap headers() {
  http::HeaderMap h;
  h.add("x-forwarded-for", "10.0.0.7");
  h.add("user-agent", "curl/8.5.0");
  h.add("x-request-id", "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  return h;
}

std::string line(std::string_view spec, const proxy::StreamInfo& info, const http::HeaderMap* h) {
  AccessLogFormat format;
  std::string error;
  EXPECT_TRUE(AccessLogFormat::parse(spec, format, error)) << error;
  std::string out;
  format.format(info, h, 0, out);
  return out;
}

TEST(AccessLogFormat, IstioTextLine) {
  const http::HeaderMap h = headers();
  EXPECT_EQ(line("text", sample(), &h),
            "[2026-05-01T10:00:00.123Z] \"GET /get?x=1 HTTP/1.1\" 200 - via_upstream - \"-\" 0 431 3 2 "
            "\"10.0.0.7\" \"curl/8.5.0\" \"1b4e28ba-2fa1-41d2-883f-0016d3cca427\" \"httpbin.example.com\" "
            "\"10.1.2.3:8080\" outbound|8000||httpbin.default.svc.cluster.local - - 10.0.0.7 - httpbin\n");
}

TEST(AccessLogFormat, LocalReplyPrintsDashes) {
  proxy::StreamInfo info = sample();
  info.response_code = 404;
  info.set_flag(proxy::flag::NR);
  info.response_code_details = proxy::details::kRouteNotFound;
  info.upstream_service_time_ms = -1;
  info.upstream_host_len = 0;
  info.upstream_cluster = {};
  info.route_name = {};
  EXPECT_EQ(
      line("%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
           "\"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %ROUTE_NAME%",
           info, nullptr),
      "404 NR route_not_found - \"-\" - -\n");
}

TEST(AccessLogFormat, FlagsJoinInEnvoyOrder) {
  proxy::StreamInfo info = sample();
  info.set_flag(proxy::flag::URX);
  info.set_flag(proxy::flag::UF);
  EXPECT_EQ(line("%RESPONSE_FLAGS%", info, nullptr), "UF,URX\n");
  EXPECT_EQ(line("%RESPONSE_FLAGS_LONG%", info, nullptr),
            "UpstreamConnectionFailure,UpstreamRetryLimitExceeded\n");
}

TEST(AccessLogFormat, HeaderOperators) {
  const http::HeaderMap h = headers();
  const proxy::StreamInfo info = sample();
  EXPECT_EQ(
      line("%REQ(USER-AGENT)%|%REQUEST_HEADER(user-agent)%|%REQ(X-MISSING)%|%REQ(X-MISSING?USER-AGENT)%",
           info, &h),
      "curl/8.5.0|curl/8.5.0|-|curl/8.5.0\n");
  EXPECT_EQ(line("%REQ(USER-AGENT):4% %REQ_WITHOUT_QUERY(:PATH)% %REQ(:METHOD)% %REQ(:AUTHORITY)%", info, &h),
            "curl /get GET httpbin.example.com\n");
  EXPECT_EQ(line("100%% %PROTOCOL%", info, &h), "100% HTTP/1.1\n");
}

TEST(AccessLogFormat, StartTimeFormats) {
  const proxy::StreamInfo info = sample();
  EXPECT_EQ(line("%START_TIME(%Y/%m/%d %H:%M:%S.%3f)%", info, nullptr), "2026/05/01 10:00:00.123\n");
  EXPECT_EQ(line("%START_TIME(%s.%6f)%", info, nullptr), "1777629600.123456\n");
}

TEST(AccessLogFormat, DefaultStartTimeFollowsTheSecond) {
  // The default format caches its "YYYY-MM-DDTHH:MM:SS" per second: a new
  // second (or an older one, from another stream) must not reuse it.
  proxy::StreamInfo info = sample();
  EXPECT_EQ(line("%START_TIME%", info, nullptr), "2026-05-01T10:00:00.123Z\n");
  info.start_time_us += 1000000;
  EXPECT_EQ(line("%START_TIME%", info, nullptr), "2026-05-01T10:00:01.123Z\n");
  info.start_time_us -= 86400LL * 1000000;
  EXPECT_EQ(line("%START_TIME%", info, nullptr), "2026-04-30T10:00:01.123Z\n");
}

TEST(AccessLogFormat, TextValuesCannotBreakTheLine) {
  http::HeaderMap h;
  h.add("user-agent", "evil\r\nfake line");
  h.add("x-request-id", "plain");
  EXPECT_EQ(line("%REQ(USER-AGENT)% %REQ(X-REQUEST-ID)% %REQ(X-MISSING)%", sample(), &h),
            "evil  fake line plain -\n");
}

TEST(AccessLogFormat, DurationOfAnUnfinishedStreamRunsToNow) {
  proxy::StreamInfo info = sample();
  info.end_ms = 0;
  AccessLogFormat format;
  std::string error;
  ASSERT_TRUE(AccessLogFormat::parse("%DURATION%", format, error));
  std::string out;
  format.format(info, nullptr, 1250, out);
  EXPECT_EQ(out, "250\n");
}

TEST(AccessLogFormat, IstioJson) {
  const http::HeaderMap h = headers();
  proxy::StreamInfo info = sample();
  const std::string out = line("json", info, &h);
  EXPECT_EQ(out.substr(0, 78),
            "{\"start_time\":\"2026-05-01T10:00:00.123Z\",\"route_name\":\"httpbin\",\"method\":\"GET\"");
  EXPECT_NE(out.find("\"response_code\":200,"), std::string::npos) << out;
  EXPECT_NE(out.find("\"response_flags\":null,"), std::string::npos) << out;
  EXPECT_NE(out.find("\"bytes_sent\":431,"), std::string::npos) << out;
  EXPECT_NE(out.find("\"upstream_service_time\":\"2\","), std::string::npos) << out;
  EXPECT_NE(out.find("\"upstream_local_address\":null,"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 2), "}\n");
}

TEST(AccessLogFormat, CustomJsonEscapesAndMixes) {
  http::HeaderMap h;
  h.add("user-agent", "a \"quoted\"\\agent");
  proxy::StreamInfo info = sample();
  EXPECT_EQ(line("{\"ua\": \"%REQ(USER-AGENT)%\", \"line\": \"%REQ(:METHOD)% %RESPONSE_CODE%\", \"n\": "
                 "\"%BYTES_SENT%\"}",
                 info, &h),
            "{\"ua\":\"a \\\"quoted\\\"\\\\agent\",\"line\":\"GET 200\",\"n\":431}\n");
}

TEST(AccessLogFormat, ErrorsNameTheOperator) {
  AccessLogFormat format;
  std::string error;
  EXPECT_FALSE(AccessLogFormat::parse("%NOPE%", format, error));
  EXPECT_NE(error.find("%NOPE%"), std::string::npos) << error;
  EXPECT_FALSE(AccessLogFormat::parse("%REQ()%", format, error));
  EXPECT_FALSE(AccessLogFormat::parse("%REQ(A):x%", format, error));
  EXPECT_FALSE(AccessLogFormat::parse("abc %DURATION", format, error));
  EXPECT_NE(error.find("unterminated"), std::string::npos) << error;
  EXPECT_FALSE(AccessLogFormat::parse("{\"a\": 1}", format, error));
}

TEST(StreamInfo, UpstreamHostForms) {
  proxy::StreamInfo info;
  info.set_upstream_host("127.0.0.1", 80);
  EXPECT_EQ(info.upstream_host_view(), "127.0.0.1:80");
  info.set_upstream_host("::1", 8443);
  EXPECT_EQ(info.upstream_host_view(), "[::1]:8443");
}

}  // namespace
}  // namespace torii::telemetry
