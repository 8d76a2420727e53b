#include "compile/name_resolution.h"

#include <arpa/inet.h>

#include <array>

namespace torii::compile {

bool is_ip_address(std::string_view text) {
  // inet_pton needs a terminated string; addresses are short.
  std::array<char, INET6_ADDRSTRLEN + 1> buffer{};
  if (text.empty() || text.size() >= buffer.size()) return false;
  text.copy(buffer.data(), text.size());
  std::array<unsigned char, sizeof(in6_addr)> out{};
  return inet_pton(AF_INET, buffer.data(), out.data()) == 1 ||
         inet_pton(AF_INET6, buffer.data(), out.data()) == 1;
}

std::string service_hostname(std::string_view name, std::string_view ns, std::string_view domain_suffix) {
  std::string out(name);
  out += '.';
  out += ns;
  out += ".svc.";
  out += domain_suffix;
  return out;
}

std::string resolve_short_name(std::string_view name, std::string_view rule_namespace,
                               std::string_view domain_suffix) {
  if (name.empty() || name == "*" || is_ip_address(name) || name.find('.') != std::string_view::npos) {
    return std::string(name);
  }
  return service_hostname(name, rule_namespace, domain_suffix);
}

std::string resolve_gateway_name(std::string_view ref, std::string_view vs_namespace) {
  if (ref == kMeshGateway) return std::string(ref);
  size_t slash = ref.find('/');
  if (slash != std::string_view::npos) {
    if (ref.substr(0, slash) == ".")
      return std::string(vs_namespace) + "/" + std::string(ref.substr(slash + 1));
    return std::string(ref);
  }
  size_t dot = ref.find('.');
  if (dot == std::string_view::npos) return std::string(vs_namespace) + "/" + std::string(ref);
  // Legacy FQDN: name.ns or name.ns.svc.cluster.local -> ns/name.
  std::string_view name = ref.substr(0, dot);
  std::string_view rest = ref.substr(dot + 1);
  std::string_view ns = rest.substr(0, rest.find('.'));
  return std::string(ns) + "/" + std::string(name);
}

}  // namespace torii::compile
