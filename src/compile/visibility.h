// exportTo semantics (ISTIO_SEMANTICS §3.1, §5.1, §6.1): which namespaces can
// see a VirtualService, DestinationRule, ServiceEntry or Service. For a
// gateway the "client" namespace is the one the gateway process runs in, not
// the Gateway resource's namespace.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace torii::compile {

// Empty list => mesh default `*` (public); `*` => everyone; `.` => the
// owner's namespace; `~` => nobody; other entries are namespace names.
bool is_visible_to(const std::vector<std::string>& export_to, std::string_view owner_namespace,
                   std::string_view client_namespace);

// True when the list only exports to the owner's own namespace (`.` or its
// name): istiod keeps such rules out of the "exported" indexes.
bool is_private(const std::vector<std::string>& export_to, std::string_view owner_namespace);

// The Service annotation `networking.istio.io/exportTo` ("a,b"), split.
std::vector<std::string> split_export_to_annotation(std::string_view value);

}  // namespace torii::compile
