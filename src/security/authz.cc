#include "security/authz.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace torii::security {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal(std::string_view a, std::string_view b, bool ignore_case) {
  if (a.size() != b.size()) return false;
  if (!ignore_case) return a == b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Claims Istio splits at spaces before matching (OAuth scopes).
bool space_delimited(std::string_view claim) { return claim == "scope" || claim == "permission"; }

bool any_value(const std::vector<ValueMatcher>& values, std::string_view s) {
  return std::any_of(values.begin(), values.end(), [&](const ValueMatcher& m) { return m.matches(s); });
}

// A string claim, or any string element of a list claim, matches; numbers,
// booleans and objects never do (ISTIO_SECURITY.md §10).
bool claim_matches(const nlohmann::json& value, const std::vector<ValueMatcher>& values, bool split) {
  auto one = [&](const nlohmann::json& v) {
    if (!v.is_string()) return false;
    const std::string& s = v.get_ref<const std::string&>();
    if (!split) return any_value(values, s);
    for (size_t start = 0; start <= s.size();) {
      size_t end = s.find(' ', start);
      if (end == std::string::npos) end = s.size();
      if (end > start && any_value(values, std::string_view(s).substr(start, end - start))) return true;
      start = end + 1;
    }
    return false;
  };
  if (value.is_array()) return std::any_of(value.begin(), value.end(), one);
  return one(value);
}

const nlohmann::json* find_claim(const nlohmann::json& payload, const std::vector<std::string>& path) {
  const nlohmann::json* node = &payload;
  for (const std::string& key : path) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

// Whether the attribute is there, and whether one of the values matches it.
struct Seen {
  bool present = false;
  bool matched = false;
};

Seen evaluate(const AuthzPredicate& p, const AuthzRequest& r) {
  using A = AuthzPredicate::Attribute;
  switch (p.attribute) {
    case A::Host:
      return {true, any_value(p.values, r.host)};
    case A::Method:
      return {true, any_value(p.values, r.method)};
    case A::Path:
      return {true, any_value(p.values, r.path) ||
                        std::any_of(p.templates.begin(), p.templates.end(),
                                    [&](const PathTemplate& t) { return t.matches(r.path); })};
    case A::Port:
      return {r.port != 0, std::find(p.ports.begin(), p.ports.end(), r.port) != p.ports.end()};
    case A::SourceIp:
    case A::RemoteIp:
    case A::DestinationIp: {
      const std::optional<IpAddress>& ip = p.attribute == A::SourceIp   ? r.source_ip
                                           : p.attribute == A::RemoteIp ? r.remote_ip
                                                                        : r.destination_ip;
      if (!ip) return {};
      return {true, std::any_of(p.ranges.begin(), p.ranges.end(),
                                [&](const IpRange& range) { return range.contains(*ip); })};
    }
    case A::Sni:
      return {!r.sni.empty(), !r.sni.empty() && any_value(p.values, r.sni)};
    case A::Header: {
      if (r.headers == nullptr) return {};
      // Several fields of one name are compared joined by "," (Envoy's
      // header matcher); one field, the common case, needs no copy.
      const std::string_view* first = r.headers->get(p.name);
      if (first == nullptr) return {};
      size_t count = 0;
      for (const auto& e : r.headers->entries()) count += e.name == p.name ? 1 : 0;
      if (count == 1) return {true, any_value(p.values, *first)};
      return {true, any_value(p.values, r.headers->get_joined(p.name))};
    }
    case A::RequestPrincipal: {
      if (r.jwt == nullptr) return {};
      return {true, std::any_of(p.principals.begin(), p.principals.end(),
                                [&](const PrincipalMatcher& m) { return m.matches(*r.jwt); })};
    }
    case A::Audiences: {
      if (r.jwt == nullptr || r.jwt->audiences.empty()) return {};
      return {true, std::any_of(r.jwt->audiences.begin(), r.jwt->audiences.end(),
                                [&](const std::string& a) { return any_value(p.values, a); })};
    }
    case A::Presenter: {
      if (r.jwt == nullptr) return {};
      static const std::vector<std::string> kAzp{"azp"};  // built once: nothing allocated per request
      const nlohmann::json* azp = find_claim(r.jwt->payload, kAzp);
      if (azp == nullptr) return {};
      return {true, claim_matches(*azp, p.values, false)};
    }
    case A::Claim: {
      if (r.jwt == nullptr) return {};
      const nlohmann::json* claim = find_claim(r.jwt->payload, p.claim_path);
      if (claim == nullptr) return {};
      const bool split = p.claim_path.size() == 1 && space_delimited(p.claim_path[0]);
      return {true, claim_matches(*claim, p.values, split)};
    }
    case A::PeerIdentity:
    case A::Never:
      return {};
  }
  return {};
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buffer)) return std::nullopt;
  std::copy(text.begin(), text.end(), buffer);
  buffer[text.size()] = '\0';
  IpAddress ip;
  in_addr v4;
  if (inet_pton(AF_INET, buffer, &v4) == 1) {
    ip.bytes[10] = ip.bytes[11] = 0xff;
    std::memcpy(ip.bytes.data() + 12, &v4, 4);
    return ip;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buffer, &v6) == 1) {
    std::memcpy(ip.bytes.data(), &v6, 16);
    return ip;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::of(const sockaddr_storage& address) {
  IpAddress ip;
  if (address.ss_family == AF_INET) {
    ip.bytes[10] = ip.bytes[11] = 0xff;
    std::memcpy(ip.bytes.data() + 12, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, 4);
    return ip;
  }
  if (address.ss_family == AF_INET6) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

std::optional<IpRange> IpRange::parse(std::string_view text) {
  const size_t slash = text.find('/');
  IpRange range;
  const std::optional<IpAddress> base = IpAddress::parse(text.substr(0, slash));
  if (!base) return std::nullopt;
  range.base = *base;
  const bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  if (slash == std::string_view::npos) {
    range.prefix_bits = 128;
    return range;
  }
  int bits = 0;
  const std::string_view digits = text.substr(slash + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  if (ec != std::errc() || end != digits.data() + digits.size() || bits < 0 || bits > (v4 ? 32 : 128)) {
    return std::nullopt;
  }
  range.prefix_bits = v4 ? 96 + bits : bits;
  return range;
}

bool IpRange::contains(const IpAddress& ip) const {
  int bits = prefix_bits;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

ValueMatcher ValueMatcher::of(std::string_view written, bool ignore_case) {
  ValueMatcher m;
  m.ignore_case = ignore_case;
  if (written == "*") {
    m.kind = Kind::Present;
  } else if (written.size() > 1 && written.front() == '*') {
    m.kind = Kind::Suffix;
    m.value = std::string(written.substr(1));
  } else if (written.size() > 1 && written.back() == '*') {
    m.kind = Kind::Prefix;
    m.value = std::string(written.substr(0, written.size() - 1));
  } else {
    m.value = std::string(written);
  }
  if (ignore_case) {
    for (char& c : m.value) c = lower(c);
  }
  return m;
}

bool ValueMatcher::matches(std::string_view s) const {
  switch (kind) {
    case Kind::Present:
      return !s.empty();
    case Kind::Exact:
      return equal(s, value, ignore_case);
    case Kind::Prefix:
      return s.size() >= value.size() && equal(s.substr(0, value.size()), value, ignore_case);
    case Kind::Suffix:
      return s.size() >= value.size() && equal(s.substr(s.size() - value.size()), value, ignore_case);
  }
  return false;
}

PrincipalMatcher PrincipalMatcher::of(std::string_view written) {
  using Kind = ValueMatcher::Kind;
  auto make = [](Kind kind, std::string_view value) { return ValueMatcher{kind, std::string(value), false}; };
  const ValueMatcher any = make(Kind::Present, "");
  // The issuer may be a URL: the subject is what follows the last '/'.
  const size_t slash = written.rfind('/');
  const bool found = slash != std::string_view::npos;
  const std::string_view iss = found ? written.substr(0, slash) : written;
  const std::string_view sub = found ? written.substr(slash + 1) : std::string_view();
  if (written == "*") return {any, any};
  if (written.starts_with('*')) {
    if (!found) return {any, make(Kind::Suffix, written.substr(1))};
    return {iss == "*" ? any : make(Kind::Suffix, iss.substr(1)), make(Kind::Exact, sub)};
  }
  if (written.ends_with('*')) {
    if (!found) return {make(Kind::Prefix, written.substr(0, written.size() - 1)), any};
    return {make(Kind::Exact, iss), sub == "*" ? any : make(Kind::Prefix, sub.substr(0, sub.size() - 1))};
  }
  return {make(Kind::Exact, iss), make(Kind::Exact, sub)};
}

bool PrincipalMatcher::matches(const Jwt& jwt) const {
  // Envoy reads `iss` and `sub` from the verified payload: an absent claim
  // matches nothing, an empty string claim is a value like any other.
  auto claim = [&](const ValueMatcher& m, const std::string& value, const char* name) {
    if (value.empty()) {
      auto it = jwt.payload.find(name);
      if (it == jwt.payload.end() || !it->is_string()) return false;
    }
    return m.matches(value);
  };
  return claim(iss, jwt.iss, "iss") && claim(sub, jwt.sub, "sub");
}

namespace {

// Envoy's uri_template path characters: RFC 3986 pchar without '*' and '='.
bool path_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~%!$&'()+,;:@").find(c) != std::string_view::npos;
}

}  // namespace

bool PathTemplate::is_template(std::string_view written) {
  return written.find("{*}") != std::string_view::npos || written.find("{**}") != std::string_view::npos;
}

PathTemplate PathTemplate::of(std::string_view written) {
  PathTemplate t;
  if (written.starts_with('/')) written.remove_prefix(1);
  bool after_any = false;
  for (size_t start = 0; start <= written.size();) {
    size_t end = written.find('/', start);
    if (end == std::string_view::npos) end = written.size();
    const std::string_view segment = written.substr(start, end - start);
    Segment s;
    if (segment == "{*}") {
      s.kind = Segment::Kind::OneSegment;
    } else if (segment == "{**}") {
      s.kind = Segment::Kind::AnySegments;
      after_any = true;
    } else {
      s.literal = std::string(segment);
      if (after_any) t.tail += "/" + s.literal;
    }
    t.segments.push_back(std::move(s));
    start = end + 1;
  }
  return t;
}

bool PathTemplate::matches(std::string_view path) const {
  if (!path.starts_with('/')) return false;
  size_t pos = 1;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = segments[i];
    if (i > 0) {
      if (pos >= path.size() || path[pos] != '/') return false;
      ++pos;
    }
    switch (s.kind) {
      case Segment::Kind::Literal:
        if (path.substr(pos, s.literal.size()) != s.literal) return false;
        pos += s.literal.size();
        break;
      case Segment::Kind::OneSegment: {
        const size_t start = pos;
        while (pos < path.size() && path_char(path[pos])) ++pos;
        if (pos == start) return false;
        break;
      }
      case Segment::Kind::AnySegments: {
        // Only literals follow: the path ends with them, and `{**}` takes
        // whatever path characters and '/' come before.
        if (path.size() < pos + tail.size() || !path.ends_with(tail)) return false;
        const size_t end = path.size() - tail.size();
        for (; pos < end; ++pos) {
          if (path[pos] != '/' && !path_char(path[pos])) return false;
        }
        return true;
      }
    }
  }
  return pos == path.size();
}

bool AuthzPredicate::matches(const AuthzRequest& request) const {
  const Seen seen = evaluate(*this, request);
  // notX: true when the attribute is absent or none of the values matches.
  return negated ? !(seen.present && seen.matched) : seen.present && seen.matched;
}

bool AuthzPredicate::http_only() const {
  switch (attribute) {
    case Attribute::Host:
    case Attribute::Method:
    case Attribute::Path:
    case Attribute::Header:
    case Attribute::RequestPrincipal:
    case Attribute::Audiences:
    case Attribute::Presenter:
    case Attribute::Claim:
      return true;
    default:
      return false;
  }
}

bool AuthzRule::matches(const AuthzRequest& request) const {
  auto all = [&](const std::vector<AuthzPredicate>& predicates) {
    return std::all_of(predicates.begin(), predicates.end(),
                       [&](const AuthzPredicate& p) { return p.matches(request); });
  };
  if (!all(conditions)) return false;
  if (!any_source && std::none_of(sources.begin(), sources.end(), all)) return false;
  if (!any_operation && std::none_of(operations.begin(), operations.end(), all)) return false;
  return true;
}

AuthzEngine::AuthzEngine(std::vector<AuthzPolicy> policies) : policies_(std::move(policies)) {
  auto rank = [](const AuthzPolicy& p) {
    return p.action == AuthzPolicy::Action::Deny ? 0 : p.action == AuthzPolicy::Action::Allow ? 1 : 2;
  };
  std::stable_sort(policies_.begin(), policies_.end(),
                   [&](const AuthzPolicy& a, const AuthzPolicy& b) { return rank(a) < rank(b); });
  has_allow_ = std::any_of(policies_.begin(), policies_.end(), [](const AuthzPolicy& p) {
    return p.action == AuthzPolicy::Action::Allow && !p.dry_run;
  });
  auto reads_destination_ip = [](const std::vector<AuthzPredicate>& predicates) {
    return std::any_of(predicates.begin(), predicates.end(), [](const AuthzPredicate& p) {
      return p.attribute == AuthzPredicate::Attribute::DestinationIp;
    });
  };
  for (const AuthzPolicy& policy : policies_) {
    for (const AuthzRule& rule : policy.rules) {
      needs_destination_ip_ = needs_destination_ip_ || reads_destination_ip(rule.conditions);
      for (const auto& group : {&rule.sources, &rule.operations}) {
        for (const auto& alternative : *group)
          needs_destination_ip_ = needs_destination_ip_ || reads_destination_ip(alternative);
      }
    }
  }
}

AuthzDecision AuthzEngine::evaluate(const AuthzRequest& request) const {
  AuthzDecision decision;
  bool allow_matched = false;
  for (const AuthzPolicy& policy : policies_) {
    if (policy.action == AuthzPolicy::Action::Audit) break;  // sorted last; they never decide
    // A dry-run ALLOW neither allows nor makes the gateway default-deny.
    if (policy.action == AuthzPolicy::Action::Allow && (policy.dry_run || allow_matched)) continue;
    for (size_t i = 0; i < policy.rules.size(); ++i) {
      if (!policy.rules[i].matches(request)) continue;
      if (policy.action == AuthzPolicy::Action::Deny && policy.dry_run) {
        decision.shadow_denied = true;
      } else if (policy.action == AuthzPolicy::Action::Deny) {
        decision.allowed = false;
        decision.policy = &policy;
        decision.rule = static_cast<int>(i);
        return decision;
      } else {
        allow_matched = true;
        decision.policy = &policy;
        decision.rule = static_cast<int>(i);
      }
      break;
    }
  }
  if (has_allow_ && !allow_matched) decision.allowed = false;
  return decision;
}

std::vector<AuthzPolicy> for_tcp(const std::vector<AuthzPolicy>& policies) {
  auto http_only = [](const AuthzPredicate& p) { return p.http_only(); };
  std::vector<AuthzPolicy> out;
  for (const AuthzPolicy& policy : policies) {
    AuthzPolicy tcp = policy;
    tcp.rules.clear();
    for (AuthzRule rule : policy.rules) {
      if (policy.action == AuthzPolicy::Action::Allow) {
        bool uses_http = std::any_of(rule.conditions.begin(), rule.conditions.end(), http_only);
        for (const auto& group : {&rule.sources, &rule.operations}) {
          for (const auto& alternative : *group)
            uses_http = uses_http || std::any_of(alternative.begin(), alternative.end(), http_only);
        }
        if (!uses_http) tcp.rules.push_back(std::move(rule));
        continue;
      }
      std::erase_if(rule.conditions, http_only);
      for (auto* group : {&rule.sources, &rule.operations}) {
        for (auto& alternative : *group) std::erase_if(alternative, http_only);
      }
      tcp.rules.push_back(std::move(rule));
    }
    out.push_back(std::move(tcp));
  }
  return out;
}

std::string rbac_denied_details(const AuthzDecision& decision) {
  if (decision.policy == nullptr) return "rbac_access_denied_matched_policy[none]";
  return "rbac_access_denied_matched_policy[" + decision.policy->id_prefix + std::to_string(decision.rule) +
         "]]";
}

}  // namespace torii::security
