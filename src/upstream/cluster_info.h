// The compiled, immutable description of one upstream cluster: Envoy's
// `outbound|<port>|<subset>|<host>`. Built by the compiler, owned by a
// Snapshot, read by workers. Per-worker mutable state (pools, LB cursors) is
// kept elsewhere, keyed by cluster name, so it can outlive a snapshot.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "upstream/cluster_policy.h"

namespace torii::upstream {

// An endpoint's IP address and port, ready for connect(): IPv4 or IPv6
// only (28 bytes, where sockaddr_storage takes 128 for every endpoint).
union EndpointSockaddr {
  sockaddr_in v4;
  sockaddr_in6 v6;
};

// Fields ordered for packing: 224 bytes, a jemalloc size class (was 336 with
// sockaddr_storage, in the 384 class). One per endpoint of every cluster.
struct Endpoint {
  std::string address;          // IP as text, for logs and /config_dump
  std::string hostname;         // the DNS name this address was resolved from; empty if written as an IP
  EndpointSockaddr sockaddr{};  // ready for connect()
  socklen_t sockaddr_len = 0;
  std::map<std::string, std::string> labels;
  std::string locality;
  uint16_t port = 0;
  uint32_t weight = 1;  // as configured
  // Weight the load balancers use: `weight`, rescaled by locality
  // `distribute` rules when they apply.
  uint32_t lb_weight = 1;
  // Failover priority (0 = most preferred); see compile/locality_lb.h.
  uint32_t priority = 0;
  // Where this endpoint came from: "EndpointSlice ns/name", "WorkloadEntry ns/name",
  // "ServiceEntry ns/name".
  std::string origin;
};

class ConsistentHashTable;

// A cluster's ClusterPolicy, shared by every cluster whose policy is the
// same (share()): with 10,000 services most clusters have the default or one
// DestinationRule's policy, and a ClusterPolicy is 464 bytes. Read through
// `->` and `*`; while a cluster is being built, write() gives it its own copy
// to change (copy on write), and share() then swaps it for the pooled equal
// one. A copied SharedClusterPolicy shares the policy and writes to a copy.
class SharedClusterPolicy {
 public:
  // The default policy, owned by nobody: reading it costs the request path
  // one pointer load, as any shared policy.
  SharedClusterPolicy() : policy_(std::shared_ptr<const ClusterPolicy>(), &kDefault) {}
  SharedClusterPolicy(const SharedClusterPolicy& other) : policy_(other.policy_) {}
  SharedClusterPolicy(SharedClusterPolicy&& other) noexcept
      : policy_(other.policy_),
        writable_(std::exchange(other.writable_, nullptr)) {}  // `other` still reads it
  SharedClusterPolicy& operator=(const SharedClusterPolicy& other) {
    policy_ = other.policy_;
    writable_ = nullptr;
    return *this;
  }
  SharedClusterPolicy& operator=(SharedClusterPolicy&& other) noexcept {
    policy_ = other.policy_;
    writable_ = std::exchange(other.writable_, nullptr);
    return *this;
  }
  SharedClusterPolicy& operator=(const ClusterPolicy& policy) {
    write() = policy;
    return *this;
  }

  const ClusterPolicy& operator*() const { return *policy_; }
  const ClusterPolicy* operator->() const { return policy_.get(); }
  ClusterPolicy& write();
  // Replaces the policy with the one every equal policy shares (a process-wide
  // pool that holds them weakly); call when the cluster is built.
  void share();

 private:
  static const ClusterPolicy kDefault;
  std::shared_ptr<const ClusterPolicy> policy_;  // never null
  ClusterPolicy* writable_ = nullptr;            // policy_'s object while this one owns it alone
};

struct ClusterInfo {
  std::string name;          // outbound|8000|v1|httpbin.default.svc.cluster.local
  std::string service_host;  // httpbin.default.svc.cluster.local
  uint32_t port = 0;         // service port
  std::string subset;        // empty for the whole service
  std::vector<Endpoint> endpoints;
  uint32_t connect_timeout_ms = 10000;  // mesh connectTimeout default (== policy.connection)
  SharedClusterPolicy policy;
  // Ring (RING_HASH) or table (MAGLEV) over `endpoints`, built once at
  // compile time so every worker and every reload that keeps the endpoints
  // maps a key to the same endpoint. Null for other policies.
  std::shared_ptr<const ConsistentHashTable> hash_table;
  // This cluster's slot: unique among the clusters of every snapshot that
  // holds it, and below the snapshot's cluster_slots, so per-worker state can
  // live in a plain vector indexed by it. A cluster shared by consecutive
  // snapshots (compile/cluster_cache.h) keeps its slot in both.
  size_t index = 0;
};

// Fills endpoint.sockaddr from address/port; false if address is not an IP.
bool resolve_numeric(Endpoint& endpoint);

}  // namespace torii::upstream
