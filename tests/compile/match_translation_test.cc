// VirtualService match -> RouteMatch (§3.3).
#include "compile/match_translation.h"

#include <gtest/gtest.h>

#include <map>

#include "resource_builders.h"
#include "router/route_table.h"

namespace torii::compile {
namespace {

using Kind = router::StringMatcher::Kind;
using testing::exact;
using testing::prefix;
using testing::presence;
using testing::regex;

class MatchTranslation : public ::testing::Test {
 protected:
  MatchTranslation() {
    vs.meta.namespace_ = "default";
    vs.meta.name = "vs";
  }
  std::optional<router::RouteMatch> translate(const config::HTTPMatchRequest* m) {
    return translate_match(m, vs, "spec.http[0].match[0]", diagnostics);
  }
  config::VirtualService vs;
  DiagnosticSink diagnostics;
};

TEST_F(MatchTranslation, NoMatchIsPrefixSlash) {
  auto m = translate(nullptr);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->path.kind, Kind::Prefix);
  EXPECT_EQ(m->path.value, "/");
  EXPECT_TRUE(m->is_catch_all());
  config::HTTPMatchRequest empty_uri;
  empty_uri.uri = presence();
  EXPECT_TRUE(translate(&empty_uri)->is_catch_all());
}

TEST_F(MatchTranslation, IgnoreUriCaseOnlyForExactAndPrefix) {
  config::HTTPMatchRequest m = testing::uri(prefix("/A"));
  m.ignore_uri_case = true;
  EXPECT_TRUE(translate(&m)->path.ignore_case);
  m.uri = regex("/A.*");
  auto r = translate(&m);
  EXPECT_FALSE(r->path.ignore_case);
  ASSERT_NE(r->path.regex, nullptr);
}

TEST_F(MatchTranslation, HeaderMatchersInIstioOrder) {
  config::HTTPMatchRequest m;
  m.headers["X-b"] = exact("1");
  m.headers["a"] = presence();
  m.without_headers["z"] = exact("v");
  m.without_headers["y"] = presence();
  m.method = exact("GET");
  m.authority = prefix("api.");
  m.scheme = exact("https");
  auto r = translate(&m);
  ASSERT_TRUE(r);
  std::vector<std::string> names;
  for (const auto& h : r->headers) names.push_back(h.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "x-b", ":method", ":authority", ":scheme", "y", "z"}));
  EXPECT_FALSE(r->headers[0].invert);
  // withoutHeaders: presence form has no treat-missing-as-empty; value forms do.
  EXPECT_TRUE(r->headers[5].invert);
  EXPECT_FALSE(r->headers[5].treat_missing_as_empty);
  EXPECT_TRUE(r->headers[6].invert);
  EXPECT_TRUE(r->headers[6].treat_missing_as_empty);
  EXPECT_FALSE(r->is_catch_all());
}

TEST_F(MatchTranslation, PseudoHeaderKeysReadTheRequest) {
  // headers/withoutHeaders keys naming pseudo-headers get their source at compile time.
  config::HTTPMatchRequest m;
  m.headers[":path"] = prefix("/a");
  m.headers[":method"] = exact("GET");
  m.headers[":authority"] = exact("a.com");
  m.headers[":scheme"] = exact("http");
  m.headers[":status"] = presence();
  m.headers["x_weird!#$"] = exact("1");
  m.without_headers[":path"] = prefix("/admin");
  m.method = exact("GET");
  auto r = translate(&m);
  ASSERT_TRUE(r);
  std::map<std::string, router::HeaderSource> sources;
  for (const auto& h : r->headers) {
    if (!h.invert) sources[h.name] = h.source;
  }
  EXPECT_EQ(sources[":path"], router::HeaderSource::Path);
  EXPECT_EQ(sources[":method"], router::HeaderSource::Method);
  EXPECT_EQ(sources[":authority"], router::HeaderSource::Authority);
  EXPECT_EQ(sources[":scheme"], router::HeaderSource::Scheme);
  EXPECT_EQ(sources[":status"], router::HeaderSource::None);
  EXPECT_EQ(sources["x_weird!#$"], router::HeaderSource::Header);
  EXPECT_EQ(r->headers.back().name, ":path");
  EXPECT_TRUE(r->headers.back().invert);
  EXPECT_EQ(r->headers.back().source, router::HeaderSource::Path);

  http::HeaderMap headers;
  headers.add("x_weird!#$", "1");
  router::RequestView view{"GET", "/a/b", "q=1", "a.com", "http", &headers, "/a/b?q=1"};
  m.headers.erase(":status");
  r = translate(&m);
  EXPECT_TRUE(r->matches(view));
  view.path_and_query = "/b";
  EXPECT_FALSE(r->matches(view));
}

TEST_F(MatchTranslation, QueryParams) {
  config::HTTPMatchRequest m;
  m.query_params["id"] = regex("\\d+");
  auto r = translate(&m);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->query_params.size(), 1u);
  EXPECT_EQ(r->query_params[0].name, "id");
  EXPECT_FALSE(r->is_catch_all());
}

TEST_F(MatchTranslation, InvalidRegexIsAnErrorNamingTheField) {
  config::HTTPMatchRequest m;
  m.headers["x-a"] = regex("[");
  EXPECT_FALSE(translate(&m));
  ASSERT_EQ(diagnostics.diagnostics().size(), 1u);
  EXPECT_EQ(diagnostics.diagnostics()[0].field, "spec.http[0].match[0].headers.x-a.regex");
  EXPECT_EQ(diagnostics.diagnostics()[0].severity, config::Diagnostic::Severity::Error);
}

TEST_F(MatchTranslation, PseudoHeaderKeysWarn) {
  config::HTTPMatchRequest m;
  m.headers["authority"] = exact("a.com");
  auto r = translate(&m);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers[0].name, "authority");  // a literal header, as istiod emits it
  ASSERT_EQ(diagnostics.diagnostics().size(), 1u);
  EXPECT_EQ(diagnostics.diagnostics()[0].severity, config::Diagnostic::Severity::Warning);
}

}  // namespace
}  // namespace torii::compile
