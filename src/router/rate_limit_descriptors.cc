#include "router/rate_limit_descriptors.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "http/header_map.h"
#include "router/route_table.h"

namespace torii::router {

namespace {

// Envoy's RequestHeadersAction reads the header's first value; pseudo-headers
// come from the request view.
bool first_header_value(const RequestView& request, const RateLimitAction& action, std::string_view* value) {
  if (action.source != HeaderSource::Header) return pseudo_header(request, action.source, value);
  if (request.headers == nullptr) return false;
  for (const http::HeaderMap::Entry& entry : request.headers->entries()) {
    if (entry.name == action.header_name) {
      *value = entry.value;
      return true;
    }
  }
  return false;
}

// One action's entry; false when the action has none, which drops the
// whole descriptor (Envoy's RateLimitPolicyEntryImpl::populateDescriptors).
bool add_entry(const RateLimitAction& action, const RequestView& request, std::string_view remote_address,
               DescriptorEntries& entries) {
  switch (action.kind) {
    case RateLimitAction::Kind::RequestHeader: {
      std::string_view value;
      if (!first_header_value(request, action, &value)) return action.skip_if_absent;
      entries.emplace_back(action.key, std::string(value));
      return true;
    }
    case RateLimitAction::Kind::RemoteAddress:
      if (remote_address.empty()) return false;
      entries.emplace_back(action.key, std::string(remote_address));
      return true;
    case RateLimitAction::Kind::MaskedRemoteAddress: {
      std::string masked = masked_address(remote_address, action.v4_prefix_len, action.v6_prefix_len);
      if (masked.empty()) return false;
      entries.emplace_back(action.key, std::move(masked));
      return true;
    }
    case RateLimitAction::Kind::GenericKey:
      entries.emplace_back(action.key, action.value);
      return true;
    case RateLimitAction::Kind::HeaderValueMatch: {
      const bool all = std::all_of(action.headers.begin(), action.headers.end(),
                                   [&](const HeaderMatcher& m) { return m.matches(request); });
      if (all != action.expect_match) return false;
      entries.emplace_back(action.key, action.value);
      return true;
    }
    case RateLimitAction::Kind::QueryValueMatch: {
      const bool all = std::all_of(action.query.begin(), action.query.end(),
                                   [&](const QueryParamMatcher& m) { return m.matches(request.query); });
      if (all != action.expect_match) return false;
      entries.emplace_back(action.key, action.value);
      return true;
    }
    case RateLimitAction::Kind::Unsupported:
      return false;
  }
  return false;
}

std::string dynamic_key(const DescriptorEntries& entries) {
  std::string key;
  for (const auto& [k, v] : entries) {
    key += k;
    key += '\0';
    key += v;
    key += '\0';
  }
  return key;
}

}  // namespace

void populate_descriptors(std::span<const RateLimitRule> rules, uint32_t stage, const RequestView& request,
                          std::string_view remote_address, std::vector<DescriptorEntries>& out) {
  for (const RateLimitRule& rule : rules) {
    if (rule.stage != stage) continue;
    DescriptorEntries entries;
    bool complete = true;
    for (const RateLimitAction& action : rule.actions) {
      if (!add_entry(action, request, remote_address, entries)) {
        complete = false;
        break;
      }
    }
    // Every action skipped (skip_if_absent): Envoy adds no empty descriptor.
    if (complete && !entries.empty()) out.push_back(std::move(entries));
  }
}

std::string masked_address(std::string_view address, uint8_t v4_prefix_len, uint8_t v6_prefix_len) {
  const std::string text(address);
  std::array<unsigned char, 16> bytes{};
  int family = AF_INET;
  uint8_t prefix = v4_prefix_len;
  size_t size = 4;
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) != 1) {
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return {};
    family = AF_INET6;
    prefix = v6_prefix_len;
    size = 16;
  }
  for (size_t i = 0; i < size; ++i) {
    const int keep = std::clamp(static_cast<int>(prefix) - static_cast<int>(i) * 8, 0, 8);
    bytes[i] &= static_cast<unsigned char>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
  char out[INET6_ADDRSTRLEN];
  if (inet_ntop(family, bytes.data(), out, sizeof(out)) == nullptr) return {};
  return std::string(out) + "/" + std::to_string(prefix);
}

DynamicBuckets::DynamicBuckets(uint64_t max_tokens, uint64_t tokens_per_fill, int64_t fill_interval_ns,
                               uint32_t max_size, MonotonicClock clock)
    : max_tokens_(max_tokens),
      tokens_per_fill_(tokens_per_fill),
      fill_interval_ns_(fill_interval_ns),
      max_size_(std::max<uint32_t>(max_size, 1)),
      clock_(clock) {}

std::shared_ptr<TokenBucket> DynamicBuckets::get(const DescriptorEntries& request) {
  std::string key = dynamic_key(request);
  std::lock_guard lock(mutex_);
  if (auto it = buckets_.find(key); it != buckets_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return it->second.first;
  }
  // A value seen for the first time (or again after eviction) starts full.
  auto bucket = std::make_shared<TokenBucket>(max_tokens_, tokens_per_fill_, fill_interval_ns_, clock_);
  lru_.push_front(key);
  buckets_.emplace(std::move(key), std::make_pair(bucket, lru_.begin()));
  if (lru_.size() > max_size_) {
    buckets_.erase(lru_.back());
    lru_.pop_back();
  }
  return bucket;
}

size_t DynamicBuckets::size() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

bool LimitDescriptor::matches(const DescriptorEntries& request) const {
  if (request.size() != entries.size()) return false;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (request[i].first != entries[i].first) return false;
    if (wildcard && entries[i].second.empty()) continue;
    if (request[i].second != entries[i].second) return false;
  }
  return true;
}

RateLimitVerdict decide(std::span<const LimitDescriptor> descriptors, TokenBucket* default_bucket,
                        bool always_consume_default, std::span<const DescriptorEntries> request) {
  struct Matched {
    TokenBucket* bucket;
    std::shared_ptr<TokenBucket> hold;
    double fill_rate;
  };
  std::vector<Matched> matched;
  for (const DescriptorEntries& r : request) {
    // An exact descriptor first (Envoy's hash lookup), else the first wildcard one.
    const LimitDescriptor* found = nullptr;
    for (const LimitDescriptor& d : descriptors) {
      if (!d.wildcard && d.matches(r)) {
        found = &d;
        break;
      }
    }
    if (found == nullptr) {
      for (const LimitDescriptor& d : descriptors) {
        if (d.wildcard && d.matches(r)) {
          found = &d;
          break;
        }
      }
    }
    if (found == nullptr) continue;
    if (found->wildcard) {
      std::shared_ptr<TokenBucket> b = found->dynamic->get(r);
      TokenBucket* raw = b.get();
      matched.push_back({raw, std::move(b), found->fill_rate});
    } else {
      matched.push_back({found->bucket.get(), nullptr, found->fill_rate});
    }
  }
  std::stable_sort(matched.begin(), matched.end(),
                   [](const Matched& a, const Matched& b) { return a.fill_rate < b.fill_rate; });
  for (Matched& m : matched) {
    if (!m.bucket->try_consume()) return {false, m.bucket, std::move(m.hold)};
  }
  if ((matched.empty() || always_consume_default) && default_bucket != nullptr) {
    if (!default_bucket->try_consume()) return {false, default_bucket, nullptr};
  }
  if (matched.empty()) return {true, default_bucket, nullptr};
  return {true, matched.front().bucket, std::move(matched.front().hold)};
}

}  // namespace torii::router
