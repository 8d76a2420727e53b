// Consistent-hash lookup structures over a cluster's endpoints, built once at
// compile time (ClusterInfo::hash_table) and shared read-only by all workers:
//
// * ring hash (Envoy RING_HASH): each endpoint "ip:port" is hashed
//   "ip:port_0", "ip:port_1", ... onto a 64-bit ring, as many times as its
//   weight asks (ring of minimumRingSize..2x points; see build_ring); a key
//   goes to the first point at or after its hash. Adding or removing one of
//   N endpoints moves ~1/N of the keys.
// * maglev (Envoy MAGLEV): Envoy's weighted Maglev permutation table of
//   `table_size` (prime) entries; lookup is one index. Also ~1/N movement,
//   with a more even spread than a ring of the same size.
//
// Endpoints that are not usable right now (ejected, other priority) are
// skipped: the ring walks on to the next point; the maglev table probes the
// following entries. Envoy instead rebuilds both structures without the
// unhealthy hosts; the result is the same kind of minimal disruption
// (only the unusable endpoint's keys move) without a per-worker rebuild.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "upstream/cluster_info.h"

namespace torii::upstream {

class ConsistentHashTable {
 public:
  enum class Kind { Ring, Maglev };

  static std::shared_ptr<const ConsistentHashTable> build_ring(const std::vector<Endpoint>& endpoints,
                                                               uint64_t minimum_ring_size);
  static std::shared_ptr<const ConsistentHashTable> build_maglev(const std::vector<Endpoint>& endpoints,
                                                                 uint64_t table_size);

  Kind kind() const { return kind_; }
  size_t size() const { return kind_ == Kind::Ring ? ring_.size() : table_.size(); }

  // Endpoint index for `hash`, skipping endpoints where usable[i] == 0
  // (`usable` empty = all usable). SIZE_MAX if none is usable.
  size_t lookup(uint64_t hash, std::span<const uint8_t> usable) const;

 private:
  struct Point {
    uint64_t hash;
    uint32_t endpoint;
  };
  Kind kind_ = Kind::Ring;
  std::vector<Point> ring_;      // sorted by hash
  std::vector<uint32_t> table_;  // maglev: slot -> endpoint index
  size_t endpoint_count_ = 0;
};

}  // namespace torii::upstream
