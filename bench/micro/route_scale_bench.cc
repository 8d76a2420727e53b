// Route matching as the route table grows: 1, 100 and 10,000 routes or
// virtual hosts, the request always hitting the LAST one declared (the worst
// case for a first-match walk; issue 6 wants 10,000 routes to cost <= 5% of
// throughput, so the 10,000 rows should stay close to the 1 rows).
//
//   torii_micro_bench --benchmark_filter=RouteScale
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "http/header_map.h"
#include "router/route_table.h"

namespace {

using torii::router::RequestView;
using torii::router::Route;
using torii::router::RouteTable;
using torii::router::StringMatcher;
using torii::router::VirtualHost;
using torii::router::WeightedCluster;

Route route_to(StringMatcher::Kind kind, const std::string& value) {
  Route route;
  route.match.path.kind = kind;
  route.match.path.value = value;
  if (kind == StringMatcher::Kind::Regex) route.match.path.regex = std::make_shared<re2::RE2>(value);
  route.action.clusters.push_back(WeightedCluster{"outbound|80||svc", nullptr, 1});
  route.action.total_weight = 1;
  return route;
}

// One virtual host with `n` routes; route i matches /svc<i>/... (prefix, or
// the regex /svc<i>/items/[0-9]+).
void run_walk(benchmark::State& state, StringMatcher::Kind kind) {
  const int n = static_cast<int>(state.range(0));
  RouteTable table;
  VirtualHost& vhost = table.add_virtual_host("a.com");
  for (int i = 0; i < n; ++i) {
    std::string base = "/svc" + std::to_string(i) + "/";
    vhost.routes.push_back(route_to(kind, kind == StringMatcher::Kind::Regex ? base + "items/[0-9]+" : base));
  }
  table.finalize();
  torii::http::HeaderMap headers;
  std::string path = "/svc" + std::to_string(n - 1) + "/items/42";
  RequestView request{"GET", path, "", "a.com", "http", &headers};
  if (table.route(request) != &vhost.routes.back()) state.SkipWithError("the last route did not match");
  for (auto _ : state) benchmark::DoNotOptimize(table.route(request));
}

void BM_RouteScalePrefix(benchmark::State& state) { run_walk(state, StringMatcher::Kind::Prefix); }
BENCHMARK(BM_RouteScalePrefix)->Arg(1)->Arg(100)->Arg(10000);

void BM_RouteScaleRegex(benchmark::State& state) { run_walk(state, StringMatcher::Kind::Regex); }
BENCHMARK(BM_RouteScaleRegex)->Arg(1)->Arg(100)->Arg(10000);

// `n` virtual hosts h<i>.example.com with one route each; the request goes to
// the last host (with a port, as clients send it).
void BM_RouteScaleHosts(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  RouteTable table;
  for (int i = 0; i < n; ++i) {
    table.add_virtual_host("h" + std::to_string(i) + ".example.com")
        .routes.push_back(route_to(StringMatcher::Kind::Prefix, "/"));
  }
  table.finalize();
  torii::http::HeaderMap headers;
  std::string host = "h" + std::to_string(n - 1) + ".example.com:8080";
  RequestView request{"GET", "/items/42", "", host, "http", &headers};
  if (table.route(request) == nullptr) state.SkipWithError("no route for the last host");
  for (auto _ : state) benchmark::DoNotOptimize(table.route(request));
}
BENCHMARK(BM_RouteScaleHosts)->Arg(1)->Arg(100)->Arg(10000);

}  // namespace
