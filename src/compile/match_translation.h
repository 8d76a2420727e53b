// One VirtualService HTTPMatchRequest -> router::RouteMatch (istiod
// route.go TranslateRouteMatch; ISTIO_SEMANTICS §3.3).
//
// uri exact/prefix/regex (RE2 full match; no uri => prefix "/"),
// ignoreUriCase for exact/prefix only, method/authority/scheme as
// ":method"/":authority"/":scheme" header matchers, headers and
// withoutHeaders (`{}` = presence, `exact: ""` = present and empty; inverted
// value forms treat a missing header as ""; the pseudo-header keys
// ":method", ":authority", ":path", ":scheme" read the request's own), queryParams.
#pragma once

#include <optional>
#include <string>

#include "compile/diagnostic_sink.h"
#include "config/resources.h"
#include "router/route_match.h"

namespace torii::compile {

// `match` may be null (a rule without match: prefix "/"). `field` is the
// match's path for diagnostics ("spec.http[0].match[1]"). Returns nullopt,
// with an error, when a regex does not compile: validation should have
// rejected the object, so only the affected route is dropped.
std::optional<router::RouteMatch> translate_match(const config::HTTPMatchRequest* match,
                                                  const config::VirtualService& vs, const std::string& field,
                                                  DiagnosticSink& diagnostics);

}  // namespace torii::compile
