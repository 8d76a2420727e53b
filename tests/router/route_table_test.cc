// Virtual host selection and route actions (ISTIO_SEMANTICS §0.7, §3.4, §3.5).
#include "router/route_table.h"

#include <gtest/gtest.h>

#include <map>

namespace torii::router {
namespace {

RouteTable table_of(std::initializer_list<const char*> domains) {
  RouteTable t;
  for (const char* d : domains) t.add_virtual_host(d);
  t.finalize();
  return t;
}

std::string found(const RouteTable& t, std::string_view host) {
  const VirtualHost* v = t.find_virtual_host(host);
  return v == nullptr ? "none" : v->domain;
}

TEST(StripPort, Forms) {
  EXPECT_EQ(strip_port("a.com:8080"), "a.com");
  EXPECT_EQ(strip_port("a.com"), "a.com");
  EXPECT_EQ(strip_port("[::1]:80"), "[::1]");
  EXPECT_EQ(strip_port("[::1]"), "[::1]");
  EXPECT_EQ(strip_port("::1"), "::1");                // bare IPv6: no port
  EXPECT_EQ(strip_port("a.com:http"), "a.com:http");  // only numeric ports are stripped
  EXPECT_EQ(strip_port("a.com:"), "a.com:");
  EXPECT_EQ(strip_port(""), "");
  EXPECT_EQ(strip_port("[::1"), "[::1");          // no "]": left alone
  EXPECT_EQ(strip_port("[::1]x80"), "[::1]x80");  // junk after "]": left alone
  EXPECT_EQ(strip_port("[]:80"), "[]");
}

TEST(FindVirtualHost, ExactThenLongestSuffixThenStar) {
  RouteTable t = table_of({"*", "*.com", "*.foo.com", "a.foo.com", "*.b.foo.com"});
  EXPECT_EQ(found(t, "a.foo.com"), "a.foo.com");
  EXPECT_EQ(found(t, "x.foo.com"), "*.foo.com");
  EXPECT_EQ(found(t, "x.b.foo.com"), "*.b.foo.com");
  EXPECT_EQ(found(t, "x.y.b.foo.com"), "*.b.foo.com");  // any depth
  EXPECT_EQ(found(t, "foo.com"), "*.com");              // `*.foo.com` does not match `foo.com`
  EXPECT_EQ(found(t, "b.foo.com"), "*.foo.com");
  EXPECT_EQ(found(t, "example.org"), "*");
  EXPECT_EQ(found(t, "localhost"), "*");
}

TEST(FindVirtualHost, PortAndCaseAreIgnored) {
  RouteTable t = table_of({"a.com", "*.b.com"});
  EXPECT_EQ(found(t, "A.Com:8443"), "a.com");
  EXPECT_EQ(found(t, "X.B.COM:80"), "*.b.com");
  EXPECT_EQ(found(t, "b.com"), "none");
  EXPECT_EQ(found(t, ".b.com"), "none");  // the wildcard must cover at least one character
}

TEST(FindVirtualHost, LongHostsAndIpv6) {
  RouteTable t = table_of({"*.foo.com", "[::1]"});
  std::string long_host(300, 'A');
  long_host += ".foo.com";
  EXPECT_EQ(found(t, long_host), "*.foo.com");
  EXPECT_EQ(found(t, "[::1]:8080"), "[::1]");
}

TEST(FindVirtualHost, NonDotWildcardSuffixes) {
  // Envoy allows `*-suffix` domains; Istio never generates them, but the
  // table still honours longest-suffix-wins across both forms.
  RouteTable t = table_of({"*-api.foo.com", "*.foo.com"});
  EXPECT_EQ(found(t, "v1-api.foo.com"), "*-api.foo.com");
  EXPECT_EQ(found(t, "v1.foo.com"), "*.foo.com");
  EXPECT_EQ(found(t, "-api.foo.com"), "*.foo.com");
}

TEST(RouteTable, AddVirtualHostReturnsTheExistingOne) {
  RouteTable t;
  VirtualHost& a = t.add_virtual_host("a.com");
  a.require_tls = true;
  EXPECT_EQ(&t.add_virtual_host("a.com"), &a);
  t.finalize();
  EXPECT_EQ(t.virtual_hosts().size(), 1u);
  EXPECT_EQ(t.find_domain("a.com"), &a);
  EXPECT_EQ(t.find_domain("b.com"), nullptr);
}

Route prefix_route(std::string prefix, std::string name) {
  Route r;
  r.match.path.kind = StringMatcher::Kind::Prefix;
  r.match.path.value = std::move(prefix);
  r.action.clusters.push_back(WeightedCluster{name, nullptr, 1});
  r.action.total_weight = 1;
  r.name = std::move(name);
  return r;
}

TEST(RouteTable, FirstMatchingRouteWins) {
  RouteTable t;
  VirtualHost& v = t.add_virtual_host("a.com");
  v.routes.push_back(prefix_route("/api", "api"));
  v.routes.push_back(prefix_route("/", "all"));
  v.routes.push_back(prefix_route("/api/v2", "never"));
  t.add_virtual_host("b.com");
  t.finalize();
  http::HeaderMap headers;
  RequestView request{"GET", "/api/v2", "", "a.com", "http", &headers};
  ASSERT_NE(t.route(request), nullptr);
  EXPECT_EQ(t.route(request)->name, "api");
  request.path = "/x";
  EXPECT_EQ(t.route(request)->name, "all");
  request.authority = "b.com";
  EXPECT_EQ(t.route(request), nullptr);  // vhost without routes => 404
  request.authority = "c.com";
  EXPECT_EQ(t.route(request), nullptr);  // no vhost => 404
}

TEST(RouteAction, PickByCumulativeWeight) {
  RouteAction action;
  action.clusters = {{"a", nullptr, 1}, {"b", nullptr, 3}, {"c", nullptr, 6}};
  action.total_weight = 10;
  std::map<std::string, int> picks;
  for (uint64_t random = 0; random < 1000; ++random) picks[action.pick(random).name]++;
  EXPECT_EQ(picks["a"], 100);
  EXPECT_EQ(picks["b"], 300);
  EXPECT_EQ(picks["c"], 600);
  EXPECT_EQ(action.pick(0).name, "a");
  EXPECT_EQ(action.pick(1).name, "b");
  EXPECT_EQ(action.pick(4).name, "c");
  EXPECT_EQ(action.pick(UINT64_MAX).name, action.pick(UINT64_MAX % 10).name);
}

TEST(RouteAction, SingleCluster) {
  RouteAction action;
  action.clusters = {{"only", nullptr, 10}};
  action.total_weight = 10;
  for (uint64_t random = 0; random < 20; ++random) EXPECT_EQ(action.pick(random).name, "only");
}

}  // namespace
}  // namespace torii::router
