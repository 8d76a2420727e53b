// Human-readable descriptions of route conditions, for `torii explain` and
// the admin /explain page: what a route matches, and the first of its
// conditions a request fails (in the order RouteMatch::matches checks them).
// Not on the request path.
#pragma once

#include <string>

#include "router/route_match.h"
#include "router/route_table.h"

namespace torii::router {

// `prefix "/api"`, `exact "GET"`, `regex "v[0-9]+"`, `present`; "(ignore case)" when set.
std::string describe(const StringMatcher& matcher);

// Every condition of the route: `uri prefix "/api", header x-user exact "alice", ...`.
std::string describe(const RouteMatch& match);

// The first condition `request` fails, with what the request had, e.g.
// `header x-user exact "alice": header absent`; empty when the route matches.
std::string first_failure(const RouteMatch& match, const RequestView& request);

}  // namespace torii::router
