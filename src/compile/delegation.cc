#include "compile/delegation.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "compile/name_resolution.h"

namespace torii::compile {

namespace {

using Kind = config::StringMatch::Kind;

// A StringMatch with no usable value: `{}`, `regex: "*"`, or an empty
// exact/prefix (protobuf cannot tell those from "unset" in istiod).
bool untyped(const config::StringMatch& m) { return m.kind == Kind::Presence || m.value.empty(); }

// istiod stringMatchConflict; both sides are set.
bool string_match_conflicts(const config::StringMatch& root, const config::StringMatch& leaf) {
  if (root.kind == Kind::Regex && !untyped(root) && !untyped(leaf)) return true;
  if (leaf.kind == Kind::Regex && !untyped(leaf) && !untyped(root)) return true;
  if (!untyped(root) && root.kind == Kind::Exact) {
    if (!untyped(leaf) && leaf.kind == Kind::Prefix) return true;
    return !(leaf.kind == Kind::Exact && leaf.value == root.value);
  }
  if (!untyped(root) && root.kind == Kind::Prefix && !untyped(leaf)) {
    if (leaf.kind == Kind::Prefix || leaf.kind == Kind::Exact) return !leaf.value.starts_with(root.value);
  }
  return true;
}

bool optional_conflicts(const std::optional<config::StringMatch>& root,
                        const std::optional<config::StringMatch>& leaf) {
  return root && leaf && string_match_conflicts(*root, *leaf);
}

bool map_conflicts(const std::map<std::string, config::StringMatch>& root,
                   const std::map<std::string, config::StringMatch>& leaf) {
  for (const auto& [name, value] : leaf) {
    auto it = root.find(name);
    if (it != root.end() && string_match_conflicts(it->second, value)) return true;
  }
  return false;
}

std::string join_names(const std::string& root, const std::string& leaf) {
  if (leaf.empty()) return root;
  if (root.empty()) return leaf;
  return root + "-" + leaf;
}

// istiod mergeHTTPMatchRequest: the delegate block, completed by the root's.
config::HTTPMatchRequest merge_match(const config::HTTPMatchRequest& root,
                                     const config::HTTPMatchRequest& leaf) {
  config::HTTPMatchRequest out = leaf;
  out.name = join_names(root.name, leaf.name);
  if (!out.uri) out.uri = root.uri;
  if (!out.scheme) out.scheme = root.scheme;
  if (!out.method) out.method = root.method;
  if (!out.authority) out.authority = root.authority;
  auto merge_map = [](const auto& root_map, const auto& leaf_map) {
    auto merged = root_map;
    for (const auto& [k, v] : leaf_map) merged[k] = v;
    return merged;
  };
  out.headers = merge_map(root.headers, leaf.headers);
  out.without_headers = merge_map(root.without_headers, leaf.without_headers);
  out.query_params = merge_map(root.query_params, leaf.query_params);
  if (out.port == 0) out.port = root.port;
  out.source_labels = merge_map(root.source_labels, leaf.source_labels);
  if (out.source_namespace.empty()) out.source_namespace = root.source_namespace;
  if (out.gateways.empty()) out.gateways = root.gateways;
  return out;
}

// istiod mergeHTTPMatchRequests; nullopt = conflict.
std::optional<std::vector<config::HTTPMatchRequest>> merge_matches(
    const std::vector<config::HTTPMatchRequest>& root, const std::vector<config::HTTPMatchRequest>& leaf) {
  if (root.empty()) return leaf;
  if (leaf.empty()) return root;
  std::vector<config::HTTPMatchRequest> out;
  for (const config::HTTPMatchRequest& sub : leaf) {
    bool found = false;
    for (const config::HTTPMatchRequest& r : root) {
      if (match_conflicts(r, sub)) continue;
      out.push_back(merge_match(r, sub));
      found = true;
    }
    if (!found) return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// istiod mergeHTTPRoute: fields the delegate rule leaves unset come from the
// root rule. A root directResponse so reaches every delegate rule without
// one, and then wins over the rule's route (translateRoute: redirect, then
// directResponse, then route).
void inherit_from_root(const config::HTTPRoute& root, config::HTTPRoute& rule) {
  rule.name = join_names(root.name, rule.name);
  if (!rule.rewrite) rule.rewrite = root.rewrite;
  if (!rule.direct_response) rule.direct_response = root.direct_response;
  if (rule.timeout_ms < 0) rule.timeout_ms = root.timeout_ms;
  if (!rule.retries) rule.retries = root.retries;
  if (!rule.has_fault) rule.has_fault = root.has_fault;
  config::HTTPRoutePolicies& p = rule.policies;
  const config::HTTPRoutePolicies& from = root.policies;
  if (!p.fault) p.fault = from.fault;
  if (!p.mirror) p.mirror = from.mirror;
  if (!p.mirror_percent) p.mirror_percent = from.mirror_percent;
  if (!p.mirror_percentage) p.mirror_percentage = from.mirror_percentage;
  if (!p.cors_policy) p.cors_policy = from.cors_policy;
  if (p.mirrors.empty()) p.mirrors = from.mirrors;
  if (!rule.headers) rule.headers = root.headers;
}

// Resolves the delegate's short names and gateway names in its own
// namespace, so they mean the same once its rules live in the root VS.
void resolve_in_delegate_namespace(config::HTTPRoute& rule, const std::string& ns,
                                   const std::string& domain_suffix) {
  for (config::HTTPMatchRequest& m : rule.match) {
    for (std::string& g : m.gateways) g = resolve_gateway_name(g, ns);
  }
  for (config::HTTPRouteDestination& d : rule.route) {
    d.destination.host = resolve_short_name(d.destination.host, ns, domain_suffix);
  }
}

// Delegates are visible to the root's namespace when exported to `*`, to it
// by name, or (`.`/unset default `*`) as istiod's delegatesExportToMap says.
bool exported_to(const config::VirtualService& delegate, const std::string& ns) {
  if (delegate.export_to.empty()) return true;  // defaultVirtualServiceExportTo = *
  for (const std::string& e : delegate.export_to) {
    if (e == "*") return true;
    if (e == "." && delegate.meta.namespace_ == ns) return true;
    if (e == ns) return true;
  }
  return false;
}

bool is_root(const config::VirtualService& vs) {
  return !vs.hosts.empty() && std::any_of(vs.http.begin(), vs.http.end(),
                                          [](const config::HTTPRoute& r) { return r.delegate.has_value(); });
}

}  // namespace

bool match_conflicts(const config::HTTPMatchRequest& root, const config::HTTPMatchRequest& leaf) {
  if (optional_conflicts(root.uri, leaf.uri) || optional_conflicts(root.scheme, leaf.scheme) ||
      optional_conflicts(root.method, leaf.method) || optional_conflicts(root.authority, leaf.authority)) {
    return true;
  }
  if (map_conflicts(root.headers, leaf.headers) ||
      map_conflicts(root.without_headers, leaf.without_headers) ||
      map_conflicts(root.query_params, leaf.query_params)) {
    return true;
  }
  if (root.ignore_uri_case != leaf.ignore_uri_case) return true;
  if (root.port > 0 && leaf.port > 0 && root.port != leaf.port) return true;
  if (!root.source_namespace.empty() && leaf.source_namespace != root.source_namespace) return true;
  for (const auto& [k, v] : leaf.source_labels) {
    auto it = root.source_labels.find(k);
    if (it != root.source_labels.end() && it->second != v) return true;
  }
  if (!root.gateways.empty() && !leaf.gateways.empty()) {
    const std::set<std::string> root_gateways(root.gateways.begin(), root.gateways.end());
    for (const std::string& g : leaf.gateways) {
      if (!root_gateways.contains(g)) return true;
    }
  }
  return false;
}

DelegationResult merge_delegates(const config::ObjectList<config::VirtualService>& virtual_services,
                                 const std::string& domain_suffix, DiagnosticSink& diagnostics) {
  DelegationResult result;
  std::map<std::pair<std::string, std::string>, const config::VirtualService*> delegates;  // (ns, name)
  for (const config::VirtualService& vs : virtual_services) {
    if (vs.hosts.empty()) delegates[{vs.meta.namespace_, vs.meta.name}] = &vs;
  }

  result.virtual_services.reserve(virtual_services.size());
  for (const config::VirtualService& vs : virtual_services) {
    if (!is_root(vs)) {
      result.virtual_services.push_back(&vs);
      continue;
    }
    config::VirtualService& merged = result.merged.emplace_back(vs);
    merged.http.clear();  // merged below
    std::vector<RuleOrigin> origins;
    for (size_t r = 0; r < vs.http.size(); ++r) {
      const config::HTTPRoute& root = vs.http[r];
      const std::string field = "spec.http[" + std::to_string(r) + "].delegate";
      if (!root.delegate) {
        merged.http.push_back(root);
        origins.push_back({static_cast<int>(r), "", -1});
        continue;
      }
      const std::string ns =
          root.delegate->namespace_.empty() ? vs.meta.namespace_ : root.delegate->namespace_;
      const std::string delegate_name = ns + "/" + root.delegate->name;
      auto it = delegates.find({ns, root.delegate->name});
      if (it == delegates.end()) {
        diagnostics.warning(kVirtualServiceKind, vs.meta, field,
                            "delegate VirtualService " + delegate_name +
                                " not found (or rejected, or it has hosts); rule dropped",
                            &root.source);
        continue;
      }
      const config::VirtualService& delegate = *it->second;
      if (!exported_to(delegate, vs.meta.namespace_)) {
        diagnostics.warning(kVirtualServiceKind, vs.meta, field,
                            "delegate VirtualService " + delegate_name + " is not exported to namespace " +
                                vs.meta.namespace_ + "; rule dropped",
                            &root.source);
        continue;
      }
      for (size_t d = 0; d < delegate.http.size(); ++d) {
        config::HTTPRoute rule = delegate.http[d];
        resolve_in_delegate_namespace(rule, delegate.meta.namespace_, domain_suffix);
        std::optional<std::vector<config::HTTPMatchRequest>> matches = merge_matches(root.match, rule.match);
        if (!matches) {
          diagnostics.warning(kVirtualServiceKind, delegate.meta,
                              "spec.http[" + std::to_string(d) + "].match",
                              "conflicts with every match of the root rule " + vs.meta.namespace_ + "/" +
                                  vs.meta.name + " spec.http[" + std::to_string(r) +
                                  "] (Istio delegation rules); delegate rule ignored there",
                              &rule.source);
          continue;
        }
        rule.match = std::move(*matches);
        inherit_from_root(root, rule);
        rule.delegate.reset();
        merged.http.push_back(std::move(rule));
        origins.push_back({static_cast<int>(r), delegate_name, static_cast<int>(d)});
      }
    }
    for (size_t i = 0; i < merged.http.size(); ++i) result.origins[&merged.http[i]] = std::move(origins[i]);
    result.virtual_services.push_back(&merged);
  }
  return result;
}

}  // namespace torii::compile
