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
  std::string out;
  resolve_gateway_name_into(out, ref, vs_namespace);
  return out;
}

void resolve_gateway_name_into(std::string& out, std::string_view ref, std::string_view vs_namespace) {
  auto join = [&out](std::string_view ns, std::string_view name) {
    out.assign(ns).append(1, '/').append(name);
  };
  if (ref == kMeshGateway) {
    out.assign(ref);
    return;
  }
  size_t slash = ref.find('/');
  if (slash != std::string_view::npos) {
    if (ref.substr(0, slash) == ".") {
      join(vs_namespace, ref.substr(slash + 1));
    } else {
      out.assign(ref);
    }
    return;
  }
  size_t dot = ref.find('.');
  if (dot == std::string_view::npos) {
    join(vs_namespace, ref);
    return;
  }
  // Legacy FQDN: name.ns or name.ns.svc.cluster.local -> ns/name.
  std::string_view name = ref.substr(0, dot);
  std::string_view rest = ref.substr(dot + 1);
  join(rest.substr(0, rest.find('.')), name);
}

}  // namespace torii::compile
