#include "proxy/grpc.h"

#include <gtest/gtest.h>

#include "proxy/local_reply.h"

namespace torii::proxy {
namespace {

TEST(GrpcTest, ContentTypesEnvoyCallsGrpc) {
  for (std::string_view type : {"application/grpc", "application/grpc+proto", "application/grpc;charset=x"}) {
    http::HeaderMap h;
    h.add("content-type", type);
    EXPECT_TRUE(is_grpc_request(h)) << type;
  }
  for (std::string_view type :
       {"application/grpc-web", "application/grpc-web-text", "application/json", ""}) {
    http::HeaderMap h;
    h.add("content-type", type);
    EXPECT_FALSE(is_grpc_request(h)) << type;
  }
  EXPECT_FALSE(is_grpc_request(http::HeaderMap()));
}

TEST(GrpcTest, HttpToGrpcStatusAsEnvoy) {
  EXPECT_EQ(http_to_grpc_status(400), 13);
  EXPECT_EQ(http_to_grpc_status(401), 16);
  EXPECT_EQ(http_to_grpc_status(403), 7);
  EXPECT_EQ(http_to_grpc_status(404), 12);
  for (int s : {429, 502, 503, 504}) EXPECT_EQ(http_to_grpc_status(s), 14) << s;
  EXPECT_EQ(http_to_grpc_status(500), 2);
  EXPECT_EQ(http_to_grpc_status(431), 2);
}

TEST(GrpcTest, MessageIsPercentEncoded) {
  EXPECT_EQ(grpc_percent_encode("no healthy upstream"), "no healthy upstream");
  EXPECT_EQ(grpc_percent_encode("100% \n\xC3\xA9"), "100%25 %0A%C3%A9");
}

TEST(GrpcTest, LocalReplyIsTrailersOnly) {
  LocalReplyContext context;
  context.server = "istio-envoy";
  context.date = "D";
  context.grpc = true;
  http::HeaderMap h;
  EXPECT_EQ(build_local_reply_headers(LocalReply{503, "no healthy upstream", {}}, context, h), 200);
  EXPECT_EQ(*h.get("content-type"), "application/grpc");
  EXPECT_EQ(*h.get("grpc-status"), "14");
  EXPECT_EQ(*h.get("grpc-message"), "no healthy upstream");
  EXPECT_FALSE(h.has("content-length"));
  http::HeaderMap empty;
  LocalReply not_found{404, {}, {}};
  build_local_reply_headers(not_found, context, empty);
  EXPECT_EQ(*empty.get("grpc-status"), "12");
  EXPECT_FALSE(empty.has("grpc-message"));
  http::HeaderMap own;
  LocalReply fault{200, "fault filter abort", {}};
  fault.grpc_status = 8;
  build_local_reply_headers(fault, context, own);
  EXPECT_EQ(*own.get("grpc-status"), "8");
}

TEST(GrpcTest, TimeoutHeader) {
  uint64_t ms = 0;
  EXPECT_TRUE(parse_grpc_timeout("2S", ms));
  EXPECT_EQ(ms, 2000u);
  EXPECT_TRUE(parse_grpc_timeout("150m", ms));
  EXPECT_EQ(ms, 150u);
  EXPECT_TRUE(parse_grpc_timeout("1M", ms));
  EXPECT_EQ(ms, 60000u);
  EXPECT_TRUE(parse_grpc_timeout("1H", ms));
  EXPECT_EQ(ms, 3600000u);
  EXPECT_TRUE(parse_grpc_timeout("2500000u", ms));
  EXPECT_EQ(ms, 2500u);
  EXPECT_TRUE(parse_grpc_timeout("999n", ms));
  EXPECT_EQ(ms, 0u);
  for (std::string_view bad : {"", "S", "10", "10s", "123456789S", "1.5S", "-1S"})
    EXPECT_FALSE(parse_grpc_timeout(bad, ms)) << bad;
  EXPECT_EQ(format_grpc_timeout(150), "150m");
  EXPECT_EQ(format_grpc_timeout(99999999), "99999999m");
  EXPECT_EQ(format_grpc_timeout(100000000), "100000S");
}

TEST(GrpcTest, RouteTimeoutOfAGrpcRequest) {
  http::HeaderMap with;
  with.add("grpc-timeout", "200m");
  http::HeaderMap without;
  EXPECT_EQ(grpc_route_timeout_ms(0, with), 200u);     // no route timeout: the client's deadline
  EXPECT_EQ(grpc_route_timeout_ms(1000, with), 200u);  // the shorter one
  EXPECT_EQ(grpc_route_timeout_ms(100, with), 100u);   // capped by the route
  EXPECT_EQ(grpc_route_timeout_ms(1000, without), 1000u);
  EXPECT_EQ(grpc_route_timeout_ms(0, without), 0u);
}

}  // namespace
}  // namespace torii::proxy
