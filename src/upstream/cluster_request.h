// One request's dealings with a cluster, in one place so the proxy's
// UpstreamRequest only makes a few calls: the endpoint choice (health,
// priorities, balancer; ClusterState::choose), admission under the
// cluster's http2MaxRequests circuit breaker once a connection is there
// for it (attach(), as Envoy's attachStreamToClient: a request waiting in
// the pending queue holds no such slot), the outcome reports outlier
// detection feeds on, and the per-cluster counters. finish() (or the
// destructor) gives the admission slot back.
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
  const ClusterInfo& info() const { return *info_; }
  const Endpoint& endpoint() const { return info_->endpoints[index_]; }

  // A connection is there for the request: take an http2MaxRequests slot
  // and count it as an upstream request (upstream_rq_total, _active).
  // false: the limit is reached (upstream_rq_pending_overflow, as Envoy
  // counts it), 503 UO. True at once if already attached.
  bool attach();

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
  bool attached_ = false;  // holds an http2MaxRequests slot and counts as active
};

}  // namespace torii::upstream
