#include "compile/route_translation.h"

#include <algorithm>
#include <optional>

#include "compile/action_translation.h"
#include "compile/labels.h"
#include "compile/match_translation.h"
#include "compile/name_resolution.h"
#include "compile/policy_translation.h"

namespace torii::compile {

namespace {

// istiod sourceMatchHTTP plus the port check of translateRoute.
bool match_applies(const config::HTTPMatchRequest& match, const config::VirtualService& vs,
                   const RouteTranslationContext& context) {
  if (match.port != 0 && match.port != context.server_port) return false;
  if (!match.gateways.empty()) {
    // match.gateways overrides the VS-level gateways; sourceLabels and
    // sourceNamespace are then ignored.
    return std::any_of(match.gateways.begin(), match.gateways.end(), [&](const std::string& g) {
      return resolve_gateway_name(g, vs.meta.namespace_) == context.gateway;
    });
  }
  if (!labels_subset(match.source_labels, context.identity.labels)) return false;
  return match.source_namespace.empty() || match.source_namespace == context.identity.namespace_;
}

std::string route_name(const config::HTTPRoute& rule, const config::HTTPMatchRequest* match) {
  if (match == nullptr || match->name.empty()) return rule.name;
  if (rule.name.empty()) return match->name;
  return rule.name + "." + match->name;
}

// The weighted clusters of a `route` action with their header operations,
// or nullopt (with an error) when the rule cannot be routed.
std::optional<router::RouteAction> translate_destinations(const config::HTTPRoute& rule,
                                                          const config::VirtualService& vs,
                                                          const std::string& field,
                                                          const RouteTranslationContext& context) {
  if (rule.route.empty()) {
    context.diagnostics.error(kVirtualServiceKind, vs.meta, field + ".route",
                              "rule has no destination; rule dropped", &rule.source);
    return std::nullopt;
  }
  router::RouteAction action;
  action.headers = translate_rule_headers(rule);
  std::optional<router::PathRewrite> rewrite = translate_rewrite(rule, vs, field, context.diagnostics);
  if (!rewrite) return std::nullopt;
  action.path_rewrite = std::move(*rewrite);

  const bool single = rule.route.size() == 1;
  for (size_t i = 0; i < rule.route.size(); ++i) {
    const config::HTTPRouteDestination& destination = rule.route[i];
    // Weights are relative (no sum-to-100 rule since istio/istio#39544). A
    // single destination gets everything whatever its weight; with several,
    // weight-0 destinations get nothing and are left out.
    uint32_t weight = 1;
    if (!single) {
      if (destination.weight <= 0) continue;
      weight = static_cast<uint32_t>(destination.weight);
    }
    ClusterBuilder::Resolution resolved =
        context.clusters.resolve(destination.destination, vs.meta.namespace_, context.server_port);
    if (resolved.cluster.cluster == nullptr) {
      context.diagnostics.warning(kVirtualServiceKind, vs.meta,
                                  field + ".route[" + std::to_string(i) + "].destination",
                                  "cluster " + resolved.cluster.name + " does not exist (" +
                                      resolved.missing_reason + "); requests routed to it get 503 (NC)",
                                  &rule.source);
    }
    resolved.cluster.weight = weight;
    if (destination.headers) {
      router::HeaderMutations ops = translate_headers(*destination.headers);
      if (single) {
        // istiod processDestination: one Envoy header list, the rule's
        // operations then the destination's (so a destination `set` beats a
        // rule `add`); the destination's authority only if the rule has none.
        action.headers.request.append(ops.request);
        action.headers.response.append(ops.response);
        if (action.headers.host_rewrite.empty()) action.headers.host_rewrite = ops.host_rewrite;
      } else {
        // istiod processWeightedDestination: per weighted cluster; Envoy
        // applies it before the route's own operations.
        resolved.cluster.headers = std::move(ops);
      }
    }
    action.total_weight += weight;
    action.clusters.push_back(std::move(resolved.cluster));
  }
  if (action.clusters.empty()) {
    context.diagnostics.error(kVirtualServiceKind, vs.meta, field + ".route",
                              "total destination weight is 0; rule dropped", &rule.source);
    return std::nullopt;
  }
  action.policies = translate_policies(rule, vs, field, context);
  action.cluster_not_found_status = rule.cluster_not_found_status;
  return action;
}

// The route template of a rule (everything but the match), or nullopt when
// the rule cannot be served.
std::optional<router::Route> translate_rule(const config::HTTPRoute& rule, const config::VirtualService& vs,
                                            const std::string& field,
                                            const RouteTranslationContext& context) {
  router::Route route;
  if (rule.redirect) {
    std::optional<router::RedirectAction> redirect =
        translate_redirect(rule, vs, field, context.server_port, context.tls, context.diagnostics);
    if (!redirect) return std::nullopt;
    route.redirect = std::make_shared<const router::RedirectAction>(std::move(*redirect));
    route.action.headers = translate_rule_headers(rule);
    return route;
  }
  if (rule.direct_response) {
    route.direct_response = std::make_shared<const router::DirectResponseAction>(
        translate_direct_response(*rule.direct_response));
    route.action.headers = translate_rule_headers(rule);
    return route;
  }
  std::optional<router::RouteAction> action = translate_destinations(rule, vs, field, context);
  if (!action) return std::nullopt;
  route.action = std::move(*action);
  return route;
}

// Istio's getRouteOperation (pilot/pkg/networking/core/route/route.go): the
// path part is the prefix + "*", the exact path or the regex; the host part
// the single destination's "host:port" (from its cluster name
// outbound|port|subset|host), else the VirtualService's name and the
// gateway port.
std::string route_operation(const router::Route& route, const std::string& vs_name, uint32_t port) {
  std::string path = "/*";
  switch (route.match.path.kind) {
    case router::StringMatcher::Kind::Prefix:
      path = route.match.path.value + "*";
      break;
    case router::StringMatcher::Kind::Exact:
    case router::StringMatcher::Kind::Regex:
      path = route.match.path.value;
      break;
    case router::StringMatcher::Kind::Presence:
      break;
  }
  if (route.action.clusters.size() == 1) {
    const std::string& c = route.action.clusters.front().name;
    // outbound|<port>|<subset>|<host>
    const size_t a = c.find('|');
    const size_t b = a == std::string::npos ? a : c.find('|', a + 1);
    const size_t d = b == std::string::npos ? b : c.find('|', b + 1);
    if (c.starts_with("outbound|") && d != std::string::npos) {
      return c.substr(d + 1) + ":" + c.substr(a + 1, b - a - 1) + path;
    }
  }
  return vs_name + ":" + std::to_string(port) + path;
}

}  // namespace

std::vector<router::Route> translate_virtual_service(const config::VirtualService& vs,
                                                     const RouteTranslationContext& context) {
  std::vector<router::Route> routes;
  const std::string vs_name = vs.meta.namespace_ + "/" + vs.meta.name;

  for (size_t r = 0; r < vs.http.size(); ++r) {
    const config::HTTPRoute& rule = vs.http[r];
    const RuleOrigin* origin = nullptr;
    if (context.origins != nullptr) {
      auto it = context.origins->find(&rule);
      if (it != context.origins->end()) origin = &it->second;
    }
    // Diagnostics name the rule as written: the root's, or the delegate's.
    std::string rule_field = "spec.http[" + std::to_string(origin ? origin->root_rule_index : r) + "]";
    if (origin != nullptr && !origin->delegate.empty()) {
      rule_field += " (delegate " + origin->delegate + " spec.http[" +
                    std::to_string(origin->delegate_rule_index) + "])";
    }
    // A root rule whose delegate could not be merged (compile/delegation.h
    // reported why): istiod drops it before translation.
    if (rule.delegate) continue;
    // All match blocks of a rule share its action; built on first use.
    std::optional<router::Route> route_template;
    bool action_built = false;

    // A rule without match is a catch-all: nothing after it is reachable.
    bool catch_all = rule.match.empty();
    const size_t blocks = std::max<size_t>(rule.match.size(), 1);
    for (size_t m = 0; m < blocks; ++m) {
      const config::HTTPMatchRequest* match = rule.match.empty() ? nullptr : &rule.match[m];
      if (match != nullptr && !match_applies(*match, vs, context)) continue;
      std::string field = match == nullptr ? rule_field : rule_field + ".match[" + std::to_string(m) + "]";

      std::optional<router::RouteMatch> route_match = translate_match(match, vs, field, context.diagnostics);
      if (!route_match) continue;
      bool is_catch_all = route_match->is_catch_all();
      if (!action_built) {
        route_template = translate_rule(rule, vs, rule_field, context);
        action_built = true;
      }
      // A rule that cannot be served (no destination, unsupported redirect
      // code) still counts for the catch-all truncation below, as in istiod.
      if (route_template) {
        router::Route route = *route_template;
        route.match = std::move(*route_match);
        route.virtual_service = vs_name;
        route.rule_index = origin ? origin->root_rule_index : static_cast<int>(r);
        route.match_index = match == nullptr ? -1 : static_cast<int>(m);
        route.name = route_name(rule, match);
        route.gateway_api_origin = rule.gateway_api_origin;
        route.decorator = route_operation(route, vs.meta.name, context.server_port);
        if (origin != nullptr) {
          route.delegate = origin->delegate;
          route.delegate_rule_index = origin->delegate_rule_index;
        }
        routes.push_back(std::move(route));
      }
      if (is_catch_all) {
        catch_all = true;
        break;
      }
    }
    if (catch_all) break;
  }
  return routes;
}

}  // namespace torii::compile
