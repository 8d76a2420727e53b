#include "proxy/header_mutation.h"

#include <gtest/gtest.h>

#include "proxy/local_reply.h"
#include "proxy/request_id.h"

namespace torii::proxy {
namespace {

TEST(HeaderMutationTest, StripsHopByHopAndConnectionNamedFields) {
  http::HeaderMap h;
  h.add("Connection", "keep-alive, X-Foo, Host");
  h.add("Keep-Alive", "timeout=5");
  h.add("Proxy-Connection", "keep-alive");
  h.add("Transfer-Encoding", "chunked");
  h.add("TE", "trailers");
  h.add("Upgrade", "h2c");
  h.add("HTTP2-Settings", "AAA");
  h.add("Trailer", "x");
  h.add("X-Foo", "1");
  h.add("Host", "a.com");
  h.add("X-Bar", "2");
  strip_hop_by_hop(h);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(*h.get("host"), "a.com");  // never removable through Connection
  EXPECT_EQ(*h.get("x-bar"), "2");
}

TEST(HeaderMutationTest, ConnectionMayNotNameForwardingOrPseudoHeadersOrTenTokens) {
  // Envoy's Utility::sanitizeConnectionHeader: these requests get 400.
  for (const char* value : {"x-forwarded-for", "close, X-Forwarded-Proto", "x-forwarded-host", ":authority",
                            "a,b,c,d,e,f,g,h,i,j"}) {
    http::HeaderMap h;
    h.add("connection", value);
    EXPECT_FALSE(connection_nominations_allowed(h)) << value;
  }
  for (const char* value : {"close", "keep-alive, x-custom", "a,b,c,d,e,f,g,h,i", "upgrade, , te"}) {
    http::HeaderMap h;
    h.add("connection", value);
    EXPECT_TRUE(connection_nominations_allowed(h)) << value;
  }
  http::HeaderMap two_lines;  // the tokens of every Connection line count
  two_lines.add("connection", "a,b,c,d,e");
  two_lines.add("connection", "f,g,h,i,j");
  EXPECT_FALSE(connection_nominations_allowed(two_lines));
}

TEST(HeaderMutationTest, TeTrailersSurvivesTheEdgeAndOtherTeValuesDoNot) {
  EdgeRequestInfo info;
  info.peer_ip = "10.0.0.1";
  info.request_id = "id";
  info.has_te = true;
  http::HeaderMap h;
  h.add("te", "gzip, Trailers");
  h.add("connection", "te");
  mutate_edge_request_headers(h, info);
  ASSERT_NE(h.get("te"), nullptr);
  EXPECT_EQ(*h.get("te"), "trailers");
  EXPECT_EQ(h.get_joined("te"), "trailers");  // one field

  http::HeaderMap g;
  g.add("te", "gzip");
  mutate_edge_request_headers(g, info);
  EXPECT_FALSE(g.has("te"));
}

TEST(HeaderMutationTest, EdgeRequestHeaders) {
  http::HeaderMap h;
  h.add("Host", "a.com");
  h.add("X-Forwarded-For", "1.1.1.1");
  h.add("X-Forwarded-For", "2.2.2.2");
  h.add("X-Request-Id", "mine");
  h.add("X-Envoy-Max-Retries", "9");
  h.add("X-Envoy-External-Address", "6.6.6.6");
  h.add("X-Forwarded-Proto", "https");
  EdgeRequestInfo info;
  info.peer_ip = "9.9.9.9";
  info.request_id = "00000000-0000-4000-8000-000000000000";
  info.chunked_body = true;
  mutate_edge_request_headers(h, info);
  EXPECT_EQ(h.get_joined("x-forwarded-for"), "1.1.1.1,2.2.2.2,9.9.9.9");
  EXPECT_EQ(*h.get("x-forwarded-proto"), "http");  // numTrustedProxies 0: never trusted
  EXPECT_EQ(*h.get("x-request-id"), info.request_id);
  EXPECT_EQ(*h.get("x-envoy-external-address"), "9.9.9.9");
  EXPECT_EQ(h.get("x-envoy-max-retries"), nullptr);
  EXPECT_EQ(*h.get("x-envoy-attempt-count"), "1");
  EXPECT_EQ(*h.get("transfer-encoding"), "chunked");
  EXPECT_EQ(*h.get("host"), "a.com");
}

TEST(HeaderMutationTest, XffStartsWithPeerWhenAbsentAndAbsoluteAuthorityBecomesHost) {
  http::HeaderMap h;
  h.add("Host", "ignored.com");
  EdgeRequestInfo info;
  info.peer_ip = "::1";
  info.request_id = "id";
  info.absolute_authority = "real.com:81";
  mutate_edge_request_headers(h, info);
  EXPECT_EQ(*h.get("x-forwarded-for"), "::1");
  EXPECT_EQ(*h.get("host"), "real.com:81");
}

TEST(HeaderMutationTest, ResponseHeaders) {
  http::HeaderMap h;
  h.add("Server", "gunicorn");
  h.add("Date", "old");
  h.add("Connection", "keep-alive");
  h.add("Transfer-Encoding", "chunked");
  h.add("Content-Type", "application/json");
  ResponseInfo info;
  info.server = "istio-envoy";
  info.date = "Thu, 01 Jan 1970 00:00:00 GMT";
  info.upstream_service_time_ms = 12;
  mutate_response_headers(h, info);
  EXPECT_EQ(*h.get("server"), "istio-envoy");
  EXPECT_EQ(*h.get("date"), info.date);
  EXPECT_EQ(*h.get("x-envoy-upstream-service-time"), "12");
  EXPECT_FALSE(h.has("transfer-encoding"));  // hop-by-hop: the codec frames the body
  EXPECT_FALSE(h.has("connection"));
  EXPECT_EQ(*h.get("content-type"), "application/json");
  add_http1_framing(h, Http1Framing{/*chunked=*/true, /*close_connection=*/true, false});
  EXPECT_EQ(*h.get("transfer-encoding"), "chunked");
  EXPECT_EQ(*h.get("connection"), "close");
}

TEST(LocalReplyTest, BodyGetsTextPlainAndLength) {
  net::Buffer out;
  LocalReplyContext context;
  context.server = "istio-envoy";
  context.date = "D";
  write_local_reply(out, LocalReply{503, kNoHealthyUpstream, {}}, context);
  EXPECT_EQ(out.to_string(),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 19\r\ncontent-type: text/plain\r\n"
            "date: D\r\nserver: istio-envoy\r\n\r\nno healthy upstream");
}

TEST(LocalReplyTest, EmptyBodyRedirectWithClose) {
  net::Buffer out;
  LocalReplyContext context;
  context.server = "istio-envoy";
  context.date = "D";
  context.close_connection = true;
  write_local_reply(out, LocalReply{301, {}, "https://a.com/x"}, context);
  EXPECT_EQ(out.to_string(),
            "HTTP/1.1 301 Moved Permanently\r\nlocation: https://a.com/x\r\ncontent-length: 0\r\n"
            "date: D\r\nserver: istio-envoy\r\nconnection: close\r\n\r\n");
}

TEST(LocalReplyTest, HeadRequestGetsNoBodyBytes) {
  net::Buffer out;
  LocalReplyContext context;
  context.server = "s";
  context.date = "D";
  context.head_request = true;
  write_local_reply(out, LocalReply{400, kBadRequest, {}}, context);
  EXPECT_EQ(out.to_string().find("Bad Request", 20), std::string::npos);
  EXPECT_NE(out.to_string().find("content-length: 11"), std::string::npos);
}

TEST(RequestIdTest, IsUuidV4AndUnique) {
  upstream::FastRandom random(99);
  char a[36];
  char b[36];
  std::string first(make_request_id(random, a));
  std::string second(make_request_id(random, b));
  EXPECT_NE(first, second);
  ASSERT_EQ(first.size(), 36u);
  EXPECT_EQ(first[8], '-');
  EXPECT_EQ(first[14], '4');
  EXPECT_TRUE(first[19] == '8' || first[19] == '9' || first[19] == 'a' || first[19] == 'b');
}

}  // namespace
}  // namespace torii::proxy
