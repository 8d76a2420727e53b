#include "compile/destination_rule_lookup.h"

#include <algorithm>

#include "compile/creation_order.h"
#include "compile/host_name.h"
#include "compile/name_resolution.h"
#include "compile/visibility.h"

namespace torii::compile {

namespace {

std::vector<std::string> normalised(std::vector<std::string> export_to) {
  std::sort(export_to.begin(), export_to.end());
  export_to.erase(std::unique(export_to.begin(), export_to.end()), export_to.end());
  return export_to;
}

}  // namespace

const config::Subset* AppliedDestinationRule::find_subset(std::string_view name) const {
  for (const config::Subset& subset : subsets) {
    if (subset.name == name) return &subset;
  }
  return nullptr;
}

DestinationRuleIndex::DestinationRuleIndex(const config::ObjectList<config::DestinationRule>& rules,
                                           const GatewayIdentity& identity, DiagnosticSink& diagnostics)
    : proxy_namespace_(identity.namespace_), root_namespace_(identity.root_namespace) {
  std::vector<const config::DestinationRule*> sorted;
  for (const config::DestinationRule& rule : rules) sorted.push_back(&rule);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return created_before(a->meta, b->meta); });

  for (const config::DestinationRule* rule : sorted) {
    std::string host = resolve_short_name(rule->host, rule->meta.namespace_, identity.domain_suffix);
    std::vector<std::string> export_to = normalised(rule->export_to);
    auto& applied = by_namespace_[rule->meta.namespace_];
    auto merged = std::find_if(applied.begin(), applied.end(), [&](const AppliedDestinationRule& a) {
      return host::iequals(a.host, host) && normalised(a.export_to) == export_to;
    });
    if (merged == applied.end()) {
      applied.push_back(
          AppliedDestinationRule{host, rule->meta.namespace_, rule->export_to, {}, {}, nullptr, nullptr});
      merged = applied.end() - 1;
    }
    merged->rules.push_back(rule);
    if (merged->traffic_policy == nullptr && rule->traffic_policy) {
      merged->traffic_policy = &*rule->traffic_policy;
      merged->traffic_policy_rule = rule;
    } else if (rule->traffic_policy && merged->rules.size() > 1) {
      diagnostics.warning(
          kDestinationRuleKind, rule->meta, "spec.trafficPolicy",
          "an older DestinationRule for " + host +
              " in this namespace already sets a top-level trafficPolicy; this one is ignored");
    }
    for (size_t i = 0; i < rule->subsets.size(); ++i) {
      const config::Subset& subset = rule->subsets[i];
      if (merged->find_subset(subset.name) != nullptr) {
        diagnostics.warning(kDestinationRuleKind, rule->meta, "spec.subsets[" + std::to_string(i) + "]",
                            "subset " + subset.name + " is already defined by an older DestinationRule for " +
                                host + " in this namespace; ignored");
        continue;
      }
      merged->subsets.push_back(subset);
    }
  }
}

const AppliedDestinationRule* DestinationRuleIndex::find_in(const std::string& ns,
                                                            std::string_view service_host,
                                                            Scope scope) const {
  auto it = by_namespace_.find(ns);
  if (it == by_namespace_.end()) return nullptr;
  const std::vector<AppliedDestinationRule>& applied = it->second;

  auto in_scope = [&](const AppliedDestinationRule& a) {
    switch (scope) {
      case Scope::Any:
        return true;
      case Scope::PrivateOnly:
        return is_private(a.export_to, a.namespace_);
      case Scope::Exported:
        return !is_private(a.export_to, a.namespace_);
    }
    return false;
  };
  host::Names hosts;
  for (const AppliedDestinationRule& a : applied) {
    if (in_scope(a)) hosts.push_back(a.host);
  }
  int best = host::most_specific_match(service_host, hosts);
  if (best < 0) return nullptr;
  const std::string& chosen = hosts[static_cast<size_t>(best)];
  for (const AppliedDestinationRule& a : applied) {
    if (!in_scope(a) || !host::iequals(a.host, chosen)) continue;
    // The exported indexes still check that the rule reaches this gateway's namespace.
    if (scope == Scope::Exported && !is_visible_to(a.export_to, a.namespace_, proxy_namespace_)) continue;
    return &a;
  }
  return nullptr;
}

const AppliedDestinationRule* DestinationRuleIndex::lookup(std::string_view service_host,
                                                           std::string_view service_namespace) const {
  if (proxy_namespace_ != root_namespace_) {
    if (const auto* found = find_in(proxy_namespace_, service_host, Scope::Any)) return found;
  } else {
    // In the root namespace, only rules private to it are "meant for this
    // proxy"; its exported rules are the mesh-wide fallback of step 3.
    if (const auto* found = find_in(root_namespace_, service_host, Scope::PrivateOnly)) return found;
  }
  if (!service_namespace.empty()) {
    if (const auto* found = find_in(std::string(service_namespace), service_host, Scope::Exported))
      return found;
  }
  return find_in(root_namespace_, service_host, Scope::Exported);
}

}  // namespace torii::compile
