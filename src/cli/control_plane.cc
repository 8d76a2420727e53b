#include "cli/control_plane.h"

#include <chrono>

#include "cli/log.h"

namespace torii::cli {

Compiled load_and_compile(const Options& options, config::Store& store) {
  Compiled out;
  out.store = store.apply(config::load_paths(options.config_paths, options.load));
  out.compiled = compile::compile(out.store.resources, options.identity);
  return out;
}

ControlPlane::ControlPlane(const Options& options, proxy::Server& server, admin::ConfigStateHolder& state)
    : options_(options), server_(server), state_(state) {}

void ControlPlane::reload() {
  auto started = std::chrono::steady_clock::now();
  Compiled c = load_and_compile(options_, store_);

  config::Diagnostics all = c.store.diagnostics;
  all.insert(all.end(), c.compiled.diagnostics.begin(), c.compiled.diagnostics.end());
  std::set<std::string> now;
  for (const auto& d : all) {
    std::string line = d.format();
    now.insert(line);
    if (logged_.count(line)) continue;
    if (d.severity == config::Diagnostic::Severity::Error) {
      log_error(line);
    } else {
      log_info(line);
    }
  }
  logged_ = std::move(now);

  c.compiled.snapshot->version = ++version_;
  compile::SnapshotPtr snapshot = c.compiled.snapshot;
  std::vector<std::string> listener_errors = server_.publish(snapshot);
  for (const auto& e : listener_errors) log_error(e);

  admin::ConfigState state;
  state.snapshot = snapshot;
  state.objects = std::move(c.store.objects);
  state.diagnostics = std::move(all);
  state.listener_errors = std::move(listener_errors);
  state.reloads = version_;
  state.last_reload = utc_now_rfc3339();
  state_.set(std::move(state));

  auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  log_info("config version " + std::to_string(version_) +
           " serving: " + std::to_string(snapshot->listeners.size()) + " listener(s), " +
           std::to_string(snapshot->clusters.size()) + " cluster(s), compiled in " +
           std::to_string(ms.count() / 1000.0) + " ms");
}

}  // namespace torii::cli
