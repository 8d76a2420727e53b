// The pure action functions: path rewrites, redirect Location (Envoy
// Http::Utility::newUri), header operations.
#include "router/route_action.h"

#include <gtest/gtest.h>

#include "router/route_match.h"

namespace torii::router {
namespace {

StringMatcher prefix_matcher(std::string v) {
  return {StringMatcher::Kind::Prefix, std::move(v), nullptr, false};
}
StringMatcher exact_matcher(std::string v) {
  return {StringMatcher::Kind::Exact, std::move(v), nullptr, false};
}

TEST(RewritePath, PrefixExactAndRegex) {
  std::string out;
  PathRewrite none;
  EXPECT_FALSE(rewrite_path(none, prefix_matcher("/"), "/a", out));

  PathRewrite p{PathRewrite::Kind::Prefix, "/v2", nullptr};
  ASSERT_TRUE(rewrite_path(p, prefix_matcher("/v1"), "/v1/x?y=1", out));
  EXPECT_EQ(out, "/v2/x?y=1");
  ASSERT_TRUE(rewrite_path(p, exact_matcher("/v1/x"), "/v1/x?y=1", out));
  EXPECT_EQ(out, "/v2?y=1");
  ASSERT_TRUE(rewrite_path(p, prefix_matcher(""), "/x", out));  // `prefix: ""` matches everything
  EXPECT_EQ(out, "/v2/x");

  PathRewrite re{PathRewrite::Kind::Regex, "/\\1", std::make_shared<re2::RE2>("^/api/(.*)$")};
  ASSERT_TRUE(rewrite_path(re, prefix_matcher("/api"), "/api/a/b?q=/api/c", out));
  EXPECT_EQ(out, "/a/b?q=/api/c");
}

TEST(RedirectLocation, EnvoyNewUri) {
  RedirectAction r;
  RedirectRequest req{"http", "a.com:8080", "http", "/p?q=1"};
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "http://a.com:8080/p?q=1");
  r.path = "/n";
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "http://a.com:8080/n?q=1");
  r.path = "n?x";  // no leading slash: Envoy adds it; own query replaces the request's
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "http://a.com:8080/n?x");
  r.path.clear();
  r.port = ":9443";
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "http://a.com:9443/p?q=1");
  r.port.clear();
  r.scheme = "https";
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "https://a.com:8080/p?q=1");
  req.host = "a.com:80";
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "https://a.com/p?q=1");
  req.host = "[::1]:80";
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "https://[::1]/p?q=1");
  req.host = "[::1]";
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "https://[::1]/p?q=1");
  r.host = "b.com";
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "https://b.com/p?q=1");
}

TEST(RedirectLocation, SameSchemeKeepsTheDefaultPort) {
  RedirectAction r;
  r.path = "/n";
  RedirectRequest req{"http", "a.com:80", "http", "/p"};
  EXPECT_EQ(redirect_location(r, prefix_matcher("/"), req), "http://a.com:80/n");
}

TEST(DirectResponseLocation, OnlyFor201And3xx) {
  RedirectRequest req{"http", "a.com", "http", "/p?q"};
  EXPECT_EQ(direct_response_location(200, req), "");
  EXPECT_EQ(direct_response_location(404, req), "");
  EXPECT_EQ(direct_response_location(201, req), "http://a.com/p?q");
  EXPECT_EQ(direct_response_location(307, req), "http://a.com/p?q");
}

TEST(HeaderOps, RemoveThenSetThenAdd) {
  HeaderOps ops;
  ops.remove = {"x-a"};
  ops.ops = {{"x-a", "set", false}, {"x-b", "one", true}, {"x-b", "two", true}};
  http::HeaderMap h;
  h.add("x-a", "old");
  h.add("x-b", "client");
  ops.apply(h);
  EXPECT_EQ(h.get_joined("x-a"), "set");
  EXPECT_EQ(h.get_joined("x-b"), "client,one,two");
}

}  // namespace
}  // namespace torii::router
