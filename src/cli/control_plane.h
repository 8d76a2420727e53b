// The control thread's work: read every config file, keep the last good
// version of each object (Store), compile a Snapshot and hand it to the data
// plane. Bad objects are reported and skipped; everything else keeps serving.
// Host names of DNS ServiceEntries are resolved by a DnsService; when an
// answer changes, the objects in force are compiled again (files are not
// re-read).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "admin/config_state.h"
#include "cli/options.h"
#include "compile/compile_cache.h"
#include "config/store.h"
#include "dns/dns_service.h"
#include "net/unique_fd.h"
#include "proxy/server.h"
#include "security/jwks_fetch.h"

namespace torii::cli {

class ControlPlane {
 public:
  ControlPlane(const Options& options, proxy::Server& server, admin::ConfigStateHolder& state);
  ~ControlPlane();

  // Loads, validates, compiles and publishes. Logs problems it has not logged
  // before (so an unchanged bad file is not reported on every reload).
  // `trigger` and `detected_us` (wall clock; 0: now) go to the reload
  // history: what asked for the reload, and when it was noticed.
  void reload(const char* trigger = "startup", int64_t detected_us = 0);

  // Objects read from etcd (sources/etcd_source.h), loaded with the files at
  // every reload from now on.
  void set_etcd_objects(std::vector<config::NamedText> objects) { etcd_objects_ = std::move(objects); }
  // For /ready: nothing read from etcd nor a cache yet (503), or what it
  // says besides LIVE while etcd is unreachable (empty: nothing).
  void set_etcd_health(bool waiting, const std::string& stale_note);
  // The first error of the last load + compile per source file (an etcd
  // key for objects from etcd): what the replica status reports as rejected.
  const std::map<std::string, std::string>& first_errors() const { return first_errors_; }

  // Readable when DNS answers changed; then call on_dns_change() (control thread).
  int dns_event_fd() const { return dns_event_.get(); }
  void on_dns_change();
  // RequestAuthentication JWKS read from file:// URIs: re-read them and
  // recompile when one changed (a rotated key). Control thread, called
  // about once a second while any is in use (Envoy refreshes a remote JWKS
  // on a timer too; a local file is cheap to read).
  // file:// JWKS to watch, or http(s) ones to refresh (security/jwks_fetch.h).
  bool has_jwks_files() const { return !jwks_files_.empty() || !security::RemoteJwks::instance().empty(); }
  void check_jwks_files();

 private:
  // How long a compile waits for the first answer of a new DNS name.
  static constexpr int kFirstAnswerWaitMs = 2000;

  // `resources`: what to compile; nullopt: a copy of the Store's objects in
  // force (files not re-read). `read_note`: how the files were read, for the
  // "serving" log line (empty: they were not).
  void compile_and_publish(const char* why, std::optional<config::ResourceSet> resources,
                           const std::string& read_note, const char* trigger, int64_t detected_us);
  compile::CompileResult compile_with_dns(const config::ResourceSet& resources,
                                          std::shared_ptr<const dns::ResolvedNames>& names);
  // The port of every bound listener of `snapshot` (after publish); logs
  // "listener <name> on <addr:port> (Gateway port N, KINDS)" for each one
  // that was not bound on that port before.
  std::map<std::string, uint16_t> log_new_bindings(const compile::Snapshot& snapshot);
  static bool all_answered(const std::set<std::string>& names,
                           const std::shared_ptr<const dns::ResolvedNames>& answers);

  const Options& options_;
  proxy::Server& server_;
  admin::ConfigStateHolder& state_;
  config::LoadCache load_cache_;  // documents of the last load, reused when unchanged
  config::Store store_;
  compile::CompileCache
      compile_cache_;               // clusters and virtual hosts of the last compile, shared when unchanged
  config::Store::Result in_force_;  // of the last reload (resources and objects moved out)
  // in_force_.objects, shared with every admin::ConfigState published since.
  std::shared_ptr<const config::ObjectStatuses> objects_;
  uint64_t version_ = 0;
  std::set<std::string> logged_;                     // formatted diagnostics already logged
  std::map<std::string, uint16_t> bound_ports_;      // listener name -> port, after the last publish
  std::vector<admin::ReloadRecord> history_;         // the last ConfigState::kReloadHistory
  net::UniqueFd dns_event_;                          // eventfd written by the DNS thread
  std::unique_ptr<dns::DnsService> dns_;             // started when a name needs resolving
  std::map<std::string, std::string> jwks_files_;    // file:// JWKS path -> content compiled
  std::vector<config::NamedText> etcd_objects_;      // set_etcd_objects()
  std::string stale_note_;                           // set_etcd_health()
  std::map<std::string, std::string> first_errors_;  // first_errors()
  bool waiting_for_etcd_ = false;                    // set_etcd_health()
};

// Loads and compiles without serving; what `torii validate` shares with
// reload(). DNS names stay unresolved here (their endpoints are empty).
struct Compiled {
  config::Store::Result store;
  compile::CompileResult compiled;
};
Compiled load_and_compile(const Options& options, config::Store& store);

// The wall clock (CLOCK_REALTIME) in microseconds.
int64_t wall_clock_us();

}  // namespace torii::cli
