#include "http/request_target.h"

#include <array>
#include <cstdint>

#include "http/header_map.h"  // iequals

namespace torii::http {

namespace {
void split_query(std::string_view path_and_query, RequestTarget& out) {
  out.path_and_query = path_and_query;
  size_t q = path_and_query.find('?');
  if (q == std::string_view::npos) {
    out.path = path_and_query;
    out.query = {};
  } else {
    out.path = path_and_query.substr(0, q);
    out.query = path_and_query.substr(q + 1);
  }
  // A fragment never belongs on the wire; drop it if a client sent one.
  size_t hash = out.query.find('#');
  if (hash != std::string_view::npos) out.query = out.query.substr(0, hash);
  hash = out.path.find('#');
  if (hash != std::string_view::npos) out.path = out.path.substr(0, hash);
}
bool is_hex(char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// unreserved / sub-delims (RFC 3986 2.2, 2.3); '%' is checked by the caller.
// A table: every request's Host goes through this.
constexpr std::array<bool, 256> kRegNameChars = [] {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = table[c - 'a' + 'A'] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

bool is_reg_name_char(char c) { return kRegNameChars[static_cast<unsigned char>(c)]; }

bool valid_reg_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%') {
      if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2])) return false;
      i += 2;
    } else if (!is_reg_name_char(name[i])) {
      return false;
    }
  }
  return true;
}

// IPv6address or IPvFuture between the brackets; the exact IPv6 grammar is
// left to whoever connects to it: the character set is what keeps a Host
// from smuggling a space, '@' or '/' past the router.
bool valid_ip_literal(std::string_view inside) {
  if (inside.empty()) return false;
  if ((inside[0] | 0x20) == 'v') {  // IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    size_t dot = inside.find('.');
    if (dot == std::string_view::npos || dot < 2 || dot + 1 == inside.size()) return false;
    for (size_t i = 1; i < dot; ++i)
      if (!is_hex(inside[i])) return false;
    for (char c : inside.substr(dot + 1))
      if (c != ':' && !is_reg_name_char(c)) return false;
    return true;
  }
  for (char c : inside)
    if (!is_hex(c) && c != ':' && c != '.') return false;
  return true;
}

// port = *DIGIT; empty is allowed by the grammar, a value must fit in 16 bits.
bool valid_port(std::string_view port) {
  if (port.size() > 5) return false;
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535;
}
}  // namespace

bool valid_authority(std::string_view authority) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    if (!valid_ip_literal(authority.substr(1, close - 1))) return false;
    std::string_view rest = authority.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    return valid_port(rest.substr(1));
  }
  size_t colon = authority.find(':');
  if (colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  return valid_reg_name(host) && (!has_port || valid_port(port));
}

bool parse_request_target(std::string_view target, RequestTarget& out) {
  out = RequestTarget{};
  if (target.empty()) return false;
  if (target.front() == '/') {
    out.form = RequestTarget::Form::Origin;
    split_query(target, out);
    return true;
  }
  if (target == "*") {
    out.form = RequestTarget::Form::Asterisk;
    out.path = target;
    out.path_and_query = target;
    return true;
  }
  size_t scheme_end = target.find("://");
  if (scheme_end != std::string_view::npos && scheme_end > 0 &&
      target.substr(0, scheme_end).find_first_of("/?#") == std::string_view::npos) {
    out.form = RequestTarget::Form::Absolute;
    out.scheme = target.substr(0, scheme_end);
    // Envoy's codec (Utility::schemeIsValid): only http and https.
    if (!iequals(out.scheme, "http") && !iequals(out.scheme, "https")) return false;
    std::string_view rest = target.substr(scheme_end + 3);
    size_t path_start = rest.find_first_of("/?");
    out.authority = rest.substr(0, path_start);
    // No userinfo ("user@host"), no empty host, a port that fits (RFC 9110 4.2.1).
    if (!valid_authority(out.authority)) return false;
    if (path_start == std::string_view::npos) {
      out.path = "/";
      out.path_and_query = "/";
      return true;
    }
    std::string_view pq = rest.substr(path_start);
    if (pq.front() == '?') {
      // "http://h?x" -> path "/" query "x"; the wire form needs the slash, so
      // keep the view (the caller builds "/" + pq when path is empty).
      out.path = "/";
      out.query = pq.substr(1);
      out.path_and_query = pq;
      return true;
    }
    split_query(pq, out);
    return true;
  }
  // authority-form (CONNECT host:port)
  out.form = RequestTarget::Form::Authority;
  out.authority = target;
  return true;
}

}  // namespace torii::http
