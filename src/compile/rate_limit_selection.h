// Envoy's local rate limit filter at this gateway, from the EnvoyFilters that
// select it (Istio's documented idiom, tasks/policy-enforcement/rate-limit):
//   - an EnvoyFilter applies when it is in the gateway's namespace or the
//     root namespace and its workloadSelector.labels (if any) are a subset of
//     the gateway's labels (istiod's EnvoyFilter selection);
//   - an HTTP_FILTER patch inserting envoy.filters.http.local_ratelimit puts
//     the filter in the chain with its config (the first such patch, in
//     istiod's order: root namespace first, then priority, then load order);
//   - HTTP_ROUTE / VIRTUAL_HOST patches (MERGE) give the routes / virtual
//     hosts they match a config of their own, each with its own bucket.
//     They do nothing unless the filter is in the chain, as in Envoy.
// Matching: routeConfiguration.portNumber (the Gateway port), .name
// ("http.<port>" for plaintext servers), vhost.name ("<host>:<port>", the
// name istiod gives gateway virtual hosts), vhost.route.name (the
// VirtualService http[].name, "<name>.<match name>" when the match is named)
// and vhost.route.action (ANY, ROUTE, REDIRECT, DIRECT_RESPONSE).
#pragma once

#include <vector>

#include "compile/compiler.h"
#include "compile/snapshot.h"
#include "config/resources.h"

namespace torii::compile {

RateLimitPolicy select_rate_limits(const config::ObjectList<config::EnvoyFilter>& envoy_filters,
                                   const GatewayIdentity& identity, const std::vector<Listener>& listeners);

// The compiled form of one config (shared bucket and counters from the registry).
// `where` names the scope it applies to, part of the bucket's identity.
std::shared_ptr<const router::LocalRateLimit> compile_local_rate_limit(
    const config::LocalRateLimitConfig& config, const std::string& where, std::string source);

}  // namespace torii::compile
