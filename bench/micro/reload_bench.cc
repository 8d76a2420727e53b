// A reload's read and Store phases with many objects loaded (issue 17): the
// loader through its LoadCache, then Store::apply, as ControlPlane::reload
// runs them. The config is files of 1,000 VirtualService documents each (as
// bench/benchlib/scale_configs.py writes them); every iteration replaces one
// small file by a rename, with new content each time, so the load parses one
// document and reuses all the others.
//
//   ReloadOneDocument/N: N objects besides the changed one.
//
//   torii_micro_bench --benchmark_filter=Reload
//
// Instructions (repeatable, unlike times on a shared machine):
//   valgrind --tool=callgrind --toggle-collect='torii::config::Store::apply(*' \
//     --toggle-collect='torii::config::load_paths(*' \
//     torii_micro_bench --benchmark_filter=BM_ReloadOneDocument/25000 --benchmark_min_time=0
// counts the first load (every document parsed) and one reload.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.h"
#include "config/store.h"

namespace {

using namespace torii;
namespace fs = std::filesystem;

std::string virtual_service(size_t i, const std::string& host) {
  return "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: vs-" +
         std::to_string(i) + "\nspec:\n  hosts:\n  - " + host +
         "\n  gateways:\n  - bench-gateway\n  http:\n  - route:\n    - destination:\n        host: svc-" +
         std::to_string(i) + "\n        port:\n          number: 80\n";
}

void write_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream(tmp) << text;
  fs::rename(tmp, path);
}

void BM_ReloadOneDocument(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const fs::path dir = fs::temp_directory_path() / ("torii_reload_bench_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  constexpr size_t kPerFile = 1000;
  for (size_t start = 0; start < n; start += kPerFile) {
    std::string text;
    for (size_t i = start; i < std::min(n, start + kPerFile); ++i)
      text += (i == start ? "" : "---\n") + virtual_service(i, "h" + std::to_string(i) + ".bench.example");
    char name[32];
    std::snprintf(name, sizeof name, "vs-%05zu.yaml", start);
    std::ofstream(dir / name) << text;
  }
  const fs::path probe = dir / "zz-probe.yaml";
  write_atomic(probe, virtual_service(n, "probe-0.bench.example"));

  config::LoadCache cache;
  config::Store store;
  const config::LoadOptions options;
  store.apply(config::load_paths({dir.string()}, options, &cache));
  size_t k = 0;
  for (auto _ : state) {
    state.PauseTiming();
    write_atomic(probe, virtual_service(n, "probe-" + std::to_string(++k) + ".bench.example"));
    state.ResumeTiming();
    config::Store::Result result = store.apply(config::load_paths({dir.string()}, options, &cache));
    benchmark::DoNotOptimize(result);
    if (cache.stats().parsed != 1) state.SkipWithError("more than the changed document was parsed");
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_ReloadOneDocument)->Arg(1000)->Arg(25000)->Unit(benchmark::kMillisecond);

}  // namespace
