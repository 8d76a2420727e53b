#include "config/names.h"

#include <arpa/inet.h>

#include <cstdlib>

namespace torii::config {

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

// Go's strconv.Atoi succeeds: an optional sign and at least one digit.
bool is_integer(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Kubernetes "qualified name" part: alphanumerics, '-', '_', '.', starting and
// ending with an alphanumeric, at most 63 characters.
bool is_qualified_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (std::string_view label : split(s, '.')) {
    if (!is_dns1123_label(label)) return false;
  }
  return true;
}

std::string check_dns1123_preconditions(std::string_view name) {
  if (name.size() > 255) return "domain name " + quote(name) + " too long (max 255)";
  if (name.empty()) return "empty domain name not allowed";
  return "";
}

}  // namespace

bool is_dns1123_label(std::string_view value) {
  if (value.empty() || value.size() > 63) return false;
  if (!is_alnum(value.front()) || !is_alnum(value.back())) return false;
  for (char c : value) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

bool is_wildcard_dns1123_label(std::string_view value) {
  if (value.size() > 63) return false;
  if (value == "*") return true;
  if (value.starts_with("*-")) {
    value.remove_prefix(2);
  } else if (value.starts_with("*")) {
    value.remove_prefix(1);
  }
  return is_dns1123_label(value);
}

bool is_ip_address(std::string_view value) {
  const std::string s(value);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string check_dns1123_labels(std::string_view domain) {
  const auto parts = split(domain, '.');
  if (is_integer(parts.back())) {
    return "domain name " + quote(domain) + " invalid (top level domain " + quote(parts.back()) +
           " cannot be all-numeric)";
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    // A trailing dot ("istio.io.") is an unambiguous absolute name.
    if (i == parts.size() - 1 && parts[i].empty()) return "";
    if (!is_dns1123_label(parts[i])) {
      return "domain name " + quote(domain) + " invalid (label " + quote(parts[i]) + " invalid)";
    }
  }
  return "";
}

std::string check_fqdn(std::string_view name) {
  if (auto err = check_dns1123_preconditions(name); !err.empty()) return err;
  return check_dns1123_labels(name);
}

std::string check_wildcard_domain(std::string_view domain) {
  if (auto err = check_dns1123_preconditions(domain); !err.empty()) return err;
  const size_t dot = domain.find('.');
  const std::string_view first = domain.substr(0, dot);
  if (!is_wildcard_dns1123_label(first)) {
    return "domain name " + quote(domain) + " invalid (label " + quote(first) + " invalid)";
  }
  if (dot != std::string_view::npos) return check_dns1123_labels(domain.substr(dot + 1));
  return "";
}

std::string check_partial_wildcard(std::string_view host) {
  if (host.find('*') != std::string_view::npos && host.size() != 1 && !host.starts_with("*.")) {
    return "partial wildcard " + quote(host) + " not allowed";
  }
  return "";
}

std::string check_port(int64_t port) {
  if (port >= 1 && port <= 65535) return "";
  return "port number " + std::to_string(port) + " must be in the range 1..65535";
}

std::string check_port_name(std::string_view name) {
  if (is_dns1123_label(name)) return "";
  return "invalid port name: " + std::string(name);
}

std::string check_ip_address(std::string_view address) {
  if (is_ip_address(address)) return "";
  return std::string(address) + " is not a valid IP";
}

std::string check_ip_subnet(std::string_view subnet) {
  const size_t slash = subnet.find('/');
  if (slash == std::string_view::npos) return check_ip_address(subnet);
  const std::string_view ip = subnet.substr(0, slash);
  const std::string_view bits = subnet.substr(slash + 1);
  const std::string error = std::string(subnet) + " is not a valid CIDR block";
  if (!is_ip_address(ip) || bits.empty() || bits.size() > 3) return error;
  for (char c : bits) {
    if (c < '0' || c > '9') return error;
  }
  const int max_bits = ip.find(':') == std::string_view::npos ? 32 : 128;
  if (std::atoi(std::string(bits).c_str()) > max_bits) return error;
  return "";
}

std::string check_unix_address(std::string_view address) {
  if (address.empty()) return "unix address must not be empty";
  if (address.starts_with("@")) return "";  // abstract socket
  if (!address.starts_with("/") || address.ends_with("/")) {
    return std::string(address) + " is not an absolute path to a file";
  }
  return "";
}

std::vector<std::string> check_labels(const Labels& labels) {
  std::vector<std::string> errors;
  for (const auto& [key, value] : labels) {
    // Key: [dns-subdomain "/"] qualified-name.
    const size_t slash = key.find('/');
    const bool key_ok = slash == std::string::npos
                            ? is_qualified_name(key)
                            : is_dns1123_subdomain(std::string_view(key).substr(0, slash)) &&
                                  is_qualified_name(std::string_view(key).substr(slash + 1));
    if (!key_ok) errors.push_back("invalid label key: " + quote(key));
    if (!value.empty() && !is_qualified_name(value)) errors.push_back("invalid label value: " + quote(value));
  }
  return errors;
}

bool hosts_overlap(std::string_view a, std::string_view b) {
  const bool a_wild = a.starts_with("*");
  const bool b_wild = b.starts_with("*");
  if (a_wild && b_wild) {
    return a.size() < b.size() ? b.substr(1).ends_with(a.substr(1)) : a.substr(1).ends_with(b.substr(1));
  }
  if (a_wild) return b.ends_with(a.substr(1));
  if (b_wild) return a.ends_with(b.substr(1));
  return a == b;
}

}  // namespace torii::config
