#include "compile/rate_limit_selection.h"

#include <algorithm>

#include "compile/labels.h"
#include "compile/rate_limit_rules.h"

namespace torii::compile {

namespace {

bool rl_selects(const config::EnvoyFilter& ef, const GatewayIdentity& identity) {
  if (ef.has_target_refs) return false;
  if (ef.meta.namespace_ != identity.namespace_ && ef.meta.namespace_ != identity.root_namespace)
    return false;
  return !ef.selector || ef.selector->empty() || labels_subset(*ef.selector, identity.labels);
}

bool rl_gateway_context(const std::string& context) { return context == "ANY" || context == "GATEWAY"; }

bool rl_action_matches(const std::string& action, const router::Route& route) {
  if (action.empty() || action == "ANY") return true;
  if (action == "REDIRECT") return route.redirect != nullptr;
  if (action == "DIRECT_RESPONSE") return route.direct_response != nullptr;
  if (action == "ROUTE") return route.redirect == nullptr && route.direct_response == nullptr;
  return false;
}

// One route table of a listener, with the route configuration name istiod gives it.
struct RateLimitTable {
  const Listener* listener;
  const router::RouteTable* routes;
  std::string name;
};

std::vector<RateLimitTable> rl_tables_of(const std::vector<Listener>& listeners) {
  std::vector<RateLimitTable> out;
  for (const Listener& l : listeners) {
    if (l.routes) out.push_back({&l, l.routes.get(), "http." + std::to_string(l.gateway_port)});
    for (const TlsChain& chain : l.tls_chains) {
      if (chain.routes) out.push_back({&l, chain.routes.get(), "https." + std::to_string(l.gateway_port)});
    }
  }
  return out;
}

bool rl_table_matches(const config::EnvoyFilterPatch& p, const RateLimitTable& t) {
  if (p.port_number && *p.port_number != t.listener->gateway_port) return false;
  // The name of an HTTPS route configuration goes on with server name and
  // Gateway ("https.443.https.gw.ns"); its prefix is all Torii compares.
  if (!p.route_config_name.empty() && p.route_config_name != t.name &&
      !p.route_config_name.starts_with(t.name + "."))
    return false;
  return true;
}

std::string rl_source_of(const config::EnvoyFilter& ef, size_t index) {
  return "EnvoyFilter " + ef.meta.namespace_ + "/" + ef.meta.name + " configPatches[" +
         std::to_string(index) + "]";
}

}  // namespace

std::shared_ptr<const router::LocalRateLimit> compile_local_rate_limit(const config::LocalRateLimitConfig& c,
                                                                       const std::string& where,
                                                                       std::string source) {
  auto out = std::make_shared<router::LocalRateLimit>();
  router::LocalRateLimitRegistry& registry = router::rate_limit_registry();
  out->stat_prefix = c.stat_prefix;
  out->enabled_per_million = c.enabled_per_million;
  out->enforced_per_million = c.enforced_per_million;
  out->status = static_cast<int>(c.status);
  out->grpc_status = c.resource_exhausted ? 8 : -1;
  for (const config::RateLimitHeader& h : c.response_headers_to_add) {
    if (h.append) {
      out->response_headers_to_add.add(h.key, h.value);
    } else {
      out->response_headers_to_add.set(h.key, h.value);
    }
  }
  for (const config::RateLimitHeader& h : c.request_headers_to_add_when_not_enforced)
    out->request_headers_when_not_enforced.push_back({h.key, h.value, h.append});
  out->x_ratelimit_headers = c.x_ratelimit_headers;
  if (c.has_token_bucket && c.max_tokens > 0 && c.fill_interval_ms > 0) {
    out->bucket = registry.bucket(where + "|" + c.identity(), c.max_tokens, c.tokens_per_fill,
                                  c.fill_interval_ms * 1000000);
  }
  out->descriptors = compile_limit_descriptors(c, where + "|" + c.identity());
  out->always_consume_default = c.always_consume_default_token_bucket;
  out->rate_limits = compile_rate_limit_rules(c.rate_limits);
  out->vh_rate_limits = c.vh_rate_limits == "INCLUDE"  ? router::LocalRateLimit::VhRateLimits::Include
                        : c.vh_rate_limits == "IGNORE" ? router::LocalRateLimit::VhRateLimits::Ignore
                                                       : router::LocalRateLimit::VhRateLimits::Override;
  out->stage = c.stage;
  out->counters = &registry.counters(c.stat_prefix);
  out->source = std::move(source);
  return out;
}

RateLimitPolicy select_rate_limits(const config::ObjectList<config::EnvoyFilter>& envoy_filters,
                                   const GatewayIdentity& identity, const std::vector<Listener>& listeners) {
  std::vector<const config::EnvoyFilter*> selected;
  for (const config::EnvoyFilter& ef : envoy_filters) {
    if (rl_selects(ef, identity)) selected.push_back(&ef);
  }
  // istiod's order: root namespace first, then priority, then creation (load) order.
  std::stable_sort(selected.begin(), selected.end(),
                   [&](const config::EnvoyFilter* a, const config::EnvoyFilter* b) {
                     const bool a_root = a->meta.namespace_ == identity.root_namespace;
                     const bool b_root = b->meta.namespace_ == identity.root_namespace;
                     if (a_root != b_root) return a_root;
                     if (a->priority != b->priority) return a->priority < b->priority;
                     return a->meta.load_order < b->meta.load_order;
                   });

  RateLimitPolicy policy;
  for (const config::EnvoyFilter* ef : selected) {
    for (size_t i = 0; i < ef->patches.size(); ++i) {
      const config::EnvoyFilterPatch& p = ef->patches[i];
      if (!p.rate_limit || !rl_gateway_context(p.context) || p.apply_to != "HTTP_FILTER") continue;
      if (p.operation != "INSERT_BEFORE" && p.operation != "INSERT_FIRST" && p.operation != "INSERT_AFTER" &&
          p.operation != "ADD")
        continue;
      if (!policy.gateway) {
        policy.gateway = compile_local_rate_limit(*p.rate_limit, "gateway", rl_source_of(*ef, i));
        // INSERT_BEFORE without a subFilter (the task's patch) or INSERT_FIRST
        // puts the filter first; a subFilter position (e.g. before the
        // router) puts it after jwt_authn and RBAC.
        policy.first =
            p.operation == "INSERT_FIRST" || (p.operation == "INSERT_BEFORE" && p.sub_filter.empty());
      }
    }
  }
  if (!policy.gateway) return policy;  // per-route configs without the filter do nothing

  const std::vector<RateLimitTable> tables = rl_tables_of(listeners);
  // rate_limits MERGEd into a route or virtual host append to its list
  // (protobuf merge of a repeated field), across patches in order.
  std::unordered_map<const void*, std::shared_ptr<router::RouteRateLimits>> rules;
  auto add_rules = [&](const void* scope, const std::vector<router::RateLimitRule>& more, bool include_vh) {
    std::shared_ptr<router::RouteRateLimits>& slot = rules[scope];
    if (!slot) slot = std::make_shared<router::RouteRateLimits>();
    slot->rules.insert(slot->rules.end(), more.begin(), more.end());
    slot->include_vh_rate_limits = slot->include_vh_rate_limits || include_vh;
  };
  for (const config::EnvoyFilter* ef : selected) {
    for (size_t i = 0; i < ef->patches.size(); ++i) {
      const config::EnvoyFilterPatch& p = ef->patches[i];
      if (!p.rate_limit && !p.route_rate_limits) continue;
      if (!rl_gateway_context(p.context) || p.operation != "MERGE") continue;
      const bool route_level = p.apply_to == "HTTP_ROUTE";
      if (!route_level && p.apply_to != "VIRTUAL_HOST") continue;
      const std::vector<router::RateLimitRule> patch_rules =
          p.route_rate_limits ? compile_rate_limit_rules(*p.route_rate_limits)
                              : std::vector<router::RateLimitRule>{};
      for (const RateLimitTable& t : tables) {
        if (!rl_table_matches(p, t)) continue;
        const std::string port = std::to_string(t.listener->gateway_port);
        for (const auto& vhost : t.routes->virtual_hosts()) {
          const std::string vhost_name = vhost->domain + ":" + port;
          if (!p.vhost_name.empty() && p.vhost_name != vhost_name) continue;
          const std::string scope = t.listener->name + "|" + t.name + "|" + vhost_name;
          if (!route_level) {
            if (p.rate_limit) {
              policy.scoped[vhost.get()] =
                  compile_local_rate_limit(*p.rate_limit, "vhost:" + scope, rl_source_of(*ef, i));
            }
            if (p.route_rate_limits) add_rules(vhost.get(), patch_rules, false);
            continue;
          }
          for (const router::Route& route : vhost->routes) {
            if (!p.route_name.empty() && p.route_name != route.name) continue;
            if (!rl_action_matches(p.route_action, route)) continue;
            if (p.rate_limit) {
              const std::string where = "route:" + scope + "|" + route.virtual_service + "|" +
                                        std::to_string(route.rule_index) + "|" +
                                        std::to_string(route.match_index);
              policy.scoped[&route] = compile_local_rate_limit(*p.rate_limit, where, rl_source_of(*ef, i));
            }
            if (p.route_rate_limits) add_rules(&route, patch_rules, p.include_vh_rate_limits);
          }
        }
      }
    }
  }
  for (auto& [scope, r] : rules) policy.rules.emplace(scope, std::move(r));
  return policy;
}

}  // namespace torii::compile
