// Mirrored ("shadow") requests: fire-and-forget copies of a request sent to a
// mirror cluster once the original request is complete (Envoy's
// ShadowWriter). The response is read and thrown away; nothing about it
// reaches the client, and the original request never waits for it.
//
// Host/authority gets Envoy's "-shadow" suffix ("a.com:8080" ->
// "a.com-shadow:8080") unless ServerOptions::mirror_host_suffix is off. A
// mirror is bounded: it carries the body the router buffered (at most the
// buffer limit; a larger body abandons mirroring), it ends with the route
// timeout when there is one, and a worker keeps at most
// max_mirror_requests in flight (more are dropped, counted in
// mirror_rq_dropped).
//
// ShadowRequests is the per-worker registry that owns them; it outlives
// every stream. Worker thread only.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "compile/snapshot.h"
#include "http/header_map.h"
#include "proxy/upstream_request.h"
#include "upstream/cluster_info.h"

namespace torii::proxy {

class ShadowRequest;
class Worker;

class ShadowRequests {
 public:
  explicit ShadowRequests(Worker& worker);
  ~ShadowRequests();
  ShadowRequests(const ShadowRequests&) = delete;
  ShadowRequests& operator=(const ShadowRequests&) = delete;

  // Sends a copy of the request (`head` with `headers`, and `body`) to one
  // endpoint of `cluster`. `snapshot` keeps the cluster alive.
  void launch(compile::SnapshotPtr snapshot, const upstream::ClusterInfo& cluster,
              const UpstreamRequestHead& head, const http::HeaderMap& headers,
              std::shared_ptr<const std::string> body, uint64_t timeout_ms);
  size_t in_flight() const { return active_.size(); }
  // Abandons every mirror (worker shutdown).
  void clear();

 private:
  friend class ShadowRequest;
  void finished(ShadowRequest& request);

  Worker& worker_;
  std::list<std::unique_ptr<ShadowRequest>> active_;
};

// "a.com" -> "a.com-shadow"; "a.com:8080" -> "a.com-shadow:8080";
// "[::1]:80" -> "[::1]-shadow:80" (Envoy shadowAppendedHost).
std::string shadow_host(std::string_view host);

}  // namespace torii::proxy
