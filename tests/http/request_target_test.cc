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
