#include "upstream/consistent_hash.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "upstream/endpoint_state.h"
#include "upstream/hash.h"

namespace torii::upstream {

namespace {
constexpr uint64_t kMaxRingSize = 8 * 1024 * 1024;  // Envoy maximum_ring_size default

bool usable_at(std::span<const uint8_t> usable, size_t i) { return usable.empty() || usable[i] != 0; }
}  // namespace

std::shared_ptr<const ConsistentHashTable> ConsistentHashTable::build_ring(
    const std::vector<Endpoint>& endpoints, uint64_t minimum_ring_size) {
  auto table = std::make_shared<ConsistentHashTable>();
  table->kind_ = Kind::Ring;
  table->endpoint_count_ = endpoints.size();
  if (endpoints.empty()) return table;
  // Points per endpoint = its weight (reduced by the weights' gcd) x a
  // points-per-unit factor rounded up to a power of two, so that the ring
  // has at least `minimum_ring_size` points. Envoy scales by the exact
  // ratio instead, which changes every endpoint's point count whenever one
  // endpoint comes or goes and moves more keys than the 1/N a consistent
  // hash promises; the power-of-two factor only changes when the total
  // weight crosses a power of two. The ring is at most twice the minimum.
  uint64_t g = 0;
  for (const Endpoint& e : endpoints)
    g = std::gcd(g, static_cast<uint64_t>(std::max<uint32_t>(1, e.lb_weight)));
  uint64_t total = 0;
  for (const Endpoint& e : endpoints) total += std::max<uint32_t>(1, e.lb_weight) / g;
  uint64_t per_unit = 1;
  while (per_unit * total < minimum_ring_size) per_unit *= 2;
  double scale = static_cast<double>(per_unit);
  if (static_cast<double>(total) * scale > static_cast<double>(kMaxRingSize))
    scale = static_cast<double>(kMaxRingSize) / static_cast<double>(total);
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const std::string key = endpoint_key(endpoints[i].address, endpoints[i].port) + "_";
    uint64_t units = std::max<uint32_t>(1, endpoints[i].lb_weight) / g;
    uint64_t points = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(units) * scale));
    for (uint64_t n = 0; n < points; ++n) {
      table->ring_.push_back(Point{xxhash64(key + std::to_string(n)), static_cast<uint32_t>(i)});
    }
  }
  std::sort(table->ring_.begin(), table->ring_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.endpoint < b.endpoint;
  });
  return table;
}

std::shared_ptr<const ConsistentHashTable> ConsistentHashTable::build_maglev(
    const std::vector<Endpoint>& endpoints, uint64_t table_size) {
  auto table = std::make_shared<ConsistentHashTable>();
  table->kind_ = Kind::Maglev;
  table->endpoint_count_ = endpoints.size();
  if (endpoints.empty() || table_size == 0) return table;
  struct Entry {
    uint64_t offset, skip;
    double weight;
    double target = 0;
    uint64_t next = 0;
  };
  std::vector<Entry> entries;
  double max_weight = 0;
  for (const Endpoint& e : endpoints) {
    const std::string key = endpoint_key(e.address, e.port);
    double w = std::max<uint32_t>(1, e.lb_weight);
    max_weight = std::max(max_weight, w);
    entries.push_back(Entry{xxhash64(key, 0) % table_size, xxhash64(key, 1) % (table_size - 1) + 1, w});
  }
  constexpr uint32_t kEmpty = UINT32_MAX;
  table->table_.assign(table_size, kEmpty);
  uint64_t filled = 0;
  // Envoy's weighted Maglev: a host of maximum weight takes a slot on every
  // iteration, lighter hosts proportionally less often.
  for (uint64_t iteration = 1; filled < table_size; ++iteration) {
    for (size_t i = 0; i < entries.size() && filled < table_size; ++i) {
      Entry& entry = entries[i];
      if (static_cast<double>(iteration) * entry.weight < entry.target) continue;
      entry.target += max_weight;
      uint64_t slot = (entry.offset + entry.skip * entry.next) % table_size;
      while (table->table_[slot] != kEmpty) {
        ++entry.next;
        slot = (entry.offset + entry.skip * entry.next) % table_size;
      }
      table->table_[slot] = static_cast<uint32_t>(i);
      ++entry.next;
      ++filled;
    }
  }
  return table;
}

size_t ConsistentHashTable::lookup(uint64_t hash, std::span<const uint8_t> usable) const {
  if (kind_ == Kind::Ring) {
    if (ring_.empty()) return SIZE_MAX;
    auto it = std::lower_bound(ring_.begin(), ring_.end(), hash,
                               [](const Point& p, uint64_t h) { return p.hash < h; });
    size_t start = it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
    for (size_t n = 0; n < ring_.size(); ++n) {
      const Point& p = ring_[(start + n) % ring_.size()];
      if (usable_at(usable, p.endpoint)) return p.endpoint;
    }
    return SIZE_MAX;
  }
  if (table_.empty()) return SIZE_MAX;
  size_t start = static_cast<size_t>(hash % table_.size());
  for (size_t n = 0; n < table_.size(); ++n) {
    uint32_t e = table_[(start + n) % table_.size()];
    if (usable_at(usable, e)) return e;
  }
  return SIZE_MAX;
}

}  // namespace torii::upstream
