// One request's dealings with a cluster, in one place so the proxy's
// UpstreamRequest only makes a few calls: admission under the cluster's
// http2MaxRequests circuit breaker, the endpoint choice (health, priorities,
// balancer; ClusterState::choose), the outcome reports outlier detection
// feeds on, and the per-cluster counters. finish() (or the destructor) gives
// the admission slot back.
//
// Owned by the request; worker thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "upstream/cluster_state.h"

namespace torii::upstream {

class ClusterRequest {
 public:
  enum class Admission {
    Ok,
    Overflow,           // http2MaxRequests reached: 503 UO, x-envoy-overloaded
    NoHealthyUpstream,  // no endpoint may take traffic: 503 UH
  };

  ClusterRequest() = default;
  ~ClusterRequest() { finish(); }
  ClusterRequest(const ClusterRequest&) = delete;
  ClusterRequest& operator=(const ClusterRequest&) = delete;

  // `avoid`: endpoints earlier attempts of this request used (retries);
  // the choice is made again, up to `max_picks` times in all, while it lands
  // on one of them (Envoy's previous_hosts retry predicate).
  Admission start(ClusterState& state, const ClusterInfo& info, std::optional<uint64_t> hash,
                  FastRandom& random, uint64_t now_ms, const std::vector<size_t>* avoid = nullptr,
                  uint32_t max_picks = 1);

  size_t endpoint_index() const { return index_; }
  EndpointState& endpoint_state() const { return *endpoint_; }

  // The endpoint answered with `status` (response head).
  void report_status(int status, uint64_t now_ms);
  // Connection-level outcome: ConnectSuccess when connected; ConnectFailed
  // for refused / failed / reset before a response; Timeout for connect timeout.
  void report_connection(OutlierDetector::Result result, uint64_t now_ms);
  // The exchange is over (completed, failed or abandoned).
  void finish();

 private:
  const ClusterInfo* info_ = nullptr;
  SharedClusterState* shared_ = nullptr;
  EndpointState* endpoint_ = nullptr;
  size_t index_ = 0;
  bool holds_slot_ = false;
  bool counted_active_ = false;
};

}  // namespace torii::upstream
