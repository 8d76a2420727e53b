// `torii explain` and the admin /explain page: where would this request go,
// and why? Runs the compiled snapshot's own router on a request that is never
// sent (ISTIO_SEMANTICS §0.7, §3.4, §8), and reports every step: listener,
// Gateway servers, virtual host, each earlier route and the first condition
// it failed, the matched VirtualService rule, the action (destinations with
// cluster, subset and endpoints, rewritten path and Host, header operations;
// redirect Location; direct response) and the route's policies.
//
// The result is one JSON document (to_json) rendered as text by to_text, so
// the CLI and the admin endpoint always agree.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "compile/snapshot.h"

namespace torii::explain {

struct Request {
  std::string method = "GET";
  std::string url;  // absolute: http://host[:port]/path?query
  // As the client would send them; a `Host` here wins over the URL's authority.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Never throws; a bad URL or method gives {"error": "..."}.
nlohmann::json explain(const compile::Snapshot& snapshot, const Request& request);

// The same, for a terminal.
std::string to_text(const nlohmann::json& explanation);

// Parses "Name: value" (curl -H style). false when there is no ':'.
bool parse_header(const std::string& text, std::pair<std::string, std::string>& out);

}  // namespace torii::explain
