#include <cstdio>

#include "cli/commands.h"
#include "cli/control_plane.h"

namespace torii::cli {

int validate_command(const Options& options) {
  config::Store store;
  Compiled c = load_and_compile(options, store);
  config::Diagnostics all = c.store.diagnostics;
  all.insert(all.end(), c.compiled.diagnostics.begin(), c.compiled.diagnostics.end());
  size_t errors = 0, warnings = 0;
  for (const auto& d : all) {
    std::printf("%s\n", d.format().c_str());
    errors += d.severity == config::Diagnostic::Severity::Error;
    warnings += d.severity == config::Diagnostic::Severity::Warning;
  }
  // Gateway API status as a controller would write it (compile/gateway_api_status.h).
  if (!c.compiled.snapshot->gateway_api_status.empty())
    std::printf("# Gateway API status\n%s", c.compiled.snapshot->gateway_api_status.c_str());
  size_t objects = 0;
  for (const auto& o : c.store.objects) objects += o->in_force ? 1 : 0;
  const auto& snap = *c.compiled.snapshot;
  // The summary is the last line of stdout, after the diagnostics it counts
  // (on stderr it came out before them whenever stdout was a pipe).
  std::printf("%zu object(s) accepted, %zu error(s), %zu warning(s); %zu listener(s), %zu cluster(s)\n",
              objects, errors, warnings, snap.listeners.size(), snap.clusters.size());
  return errors > 0 ? 1 : 0;
}

}  // namespace torii::cli
