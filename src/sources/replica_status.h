// Replica status in etcd (issue 16): each `torii run --etcd` replica keeps
// <prefix>replicas/<name> under a lease (10 s TTL, refreshed every 3 s,
// re-created when it expired), holding the revision it serves, the newest
// object revision it has seen, and the objects it rejected with why. When a
// replica stops, its lease expires and the key goes: `torii get replicas`
// shows only live ones.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sources/etcd_client.h"

namespace torii::sources {

inline constexpr int64_t kReplicaLeaseTtlS = 10;
inline constexpr int kReplicaRefreshMs = 3000;
// Each status request waits at most this long (a member without a leader
// holds a lease keepalive until its own timeout), and a failed update is
// tried again this much later.
inline constexpr int kReplicaRequestTimeoutMs = 1000;

struct ReplicaStatus {
  std::string name;
  int64_t served_revision = 0;                  // the etcd revision of the objects this replica serves
  int64_t newest_seen = 0;                      // the newest object revision it has seen (may be rejected)
  std::string endpoint;                         // the etcd member it reads from
  std::string updated;                          // RFC 3339, when it last wrote this
  std::map<std::string, std::string> rejected;  // object key -> why (the first error)
  nlohmann::json raw;

  nlohmann::json to_json() const;
  static ReplicaStatus from_json(const nlohmann::json& j);
};

// Every live replica, sorted by name; `newest` is the newest object revision
// (the highest mod_revision under objects/ or seen by a replica), against
// which "behind" is measured (status writes bump etcd's own revision).
bool read_replicas(EtcdClient& etcd, const std::string& prefix, std::vector<ReplicaStatus>& out,
                   int64_t& newest, EtcdError& error);

// `torii get -o yaml`'s status: block for one object: an Accepted condition
// (status True/False, the message of the first error) and which replicas
// serve it, serve an older version, or rejected it.
std::string object_status_yaml(const KeyValue& object, const std::string& error,
                               const std::vector<ReplicaStatus>& replicas);
// "2/3": replicas serving this version of the object; "-" with no replica.
std::string replicas_serving(const KeyValue& object, const std::vector<ReplicaStatus>& replicas);

// The replica's side: registers and refreshes its key (control thread).
class ReplicaRegistration {
 public:
  ReplicaRegistration(EtcdClient& etcd, std::string prefix, std::string name)
      : etcd_(etcd), key_(std::string(prefix) + "replicas/" + name), name_(std::move(name)) {}
  // Writes `status` now if it changed or the lease needs a refresh (every
  // kReplicaRefreshMs); false when etcd could not be reached (tried again
  // at the next call).
  bool update(ReplicaStatus status, int64_t now_ms);
  // Revokes the lease: the key goes at once (clean shutdown).
  void remove();
  const std::string& name() const { return name_; }

 private:
  EtcdClient& etcd_;
  std::string key_;
  std::string name_;
  int64_t lease_ = 0;
  int64_t refreshed_ms_ = 0;
  int64_t retry_at_ms_ = 0;  // after a failure: not before (the control loop calls often)
  std::string written_;
};

}  // namespace torii::sources
