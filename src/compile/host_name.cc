#include "compile/host_name.h"

#include <algorithm>

#include "http/header_map.h"

namespace torii::compile::host {

namespace {

bool contains(const Names& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals(n, name); });
}

}  // namespace

std::string to_lower(std::string_view s) { return http::to_lower(s); }

bool iequals(std::string_view a, std::string_view b) { return http::iequals(a, b); }

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool is_wildcard(std::string_view name) { return !name.empty() && name.front() == '*'; }

bool matches(std::string_view a, std::string_view b) {
  bool a_wild = is_wildcard(a);
  bool b_wild = is_wildcard(b);
  if (a_wild && b_wild) {
    std::string_view sa = a.substr(1);
    std::string_view sb = b.substr(1);
    return sa.size() < sb.size() ? iends_with(sb, sa) : iends_with(sa, sb);
  }
  if (a_wild) return iends_with(b, a.substr(1));
  if (b_wild) return iends_with(a, b.substr(1));
  return iequals(a, b);
}

bool subset_of(std::string_view a, std::string_view b) {
  if (is_wildcard(a)) return is_wildcard(b) && iends_with(a.substr(1), b.substr(1));
  if (is_wildcard(b)) return iends_with(a, b.substr(1));
  return iequals(a, b);
}

bool more_specific(std::string_view a, std::string_view b) {
  bool a_wild = is_wildcard(a);
  bool b_wild = is_wildcard(b);
  if (a_wild != b_wild) return !a_wild;
  if (a.size() != b.size()) return a.size() > b.size();
  return to_lower(a) < to_lower(b);
}

Names intersection(const Names& a, const Names& b) {
  Names result;
  for (const std::string& x : a) {
    for (const std::string& y : b) {
      if (subset_of(x, y)) {
        if (!contains(result, x)) result.push_back(x);
      } else if (subset_of(y, x)) {
        if (!contains(result, y)) result.push_back(y);
      }
    }
  }
  return result;
}

Names sanitize_server_hosts(const Names& hosts, std::string_view gateway_namespace) {
  Names out;
  out.reserve(hosts.size());
  for (const std::string& h : hosts) {
    size_t slash = h.find('/');
    if (slash == std::string::npos) {
      out.push_back(h);
      continue;
    }
    std::string_view ns = std::string_view(h).substr(0, slash);
    std::string_view name = std::string_view(h).substr(slash + 1);
    if (ns == ".") {
      out.push_back(std::string(gateway_namespace) + "/" + std::string(name));
    } else if (ns == "*") {
      if (name == "*") return Names{"*"};
      out.emplace_back(name);
    } else {
      out.push_back(h);
    }
  }
  return out;
}

Names names_for_namespace(const Names& server_hosts, std::string_view ns) {
  Names out;
  for (const std::string& h : server_hosts) {
    size_t slash = h.find('/');
    if (slash == std::string::npos) {
      out.push_back(h);
      continue;
    }
    std::string_view host_ns = std::string_view(h).substr(0, slash);
    if (host_ns != ns && host_ns != "*") continue;
    out.push_back(h.substr(slash + 1));
  }
  return out;
}

std::string_view strip_namespace(std::string_view server_host) {
  size_t slash = server_host.find('/');
  return slash == std::string_view::npos ? server_host : server_host.substr(slash + 1);
}

int most_specific_match(std::string_view name, const Names& candidates) {
  int best = -1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string& candidate = candidates[i];
    if (!is_wildcard(candidate)) {
      if (iequals(candidate, name)) return static_cast<int>(i);
      continue;
    }
    if (!subset_of(name, candidate)) continue;
    if (best < 0 || more_specific(candidate, candidates[static_cast<size_t>(best)]))
      best = static_cast<int>(i);
  }
  return best;
}

}  // namespace torii::compile::host
