#include "security/jwt_authn.h"

#include <algorithm>
#include <array>
#include <functional>

#include "security/jwt_verify.h"

namespace torii::security {

namespace {

constexpr std::array<bool, 256> make_jwt_chars() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<size_t>(c)] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '_' || c == '.';
  }
  return t;
}
constexpr std::array<bool, 256> kJwtChars = make_jwt_chars();

inline bool is_jwt_char(char c) { return kJwtChars[static_cast<unsigned char>(c)]; }

// Envoy's extractJWT: from `after`, skip to the first base64url character,
// then take the run of base64url characters and dots. (A character test,
// not find_first_of: libstdc++'s calls memchr on the set once per
// character, ~20 instructions a byte of token; a table is ~4.)
std::string_view extract_jwt(std::string_view value, size_t after) {
  size_t start = after;
  while (start < value.size() && !is_jwt_char(value[start])) ++start;
  if (start == value.size()) return value;
  size_t end = start;
  while (end < value.size() && is_jwt_char(value[end])) ++end;
  return value.substr(start, end - start);
}

bool find_cookie(const http::HeaderMap& headers, std::string_view name, std::string_view& out) {
  for (const auto& e : headers.entries()) {
    if (e.name != "cookie") continue;
    std::string_view rest = e.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view v = pair.substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      out = v;
      return true;
    }
  }
  return false;
}

// The worker's cache of verified tokens: direct-mapped by the token's
// hash, so a lookup is a hash, one compare of the token and a time check.
// Entries of another JwtAuthn (an older snapshot) never match.
struct CacheEntry {
  uint64_t owner = 0;
  size_t hash = 0;
  size_t location = 0;
  std::string token;
  std::shared_ptr<const Jwt> jwt;
  const JwtProvider* provider = nullptr;
};
constexpr size_t kCacheSize = 512;  // power of two
thread_local std::array<CacheEntry, kCacheSize> t_cache;

std::atomic<uint64_t> g_next_id{1};

}  // namespace

bool find_query_param(std::string_view query, std::string_view name, std::string_view& value) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      value = pair.substr(name.size() + 1);
      return true;
    }
  }
  return false;
}

std::string remove_query_param(std::string_view path_and_query, std::string_view name) {
  const size_t q = path_and_query.find('?');
  if (q == std::string_view::npos) return std::string(path_and_query);
  std::string out(path_and_query.substr(0, q));
  std::string_view query = path_and_query.substr(q + 1);
  char sep = '?';
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.starts_with(name) && (pair.size() == name.size() || pair[name.size()] == '=')) continue;
    out += sep;
    out += pair;
    sep = '&';
  }
  return out;
}

bool jwt_claim_header_value(const nlohmann::json& payload, std::string_view path, std::string& out) {
  const nlohmann::json* node = &payload;
  while (true) {
    const size_t dot = path.find('.');
    const std::string key(path.substr(0, dot));
    if (!node->is_object()) return false;
    auto it = node->find(key);
    if (it == node->end()) return false;
    node = &*it;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  if (node->is_string()) {
    out = node->get<std::string>();
  } else if (node->is_boolean()) {
    out = node->get<bool>() ? "true" : "false";
  } else if (node->is_number_integer()) {
    out = node->dump();
  } else if (node->is_number_float()) {
    const double v = node->get<double>();
    out = v == static_cast<double>(static_cast<int64_t>(v)) ? std::to_string(static_cast<int64_t>(v))
                                                            : node->dump();
  } else {
    return false;
  }
  return true;
}

JwtAuthn::JwtAuthn(std::vector<JwtProvider> providers)
    : providers_(std::move(providers)), id_(g_next_id.fetch_add(1, std::memory_order_relaxed)) {
  for (size_t p = 0; p < providers_.size(); ++p) {
    for (const JwtLocation& where : providers_[p].locations) {
      Location* found = nullptr;
      for (Location& l : locations_) {
        if (l.where.kind == where.kind && l.where.name == where.name && l.where.prefix == where.prefix)
          found = &l;
      }
      if (found == nullptr) {
        locations_.push_back(Location{where, {}});
        found = &locations_.back();
      }
      found->providers.push_back(p);
    }
    auto add_output = [this](const std::string& h) {
      if (!h.empty() && std::find(output_headers_.begin(), output_headers_.end(), h) == output_headers_.end())
        output_headers_.push_back(h);
    };
    add_output(providers_[p].output_payload_to_header);
    for (const JwtProvider::ClaimHeader& c : providers_[p].claim_headers) add_output(c.header);
  }
}

JwtStatus JwtAuthn::verify(std::string_view token, size_t location, int64_t now,
                           std::shared_ptr<const Jwt>& jwt, const JwtProvider*& provider) const {
  // The slot: a hash of the length and the last 32 bytes (the signature's
  // end, which differs between any two tokens; the header and the start of
  // the payload often do not). The whole token is compared on a hit.
  const std::string_view tail = token.substr(token.size() > 32 ? token.size() - 32 : 0);
  const size_t hash = std::hash<std::string_view>{}(tail) ^ (token.size() * 0x9e3779b97f4a7c15ull) ^
                      (location * 0xff51afd7ed558ccdull);
  CacheEntry& entry = t_cache[hash & (kCacheSize - 1)];
  if (entry.owner == id_ && entry.hash == hash && entry.location == location && entry.token == token) {
    // Verified before: only the time can have changed.
    const JwtStatus status = check_jwt_time(*entry.jwt, now);
    if (status == JwtStatus::Ok) {
      jwt = entry.jwt;
      provider = entry.provider;
    }
    return status;
  }

  auto parsed = std::make_shared<Jwt>();
  JwtStatus status = parsed->parse(token);
  if (status != JwtStatus::Ok) return status;
  JwtStatus failure = JwtStatus::UnknownIssuer;
  for (size_t p : locations_[location].providers) {
    const JwtProvider& candidate = providers_[p];
    if (!candidate.issuer.empty() && candidate.issuer != parsed->iss) continue;
    status = check_jwt_time(*parsed, now);
    if (status == JwtStatus::Ok) status = check_jwt_audiences(*parsed, candidate.audiences);
    if (status == JwtStatus::Ok) {
      status = candidate.jwks ? verify_jwt_signature(*parsed, *candidate.jwks) : JwtStatus::VerificationFail;
    }
    if (status == JwtStatus::Ok) {
      entry.owner = id_;
      entry.hash = hash;
      entry.location = location;
      entry.token.assign(token);
      entry.jwt = parsed;
      entry.provider = &candidate;
      jwt = std::move(parsed);
      provider = &candidate;
      return JwtStatus::Ok;
    }
    // Several rules for one issuer: any may accept; report the first failure.
    if (failure == JwtStatus::UnknownIssuer) failure = status;
  }
  return failure;
}

JwtOutcome JwtAuthn::authenticate(http::HeaderMap& headers, std::string_view query, int64_t now,
                                  JwtIdentity& identity) const {
  JwtOutcome outcome;
  // Clients cannot forge what the gateway derives from a verified token.
  for (const std::string& h : output_headers_) headers.remove(h);

  struct Found {
    size_t location;
    std::shared_ptr<const Jwt> jwt;
    const JwtProvider* provider;
  };
  std::array<Found, 8> found_tokens;
  size_t found = 0;
  for (size_t i = 0; i < locations_.size() && found < found_tokens.size(); ++i) {
    const JwtLocation& where = locations_[i].where;
    std::string_view token;
    if (where.kind == JwtLocation::Kind::Header) {
      const std::string_view* value = headers.get(where.name);
      if (value == nullptr) continue;
      if (where.prefix.empty()) {
        token = *value;
      } else {
        const size_t pos = value->find(where.prefix);
        if (pos == std::string_view::npos) continue;  // no token at this location
        token = extract_jwt(*value, pos + where.prefix.size());
      }
    } else if (where.kind == JwtLocation::Kind::Param) {
      if (!find_query_param(query, where.name, token)) continue;
    } else if (!find_cookie(headers, where.name, token)) {
      continue;
    }
    Found& f = found_tokens[found];
    f.location = i;
    outcome.status = verify(token, i, now, f.jwt, f.provider);
    if (outcome.status != JwtStatus::Ok) return outcome;  // every token must be valid
    ++found;
  }
  if (found == 0) return outcome;  // no token: anonymous, allowed

  identity.jwt = found_tokens[0].jwt;
  std::string value;
  for (size_t i = 0; i < found; ++i) {
    const Found& f = found_tokens[i];
    const JwtProvider& provider = *f.provider;
    if (!provider.output_payload_to_header.empty())
      headers.set(provider.output_payload_to_header, f.jwt->payload_segment);
    for (const JwtProvider::ClaimHeader& c : provider.claim_headers) {
      if (jwt_claim_header_value(f.jwt->payload, c.claim, value)) headers.set(c.header, value);
    }
    if (!provider.forward_original_token) {
      const JwtLocation& where = locations_[f.location].where;
      if (where.kind == JwtLocation::Kind::Header) {
        headers.remove(where.name);
      } else if (where.kind == JwtLocation::Kind::Param) {
        outcome.remove_param = where.name;
      }
    }
  }
  return outcome;
}

}  // namespace torii::security
