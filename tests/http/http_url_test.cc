#include "http/http_url.h"

#include <gtest/gtest.h>

namespace torii::http {
namespace {

TEST(HttpUrl, SchemeHostPortPath) {
  HttpUrl u;
  ASSERT_TRUE(parse_http_url("https://keys.example.com/a/jwks.json?x=1", u));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "keys.example.com");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.authority, "keys.example.com");
  EXPECT_EQ(u.path, "/a/jwks.json?x=1");
  ASSERT_TRUE(parse_http_url("http://127.0.0.1:2379", u, 2379));
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, 2379);
  EXPECT_EQ(u.path, "");
  ASSERT_TRUE(parse_http_url("http://etcd", u, 2379));
  EXPECT_EQ(u.port, 2379);
  ASSERT_TRUE(parse_http_url("http://h:8080/v1/traces", u));
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.authority, "h:8080");
}

TEST(HttpUrl, BracketedV6) {
  HttpUrl u;
  ASSERT_TRUE(parse_http_url("http://[::1]:4318/v1/traces", u));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 4318);
  EXPECT_EQ(u.authority, "[::1]:4318");
  ASSERT_TRUE(parse_http_url("https://[2001:db8::1]/x", u));
  EXPECT_EQ(u.port, 443);
  EXPECT_FALSE(parse_http_url("http://[::1/x", u));
  EXPECT_FALSE(parse_http_url("http://[::1]x/", u));
}

TEST(HttpUrl, Refused) {
  HttpUrl u;
  EXPECT_FALSE(parse_http_url("ftp://h/", u));
  EXPECT_FALSE(parse_http_url("h:80", u));
  EXPECT_FALSE(parse_http_url("http:///path", u));
  EXPECT_FALSE(parse_http_url("http://:80/", u));
  EXPECT_FALSE(parse_http_url("http://h:0/", u));
  EXPECT_FALSE(parse_http_url("http://h:65536/", u));
  EXPECT_FALSE(parse_http_url("http://h:8x/", u));
  EXPECT_FALSE(parse_http_url("http://h:/", u));
}

}  // namespace
}  // namespace torii::http
