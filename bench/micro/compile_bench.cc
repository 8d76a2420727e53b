// The compile of a large config, cold and incremental (issue 17): the
// `hosts` config of `bench/compare scale` (bench/benchlib/scale_configs.py):
// N VirtualServices (one host, one route each) on one Gateway, to N/2
// Kubernetes Services (a WorkloadEntry each, selected by label) and N/2
// ServiceEntries (one endpoint each).
//
//   CompileCold:           every cluster and route built (startup, or any
//                          change to a Service/ServiceEntry/DestinationRule).
//   CompileRouteChanged:   one VirtualService differs from the last compile;
//                          clusters and the other virtual hosts come from the
//                          CompileCache.
//   CompileServiceChanged: one ServiceEntry differs; the cache is dropped.
//
//   torii_micro_bench --benchmark_filter=Compile
//
// Instructions (repeatable, unlike times on a shared machine): with
// --benchmark_min_time=0 each benchmark runs one iteration, so
//   valgrind --tool=callgrind --toggle-collect='torii::compile::compile(*' \
//     torii_micro_bench --benchmark_filter=BM_CompileRouteChanged/10000 --benchmark_min_time=0
// counts one cold compile (the cache's first) and one incremental one;
// BM_CompileServiceChanged counts two cold ones with the cache.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "compile/compile_cache.h"
#include "compile/compiler.h"
#include "config/resources.h"

namespace {

using namespace torii;

config::ObjectMeta meta(const std::string& name, int64_t order) {
  config::ObjectMeta m;
  m.namespace_ = "bench";
  m.name = name;
  m.load_order = order;
  m.source.file = "bench.yaml";
  return m;
}

std::shared_ptr<const config::VirtualService> virtual_service(int i, const std::string& extra_host = "") {
  config::VirtualService vs;
  vs.meta = meta("vs-" + std::to_string(i), 2 * i + 2);
  vs.hosts = {"h" + std::to_string(i) + ".bench.example"};
  if (!extra_host.empty()) vs.hosts.push_back(extra_host);
  vs.gateways = {"bench-gateway"};
  config::HTTPRoute rule;
  config::HTTPRouteDestination destination;
  destination.destination.host = "svc-" + std::to_string(i) + (i % 2 == 0 ? "" : ".bench.external");
  destination.destination.port.number = 80;
  rule.route.push_back(destination);
  vs.http.push_back(rule);
  return std::make_shared<const config::VirtualService>(std::move(vs));
}

std::shared_ptr<const config::ServiceEntry> service_entry(int i, uint32_t endpoint_port = 8080) {
  config::ServiceEntry se;
  se.meta = meta("se-" + std::to_string(i), 2 * i + 3);
  se.hosts = {"svc-" + std::to_string(i) + ".bench.external"};
  se.ports = {config::Port{80, "HTTP", "http", 0}};
  se.resolution = "STATIC";
  config::WorkloadEntry endpoint;
  endpoint.address = "127.0.0." + std::to_string(1 + i % 200);
  endpoint.ports = {{"http", endpoint_port}};
  se.endpoints.push_back(endpoint);
  return std::make_shared<const config::ServiceEntry>(std::move(se));
}

void add_k8s_service(config::ResourceSet& set, int i) {
  config::Service service;
  service.meta = meta("svc-" + std::to_string(i), 2 * i + 3);
  config::ServicePort port;
  port.name = "http";
  port.port = 80;
  port.target_port = 8080;
  service.ports = {port};
  service.selector = config::Labels{{"app", "svc-" + std::to_string(i)}};
  service.type = "ClusterIP";
  set.services.push_back(std::move(service));
  config::WorkloadEntry endpoint;
  endpoint.meta = meta("we-" + std::to_string(i), 2 * i + 3);
  endpoint.address = "127.0.0.1";
  endpoint.labels = {{"app", "svc-" + std::to_string(i)}};
  set.workload_entries.push_back(std::move(endpoint));
}

// Two configs of `n` services that share every object but one.
struct Configs {
  config::ResourceSet a, b;
};

enum class Differ { VirtualService, ServiceEntry };

Configs configs(int n, Differ differ) {
  config::ResourceSet base;
  config::Gateway gateway;
  gateway.meta = meta("bench-gateway", 1);
  gateway.selector = {{"istio", "ingressgateway"}};
  config::Server server;
  server.port = config::Port{80, "HTTP", "http", 0};
  server.hosts = {"*"};
  gateway.servers.push_back(server);
  base.gateways.push_back(std::move(gateway));
  Configs out{base, base};
  const int changed = n / 2;
  for (int i = 0; i < n; ++i) {
    auto vs = virtual_service(i);
    out.a.virtual_services.push_back(vs);
    if (i == changed && differ == Differ::VirtualService) vs = virtual_service(i, "edited.bench.example");
    out.b.virtual_services.push_back(vs);
    if (i % 2 == 1) {
      auto se = service_entry(i);
      out.a.service_entries.push_back(se);
      if (i == changed + 1 && differ == Differ::ServiceEntry) se = service_entry(i, 9090);
      out.b.service_entries.push_back(se);
    }
  }
  // Shared by both: built once, so the two sets hold the same objects.
  config::ResourceSet services;
  for (int i = 0; i < n; i += 2) add_k8s_service(services, i);
  out.a.services = out.b.services = services.services;
  out.a.workload_entries = out.b.workload_entries = services.workload_entries;
  return out;
}

void BM_CompileCold(benchmark::State& state) {
  const Configs c = configs(static_cast<int>(state.range(0)), Differ::VirtualService);
  for (auto _ : state) benchmark::DoNotOptimize(compile::compile(c.a, compile::GatewayIdentity{}));
}
BENCHMARK(BM_CompileCold)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Alternates between the two configs, as edits back and forth would.
void run_alternating(benchmark::State& state, Differ differ) {
  const Configs c = configs(static_cast<int>(state.range(0)), differ);
  compile::CompileCache cache;
  compile::compile(c.a, compile::GatewayIdentity{}, {}, &cache);
  bool flip = false;
  size_t shared = 0, vhosts_shared = 0;
  for (auto _ : state) {
    flip = !flip;
    compile::CompileResult result =
        compile::compile(flip ? c.b : c.a, compile::GatewayIdentity{}, {}, &cache);
    shared = result.clusters_shared;
    vhosts_shared = result.virtual_hosts_shared;
    benchmark::DoNotOptimize(result);
  }
  state.counters["clusters_shared"] = static_cast<double>(shared);
  state.counters["vhosts_shared"] = static_cast<double>(vhosts_shared);
}

void BM_CompileRouteChanged(benchmark::State& state) { run_alternating(state, Differ::VirtualService); }
BENCHMARK(BM_CompileRouteChanged)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_CompileServiceChanged(benchmark::State& state) { run_alternating(state, Differ::ServiceEntry); }
BENCHMARK(BM_CompileServiceChanged)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
