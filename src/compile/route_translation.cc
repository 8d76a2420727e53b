#include "compile/route_translation.h"

#include <algorithm>
#include <optional>

#include "compile/labels.h"
#include "compile/match_translation.h"
#include "compile/name_resolution.h"
#include "compile/policy_translation.h"

namespace torii::compile {

namespace {

constexpr std::string_view kKind = "VirtualService";

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

// Fields of a rule that other issues implement. Reported once per rule so a
// user knows the route is served without them.
void warn_ignored_fields(const config::HTTPRoute& rule, const config::VirtualService& vs,
                         const std::string& field, DiagnosticSink& diagnostics) {
  auto warn = [&](const std::string& sub_field) {
    diagnostics.warning(kKind, vs.meta, field + "." + sub_field, "not supported yet; ignored", &rule.source);
  };
  if (rule.rewrite) warn("rewrite");
  if (rule.headers) warn("headers");
  for (size_t i = 0; i < rule.route.size(); ++i) {
    if (rule.route[i].headers) warn("route[" + std::to_string(i) + "].headers");
  }
}

// The weighted clusters of a `route` action, or nullopt (with an error) when
// the rule cannot be routed.
std::optional<router::RouteAction> translate_action(const config::HTTPRoute& rule,
                                                    const config::VirtualService& vs,
                                                    const std::string& field,
                                                    const RouteTranslationContext& context) {
  if (rule.route.empty()) {
    context.diagnostics.error(kKind, vs.meta, field + ".route", "rule has no destination; rule dropped",
                              &rule.source);
    return std::nullopt;
  }
  router::RouteAction action;
  for (size_t i = 0; i < rule.route.size(); ++i) {
    const config::HTTPRouteDestination& destination = rule.route[i];
    // Weights are relative (no sum-to-100 rule since istio/istio#39544). A
    // single destination gets everything whatever its weight; with several,
    // weight-0 destinations get nothing and are left out.
    uint32_t weight = 1;
    if (rule.route.size() > 1) {
      if (destination.weight <= 0) continue;
      weight = static_cast<uint32_t>(destination.weight);
    }
    ClusterBuilder::Resolution resolved =
        context.clusters.resolve(destination.destination, vs.meta.namespace_, context.server_port);
    if (resolved.cluster.cluster == nullptr) {
      context.diagnostics.warning(kKind, vs.meta, field + ".route[" + std::to_string(i) + "].destination",
                                  "cluster " + resolved.cluster.name + " does not exist (" +
                                      resolved.missing_reason + "); requests routed to it get 503 (NC)",
                                  &rule.source);
    }
    resolved.cluster.weight = weight;
    action.total_weight += weight;
    action.clusters.push_back(std::move(resolved.cluster));
  }
  if (action.clusters.empty()) {
    context.diagnostics.error(kKind, vs.meta, field + ".route", "total destination weight is 0; rule dropped",
                              &rule.source);
    return std::nullopt;
  }
  action.policies = translate_policies(rule, vs, field, context);
  return action;
}

}  // namespace

std::vector<router::Route> translate_virtual_service(const config::VirtualService& vs,
                                                     const RouteTranslationContext& context) {
  std::vector<router::Route> routes;
  const std::string vs_name = vs.meta.namespace_ + "/" + vs.meta.name;

  for (size_t r = 0; r < vs.http.size(); ++r) {
    const config::HTTPRoute& rule = vs.http[r];
    const std::string rule_field = "spec.http[" + std::to_string(r) + "]";

    // Actions of other issues: the rule is not served, but it still counts
    // for the catch-all truncation below, so adding support later does not
    // change which rules of the VS are reachable.
    const char* unsupported = rule.redirect          ? "redirect"
                              : rule.direct_response ? "directResponse"
                              : rule.delegate        ? "delegate"
                                                     : nullptr;
    if (unsupported != nullptr) {
      context.diagnostics.warning(kKind, vs.meta, rule_field + "." + unsupported,
                                  "not supported yet; rule skipped", &rule.source);
    } else {
      warn_ignored_fields(rule, vs, rule_field, context.diagnostics);
    }

    // All match blocks of a rule share its action; built on first use.
    std::optional<router::RouteAction> action;
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
      if (unsupported == nullptr && !action_built) {
        action = translate_action(rule, vs, rule_field, context);
        action_built = true;
      }
      if (action) {
        router::Route route;
        route.match = std::move(*route_match);
        route.action = *action;
        route.virtual_service = vs_name;
        route.rule_index = static_cast<int>(r);
        route.match_index = match == nullptr ? -1 : static_cast<int>(m);
        route.name = route_name(rule, match);
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
