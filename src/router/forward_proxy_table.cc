#include "router/forward_proxy_table.h"

#include <charconv>

namespace torii::router {

RouteTable& ForwardProxyTable::table_for_port(uint32_t port) {
  std::shared_ptr<RouteTable>& table = by_port_[port];
  if (!table) table = std::make_shared<RouteTable>();
  return *table;
}

void ForwardProxyTable::finalize() {
  for (auto& [port, table] : by_port_) table->finalize();
}

void ForwardProxyTable::set_connect_target(const VirtualHost& vhost, WeightedCluster target) {
  connect_targets_[&vhost] = std::move(target);
}

const WeightedCluster* ForwardProxyTable::connect_target(const VirtualHost& vhost) const {
  auto it = connect_targets_.find(&vhost);
  return it == connect_targets_.end() ? nullptr : &it->second;
}

bool split_authority(std::string_view authority, uint32_t default_port, std::string_view& host,
                     uint32_t& port) {
  port = default_port;
  std::string_view digits;
  if (!split_host_port(authority, host, digits) || host == "[]") return false;
  if (digits.empty()) return !host.empty();  // "host:" means the default port (RFC 3986 3.2.3)
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || value == 0 || value > 65535) return false;
  port = value;
  return !host.empty();
}

const VirtualHost* ForwardProxyTable::find(std::string_view authority, uint32_t default_port) const {
  std::string_view host;
  uint32_t port = 0;
  if (!split_authority(authority, default_port, host, port)) return nullptr;
  auto it = by_port_.find(port);
  if (it == by_port_.end()) return nullptr;
  const VirtualHost* vhost = it->second->find_virtual_host(host);
  // Defensive: a `*` virtual host would allow everything; the builder never
  // adds one (ServiceEntry hosts cannot be `*`).
  if (vhost != nullptr && vhost->domain == "*") return nullptr;
  return vhost;
}

}  // namespace torii::router
