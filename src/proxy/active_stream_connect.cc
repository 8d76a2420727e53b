// ActiveStream: CONNECT host:port on a forward-proxy listener. The target
// must be allowed exactly as for absolute-form requests (a registry host
// declaring that port, else 403); the tunnel goes to the host's own cluster
// (router::ForwardProxyTable::connect_target), resolved per request when it
// has no compiled endpoints (resolution NONE, wildcard hosts). The
// connection then belongs to a ConnectTunnel (proxy/connect_tunnel.h).
#include "proxy/active_stream.h"
#include "proxy/downstream_stream.h"
#include "proxy/worker.h"

namespace torii::proxy {

void ActiveStream::connect_through_forward_proxy(const router::ForwardProxyTable& table) {
  WorkerStats& stats = worker_.mutable_stats();
  // RFC 9110 9.3.6: a CONNECT target is host:port; no default port applies.
  std::string_view connect_host;
  uint32_t connect_port = 0;
  if (!router::split_authority(target_.authority, 0, connect_host, connect_port) || connect_port == 0) {
    downstream_.close_after_response();
    send_local_reply(LocalReply{400, kBadRequest, {}}, details::kInvalidPath);
    return;
  }
  const router::VirtualHost* vhost = table.find(target_.authority, 443);
  const router::WeightedCluster* target = vhost != nullptr ? table.connect_target(*vhost) : nullptr;
  if (target == nullptr) {
    WorkerStats::inc(stats.forward_proxy_denied);
    downstream_.close_after_response();
    send_local_reply(LocalReply{403, {}, {}}, details::kDirectResponse);
    return;
  }
  if (target->cluster == nullptr) {
    WorkerStats::inc(stats.no_cluster);
    downstream_.close_after_response();
    send_local_reply(LocalReply{503, {}, {}}, details::kClusterNotFound, flag::NC);
    return;
  }
  if (!target->dynamic_host) {
    start_connect(target->cluster, nullptr);
    return;
  }
  std::string_view host =
      target->dynamic_name.empty() ? connect_host : std::string_view(target->dynamic_name);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  dns_token_ = std::make_shared<int>(0);
  worker_.dynamic_hosts().lookup(
      *target->cluster, snapshot_->version, host, target->cluster->port, dns_token_,
      [this](std::shared_ptr<const upstream::ClusterInfo> cluster, std::string_view) {
        dns_token_.reset();
        if (!cluster) {
          WorkerStats::inc(worker_.mutable_stats().dns_resolution_failure);
          downstream_.close_after_response();
          send_local_reply(LocalReply{503, kDnsResolutionFailure, {}}, details::kDnsResolutionFailed,
                           flag::DF);
          return;
        }
        const upstream::ClusterInfo* raw = cluster.get();
        start_connect(raw, std::move(cluster));
      });
}

void ActiveStream::start_connect(const upstream::ClusterInfo* cluster,
                                 std::shared_ptr<const upstream::ClusterInfo> keep) {
  TcpTunnelTarget target;
  target.snapshot = snapshot_;
  target.cluster = cluster;
  target.peer_ip = downstream_.peer_ip();
  // A DestinationRule that originates TLS to the host wraps the tunnel in it.
  if (cluster->policy->tls.enabled) {
    target.sni = cluster->policy->tls.sni;
    if (target.sni.empty() && !cluster->endpoints.empty()) target.sni = cluster->endpoints.front().hostname;
  }
  // The connection is handed over; this stream ends (deleted deferred).
  downstream_.start_connect(std::move(target), std::move(keep));
}

}  // namespace torii::proxy
