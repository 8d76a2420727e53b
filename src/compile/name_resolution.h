// Name resolution rules of istiod (pilot/pkg/model/config.go; ISTIO_SEMANTICS
// §1.2, §1.3): short service names and Gateway references as written in
// VirtualServices and DestinationRules.
#pragma once

#include <string>
#include <string_view>

namespace torii::compile {

// The reserved gateway name meaning "all sidecars"; a gateway never sees it.
inline constexpr std::string_view kMeshGateway = "mesh";

// ResolveShortnameToFQDN: `*`, IP addresses and names containing a '.' are
// used as written; anything else becomes `<name>.<rule-namespace>.svc.<suffix>`.
// The namespace is the one of the rule (VS/DR), never of the service: `reviews`
// in a VS in `a` is `reviews.a.svc.cluster.local` even if the Service lives in `b`.
std::string resolve_short_name(std::string_view name, std::string_view rule_namespace,
                               std::string_view domain_suffix);

// resolveGatewayName: `mesh` stays `mesh`; `name` and `./name` ->
// `<vs-ns>/name`; `ns/name` as is; legacy `name.ns[.svc.cluster.local]` -> `ns/name`.
std::string resolve_gateway_name(std::string_view ref, std::string_view vs_namespace);
// The same into `out`, reusing its storage (a compile resolves every VS's
// gateways; this makes no allocation once `out` has grown).
void resolve_gateway_name_into(std::string& out, std::string_view ref, std::string_view vs_namespace);

// `<name>.<ns>.svc.<suffix>`: the hostname of a Kubernetes Service.
std::string service_hostname(std::string_view name, std::string_view ns, std::string_view domain_suffix);

// True for a literal IPv4 or IPv6 address (no brackets, no port).
bool is_ip_address(std::string_view text);

}  // namespace torii::compile
