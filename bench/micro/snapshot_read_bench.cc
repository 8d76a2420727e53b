// The snapshot read every request does before routing (ActiveStream: copy the
// worker's SnapshotPtr, find the listener by name, find the virtual host by
// Host, match a route), with 1, 100 and 10,000 virtual hosts in the snapshot.
// The shared_ptr copy is an atomic increment/decrement on a count shared
// with the control thread only at reloads (workers hold their own copy).
//
//   torii_micro_bench --benchmark_filter=Snapshot
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "compile/snapshot.h"
#include "http/header_map.h"
#include "router/route_table.h"

namespace {

using torii::compile::Listener;
using torii::compile::Snapshot;
using torii::compile::SnapshotPtr;
using torii::router::RequestView;
using torii::router::Route;
using torii::router::RouteTable;
using torii::router::StringMatcher;
using torii::router::WeightedCluster;

SnapshotPtr make_snapshot(int hosts) {
  auto table = std::make_shared<RouteTable>();
  for (int i = 0; i < hosts; ++i) {
    Route route;
    route.match.path.kind = StringMatcher::Kind::Prefix;
    route.match.path.value = "/";
    route.action.clusters.push_back(WeightedCluster{"outbound|80||svc-" + std::to_string(i), nullptr, 1});
    route.action.total_weight = 1;
    table->add_virtual_host("h" + std::to_string(i) + ".example.com").routes.push_back(route);
  }
  table->finalize();
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = 1;
  // an HTTPS listener first, as a gateway with both has: the lookup walks past it
  for (const char* name : {"0.0.0.0_443", "0.0.0.0_80"}) {
    Listener listener;
    listener.name = name;
    listener.protocol = "HTTP";
    listener.routes = table;
    snapshot->listeners.push_back(std::move(listener));
  }
  return snapshot;
}

void BM_SnapshotRead(benchmark::State& state) {
  const int hosts = static_cast<int>(state.range(0));
  const SnapshotPtr worker_snapshot = make_snapshot(hosts);  // what Worker::snapshot() returns
  const std::string listener_name = "0.0.0.0_80";            // DownstreamConnection::listener_name()
  torii::http::HeaderMap headers;
  std::string host = "h" + std::to_string(hosts - 1) + ".example.com";
  RequestView request{"GET", "/items/42", "", host, "http", &headers};
  for (auto _ : state) {
    SnapshotPtr snapshot = worker_snapshot;  // ActiveStream keeps its own reference
    const Listener* listener = snapshot->find_listener(listener_name);
    const torii::router::VirtualHost* vhost = listener->routes->find_virtual_host(request.authority);
    benchmark::DoNotOptimize(vhost->match(request));
  }
}
BENCHMARK(BM_SnapshotRead)->Arg(1)->Arg(100)->Arg(10000);

void BM_SnapshotPtrCopy(benchmark::State& state) {
  const SnapshotPtr worker_snapshot = make_snapshot(1);
  for (auto _ : state) {
    SnapshotPtr snapshot = worker_snapshot;
    benchmark::DoNotOptimize(snapshot.get());
  }
}
BENCHMARK(BM_SnapshotPtrCopy);

}  // namespace
