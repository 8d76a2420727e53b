// Route matching on the request path: virtual-host lookup and first-match
// route walk (src/router/). Tables are built directly with the router API so
// the numbers isolate matching from compilation.
//
//   torii_micro_bench --benchmark_filter=Route
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "http/header_map.h"
#include "router/route_table.h"

namespace {

using torii::router::HeaderMatcher;
using torii::router::QueryParamMatcher;
using torii::router::RequestView;
using torii::router::Route;
using torii::router::RouteTable;
using torii::router::StringMatcher;
using torii::router::VirtualHost;
using torii::router::WeightedCluster;

StringMatcher matcher(StringMatcher::Kind kind, std::string value) {
  StringMatcher m;
  m.kind = kind;
  m.value = std::move(value);
  if (kind == StringMatcher::Kind::Regex) m.regex = std::make_shared<re2::RE2>(m.value);
  return m;
}

Route prefix_route(const std::string& prefix) {
  Route route;
  route.match.path = matcher(StringMatcher::Kind::Prefix, prefix);
  route.action.clusters.push_back(WeightedCluster{"outbound|80||svc" + prefix, nullptr, 1});
  route.action.total_weight = 1;
  return route;
}

// `hosts` exact domains h<i>.example.com, as many `*.w<i>.example.com`
// wildcards, and `*`; each vhost has one catch-all route.
std::unique_ptr<RouteTable> make_domain_table(int hosts) {
  auto table = std::make_unique<RouteTable>();
  for (int i = 0; i < hosts; ++i) {
    table->add_virtual_host("h" + std::to_string(i) + ".example.com").routes.push_back(prefix_route("/"));
    table->add_virtual_host("*.w" + std::to_string(i) + ".example.com").routes.push_back(prefix_route("/"));
  }
  table->add_virtual_host("*").routes.push_back(prefix_route("/"));
  table->finalize();
  return table;
}

void BM_RouteFindVirtualHostExact(benchmark::State& state) {
  auto table = make_domain_table(static_cast<int>(state.range(0)));
  std::string host = "H" + std::to_string(state.range(0) / 2) + ".example.com:8080";
  for (auto _ : state) benchmark::DoNotOptimize(table->find_virtual_host(host));
}
BENCHMARK(BM_RouteFindVirtualHostExact)->Arg(10)->Arg(1000);

void BM_RouteFindVirtualHostWildcard(benchmark::State& state) {
  auto table = make_domain_table(static_cast<int>(state.range(0)));
  std::string host = "api.v2.w" + std::to_string(state.range(0) / 2) + ".example.com";
  for (auto _ : state) benchmark::DoNotOptimize(table->find_virtual_host(host));
}
BENCHMARK(BM_RouteFindVirtualHostWildcard)->Arg(10)->Arg(1000);

void BM_RouteFindVirtualHostStar(benchmark::State& state) {
  auto table = make_domain_table(static_cast<int>(state.range(0)));
  std::string host = "unknown.host.org";
  for (auto _ : state) benchmark::DoNotOptimize(table->find_virtual_host(host));
}
BENCHMARK(BM_RouteFindVirtualHostStar)->Arg(10)->Arg(1000);

// One vhost with `routes` prefix routes /svc<i>/; the request hits the last.
void BM_RoutePrefixWalk(benchmark::State& state) {
  RouteTable table;
  VirtualHost& vhost = table.add_virtual_host("a.com");
  for (int i = 0; i < state.range(0); ++i)
    vhost.routes.push_back(prefix_route("/svc" + std::to_string(i) + "/"));
  table.finalize();
  torii::http::HeaderMap headers;
  std::string path = "/svc" + std::to_string(state.range(0) - 1) + "/items/42";
  RequestView request{"GET", path, "", "a.com", "http", &headers};
  for (auto _ : state) benchmark::DoNotOptimize(table.route(request));
  state.SetItemsProcessed(state.iterations() * state.range(0));  // routes examined
}
BENCHMARK(BM_RoutePrefixWalk)->Arg(1)->Arg(10)->Arg(100);

// A typical "API" route: regex path, two header matchers (one inverted),
// :method, a query regex; the request has a dozen headers.
void BM_RouteFullMatchers(benchmark::State& state) {
  RouteTable table;
  VirtualHost& vhost = table.add_virtual_host("api.example.com");
  Route route = prefix_route("/");
  route.match.path = matcher(StringMatcher::Kind::Regex, "/api/v[0-9]+/items/[0-9]+");
  HeaderMatcher tenant;
  tenant.name = "x-tenant";
  tenant.value = matcher(StringMatcher::Kind::Prefix, "gold");
  HeaderMatcher debug;
  debug.name = "x-debug";
  debug.value = matcher(StringMatcher::Kind::Exact, "1");
  debug.invert = true;
  debug.treat_missing_as_empty = true;
  HeaderMatcher method;
  method.name = ":method";
  method.source = torii::router::HeaderSource::Method;  // as the compiler resolves it
  method.value = matcher(StringMatcher::Kind::Exact, "GET");
  route.match.headers = {tenant, debug, method};
  route.match.query_params.push_back(QueryParamMatcher{"page", matcher(StringMatcher::Kind::Regex, "\\d+")});
  vhost.routes.push_back(route);
  table.finalize();

  torii::http::HeaderMap headers;
  for (const char* name :
       {"accept", "accept-encoding", "accept-language", "cache-control", "cookie", "referer", "user-agent",
        "x-forwarded-for", "x-request-id", "traceparent", "x-tenant"}) {
    headers.add(name, std::string(name) == "x-tenant" ? "golden" : "some-value-of-moderate-length");
  }
  RequestView request{"GET", "/api/v2/items/42", "sort=asc&page=3", "api.example.com", "https", &headers};
  for (auto _ : state) benchmark::DoNotOptimize(table.route(request));
}
BENCHMARK(BM_RouteFullMatchers);

void BM_RouteWeightedPick(benchmark::State& state) {
  torii::router::RouteAction action;
  for (int i = 0; i < state.range(0); ++i) {
    action.clusters.push_back(
        WeightedCluster{"c" + std::to_string(i), nullptr, static_cast<uint32_t>(i + 1)});
    action.total_weight += static_cast<uint64_t>(i + 1);
  }
  uint64_t random = 0x9e3779b97f4a7c15ULL;
  for (auto _ : state) {
    random = random * 6364136223846793005ULL + 1442695040888963407ULL;
    benchmark::DoNotOptimize(&action.pick(random));
  }
}
BENCHMARK(BM_RouteWeightedPick)->Arg(2)->Arg(10);

}  // namespace
