// What the admin endpoint shows about configuration: the snapshot in force and
// the status of every object. The control thread replaces it after each
// reload; the admin thread reads a copy. A mutex is fine here: neither side is
// on the request path.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compile/snapshot.h"
#include "config/diagnostic.h"
#include "config/store.h"
#include "dns/name_cache.h"

namespace torii::admin {

// One compile-and-publish, for the dashboard's reload history.
struct ReloadRecord {
  uint64_t version = 0;        // the snapshot it published
  std::string trigger;         // "startup", "file change", "SIGHUP", "DNS", "JWKS file change"
  int64_t detected_us = 0;     // wall clock: the first file event / signal / DNS answer that asked for it
  int64_t published_us = 0;    // compiled and handed to the workers (they serve it a moment later:
                               // proxy::Server::serving_since_us)
  size_t objects = 0;          // objects in the load
  size_t rejected = 0;         // of which rejected (latest version refused, or never accepted)
  size_t errors = 0;           // error diagnostics of the load + compile
  size_t listener_errors = 0;  // listeners that could not be bound
};

struct ConfigState {
  compile::SnapshotPtr snapshot;  // in force; null before the first load
  // Every object seen in the last load: shared with the control plane, as
  // get() copies the state for every admin request (25,000 statuses are ~5 MiB).
  std::shared_ptr<const config::ObjectStatuses> objects;
  const config::ObjectStatuses& object_list() const {
    static const config::ObjectStatuses none;
    return objects ? *objects : none;
  }
  config::Diagnostics diagnostics;           // of the last load + compile
  std::vector<std::string> listener_errors;  // listeners that could not be bound
  // Listener name -> the port it is bound to (the kernel's pick for port 0);
  // listeners that could not be bound are absent.
  std::map<std::string, uint16_t> bound_ports;
  uint64_t reloads = 0;     // successful snapshot publications
  std::string last_reload;  // RFC 3339 UTC time of the last publication
  // What the DNS names of DNS ServiceEntries resolved to when this snapshot
  // was compiled; null when no name is needed.
  std::shared_ptr<const dns::ResolvedNames> dns;
  // The last kReloadHistory publications, oldest first.
  std::vector<ReloadRecord> reload_history;
  // `torii run --etcd` while etcd is unreachable: "stale: serving from cache
  // (etcd unreachable since ...)", added to /ready's answer (still 200).
  std::string stale_note;
  // `torii run --etcd` before anything was read from etcd or a cache: /ready says 503.
  bool waiting_for_etcd = false;
  static constexpr size_t kReloadHistory = 20;
};

class ConfigStateHolder {
 public:
  void set(ConfigState state) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = std::move(state);
  }
  ConfigState get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }

 private:
  mutable std::mutex mu_;
  ConfigState state_;
};

}  // namespace torii::admin
