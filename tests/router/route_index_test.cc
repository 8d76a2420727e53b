// RouteIndex must give exactly the route the linear walk gives (issue 6).
#include "router/route_index.h"

#include <gtest/gtest.h>

#include <random>

#include "http/header_map.h"
#include "router/route_table.h"

namespace torii::router {
namespace {

StringMatcher path_matcher(StringMatcher::Kind kind, std::string value, bool ignore_case = false) {
  StringMatcher m;
  m.kind = kind;
  m.value = std::move(value);
  m.ignore_case = ignore_case;
  if (kind == StringMatcher::Kind::Regex) m.regex = std::make_shared<re2::RE2>(m.value);
  return m;
}

Route route(StringMatcher path, int id, bool needs_header = false) {
  Route r;
  r.match.path = std::move(path);
  if (needs_header) {
    HeaderMatcher h;
    h.name = "x-v";
    h.value = path_matcher(StringMatcher::Kind::Exact, "1");
    r.match.headers.push_back(std::move(h));
  }
  r.rule_index = id;
  return r;
}

// The walk the index replaces.
const Route* linear(const std::vector<Route>& routes, const RequestView& request) {
  for (const Route& r : routes) {
    if (r.match.matches(request)) return &r;
  }
  return nullptr;
}

TEST(RouteIndex, SameAnswerAsTheWalkOnRandomTables) {
  std::mt19937 rng(7);
  const std::vector<std::string> segments = {"a", "b", "api", "API", "v1", "x", ""};
  auto random_path = [&] {
    std::string p;
    const int depth = static_cast<int>(rng() % 4);
    for (int i = 0; i < depth; ++i) p += "/" + segments[rng() % segments.size()];
    return p.empty() ? std::string("/") : p;
  };
  for (int round = 0; round < 50; ++round) {
    std::vector<Route> routes;
    const int n = 16 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const int kind = static_cast<int>(rng() % 10);
      const bool ci = rng() % 4 == 0;
      const bool header = rng() % 5 == 0;
      if (kind < 4) {
        routes.push_back(route(path_matcher(StringMatcher::Kind::Prefix, random_path(), ci), i, header));
      } else if (kind < 8) {
        routes.push_back(route(path_matcher(StringMatcher::Kind::Exact, random_path(), ci), i, header));
      } else if (kind == 8) {
        routes.push_back(route(path_matcher(StringMatcher::Kind::Regex, "/a.*"), i, header));
      } else {
        routes.push_back(route(path_matcher(StringMatcher::Kind::Prefix, ""), i, true));
      }
    }
    RouteIndex index;
    index.build(routes);
    ASSERT_TRUE(index.built());
    for (int q = 0; q < 200; ++q) {
      const std::string path = random_path() + (rng() % 3 == 0 ? "/tail" : "");
      http::HeaderMap headers;
      if (rng() % 2) headers.add("x-v", "1");
      RequestView view{"GET", path, "", "a.com", "http", &headers};
      const Route* expected = linear(routes, view);
      const Route* got = index.match(routes, view);
      ASSERT_EQ(got, expected) << "round " << round << " path " << path << " expected #"
                               << (expected ? expected->rule_index : -1) << " got #"
                               << (got ? got->rule_index : -1);
    }
  }
}

TEST(RouteIndex, ShortListsAreNotIndexed) {
  std::vector<Route> routes;
  for (int i = 0; i < 3; ++i) routes.push_back(route(path_matcher(StringMatcher::Kind::Prefix, "/p"), i));
  RouteIndex index;
  index.build(routes);
  EXPECT_FALSE(index.built());
}

TEST(RouteIndex, TenThousandPrefixesFindTheLastOne) {
  std::vector<Route> routes;
  for (int i = 0; i < 10000; ++i) {
    routes.push_back(route(path_matcher(StringMatcher::Kind::Prefix, "/svc-" + std::to_string(i) + "/"), i));
  }
  RouteIndex index;
  index.build(routes);
  http::HeaderMap headers;
  RequestView view{"GET", "/svc-9999/x", "", "a.com", "http", &headers};
  const Route* r = index.match(routes, view);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->rule_index, 9999);
  RequestView miss{"GET", "/other", "", "a.com", "http", &headers};
  EXPECT_EQ(index.match(routes, miss), nullptr);
}

}  // namespace
}  // namespace torii::router
