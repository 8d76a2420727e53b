// The policy fields of one VirtualService HTTP rule -> router::RoutePolicies
// (istiod route.go: setTimeout, retry.ConvertPolicy, TranslateFault,
// MirrorPercent / TranslateRequestMirrorPolicy, TranslateCORSPolicy).
#pragma once

#include <string>

#include "compile/route_translation.h"
#include "config/resources.h"
#include "router/route_policies.h"

namespace torii::compile {

// `field` is the rule's path ("spec.http[2]"), for diagnostics.
router::RoutePolicies translate_policies(const config::HTTPRoute& rule, const config::VirtualService& vs,
                                         const std::string& field, const RouteTranslationContext& context);

// istiod retry.ConvertPolicy: no `retries` => Istio's default policy;
// attempts <= 0 => none; otherwise the default with the given fields.
router::RetryPolicy translate_retry_policy(const config::HeapOptional<config::HTTPRetry>& retries);

}  // namespace torii::compile
