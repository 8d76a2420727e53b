#include "sources/replica_status.h"

#include <algorithm>

#include "sources/etcd_keys.h"

namespace torii::sources {

nlohmann::json ReplicaStatus::to_json() const {
  return {{"name", name},         {"revision", served_revision}, {"newestSeen", newest_seen},
          {"endpoint", endpoint}, {"updated", updated},          {"rejected", rejected}};
}

ReplicaStatus ReplicaStatus::from_json(const nlohmann::json& j) {
  ReplicaStatus r;
  if (!j.is_object()) return r;
  r.raw = j;
  r.name = j.value("name", "");
  r.served_revision = json_int(j, "revision");
  r.newest_seen = json_int(j, "newestSeen");
  r.endpoint = j.value("endpoint", "");
  r.updated = j.value("updated", "");
  if (auto it = j.find("rejected"); it != j.end() && it->is_object()) {
    for (const auto& [key, message] : it->items())
      r.rejected[key] = message.is_string() ? message.get<std::string>() : "";
  }
  return r;
}

bool read_replicas(EtcdClient& etcd, const std::string& prefix, std::vector<ReplicaStatus>& out,
                   int64_t& newest, EtcdError& error) {
  out.clear();
  newest = 0;
  RangeResponse replicas;
  if (!etcd.range_prefix(replicas_prefix(prefix), replicas, error)) return false;
  for (const KeyValue& kv : replicas.kvs) {
    ReplicaStatus r = ReplicaStatus::from_json(nlohmann::json::parse(kv.value, nullptr, false));
    if (r.name.empty()) r.name = kv.key.substr(replicas_prefix(prefix).size());
    newest = std::max(newest, r.newest_seen);
    out.push_back(std::move(r));
  }
  RangeResponse objects;
  if (!etcd.range_prefix(objects_prefix(prefix), objects, error)) return false;
  for (const KeyValue& kv : objects.kvs) newest = std::max(newest, kv.mod_revision);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return true;
}

std::string object_status_yaml(const KeyValue& object, const std::string& error,
                               const std::vector<ReplicaStatus>& replicas) {
  std::vector<std::string> serving, behind, rejecting;
  for (const ReplicaStatus& r : replicas) {
    if (auto it = r.rejected.find(object.key); it != r.rejected.end()) {
      rejecting.push_back(r.name);
    } else if (r.served_revision >= object.mod_revision) {
      serving.push_back(r.name);
    } else {
      behind.push_back(r.name);
    }
  }
  auto list = [](const std::vector<std::string>& names) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : names) out.push_back(n);
    return out.dump();
  };
  const bool accepted = error.empty() && rejecting.empty();
  std::string message = accepted ? "accepted" : error;
  if (error.empty() && !rejecting.empty()) {
    for (const ReplicaStatus& r : replicas) {
      if (auto it = r.rejected.find(object.key); it != r.rejected.end()) {
        message = it->second;
        break;
      }
    }
  }
  if (!replicas.empty()) {
    message += "; served by " + std::to_string(serving.size()) + " of " + std::to_string(replicas.size()) +
               " replica(s)";
  }
  std::string out = "status:\n  conditions:\n  - type: Accepted\n";
  out += std::string("    status: \"") + (accepted ? "True" : "False") + "\"\n";
  out += std::string("    reason: ") + (accepted ? "Accepted" : "Rejected") + "\n";
  out += "    message: " + nlohmann::json(message).dump() + "\n";
  out += "    observedRevision: " + std::to_string(object.mod_revision) + "\n";
  out += "  replicas:\n";
  out += "    serving: " + list(serving) + "\n";
  out += "    behind: " + list(behind) + "\n";
  out += "    rejected: " + list(rejecting) + "\n";
  return out;
}

std::string replicas_serving(const KeyValue& object, const std::vector<ReplicaStatus>& replicas) {
  if (replicas.empty()) return "-";
  size_t serving = 0;
  for (const ReplicaStatus& r : replicas) {
    if (!r.rejected.contains(object.key) && r.served_revision >= object.mod_revision) ++serving;
  }
  return std::to_string(serving) + "/" + std::to_string(replicas.size());
}

bool ReplicaRegistration::update(ReplicaStatus status, int64_t now_ms) {
  status.name = name_;
  nlohmann::json j = status.to_json();
  j.erase("updated");  // not a change on its own
  const std::string content = j.dump();
  const bool due = now_ms - refreshed_ms_ >= kReplicaRefreshMs;
  if (!due && content == written_ && lease_ != 0) return true;
  if (now_ms < retry_at_ms_) return false;
  struct Bound {
    EtcdClient& etcd;
    ~Bound() { etcd.set_timeout_override(0); }
  } bound{etcd_};
  etcd_.set_timeout_override(kReplicaRequestTimeoutMs);
  retry_at_ms_ = now_ms + kReplicaRequestTimeoutMs;  // until it worked
  EtcdError error;
  if (lease_ != 0 && due) {
    int64_t ttl = 0;
    if (!etcd_.lease_keepalive(lease_, ttl, error)) return false;
    if (ttl <= 0) lease_ = 0;  // expired (etcd was away longer than the TTL): a new one
    refreshed_ms_ = now_ms;
  }
  if (lease_ == 0) {
    written_.clear();
    if (!etcd_.lease_grant(kReplicaLeaseTtlS, lease_, error)) return false;
    refreshed_ms_ = now_ms;
  }
  if (content == written_) return true;
  if (!etcd_.put(key_, status.to_json().dump(), lease_, error)) {
    // A lease that expired between the keepalive and the put: start again next time.
    if (error.message.find("lease not found") != std::string::npos) lease_ = 0;
    return false;
  }
  written_ = content;
  retry_at_ms_ = 0;
  return true;
}

void ReplicaRegistration::remove() {
  if (lease_ == 0) return;
  EtcdError error;
  etcd_.lease_revoke(lease_, error);
  lease_ = 0;
}

}  // namespace torii::sources
