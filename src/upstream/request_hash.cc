#include "upstream/request_hash.h"

#include <cstdio>

#include "upstream/hash.h"

namespace torii::upstream {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// First value of query parameter `name` in "path?query", percent-decoded.
std::optional<std::string> query_value(std::string_view path_and_query, std::string_view name) {
  size_t q = path_and_query.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path_and_query.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = item.find('=');
    if (item.substr(0, eq) != name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() && hex_digit(raw[i + 1]) >= 0 && hex_digit(raw[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex_digit(raw[i + 1]) * 16 + hex_digit(raw[i + 2])));
        i += 2;
        continue;
      }
      out.push_back(raw[i] == '+' ? ' ' : raw[i]);
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::string cookie_value(const http::HeaderMap& headers, std::string_view name) {
  for (const http::HeaderMap::Entry& e : headers.entries()) {
    if (e.name != "cookie") continue;
    std::string_view rest = e.value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
      std::string_view value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
  }
  return {};
}

std::optional<uint64_t> request_hash(const HashPolicy& policy, const RequestHashInput& input,
                                     std::string* set_cookie) {
  switch (policy.kind) {
    case HashPolicy::Kind::None:
      return std::nullopt;
    case HashPolicy::Kind::Header: {
      if (input.headers == nullptr) return std::nullopt;
      bool found = false;
      std::string value = input.headers->get_joined(policy.name, &found);
      if (!found) return std::nullopt;
      return xxhash64(value);
    }
    case HashPolicy::Kind::Cookie: {
      std::string value = input.headers ? cookie_value(*input.headers, policy.name) : std::string();
      if (value.empty()) {
        if (policy.cookie_ttl_ms < 0) return std::nullopt;
        char hex[17];
        std::snprintf(hex, sizeof(hex), "%016llx",
                      static_cast<unsigned long long>(
                          xxhash64(std::string(input.peer_ip) + "|" + std::string(input.connection_id))));
        value = hex;
        if (set_cookie != nullptr) {
          std::string c = policy.name + "=\"" + value + "\"";
          if (policy.cookie_ttl_ms > 0) c += "; Max-Age=" + std::to_string(policy.cookie_ttl_ms / 1000);
          if (!policy.cookie_path.empty()) c += "; Path=" + policy.cookie_path;
          for (const auto& [name, attr] : policy.cookie_attributes) {
            c += "; " + name;
            if (!attr.empty()) c += "=" + attr;
          }
          c += "; HttpOnly";
          *set_cookie = std::move(c);
        }
      }
      return xxhash64(value);
    }
    case HashPolicy::Kind::SourceIp:
      if (input.peer_ip.empty()) return std::nullopt;
      return xxhash64(input.peer_ip);
    case HashPolicy::Kind::QueryParameter: {
      std::optional<std::string> value = query_value(input.path_and_query, policy.name);
      if (!value) return std::nullopt;
      return xxhash64(*value);
    }
  }
  return std::nullopt;
}

}  // namespace torii::upstream
