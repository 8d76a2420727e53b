// VirtualService rule actions -> router actions (istiod route.go
// TranslateHeadersOperations, applyHTTPRouteDestination, ApplyRedirect,
// ApplyDirectResponse; ISTIO_SEMANTICS §3.5, §3.6, §3.11).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "compile/diagnostic_sink.h"
#include "config/resources.h"
#include "router/route_action.h"

namespace torii::compile {

// Istio `headers`: names lower-cased; set before add, each sorted by name;
// `:`-prefixed names and `host` dropped from every list, except that a
// request set/add of `:authority`/`host` becomes the host rewrite (set wins
// over add).
router::HeaderMutations translate_headers(const config::Headers& headers);

// The rule's header operations and host rewrite: `headers`, then
// `rewrite.authority` (wins over an authority from `headers`).
router::HeaderMutations translate_rule_headers(const config::HTTPRoute& rule);

// rewrite.uri / uriRegexRewrite. nullopt (with an error) when the regex does
// not compile, which validation normally prevents.
std::optional<router::PathRewrite> translate_rewrite(const config::HTTPRoute& rule,
                                                     const config::VirtualService& vs,
                                                     const std::string& field, DiagnosticSink& diagnostics);

// nullopt (with an error) for a redirect code Envoy has no enum value for:
// istiod then leaves the route without an action (Appendix B.18).
// `server_port` is the Gateway port (derivePort: FROM_REQUEST_PORT), `tls`
// whether the server terminates TLS (the default scheme for port handling).
std::optional<router::RedirectAction> translate_redirect(const config::HTTPRoute& rule,
                                                         const config::VirtualService& vs,
                                                         const std::string& field, uint32_t server_port,
                                                         bool tls, DiagnosticSink& diagnostics);

router::DirectResponseAction translate_direct_response(const config::HTTPDirectResponse& response);

}  // namespace torii::compile
