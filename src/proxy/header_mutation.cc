#include "proxy/header_mutation.h"

#include <charconv>
#include <string>
#include <vector>

namespace torii::proxy {

namespace {

// connection, keep-alive, proxy-connection, transfer-encoding, te, upgrade,
// trailer, http2-settings; `name` is lower-case. Dispatched on length: this
// runs for every field of every request and response.
bool is_hop_by_hop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return name == "te";
    case 7:
      return name == "upgrade" || name == "trailer";
    case 10:
      return name == "connection" || name == "keep-alive";
    case 14:
      return name == "http2-settings";
    case 16:
      return name == "proxy-connection";
    case 17:
      return name == "transfer-encoding";
    default:
      return false;
  }
}

}  // namespace

void strip_hop_by_hop(http::HeaderMap& headers) {
  // Fields named by Connection go too; collect first (removal invalidates views).
  std::vector<std::string> named;
  for (const auto& e : headers.entries()) {
    if (e.name != "connection") continue;
    http::for_each_token(e.value, [&named](std::string_view token) {
      // Never let a client strip the fields routing and forwarding depend on;
      // the usual tokens (close, keep-alive, upgrade) are handled below, and
      // te is hop-by-hop anyway.
      if (!http::iequals(token, "host") && !http::iequals(token, "content-length") &&
          !http::iequals(token, "close") && !http::iequals(token, "keep-alive") &&
          !http::iequals(token, "upgrade") && !http::iequals(token, "te")) {
        named.push_back(http::to_lower(token));
      }
      return true;
    });
  }
  for (const std::string& name : named) headers.remove(name);
  // One pass over the fields (names are stored lower-case).
  headers.remove_if([](const http::HeaderMap::Entry& e) { return is_hop_by_hop(e.name); });
}

bool connection_nominations_allowed(const http::HeaderMap& headers) {
  size_t tokens = 0;
  for (const auto& e : headers.entries()) {
    if (e.name != "connection") continue;
    bool ok = http::for_each_token(e.value, [&tokens](std::string_view token) {
      return ++tokens < 10 && token.front() != ':' && !http::iequals(token, "x-forwarded-for") &&
             !http::iequals(token, "x-forwarded-host") && !http::iequals(token, "x-forwarded-proto");
    });
    if (!ok) return false;
  }
  return true;
}

std::string_view trusted_client_address(const http::HeaderMap& headers, std::string_view peer,
                                        uint32_t hops) {
  if (hops == 0) return peer;
  // Entries from the right, across repeated fields (the last field's last
  // entry first).
  const auto& entries = headers.entries();
  uint32_t seen = 0;
  for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
    if (e->name != "x-forwarded-for") continue;
    std::string_view value = e->value;
    while (!value.empty()) {
      const size_t comma = value.rfind(',');
      std::string_view item = comma == std::string_view::npos ? value : value.substr(comma + 1);
      value = comma == std::string_view::npos ? std::string_view() : value.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (++seen == hops) return item.empty() ? peer : item;
    }
  }
  return peer;
}

void mutate_edge_request_headers(http::HeaderMap& headers, const EdgeRequestInfo& info) {
  // Only when the caller saw a TE field: the lookup is not free.
  const bool te_trailers = info.has_te && http::has_token(headers.get_joined("te"), "trailers");
  strip_hop_by_hop(headers);
  if (te_trailers) headers.add_lower("te", "trailers");
  // Edge request: no client may steer the gateway with x-envoy-* controls.
  headers.remove_prefix("x-envoy-");

  bool had_xff = false;
  std::string xff = headers.get_joined("x-forwarded-for", &had_xff);
  if (had_xff && !xff.empty()) {
    xff.append(kXffDelimiter);
    xff.append(info.peer_ip);
    headers.set_lower("x-forwarded-for", xff);
  } else {
    headers.set_lower("x-forwarded-for", info.peer_ip);
  }
  headers.set_lower("x-forwarded-proto", info.scheme);
  if (!info.keep_request_id) headers.set_lower("x-request-id", info.request_id);
  // x-envoy-* were all removed above: add, no need to look for them.
  headers.add_lower("x-envoy-external-address",
                    info.external_address.empty() ? info.peer_ip : info.external_address);
  headers.add_lower("x-envoy-attempt-count", "1");
  if (!info.absolute_authority.empty()) headers.set_lower("host", info.absolute_authority);
  if (info.chunked_body) headers.set_lower("transfer-encoding", "chunked");
}

void mutate_response_headers(http::HeaderMap& headers, const ResponseInfo& info) {
  strip_hop_by_hop(headers);
  headers.set_lower("server", info.server);
  headers.set_lower("date", info.date);
  if (info.upstream_service_time_ms >= 0) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), info.upstream_service_time_ms);
    (void)ec;
    headers.set_lower("x-envoy-upstream-service-time",
                      std::string_view(digits, static_cast<size_t>(end - digits)));
  }
}

void add_http1_framing(http::HeaderMap& headers, const Http1Framing& framing) {
  // Hop-by-hop fields are gone already (or never were): add, do not look.
  if (framing.chunked) headers.add_lower("transfer-encoding", "chunked");
  if (framing.close_connection) {
    headers.add_lower("connection", "close");
  } else if (framing.keep_alive_http10) {
    headers.add_lower("connection", "keep-alive");
  }
}

}  // namespace torii::proxy
