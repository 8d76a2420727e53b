// Route matching (ISTIO_SEMANTICS §3.3; Envoy HeaderUtility / query matching).
#include "router/route_match.h"

#include <gtest/gtest.h>

#include "router/route_table.h"

namespace torii::router {
namespace {

using Kind = StringMatcher::Kind;

StringMatcher make(Kind kind, std::string value, bool ignore_case = false) {
  StringMatcher m;
  m.kind = kind;
  m.value = std::move(value);
  m.ignore_case = ignore_case;
  if (kind == Kind::Regex) m.regex = std::make_shared<re2::RE2>(m.value);
  return m;
}

struct Req {
  std::string method = "GET";
  std::string path = "/";
  std::string query;
  std::string authority = "a.com";
  std::string scheme = "http";
  http::HeaderMap headers;
  std::string path_and_query = "/";
  RequestView view() const { return {method, path, query, authority, scheme, &headers, path_and_query}; }
};

HeaderMatcher header(std::string name, StringMatcher value, bool invert = false,
                     bool missing_as_empty = false) {
  HeaderMatcher h;
  h.name = std::move(name);
  h.source = header_source(h.name);  // as the compiler does
  h.value = std::move(value);
  h.invert = invert;
  h.treat_missing_as_empty = missing_as_empty;
  return h;
}

TEST(StringMatcher, Exact) {
  EXPECT_TRUE(make(Kind::Exact, "/a").matches("/a"));
  EXPECT_FALSE(make(Kind::Exact, "/a").matches("/A"));
  EXPECT_FALSE(make(Kind::Exact, "/a").matches("/ab"));
  EXPECT_TRUE(make(Kind::Exact, "/a", true).matches("/A"));
  EXPECT_TRUE(make(Kind::Exact, "").matches(""));
}

TEST(StringMatcher, Prefix) {
  EXPECT_TRUE(make(Kind::Prefix, "/api").matches("/apiv2"));  // no segment semantics (B.1)
  EXPECT_FALSE(make(Kind::Prefix, "/api").matches("/ap"));
  EXPECT_FALSE(make(Kind::Prefix, "/api").matches("/API/x"));
  EXPECT_TRUE(make(Kind::Prefix, "/api", true).matches("/API/x"));
  EXPECT_TRUE(make(Kind::Prefix, "").matches("anything"));
}

TEST(StringMatcher, RegexIsAFullMatch) {
  EXPECT_TRUE(make(Kind::Regex, "\\d+").matches("123"));
  EXPECT_FALSE(make(Kind::Regex, "\\d+").matches("a1"));
  EXPECT_FALSE(make(Kind::Regex, "\\d+$").matches("a123"));
  // ignore_case never applies to regexes (B.17); the compiler never sets it, and it is not consulted.
  EXPECT_FALSE(make(Kind::Regex, "/foo", true).matches("/FOO"));
  StringMatcher broken;
  broken.kind = Kind::Regex;
  EXPECT_FALSE(broken.matches("x"));  // no compiled regex: never matches
}

TEST(StringMatcher, Presence) { EXPECT_TRUE(make(Kind::Presence, "").matches("")); }

TEST(HeaderMatcher, PresenceAndValue) {
  Req r;
  r.headers.add("X-User", "bob");
  EXPECT_TRUE(header("x-user", make(Kind::Presence, "")).matches(r.view()));
  EXPECT_TRUE(header("x-user", make(Kind::Exact, "bob")).matches(r.view()));
  EXPECT_FALSE(header("x-user", make(Kind::Exact, "Bob")).matches(r.view()));  // values are case-sensitive
  EXPECT_FALSE(header("x-missing", make(Kind::Presence, "")).matches(r.view()));
  EXPECT_FALSE(header("x-missing", make(Kind::Exact, "")).matches(r.view()));  // exact "" needs presence
  r.headers.add("x-empty", "");
  EXPECT_TRUE(header("x-empty", make(Kind::Exact, "")).matches(r.view()));
}

TEST(HeaderMatcher, RepeatedHeadersAreJoined) {
  Req r;
  r.headers.add("x-a", "1");
  r.headers.add("x-b", "z");
  r.headers.add("x-a", "2");
  EXPECT_TRUE(header("x-a", make(Kind::Exact, "1,2")).matches(r.view()));
  EXPECT_FALSE(header("x-a", make(Kind::Exact, "1")).matches(r.view()));
}

TEST(HeaderMatcher, Inverted) {
  Req r;
  // withoutHeaders {x: {}}: "x is absent".
  EXPECT_TRUE(header("x", make(Kind::Presence, ""), true).matches(r.view()));
  // withoutHeaders {x: {exact: v}}: missing counts as "".
  EXPECT_TRUE(header("x", make(Kind::Exact, "v"), true, true).matches(r.view()));
  EXPECT_FALSE(header("x", make(Kind::Exact, ""), true, true).matches(r.view()));
  // Without treat_missing_as_empty, Envoy says a missing header fails an inverted value matcher.
  EXPECT_FALSE(header("x", make(Kind::Exact, "v"), true, false).matches(r.view()));
  r.headers.add("x", "v");
  EXPECT_FALSE(header("x", make(Kind::Presence, ""), true).matches(r.view()));
  EXPECT_FALSE(header("x", make(Kind::Exact, "v"), true, true).matches(r.view()));
  EXPECT_TRUE(header("x", make(Kind::Exact, "w"), true, true).matches(r.view()));
}

TEST(HeaderMatcher, PseudoHeadersComeFromTheRequestView) {
  Req r;
  r.method = "POST";
  r.authority = "a.com:8080";
  r.scheme = "https";
  EXPECT_TRUE(header(":method", make(Kind::Exact, "POST")).matches(r.view()));
  EXPECT_TRUE(header(":authority", make(Kind::Exact, "a.com:8080")).matches(r.view()));
  EXPECT_FALSE(header(":authority", make(Kind::Exact, "a.com")).matches(r.view()));
  EXPECT_TRUE(header(":scheme", make(Kind::Exact, "https")).matches(r.view()));
  EXPECT_FALSE(header(":unknown", make(Kind::Presence, "")).matches(r.view()));
}

TEST(HeaderMatcher, SourceIsResolvedOnce) {
  EXPECT_EQ(header_source(":method"), HeaderSource::Method);
  EXPECT_EQ(header_source(":authority"), HeaderSource::Authority);
  EXPECT_EQ(header_source(":path"), HeaderSource::Path);
  EXPECT_EQ(header_source(":scheme"), HeaderSource::Scheme);
  EXPECT_EQ(header_source(":status"), HeaderSource::None);
  EXPECT_EQ(header_source("x-user"), HeaderSource::Header);
  EXPECT_EQ(header_source("x_weird!#$"), HeaderSource::Header);
  // The source decides, not the name: a request header literally named ":method" is never read.
  Req r;
  r.method = "POST";
  HeaderMatcher by_name;
  by_name.name = ":method";
  by_name.value = make(Kind::Exact, "POST");
  EXPECT_FALSE(by_name.matches(r.view()));  // source Header: no such request header
  by_name.source = HeaderSource::Method;
  EXPECT_TRUE(by_name.matches(r.view()));
}

TEST(HeaderMatcher, PathIsPathAndQueryAsReceived) {
  Req r;
  r.path = "/a/b";
  r.query = "x=1&y";
  r.path_and_query = "/a/b?x=1&y";
  EXPECT_TRUE(header(":path", make(Kind::Exact, "/a/b?x=1&y")).matches(r.view()));
  EXPECT_FALSE(header(":path", make(Kind::Exact, "/a/b")).matches(r.view()));
  EXPECT_TRUE(header(":path", make(Kind::Prefix, "/a/")).matches(r.view()));
  EXPECT_TRUE(header(":path", make(Kind::Regex, ".*[?&]x=1.*")).matches(r.view()));
  // withoutHeaders {":path": {prefix: /admin}}
  EXPECT_TRUE(header(":path", make(Kind::Prefix, "/admin"), true, true).matches(r.view()));
  EXPECT_FALSE(header(":path", make(Kind::Prefix, "/a/"), true, true).matches(r.view()));
  // A fragment never reaches Envoy's :path.
  r.path_and_query = "/a#frag";
  EXPECT_TRUE(header(":path", make(Kind::Exact, "/a")).matches(r.view()));
}

TEST(HeaderMatcher, StatusIsNeverInARequest) {
  Req r;
  r.headers.add(":status", "200");  // not something a codec produces; ignored anyway
  EXPECT_FALSE(header(":status", make(Kind::Presence, "")).matches(r.view()));
  EXPECT_FALSE(header(":status", make(Kind::Exact, "200")).matches(r.view()));
  EXPECT_TRUE(header(":status", make(Kind::Presence, ""), true).matches(r.view()));
}

TEST(HeaderMatcher, NoHeaderMap) {
  RequestView view{"GET", "/", "", "a.com", "http", nullptr};
  EXPECT_FALSE(header("x", make(Kind::Presence, "")).matches(view));
  EXPECT_TRUE(header("x", make(Kind::Presence, ""), true).matches(view));
}

TEST(QueryParamMatcher, FirstOccurrenceAndEmptyValues) {
  QueryParamMatcher id{"id", make(Kind::Regex, "\\d+")};
  EXPECT_TRUE(id.matches("id=12"));
  EXPECT_TRUE(id.matches("a=b&id=12&c"));
  EXPECT_FALSE(id.matches("id=a1"));
  EXPECT_FALSE(id.matches("id=x&id=12"));  // first occurrence wins
  EXPECT_FALSE(id.matches(""));
  EXPECT_FALSE(id.matches("idx=12"));
  QueryParamMatcher flag{"flag", make(Kind::Exact, "")};
  EXPECT_TRUE(flag.matches("flag"));
  EXPECT_TRUE(flag.matches("flag="));
  EXPECT_FALSE(flag.matches("flag=1"));
  QueryParamMatcher present{"p", make(Kind::Presence, "")};
  EXPECT_TRUE(present.matches("x=1&p"));
  EXPECT_FALSE(present.matches("x=1&&=p"));
}

TEST(RouteMatch, AllConditionsMustHold) {
  RouteMatch m;
  m.path = make(Kind::Prefix, "/api");
  m.headers.push_back(header(":method", make(Kind::Exact, "GET")));
  m.query_params.push_back(QueryParamMatcher{"v", make(Kind::Exact, "2")});
  Req r;
  r.path = "/api/x";
  r.query = "v=2";
  EXPECT_TRUE(m.matches(r.view()));
  r.query = "v=1";
  EXPECT_FALSE(m.matches(r.view()));
  r.query = "v=2";
  r.method = "PUT";
  EXPECT_FALSE(m.matches(r.view()));
  r.method = "GET";
  r.path = "/other";
  EXPECT_FALSE(m.matches(r.view()));
}

TEST(RouteMatch, IsCatchAll) {
  RouteMatch m;
  m.path = make(Kind::Prefix, "/");
  EXPECT_TRUE(m.is_catch_all());
  m.path = make(Kind::Prefix, "");
  EXPECT_TRUE(m.is_catch_all());
  m.path = make(Kind::Regex, ".*");
  EXPECT_TRUE(m.is_catch_all());
  m.path = make(Kind::Prefix, "/a");
  EXPECT_FALSE(m.is_catch_all());
  m.path = make(Kind::Exact, "/");
  EXPECT_FALSE(m.is_catch_all());
  m.path = make(Kind::Prefix, "/");
  m.headers.push_back(header(":method", make(Kind::Exact, "GET")));
  EXPECT_FALSE(m.is_catch_all());
  m.headers.clear();
  m.query_params.push_back(QueryParamMatcher{"q", make(Kind::Presence, "")});
  EXPECT_FALSE(m.is_catch_all());
}

}  // namespace
}  // namespace torii::router
