// Small builders for config::ResourceSet in tests, so golden tests read like
// the YAML they stand for without depending on the loader. Objects get an
// increasing load_order, i.e. "created" in the order the test adds them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compile/compiler.h"
#include "config/resources.h"
#include "http/header_map.h"
#include "router/route_table.h"

namespace torii::compile::testing {

using config::Labels;

// The clusters of the golden tests' two services.
inline const std::string kHttpbin = "outbound|8000||httpbin.default.svc.cluster.local";
inline const std::string kOther = "outbound|8000||other.default.svc.cluster.local";

inline config::StringMatch exact(std::string v) { return {config::StringMatch::Kind::Exact, std::move(v)}; }
inline config::StringMatch prefix(std::string v) { return {config::StringMatch::Kind::Prefix, std::move(v)}; }
inline config::StringMatch regex(std::string v) { return {config::StringMatch::Kind::Regex, std::move(v)}; }
inline config::StringMatch presence() { return {config::StringMatch::Kind::Presence, ""}; }

inline config::HTTPMatchRequest uri(config::StringMatch m) {
  config::HTTPMatchRequest match;
  match.uri = std::move(m);
  return match;
}

inline config::HTTPRouteDestination dest(std::string host, uint32_t port = 0, std::string subset = "",
                                         int32_t weight = 0) {
  config::HTTPRouteDestination d;
  d.destination.host = std::move(host);
  d.destination.port.number = port;
  d.destination.subset = std::move(subset);
  d.weight = weight;
  d.weight_set = weight != 0;
  return d;
}

// One rule: `match` blocks (empty => no match) routed to `destinations`.
inline config::HTTPRoute rule(std::vector<config::HTTPMatchRequest> match,
                              std::vector<config::HTTPRouteDestination> destinations, std::string name = "") {
  config::HTTPRoute r;
  r.name = std::move(name);
  r.match = std::move(match);
  r.route = std::move(destinations);
  return r;
}

inline config::Server server(uint32_t port, std::vector<std::string> hosts, std::string protocol = "HTTP",
                             std::string name = "") {
  config::Server s;
  s.port.number = port;
  s.port.protocol = std::move(protocol);
  s.port.name = name.empty() ? "http-" + std::to_string(port) : std::move(name);
  s.hosts = std::move(hosts);
  return s;
}

inline config::ServicePort service_port(std::string name, uint32_t port, uint32_t target_port = 0) {
  config::ServicePort p;
  p.name = std::move(name);
  p.port = port;
  p.target_port = target_port;
  return p;
}

class Resources {
 public:
  config::ResourceSet set;

  config::ObjectMeta meta(const std::string& ns, const std::string& name) {
    config::ObjectMeta m;
    m.namespace_ = ns;
    m.name = name;
    m.load_order = next_order_++;
    m.source.file = "test.yaml";
    return m;
  }

  config::Gateway& gateway(const std::string& ns, const std::string& name,
                           std::vector<config::Server> servers,
                           Labels selector = {{"istio", "ingressgateway"}}) {
    config::Gateway g;
    g.meta = meta(ns, name);
    g.selector = std::move(selector);
    g.servers = std::move(servers);
    return set.gateways.add(std::move(g));
  }

  config::VirtualService& virtual_service(const std::string& ns, const std::string& name,
                                          std::vector<std::string> hosts, std::vector<std::string> gateways,
                                          std::vector<config::HTTPRoute> http) {
    config::VirtualService vs;
    vs.meta = meta(ns, name);
    vs.hosts = std::move(hosts);
    vs.gateways = std::move(gateways);
    vs.http = std::move(http);
    return set.virtual_services.add(std::move(vs));
  }

  config::Service& service(const std::string& ns, const std::string& name,
                           std::vector<config::ServicePort> ports,
                           std::optional<Labels> selector = std::nullopt) {
    config::Service s;
    s.meta = meta(ns, name);
    s.ports = std::move(ports);
    s.selector = std::move(selector);
    s.type = "ClusterIP";
    return set.services.add(std::move(s));
  }

  config::Pod& pod(const std::string& ns, const std::string& name, const std::string& ip, Labels labels,
                   bool ready = true) {
    config::Pod p;
    p.meta = meta(ns, name);
    p.meta.labels = std::move(labels);
    p.pod_ip = ip;
    p.ready = ready;
    return set.pods.add(std::move(p));
  }

  // A slice with one port and one endpoint per address; targetRef names the
  // pod when `pods` is given (same order as `addresses`).
  config::EndpointSlice& endpoint_slice(const std::string& ns, const std::string& name,
                                        const std::string& service,
                                        std::vector<config::EndpointSlice::EndpointPort> ports,
                                        std::vector<std::string> addresses,
                                        std::vector<std::string> pods = {}, std::vector<bool> ready = {}) {
    config::EndpointSlice slice;
    slice.meta = meta(ns, name);
    slice.service_name = service;
    slice.ports = std::move(ports);
    for (size_t i = 0; i < addresses.size(); ++i) {
      config::EndpointSlice::Endpoint e;
      e.addresses = {addresses[i]};
      e.ready = i < ready.size() ? ready[i] : true;
      if (i < pods.size()) e.target_ref = config::ObjectReference{"Pod", pods[i], ns};
      slice.endpoints.push_back(std::move(e));
    }
    return set.endpoint_slices.add(std::move(slice));
  }

  config::WorkloadEntry& workload_entry(const std::string& ns, const std::string& name,
                                        const std::string& address, Labels labels,
                                        std::map<std::string, uint32_t> ports = {}) {
    config::WorkloadEntry we;
    we.meta = meta(ns, name);
    we.address = address;
    we.labels = std::move(labels);
    we.ports = std::move(ports);
    return set.workload_entries.add(std::move(we));
  }

  config::ServiceEntry& service_entry(const std::string& ns, const std::string& name,
                                      std::vector<std::string> hosts, std::vector<config::Port> ports,
                                      std::string resolution = "STATIC") {
    config::ServiceEntry se;
    se.meta = meta(ns, name);
    se.hosts = std::move(hosts);
    se.ports = std::move(ports);
    se.resolution = std::move(resolution);
    return set.service_entries.add(std::move(se));
  }

  config::DestinationRule& destination_rule(const std::string& ns, const std::string& name, std::string host,
                                            std::vector<config::Subset> subsets) {
    config::DestinationRule dr;
    dr.meta = meta(ns, name);
    dr.host = std::move(host);
    dr.subsets = std::move(subsets);
    return set.destination_rules.add(std::move(dr));
  }

 private:
  int64_t next_order_ = 1;
};

// A request as the router sees it, owning its storage.
struct Request {
  std::string authority;
  std::string path = "/";
  std::string query;
  std::string method = "GET";
  std::string scheme = "http";
  http::HeaderMap headers;

  Request(std::string host, std::string p) : authority(std::move(host)) {
    size_t q = p.find('?');
    if (q != std::string::npos) {
      query = p.substr(q + 1);
      p.resize(q);
    }
    path = std::move(p);
  }
  Request& header(std::string_view name, std::string_view value) {
    headers.add(name, value);
    return *this;
  }
  router::RequestView view() const { return {method, path, query, authority, scheme, &headers}; }
};

// Compiles and keeps the result alive for the routes pointing into it.
struct Compiled {
  CompileResult result;

  explicit Compiled(const config::ResourceSet& set, GatewayIdentity identity = {}, const DnsAnswers& dns = {})
      : result(compile(set, identity, dns)) {}

  const Snapshot& snapshot() const { return *result.snapshot; }

  const Listener* listener(const std::string& name = "0.0.0.0_80") const {
    return result.snapshot->find_listener(name);
  }

  // The route a request gets on a listener; nullptr => 404.
  const router::Route* route(const Request& request, const std::string& listener_name = "0.0.0.0_80") const {
    const Listener* l = listener(listener_name);
    return l == nullptr ? nullptr : l->routes->route(request.view());
  }

  // The cluster name the request is sent to (weight pick with `random`), or
  // "404" when no route matches.
  std::string cluster(const Request& request, uint64_t random = 0,
                      const std::string& listener_name = "0.0.0.0_80") const {
    const router::Route* r = route(request, listener_name);
    if (r == nullptr) return "404";
    if (r->redirect) return "redirect";
    if (r->direct_response) return "direct_response";
    return r->action.pick(random).name;
  }

  bool has_diagnostic(const std::string& needle) const {
    for (const auto& d : result.diagnostics) {
      if (d.format().find(needle) != std::string::npos) return true;
    }
    return false;
  }

  std::string all_diagnostics() const {
    std::string out;
    for (const auto& d : result.diagnostics) out += d.format() + "\n";
    return out;
  }
};

}  // namespace torii::compile::testing
