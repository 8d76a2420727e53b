// The control thread's work: read every config file, keep the last good
// version of each object (Store), compile a Snapshot and hand it to the data
// plane. Bad objects are reported and skipped; everything else keeps serving.
#pragma once

#include <set>
#include <string>

#include "admin/config_state.h"
#include "cli/options.h"
#include "config/store.h"
#include "proxy/server.h"

namespace torii::cli {

class ControlPlane {
 public:
  ControlPlane(const Options& options, proxy::Server& server, admin::ConfigStateHolder& state);

  // Loads, validates, compiles and publishes. Logs problems it has not logged
  // before (so an unchanged bad file is not reported on every reload).
  void reload();

 private:
  const Options& options_;
  proxy::Server& server_;
  admin::ConfigStateHolder& state_;
  config::Store store_;
  uint64_t version_ = 0;
  std::set<std::string> logged_;  // formatted diagnostics already logged
};

// Loads and compiles without serving; what `torii validate` and the first
// reload share.
struct Compiled {
  config::Store::Result store;
  compile::CompileResult compiled;
};
Compiled load_and_compile(const Options& options, config::Store& store);

}  // namespace torii::cli
