// The shared route table `http.<port>` of one plaintext HTTP listener
// (istiod gw.go buildGatewayHTTPRouteConfig; ISTIO_SEMANTICS §0.4-0.6,
// §3.15, Appendix A).
//
// For every server on the listener and every VS attached to the server's
// Gateway, the server hosts admitting the VS's namespace are intersected
// with the VS hosts; each resulting name (lower-cased) is a virtual host that
// receives the VS's routes. Virtual hosts are unioned across servers and
// Gateways, so on a plaintext port the Gateway a request "came through" is
// not observable. Then per virtual host: duplicate routes dropped, catch-alls
// moved to the end (stable) so an older VS's catch-all does not hide a newer
// VS's specific routes. httpsRedirect marks every virtual host of its server
// (creating one per server host if needed). No virtual host at all => one `*`
// with no routes, so every request gets 404.
#pragma once

#include <memory>
#include <string_view>

#include "compile/cluster_builder.h"
#include "compile/compiler.h"
#include "compile/delegation.h"
#include "compile/diagnostic_sink.h"
#include "compile/gateway_merge.h"
#include "compile/vs_ordering.h"
#include "router/route_table.h"

namespace torii::compile {

class RouteCache;

// `cache` (optional; compile/route_cache.h): virtual hosts of the previous
// compile to share, and where to leave this one's; `table_name` tells the
// route tables of one snapshot apart there.
std::shared_ptr<const router::RouteTable> build_route_table(
    const MergedListener& listener, const VirtualServiceIndex& virtual_services,
    const GatewayIdentity& identity, ClusterBuilder& clusters, DiagnosticSink& diagnostics,
    const DelegationResult* delegation = nullptr, RouteCache* cache = nullptr,
    std::string_view table_name = {});

}  // namespace torii::compile
