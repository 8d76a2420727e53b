// istiod orders configs "oldest first" (model/config.go
// configCompareByCreationTime): creation time ascending, ties broken by name
// then namespace. That order decides which VirtualService's routes come
// first, which Gateway owns a contested port and which DestinationRule's
// subset definition wins.
//
// Objects loaded from files usually have no creationTimestamp; for them the
// load order stands in for creation time (`kubectl apply` of the files in the
// same order would create them in that order). Such objects count as created
// after every object that has a timestamp: they are being created now.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/resources.h"

namespace torii::compile {

// RFC 3339 ("2024-01-02T03:04:05Z", optional fraction, 'Z' or ±hh:mm) as
// nanoseconds since the Unix epoch; nullopt if it does not parse.
std::optional<int64_t> parse_rfc3339(std::string_view text);

// Strict weak order: true if `a` was created before `b`.
bool created_before(const config::ObjectMeta& a, const config::ObjectMeta& b);

}  // namespace torii::compile
