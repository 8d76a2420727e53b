// x-request-id values: random (version 4) UUIDs, as Envoy generates them.
#pragma once

#include <string_view>

#include "upstream/fast_random.h"

namespace torii::proxy {

// Writes a UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") into `out`.
std::string_view make_request_id(upstream::FastRandom& random, char (&out)[36]);

}  // namespace torii::proxy
