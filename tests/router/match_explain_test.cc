// Descriptions of route conditions for `torii explain`.
#include "router/match_explain.h"

#include <gtest/gtest.h>

namespace torii::router {
namespace {

StringMatcher m(StringMatcher::Kind kind, std::string v) { return {kind, std::move(v), nullptr, false}; }

TEST(MatchExplain, DescribeAndFirstFailureInCheckOrder) {
  RouteMatch match;
  match.path = m(StringMatcher::Kind::Prefix, "/api");
  match.path.ignore_case = true;
  match.headers.push_back({"x-user", m(StringMatcher::Kind::Exact, "alice"), false, false});
  match.headers.push_back(
      {":method", m(StringMatcher::Kind::Exact, "POST"), false, false, HeaderSource::Method});
  match.headers.push_back(
      {":path", m(StringMatcher::Kind::Prefix, "/API/x?"), false, false, HeaderSource::Path});
  match.headers.push_back({"x-debug", m(StringMatcher::Kind::Exact, "1"), true, true});
  match.query_params.push_back({"id", m(StringMatcher::Kind::Presence, "")});
  EXPECT_EQ(describe(match),
            "uri prefix \"/api\" (ignore case), header x-user exact \"alice\", method exact \"POST\", "
            "header :path prefix \"/API/x?\", without header x-debug exact \"1\", query id present");

  http::HeaderMap headers;
  RequestView view{"GET", "/x", "", "a.com", "http", &headers};
  EXPECT_EQ(first_failure(match, view), "uri prefix \"/api\" (ignore case): path is \"/x\"");
  view.path = "/API/x";
  EXPECT_EQ(first_failure(match, view), "header x-user exact \"alice\": header absent");
  headers.add("x-user", "alice");
  EXPECT_EQ(first_failure(match, view), "method exact \"POST\": value is \"GET\"");
  view.method = "POST";
  view.path_and_query = "/API/x";
  EXPECT_EQ(first_failure(match, view), "header :path prefix \"/API/x?\": value is \"/API/x\"");
  view.path_and_query = "/API/x?id=";
  headers.add("x-debug", "1");
  EXPECT_EQ(first_failure(match, view), "without header x-debug exact \"1\": value \"1\" matches");
  headers.remove("x-debug");
  EXPECT_EQ(first_failure(match, view), "query id present: parameter absent");
  view.query = "id=";
  EXPECT_EQ(first_failure(match, view), "");
}

}  // namespace
}  // namespace torii::router
