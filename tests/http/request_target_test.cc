#include "http/request_target.h"

#include <gtest/gtest.h>

namespace torii::http {
namespace {

TEST(RequestTargetTest, OriginForm) {
  RequestTarget t;
  ASSERT_TRUE(parse_request_target("/a/b?x=1&y=2", t));
  EXPECT_EQ(t.form, RequestTarget::Form::Origin);
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_EQ(t.query, "x=1&y=2");
  EXPECT_EQ(t.path_and_query, "/a/b?x=1&y=2");
  EXPECT_TRUE(t.authority.empty());
}

TEST(RequestTargetTest, AbsoluteForm) {
  RequestTarget t;
  ASSERT_TRUE(parse_request_target("http://Example.com:8080/p?q=1", t));
  EXPECT_EQ(t.form, RequestTarget::Form::Absolute);
  EXPECT_EQ(t.scheme, "http");
  EXPECT_EQ(t.authority, "Example.com:8080");
  EXPECT_EQ(t.path, "/p");
  EXPECT_EQ(t.query, "q=1");
  EXPECT_EQ(t.path_and_query, "/p?q=1");
  ASSERT_TRUE(parse_request_target("http://h", t));
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.path_and_query, "/");
  EXPECT_FALSE(parse_request_target("http:///x", t));
  EXPECT_FALSE(parse_request_target("http://user@h/x", t));
  ASSERT_TRUE(parse_request_target("HTTPS://h/x", t));
  EXPECT_FALSE(parse_request_target("ftp://h/x", t));  // Envoy: 400 http.invalid_scheme
  EXPECT_FALSE(parse_request_target("http://h:99999/x", t));
  EXPECT_FALSE(parse_request_target("http://a b/x", t));
}

TEST(RequestTargetTest, ValidAuthority) {
  for (std::string_view ok :
       {"example.com", "Example.COM:8080", "h:", "h:0", "h:65535", "127.0.0.1:80", "a.example,b.example",
        "x-y_z~.!$&'()*+;=", "caf%C3%A9.example", "[::1]", "[2001:db8::1]:443", "[v1.fe80::a+en1]"}) {
    EXPECT_TRUE(valid_authority(ok)) << ok;
  }
  for (std::string_view bad :
       {"",     ":80",  "x y",     "evil@x",      "user:pw@x", "x:99999", "x:65536", "x:123456",
        "x:8o", "x:-1", "x:80:81", "a/b",         "a?b",       "a#b",     "a\tb",    "%zz",
        "%4",   "[::1", "[::1]x",  "[::1]:99999", "[g::1]",    "[]",      "[v1.]",   "\x7f"}) {
    EXPECT_FALSE(valid_authority(bad)) << bad;
  }
}

TEST(RequestTargetTest, AsteriskAndAuthorityForms) {
  RequestTarget t;
  ASSERT_TRUE(parse_request_target("*", t));
  EXPECT_EQ(t.form, RequestTarget::Form::Asterisk);
  ASSERT_TRUE(parse_request_target("example.com:443", t));
  EXPECT_EQ(t.form, RequestTarget::Form::Authority);
  EXPECT_EQ(t.authority, "example.com:443");
  EXPECT_FALSE(parse_request_target("", t));
}

}  // namespace
}  // namespace torii::http
