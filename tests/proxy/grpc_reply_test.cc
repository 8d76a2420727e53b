#include "proxy/grpc_reply.h"

#include <gtest/gtest.h>

#include "proxy/local_reply.h"

namespace torii::proxy {
namespace {

TEST(GrpcReplyTest, ContentTypesEnvoyCallsGrpc) {
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

TEST(GrpcReplyTest, HttpToGrpcStatusAsEnvoy) {
  EXPECT_EQ(http_to_grpc_status(400), 13);
  EXPECT_EQ(http_to_grpc_status(401), 16);
  EXPECT_EQ(http_to_grpc_status(403), 7);
  EXPECT_EQ(http_to_grpc_status(404), 12);
  for (int s : {429, 502, 503, 504}) EXPECT_EQ(http_to_grpc_status(s), 14) << s;
  EXPECT_EQ(http_to_grpc_status(500), 2);
  EXPECT_EQ(http_to_grpc_status(431), 2);
}

TEST(GrpcReplyTest, MessageIsPercentEncoded) {
  EXPECT_EQ(grpc_percent_encode("no healthy upstream"), "no healthy upstream");
  EXPECT_EQ(grpc_percent_encode("100% \n\xC3\xA9"), "100%25 %0A%C3%A9");
}

TEST(GrpcReplyTest, LocalReplyIsTrailersOnly) {
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

}  // namespace
}  // namespace torii::proxy
