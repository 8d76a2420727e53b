// Endpoint choice (ClusterState::choose: health filter, priority, balancer)
// for every policy, the consistent-hash key of a request, and circuit-breaker
// admission (src/upstream/).
//
//   torii_micro_bench --benchmark_filter='Lb|Hash|CircuitBreaker'
#include <benchmark/benchmark.h>

#include <string>

#include "http/header_map.h"
#include "upstream/circuit_breaker.h"
#include "upstream/cluster_state.h"
#include "upstream/consistent_hash.h"
#include "upstream/hash.h"
#include "upstream/request_hash.h"

namespace {

using namespace torii::upstream;

ClusterInfo cluster(LbPolicy lb, int n, bool weighted) {
  ClusterInfo info;
  info.name = "outbound|80||bench";
  info.policy.write().lb = lb;
  for (int i = 0; i < n; ++i) {
    Endpoint e;
    e.address = "10.1.0." + std::to_string(i + 1);
    e.port = 8080;
    e.weight = e.lb_weight = weighted ? static_cast<uint32_t>(1 + i % 3) : 1;
    resolve_numeric(e);
    info.endpoints.push_back(e);
  }
  if (lb == LbPolicy::RingHash) info.hash_table = ConsistentHashTable::build_ring(info.endpoints, 1024);
  if (lb == LbPolicy::Maglev) info.hash_table = ConsistentHashTable::build_maglev(info.endpoints, 65537);
  return info;
}

void pick(benchmark::State& st, LbPolicy lb, bool weighted) {
  ClusterInfo info = cluster(lb, static_cast<int>(st.range(0)), weighted);
  ClusterState state(info.name);
  FastRandom rng(42);
  uint64_t key = 0;
  for (auto _ : st) {
    std::optional<uint64_t> hash;
    if (lb == LbPolicy::RingHash || lb == LbPolicy::Maglev) hash = (key += 0x9e3779b97f4a7c15ULL);
    benchmark::DoNotOptimize(state.choose(info, hash, rng, 1000).index);
  }
}

void BM_LbLeastRequest(benchmark::State& st) { pick(st, LbPolicy::LeastRequest, false); }
void BM_LbLeastRequestWeighted(benchmark::State& st) { pick(st, LbPolicy::LeastRequest, true); }
void BM_LbRoundRobin(benchmark::State& st) { pick(st, LbPolicy::RoundRobin, false); }
void BM_LbRoundRobinWeighted(benchmark::State& st) { pick(st, LbPolicy::RoundRobin, true); }
void BM_LbRandom(benchmark::State& st) { pick(st, LbPolicy::Random, false); }
void BM_LbRingHash(benchmark::State& st) { pick(st, LbPolicy::RingHash, false); }
void BM_LbMaglev(benchmark::State& st) { pick(st, LbPolicy::Maglev, false); }
BENCHMARK(BM_LbLeastRequest)->Arg(3)->Arg(100);
BENCHMARK(BM_LbLeastRequestWeighted)->Arg(3)->Arg(100);
BENCHMARK(BM_LbRoundRobin)->Arg(3)->Arg(100);
BENCHMARK(BM_LbRoundRobinWeighted)->Arg(3)->Arg(100);
BENCHMARK(BM_LbRandom)->Arg(3)->Arg(100);
BENCHMARK(BM_LbRingHash)->Arg(3)->Arg(100);
BENCHMARK(BM_LbMaglev)->Arg(3)->Arg(100);

void BM_HashKeyHeader(benchmark::State& st) {
  torii::http::HeaderMap headers;
  headers.add("host", "example.com");
  headers.add("x-user", "user-12345");
  headers.add("cookie", "a=b; session=\"0123456789abcdef\"; c=d");
  HashPolicy header{HashPolicy::Kind::Header, "x-user", "", -1, {}};
  for (auto _ : st)
    benchmark::DoNotOptimize(request_hash(header, RequestHashInput{&headers, "/", "", ""}, nullptr));
}
void BM_HashKeyCookie(benchmark::State& st) {
  torii::http::HeaderMap headers;
  headers.add("cookie", "a=b; session=\"0123456789abcdef\"; c=d");
  HashPolicy cookie{HashPolicy::Kind::Cookie, "session", "/", 60000, {}};
  for (auto _ : st)
    benchmark::DoNotOptimize(request_hash(cookie, RequestHashInput{&headers, "/", "", ""}, nullptr));
}
BENCHMARK(BM_HashKeyHeader);
BENCHMARK(BM_HashKeyCookie);

void BM_CircuitBreakerAdmission(benchmark::State& st) {
  static ClusterCircuitBreaker cb;  // shared by the benchmark threads, as by workers
  for (auto _ : st) {
    if (cb.try_acquire(ClusterCircuitBreaker::Resource::Requests, 1000000)) {
      cb.release(ClusterCircuitBreaker::Resource::Requests);
    }
  }
}
BENCHMARK(BM_CircuitBreakerAdmission)->Threads(1)->Threads(2);

}  // namespace
