// ActiveStream: routes whose endpoints are resolved per request (forward-proxy
// PassthroughCluster, ServiceEntry resolution NONE, wildcard hosts; see
// compile/forward_proxy_builder.h and proxy/dynamic_host_cache.h).
#include "proxy/active_stream.h"

#include "proxy/downstream_stream.h"
#include "proxy/router_request.h"
#include "proxy/worker.h"
#include "router/forward_proxy_table.h"

namespace torii::proxy {

void ActiveStream::resolve_dynamic_host(const router::WeightedCluster& chosen) {
  // The name: the destination's own host, or (wildcard ServiceEntry host)
  // the host the request names; the port: the cluster's.
  std::string_view host = chosen.dynamic_name;
  if (host.empty()) {
    const std::string_view* authority = head_.headers.get("host");
    uint32_t ignored = 0;
    if (authority == nullptr || !router::split_authority(*authority, 80, host, ignored)) {
      send_local_reply(LocalReply{400, kBadRequest, {}}, details::kMissingHostHeader);
      return;
    }
  }
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  uint32_t port = chosen.cluster->port;
  // PassthroughCluster: the port named in the destination's cluster.
  if (port == 0) port = chosen.dynamic_port;
  // The body waits as during a fault delay (held, back-pressure past the
  // buffer limit) until the name resolves.
  holding_ = true;
  dns_token_ = std::make_shared<int>(0);
  worker_.dynamic_hosts().lookup(*chosen.cluster, snapshot_->version, host, port, dns_token_,
                                 [this](std::shared_ptr<const upstream::ClusterInfo> cluster,
                                        std::string_view) { on_dynamic_host(std::move(cluster)); });
}

void ActiveStream::on_dynamic_host(std::shared_ptr<const upstream::ClusterInfo> cluster) {
  dns_token_.reset();
  if (!holding_) return;
  holding_ = false;
  downstream_.set_upstream_blocked(false);
  if (!cluster) {
    // Envoy's dynamic forward proxy: 503 "DNS resolution failure" (DF).
    WorkerStats::inc(worker_.mutable_stats().dns_resolution_failure);
    send_local_reply(LocalReply{503, kDnsResolutionFailure, {}}, details::kDnsResolutionFailed, flag::DF);
    std::string().swap(held_body_);
    return;
  }
  dynamic_cluster_ = std::move(cluster);
  start_router_request(dynamic_cluster_.get());
  if (upstream_ && !local_reply_) {
    if (!held_body_.empty()) upstream_->send_body(held_body_);
    if (downstream_.request_complete()) {
      upstream_->end_request();
    } else {
      upstream_->flush();  // from a DNS answer: nobody else flushes
    }
  }
  std::string().swap(held_body_);
}

}  // namespace torii::proxy
