#include "http/http1_serializer.h"

#include <gtest/gtest.h>

namespace torii::http {
namespace {

TEST(Http1SerializerTest, RequestHead) {
  HeaderMap h;
  h.add("Host", "example.com");
  h.add("x-forwarded-for", "1.2.3.4");
  net::Buffer out;
  write_request_head(out, "GET", "/a?b=1", h);
  EXPECT_EQ(out.to_string(), "GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\nx-forwarded-for: 1.2.3.4\r\n\r\n");
}

TEST(Http1SerializerTest, ResponseHeadWithReason) {
  HeaderMap h;
  h.add("content-length", "0");
  net::Buffer out;
  write_response_head(out, 503, h);
  EXPECT_EQ(out.to_string(), "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
  net::Buffer out10;
  write_response_head(out10, 299, HeaderMap{}, 0);
  EXPECT_EQ(out10.to_string(), "HTTP/1.0 299 Unknown\r\n\r\n");
}

TEST(Http1SerializerTest, Chunks) {
  net::Buffer out;
  write_chunk(out, "hello");
  write_chunk(out, "");
  write_chunk(out, std::string(300, 'x'));
  write_last_chunk(out);
  EXPECT_EQ(out.to_string(), "5\r\nhello\r\n12c\r\n" + std::string(300, 'x') + "\r\n0\r\n\r\n");
}

}  // namespace
}  // namespace torii::http
