#include "config/validate_l4_routes.h"

#include <algorithm>

#include "config/names.h"

namespace torii::config {
namespace {

// Istio host.Name.SubsetOf: `a` is covered by `b`.
bool host_subset_of(std::string_view a, std::string_view b) {
  const bool a_wild = a.starts_with("*");
  const bool b_wild = b.starts_with("*");
  if (a_wild) return b_wild && a.substr(1).ends_with(b.substr(1));
  if (b_wild) return a.ends_with(b.substr(1));
  return a == b;
}

void check_sni_host(Report& r, const std::string& field, const std::string& sni, const VirtualService& vs) {
  // istiod isGateway: "mesh" is not listed (here an empty list counts as a gateway too).
  const bool gateway = std::find(vs.gateways.begin(), vs.gateways.end(), "mesh") == vs.gateways.end();
  const std::string err = gateway ? check_gateway_bound_domain(true, sni) : check_wildcard_domain(sni);
  if (!err.empty()) {
    if (is_ip_address(sni)) {
      r.warning(field, "using an IP address (" + quote(sni) +
                           ") goes against SNI spec and most clients do not support this");
      return;
    }
    r.error(field, err);
    return;
  }
  for (const std::string& host : vs.hosts) {
    if (host_subset_of(sni, host)) return;
  }
  std::string hosts;
  for (size_t i = 0; i < vs.hosts.size(); ++i) hosts += (i ? ", " : "") + vs.hosts[i];
  r.error(field, "SNI host " + quote(sni) +
                     " is not a compatible subset of any of the virtual service hosts: [" + hosts + "]");
}

void check_l4_match(Report& r, const std::string& field, const L4MatchAttributes& m) {
  for (size_t i = 0; i < m.destination_subnets.size(); ++i)
    r.error_unless_empty(at(field + ".destinationSubnets", i), check_ip_subnet(m.destination_subnets[i]));
  if (m.port != 0) r.error_unless_empty(field + ".port", check_port(m.port));
  check_labels(r, field + ".sourceLabels", m.source_labels);
  check_vs_gateway_names(r, field + ".gateways", m.gateways);
}

void check_route_destinations(Report& r, const std::string& field,
                              const std::vector<RouteDestination>& route) {
  int64_t total = 0;
  for (size_t i = 0; i < route.size(); ++i) {
    const RouteDestination& d = route[i];
    const std::string f = at(field, i);
    if (!d.has_destination) {
      r.error(f, "destination is required");
    } else {
      check_destination(r, f + ".destination", d.destination);
    }
    if (d.weight < 0) r.error(f + ".weight", "weight " + std::to_string(d.weight) + " < 0");
    total += d.weight;
  }
  if (route.size() > 1 && total == 0) r.error(field, "total destination weight = 0");
}

}  // namespace

void check_l4_routes(Report& r, const VirtualService& vs) {
  for (size_t i = 0; i < vs.tls.size(); ++i) {
    const L4Route& route = vs.tls[i];
    const std::string field = at("spec.tls", i);
    if (route.match.empty()) r.error(field + ".match", "TLS route must have at least one match condition");
    for (size_t j = 0; j < route.match.size(); ++j) {
      const L4MatchAttributes& m = route.match[j];
      const std::string mf = at(field + ".match", j);
      if (m.sni_hosts.empty()) r.error(mf + ".sniHosts", "TLS match must have at least one SNI host");
      for (size_t k = 0; k < m.sni_hosts.size(); ++k)
        check_sni_host(r, at(mf + ".sniHosts", k), m.sni_hosts[k], vs);
      check_l4_match(r, mf, m);
    }
    if (route.route.empty()) r.error(field + ".route", "TLS route is required");
    check_route_destinations(r, field + ".route", route.route);
  }
  for (size_t i = 0; i < vs.tcp.size(); ++i) {
    const L4Route& route = vs.tcp[i];
    const std::string field = at("spec.tcp", i);
    for (size_t j = 0; j < route.match.size(); ++j)
      check_l4_match(r, at(field + ".match", j), route.match[j]);
    if (route.route.empty()) r.error(field + ".route", "TCP route is required");
    check_route_destinations(r, field + ".route", route.route);
  }
}

}  // namespace torii::config
