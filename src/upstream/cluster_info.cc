#include "upstream/cluster_info.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace torii::upstream {

bool resolve_numeric(Endpoint& endpoint) {
  std::memset(&endpoint.sockaddr, 0, sizeof(endpoint.sockaddr));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.sockaddr);
  if (inet_pton(AF_INET, endpoint.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(endpoint.port);
    endpoint.sockaddr_len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.sockaddr);
  if (inet_pton(AF_INET6, endpoint.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(endpoint.port);
    endpoint.sockaddr_len = sizeof(sockaddr_in6);
    return true;
  }
  endpoint.sockaddr_len = 0;
  return false;
}

const ClusterPolicy SharedClusterPolicy::kDefault{};

ClusterPolicy& SharedClusterPolicy::write() {
  if (writable_ == nullptr) {
    auto own = std::make_shared<ClusterPolicy>(**this);
    writable_ = own.get();
    policy_ = std::move(own);
  }
  return *writable_;
}

namespace {

size_t hash_policy(const ClusterPolicy& p) {
  size_t h = std::hash<std::string>{}(p.source);
  auto mix = [&h](uint64_t v) {
    h ^= std::hash<uint64_t>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  };
  mix(static_cast<uint64_t>(p.lb));
  mix(static_cast<uint64_t>(p.protocol));
  mix(p.connection.connect_timeout_ms);
  mix(p.limits.max_connections);
  mix(p.limits.max_requests);
  mix(p.outlier.enabled ? 1 : 0);
  mix(p.tls.fingerprint);
  mix(static_cast<uint64_t>(p.hash.kind));
  return h;
}

}  // namespace

void SharedClusterPolicy::share() {
  if (policy_.get() == &kDefault) return;  // nothing to share
  // Compiles run on the control thread, a worker's dynamic host cache on its
  // own: the pool is locked. Entries whose policy is gone are pruned when
  // the pool has doubled since the last pruning.
  static std::mutex mu;
  static std::unordered_multimap<size_t, std::weak_ptr<const ClusterPolicy>> pool;
  static size_t prune_at = 1024;
  const size_t h = hash_policy(*policy_);
  std::lock_guard<std::mutex> lock(mu);
  writable_ = nullptr;
  auto [begin, end] = pool.equal_range(h);
  for (auto it = begin; it != end; ++it) {
    std::shared_ptr<const ClusterPolicy> pooled = it->second.lock();
    if (pooled && *pooled == *policy_) {
      policy_ = std::move(pooled);
      return;
    }
  }
  pool.emplace(h, policy_);
  if (pool.size() >= prune_at) {
    std::erase_if(pool, [](const auto& entry) { return entry.second.expired(); });
    prune_at = std::max<size_t>(1024, 2 * pool.size());
  }
}

const char* upstream_protocol_name(UpstreamProtocol protocol) {
  switch (protocol) {
    case UpstreamProtocol::Http1:
      return "HTTP/1.1";
    case UpstreamProtocol::Http2:
      return "HTTP/2";
    case UpstreamProtocol::Downstream:
      return "client's (useClientProtocol)";
  }
  return "?";
}

}  // namespace torii::upstream
