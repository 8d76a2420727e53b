// The policies a matched route carries (timeout, retries, fault injection,
// mirroring, CORS ...), for `torii explain`. One place to extend when the
// compiled route gains a policy: add a key to `out` (a JSON object); the text
// rendering prints every key as "name: value".
#pragma once

#include <nlohmann/json.hpp>

#include "router/route_table.h"

namespace torii::explain {

void describe_policies(const router::Route& route, nlohmann::json& out);

}  // namespace torii::explain
