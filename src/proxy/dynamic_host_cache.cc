#include "proxy/dynamic_host_cache.h"

#include <algorithm>

#include "http/header_map.h"
#include "upstream/consistent_hash.h"

namespace torii::proxy {

DynamicHostCache::DynamicHostCache(net::EventLoop& loop, upstream::ClusterManager& clusters,
                                   DynamicHostOptions options)
    : loop_(loop), clusters_(clusters), options_(std::move(options)) {}

DynamicHostCache::~DynamicHostCache() {
  *alive_ = false;
  resolver_.reset();  // pending answers are dropped
}

void DynamicHostCache::lookup(const upstream::ClusterInfo& compiled, uint64_t snapshot_version,
                              std::string_view host, uint32_t port, std::weak_ptr<void> alive,
                              Callback callback) {
  // DNS names are case-insensitive: A.example.com and a.example.com share
  // one entry and one resolution (lower-cased straight into the key).
  std::string key = compiled.name;
  key += '|';
  const size_t host_at = key.size();
  for (char c : host) key += http::ascii_lower(c);
  key += ':';
  key += std::to_string(port);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= std::max<uint32_t>(options_.max_hosts, 1) && !evict_one()) {
      // Every entry is still resolving: growing past max_hosts would let a
      // flood of distinct names use unbounded memory (Envoy: DNS cache overflow).
      callback(nullptr, "dynamic host cache full (every entry is resolving)");
      return;
    }
    it = entries_.emplace(key, Entry{}).first;
    it->second.host = key.substr(host_at, host.size());
    it->second.port = port;
    order_.push_back(key);
  }
  Entry& entry = it->second;
  if (!entry.addresses.empty() && upstream::monotonic_ms() < entry.expires_ms) {
    callback(cluster_for(entry, compiled, snapshot_version), {});
    return;
  }
  entry.waiters.push_back(Waiter{std::move(alive), &compiled, snapshot_version, std::move(callback)});
  if (entry.resolving) return;
  entry.resolving = true;
  if (!resolver_) resolver_ = std::make_unique<dns::Resolver>(loop_, options_.resolver);
  std::weak_ptr<bool> self = alive_;
  resolver_->resolve(entry.host, [this, self, key](const dns::Resolution& resolution) {
    if (self.expired()) return;
    on_answer(key, resolution);
  });
}

void DynamicHostCache::on_answer(const std::string& key, const dns::Resolution& resolution) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;  // evicted meanwhile
  Entry& entry = it->second;
  entry.resolving = false;
  std::vector<Waiter> waiters = std::move(entry.waiters);
  entry.waiters.clear();
  const bool ok = resolution.status == dns::Resolution::Status::kOk;
  std::string error;
  if (ok) {
    entry.addresses = resolution.addresses;
    entry.cluster.reset();
    entry.compiled = nullptr;
    uint64_t ttl_ms = resolution.ttl_s == 0 ? options_.default_ttl_ms : uint64_t{resolution.ttl_s} * 1000;
    entry.expires_ms = upstream::monotonic_ms() + std::max<uint64_t>(ttl_ms, options_.min_ttl_ms);
  } else {
    error = resolution.error.empty() ? "no address" : resolution.error;
    // Failures are not cached.
    order_.remove(key);
    entries_.erase(it);
  }
  for (Waiter& waiter : waiters) {
    if (waiter.alive.expired()) continue;  // its caller (and maybe its snapshot) is gone
    if (!ok) {
      waiter.callback(nullptr, error);
      continue;
    }
    // A callback may have started other lookups (evictions): find it again.
    auto current = entries_.find(key);
    if (current == entries_.end()) {
      waiter.callback(nullptr, "evicted");
      continue;
    }
    std::shared_ptr<const upstream::ClusterInfo> cluster =
        cluster_for(current->second, *waiter.compiled, waiter.snapshot_version);
    waiter.callback(std::move(cluster), {});
  }
}

const std::shared_ptr<const upstream::ClusterInfo>& DynamicHostCache::cluster_for(
    Entry& entry, const upstream::ClusterInfo& compiled, uint64_t snapshot_version) {
  if (!entry.cluster || entry.compiled != &compiled || entry.snapshot_version != snapshot_version) {
    entry.cluster = build(entry, compiled);
    entry.compiled = &compiled;
    entry.snapshot_version = snapshot_version;
  }
  return entry.cluster;
}

std::shared_ptr<const upstream::ClusterInfo> DynamicHostCache::build(const Entry& entry,
                                                                     const upstream::ClusterInfo& compiled) {
  upstream::ClusterInfo* info = new upstream::ClusterInfo(compiled);
  info->endpoints.clear();
  for (const std::string& address : entry.addresses) {
    upstream::Endpoint endpoint;
    endpoint.address = address;
    endpoint.port = static_cast<uint16_t>(entry.port);
    endpoint.hostname = entry.host;
    endpoint.origin = "DNS " + entry.host;
    if (upstream::resolve_numeric(endpoint)) info->endpoints.push_back(std::move(endpoint));
  }
  info->hash_table.reset();
  if (info->policy->lb == upstream::LbPolicy::RingHash) {
    info->hash_table = upstream::ConsistentHashTable::build_ring(info->endpoints, info->policy->ring_size);
  } else if (info->policy->lb == upstream::LbPolicy::Maglev) {
    info->hash_table =
        upstream::ConsistentHashTable::build_maglev(info->endpoints, info->policy->maglev_table_size);
  }
  // The cluster's worker state may be bound to this object when it goes:
  // unbind it first (see the header).
  upstream::ClusterManager* manager = &clusters_;
  return std::shared_ptr<const upstream::ClusterInfo>(info, [manager](upstream::ClusterInfo* p) {
    upstream::ClusterState& state = manager->cluster(*p);
    if (state.bound_to(p)) state.unbind();
    delete p;
  });
}

bool DynamicHostCache::evict_one() {
  for (size_t tries = order_.size(); tries > 0; --tries) {
    std::string key = std::move(order_.front());
    order_.pop_front();
    auto it = entries_.find(key);
    if (it == entries_.end()) continue;
    if (it->second.resolving) {
      order_.push_back(std::move(key));  // answer pending: keep it, try the next
      continue;
    }
    entries_.erase(it);
    return true;
  }
  return false;
}

}  // namespace torii::proxy
