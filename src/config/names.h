// Checks on host names, DNS labels, IPs, ports and labels, shared by the
// validation of every kind. Messages follow istiod's
// (pkg/config/validation/agent/validation.go) so users can search for them.
//
// The `check_*` functions return an error message, or "" when the value is
// valid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/resources.h"

namespace torii::config {

// [a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?, at most 63 characters. Istio accepts
// upper case here (Kubernetes object names cannot have it anyway).
bool is_dns1123_label(std::string_view value);
// A DNS label, optionally prefixed by "*" or "*-", or "*" alone: the first
// label of a wildcard domain.
bool is_wildcard_dns1123_label(std::string_view value);
// `"value"`: how istiod's messages quote a value.
std::string quote(std::string_view s);

// IPv4 dotted quad or IPv6, no port, no zone.
bool is_ip_address(std::string_view value);

std::string check_fqdn(std::string_view name);
std::string check_dns1123_labels(std::string_view domain);
// FQDN or short name, optionally with a wildcard first label ("*.foo.com", "*").
std::string check_wildcard_domain(std::string_view domain);
// ValidateWildcardDomainForVirtualServiceBoundToGateway: with `sni` (the
// VirtualService has TLS sniHosts), the AUTO_PASSTHROUGH form
// "outbound_.<port>_._.<host>" is accepted too.
std::string check_gateway_bound_domain(bool sni, std::string_view domain);
// "*" alone or "*." prefix only ("foo*.com", "*foo.com" are partial).
std::string check_partial_wildcard(std::string_view host);
std::string check_port(int64_t port);
std::string check_port_name(std::string_view name);
std::string check_ip_address(std::string_view address);
// An IP or a CIDR block.
std::string check_ip_subnet(std::string_view subnet);
// The part after "unix://": an absolute file path, or "@abstract".
std::string check_unix_address(std::string_view address);
// An RFC 9110 token (`!#$%&'*+-.^_`|~`, letters, digits): what a header name
// may be. istiod's validHeaderNameRegex.
bool is_http_token(std::string_view value);

// Kubernetes label keys and values; one message per bad entry.
std::vector<std::string> check_labels(const Labels& labels);

// Istio's host.Name.Matches: do two (possibly wildcard) host names overlap?
bool hosts_overlap(std::string_view a, std::string_view b);

}  // namespace torii::config
