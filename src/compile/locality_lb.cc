#include "compile/locality_lb.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace torii::compile {

namespace {

struct Locality {
  std::string region, zone, subzone;
};

Locality split(const std::string& s) {
  Locality l;
  size_t a = s.find('/');
  l.region = s.substr(0, a);
  if (a == std::string::npos) return l;
  size_t b = s.find('/', a + 1);
  l.zone = s.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  if (b != std::string::npos) l.subzone = s.substr(b + 1);
  return l;
}

// util.LocalityMatch: rule "region/zone/subzone" with "*" or omitted parts matching anything.
bool locality_match(const Locality& l, const std::string& rule) {
  Locality r = split(rule);
  return (r.region == "*" || r.region == l.region) && (r.zone.empty() || r.zone == "*" || r.zone == l.zone) &&
         (r.subzone.empty() || r.subzone == "*" || r.subzone == l.subzone);
}

// util.LbPriority
uint32_t lb_priority(const Locality& proxy, const Locality& endpoint) {
  if (proxy.region != endpoint.region) return 3;
  if (proxy.zone != endpoint.zone) return 2;
  if (proxy.subzone != endpoint.subzone) return 1;
  return 0;
}

config::Labels topology_labels(const std::string& locality, const config::Labels& labels) {
  config::Labels out = labels;
  Locality l = split(locality);
  if (!l.region.empty()) out.emplace("topology.kubernetes.io/region", l.region);
  if (!l.zone.empty()) out.emplace("topology.kubernetes.io/zone", l.zone);
  if (!l.subzone.empty()) out.emplace("topology.istio.io/subzone", l.subzone);
  return out;
}

void apply_distribute(std::vector<upstream::Endpoint>& endpoints,
                      const config::LocalityLbSetting::Distribute& rule, LocalityOutcome& outcome) {
  std::vector<bool> matched(endpoints.size(), false);
  std::vector<uint64_t> new_weight(endpoints.size(), 0);
  for (const auto& [to, weight] : rule.to) {
    uint64_t total = 0;
    std::vector<size_t> members;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      if (matched[i] || !locality_match(split(endpoints[i].locality), to)) continue;
      matched[i] = true;
      members.push_back(i);
      total += std::max<uint32_t>(1, endpoints[i].weight);
    }
    // Each endpoint's share of the locality's weight, scaled so integer
    // weights keep the proportions (x1000).
    for (size_t i : members) {
      double w = 1000.0 * weight * std::max<uint32_t>(1, endpoints[i].weight) / static_cast<double>(total);
      new_weight[i] = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(w)));
    }
  }
  std::vector<upstream::Endpoint> kept;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (!matched[i]) {
      ++outcome.removed;
      continue;
    }
    endpoints[i].lb_weight = static_cast<uint32_t>(std::min<uint64_t>(new_weight[i], UINT32_MAX));
    kept.push_back(std::move(endpoints[i]));
  }
  endpoints = std::move(kept);
  outcome.distributed = true;
}

}  // namespace

std::string locality_from_labels(const config::Labels& labels) {
  auto get = [&](const char* key) {
    auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
  };
  std::string region = get("topology.kubernetes.io/region");
  std::string zone = get("topology.kubernetes.io/zone");
  std::string subzone = get("topology.istio.io/subzone");
  if (region.empty() && zone.empty()) {
    std::string istio = get("istio-locality");  // "region.zone.subzone"
    if (istio.empty()) return "";
    std::replace(istio.begin(), istio.end(), '.', '/');
    return istio;
  }
  std::string out = region;
  if (!zone.empty() || !subzone.empty()) out += "/" + zone;
  if (!subzone.empty()) out += "/" + subzone;
  return out;
}

LocalityOutcome apply_locality_lb(std::vector<upstream::Endpoint>& endpoints,
                                  const config::LocalityLbSetting* setting, bool outlier_detection,
                                  const GatewayIdentity& identity) {
  LocalityOutcome outcome;
  if (identity.locality.empty() || endpoints.empty()) return outcome;
  if (setting != nullptr && setting->enabled && !*setting->enabled) return outcome;
  const Locality proxy = split(identity.locality);

  if (setting != nullptr && !setting->distribute.empty()) {
    for (const auto& rule : setting->distribute) {
      if (locality_match(proxy, rule.from)) {
        apply_distribute(endpoints, rule, outcome);
        break;
      }
    }
    return outcome;
  }
  // Failover needs outlier detection, or Envoy never leaves priority 0.
  if (!outlier_detection) return outcome;

  std::vector<uint32_t> priority(endpoints.size(), 0);
  const bool use_failover_priority = setting != nullptr && !setting->failover_priority.empty();
  if (use_failover_priority) {
    const config::Labels proxy_labels = topology_labels(identity.locality, identity.labels);
    const auto& keys = setting->failover_priority;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const config::Labels labels = topology_labels(endpoints[i].locality, endpoints[i].labels);
      uint32_t matched = 0;
      for (const std::string& item : keys) {
        size_t eq = item.find('=');
        std::string key = item.substr(0, eq);
        auto theirs = labels.find(key);
        if (theirs == labels.end()) break;
        if (eq != std::string::npos) {
          if (theirs->second != item.substr(eq + 1)) break;
        } else {
          auto ours = proxy_labels.find(key);
          if (ours == proxy_labels.end() || ours->second != theirs->second) break;
        }
        ++matched;
      }
      priority[i] = static_cast<uint32_t>(keys.size()) - matched;
    }
  }
  const bool locality_failover = !use_failover_priority || !setting->failover.empty();
  if (locality_failover) {
    for (size_t i = 0; i < endpoints.size(); ++i) {
      Locality l = split(endpoints[i].locality);
      uint32_t p = lb_priority(proxy, l);
      if (p == 3 && setting != nullptr) {
        for (const auto& rule : setting->failover) {
          if (rule.from == proxy.region) {
            if (l.region != rule.to) p = 4;
            break;
          }
        }
      }
      priority[i] = priority[i] * 5 + p;
    }
  }
  // Priorities 0..N without gaps.
  std::vector<uint32_t> distinct = priority;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    endpoints[i].priority = static_cast<uint32_t>(
        std::lower_bound(distinct.begin(), distinct.end(), priority[i]) - distinct.begin());
  }
  outcome.failover = true;
  return outcome;
}

}  // namespace torii::compile
