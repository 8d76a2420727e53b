#include "proxy/grpc_web.h"

#include <gtest/gtest.h>

namespace torii::proxy {
namespace {

http::HeaderMap with_type(std::string_view type) {
  http::HeaderMap h;
  h.add("content-type", type);
  return h;
}

TEST(GrpcWebTest, DetectsTheModes) {
  EXPECT_EQ(GrpcWeb::detect(with_type("application/grpc-web")), GrpcWeb::Mode::Binary);
  EXPECT_EQ(GrpcWeb::detect(with_type("application/grpc-web+proto")), GrpcWeb::Mode::Binary);
  EXPECT_EQ(GrpcWeb::detect(with_type("application/grpc-web-text")), GrpcWeb::Mode::Text);
  EXPECT_EQ(GrpcWeb::detect(with_type("application/grpc-web-text+proto")), GrpcWeb::Mode::Text);
  EXPECT_EQ(GrpcWeb::detect(with_type("application/grpc")), GrpcWeb::Mode::None);
  EXPECT_EQ(GrpcWeb::detect(with_type("application/grpc-webby")), GrpcWeb::Mode::None);
  EXPECT_EQ(GrpcWeb::detect(http::HeaderMap()), GrpcWeb::Mode::None);
}

TEST(GrpcWebTest, RequestHeadersBecomeGrpc) {
  GrpcWeb web(GrpcWeb::Mode::Text);
  http::HeaderMap h = with_type("application/grpc-web-text");
  h.add("content-length", "12");
  web.translate_request_headers(h);
  EXPECT_EQ(*h.get("content-type"), "application/grpc");
  EXPECT_EQ(*h.get("te"), "trailers");
  EXPECT_FALSE(h.has("content-length"));
}

TEST(GrpcWebTest, TextRequestBodyIsDecodedAcrossChunksAndPaddedGroups) {
  GrpcWeb web(GrpcWeb::Mode::Text);
  std::string out;
  // "AAAAAAJoaQ==" is a gRPC frame with the 2-byte message "hi"; then a
  // second padded group, split at odd places.
  ASSERT_TRUE(web.decode_request_body("AAAAA", out));
  ASSERT_TRUE(web.decode_request_body("AJoaQ==QQ", out));
  ASSERT_TRUE(web.decode_request_body("==", out));
  EXPECT_EQ(out, std::string("\0\0\0\0\2hiA", 8));
  std::string bad;
  EXPECT_FALSE(GrpcWeb(GrpcWeb::Mode::Text).decode_request_body("!!!!", bad));
}

TEST(GrpcWebTest, ResponseTrailersBecomeTheLastFrame) {
  GrpcWeb web(GrpcWeb::Mode::Binary);
  http::HeaderMap head = with_type("application/grpc");
  web.translate_response_headers(head);
  EXPECT_EQ(*head.get("content-type"), "application/grpc-web+proto");
  std::string out;
  web.encode_response_body("xyz", out);
  http::HeaderMap trailers;
  trailers.add("grpc-status", "0");
  trailers.add("grpc-message", "ok");
  web.encode_trailers(trailers, out);
  const std::string block = "grpc-status:0\r\ngrpc-message:ok\r\n";
  EXPECT_EQ(out, "xyz" + std::string("\x80\0\0\0", 4) + static_cast<char>(block.size()) + block);
}

TEST(GrpcWebTest, TextResponseIsBase64InWholeGroups) {
  GrpcWeb web(GrpcWeb::Mode::Text);
  http::HeaderMap head = with_type("application/grpc");
  head.add("content-length", "5");
  web.translate_response_headers(head);
  EXPECT_EQ(*head.get("content-type"), "application/grpc-web-text+proto");
  EXPECT_FALSE(head.has("content-length"));
  std::string out;
  web.encode_response_body("ab", out);
  EXPECT_EQ(out, "");  // waits for a whole group
  web.encode_response_body("cd", out);
  EXPECT_EQ(out, "YWJj");
  web.finish(out);
  EXPECT_EQ(out, "YWJjZA==");
}

TEST(GrpcWebTest, NonGrpcResponsePassesUntouched) {
  GrpcWeb web(GrpcWeb::Mode::Text);
  http::HeaderMap head = with_type("text/plain");
  web.translate_response_headers(head);
  EXPECT_EQ(*head.get("content-type"), "text/plain");
}

}  // namespace
}  // namespace torii::proxy
