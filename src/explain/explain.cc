#include "explain/explain.h"

#include <charconv>
#include <ctime>

#include "explain/policies.h"
#include "http/header_map.h"
#include "http/request_target.h"
#include "router/match_explain.h"
#include "router/request_actions.h"
#include "router/route_table.h"
#include "security/jwt_status.h"

namespace torii::explain {

namespace {

using json = nlohmann::json;

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// "a.com:8080" -> 8080; the scheme's default port when there is none.
uint32_t url_port(std::string_view authority, std::string_view scheme) {
  std::string_view host = router::strip_port(authority);
  if (host.size() < authority.size()) {
    uint32_t port = 0;
    std::string_view digits = authority.substr(host.size() + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return port;
  }
  return scheme == "https" ? 443 : 80;
}

// The listener a connection to `port` reaches: the bound port first (what a
// client connects to), then the Gateway port (what the YAML says).
const compile::Listener* find_listener(const compile::Snapshot& snapshot, uint32_t port) {
  for (const compile::Listener& l : snapshot.listeners) {
    if (l.listen_port == port) return &l;
  }
  for (const compile::Listener& l : snapshot.listeners) {
    if (l.gateway_port == port) return &l;
  }
  return nullptr;
}

// Whether a Gateway server host ("ns/h", "*", "*.a.com") covers `host`
// (lower-case, no port), as Envoy's domain match would.
bool server_host_covers(std::string server_host, std::string_view host) {
  size_t slash = server_host.find('/');
  if (slash != std::string::npos) server_host = server_host.substr(slash + 1);
  server_host = http::to_lower(server_host);
  if (server_host == "*") return true;
  if (server_host.starts_with("*")) {
    std::string_view suffix = std::string_view(server_host).substr(1);
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return server_host == host;
}

json route_label(const router::Route& route, size_t index) {
  json out;
  out["index"] = index;
  out["virtual_service"] = route.virtual_service;
  out["rule"] = route.rule_index;
  out["match"] = route.match_index;
  if (!route.name.empty()) out["name"] = route.name;
  if (!route.delegate.empty()) {
    out["delegate"] = route.delegate;
    out["delegate_rule"] = route.delegate_rule_index;
  }
  if (!route.gateway_api_origin.empty()) out["http_route"] = route.gateway_api_origin;
  out["conditions"] = router::describe(route.match);
  return out;
}

json header_ops_json(const router::HeaderOps& ops) {
  json out = json::array();
  for (const std::string& name : ops.remove) out.push_back({{"op", "remove"}, {"name", name}});
  for (const router::HeaderOps::Op& op : ops.ops) {
    out.push_back({{"op", op.append ? "add" : "set"}, {"name", op.name}, {"value", op.value}});
  }
  return out;
}

json endpoints_json(const upstream::ClusterInfo& cluster) {
  json out = json::array();
  for (const upstream::Endpoint& e : cluster.endpoints) {
    json endpoint = {{"address", e.address + ":" + std::to_string(e.port)}, {"origin", e.origin}};
    if (!e.locality.empty()) endpoint["locality"] = e.locality;
    out.push_back(std::move(endpoint));
  }
  return out;
}

// One weighted destination: cluster, endpoints, and the request as the
// upstream would receive it.
json destination_json(const router::Route& route, const router::WeightedCluster& cluster,
                      const http::HeaderMap& headers, std::string_view method,
                      std::string_view path_and_query) {
  json out;
  out["cluster"] = cluster.name;
  out["weight"] = cluster.weight;
  const uint64_t total = route.action.total_weight == 0 ? 1 : route.action.total_weight;
  out["percent"] =
      route.action.clusters.size() == 1 ? 100.0 : 100.0 * cluster.weight / static_cast<double>(total);
  if (cluster.cluster == nullptr) {
    out["exists"] = false;
    out["outcome"] = "503 (NC, cluster_not_found): no such cluster";
    return out;
  }
  out["exists"] = true;
  out["service"] = cluster.cluster->service_host;
  out["port"] = cluster.cluster->port;
  out["subset"] = cluster.cluster->subset;
  out["upstream_protocol"] = upstream::upstream_protocol_name(cluster.cluster->policy->protocol);
  out["endpoints"] = endpoints_json(*cluster.cluster);
  if (cluster.cluster->endpoints.empty()) out["outcome"] = "503 (UH, no_healthy_upstream): no endpoints";

  http::HeaderMap upstream_headers = headers;
  std::string rewritten;
  bool path_changed =
      router::apply_request_actions(route, cluster, upstream_headers, path_and_query, rewritten);
  const std::string_view* host = upstream_headers.get("host");
  out["upstream_request"] = {{"method", method},
                             {"target", path_changed ? rewritten : std::string(path_and_query)},
                             {"host", host != nullptr ? *host : ""}};
  if (!cluster.headers.request.empty()) out["request_headers"] = header_ops_json(cluster.headers.request);
  if (!cluster.headers.response.empty()) out["response_headers"] = header_ops_json(cluster.headers.response);
  if (!cluster.headers.host_rewrite.empty()) out["host_rewrite"] = cluster.headers.host_rewrite;
  return out;
}

}  // namespace

bool parse_header(const std::string& text, std::pair<std::string, std::string>& out) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  out.first = trim(std::string_view(text).substr(0, colon));
  out.second = trim(std::string_view(text).substr(colon + 1));
  return !out.first.empty();
}

json explain(const compile::Snapshot& snapshot, const Request& request) {
  json out;
  http::RequestTarget target;
  if (!http::parse_request_target(request.url, target) ||
      target.form != http::RequestTarget::Form::Absolute) {
    out["error"] = "expected an absolute URL like http://host[:port]/path?query, got \"" + request.url + "\"";
    return out;
  }
  if (target.scheme != "http" && target.scheme != "https") {
    out["error"] = "unsupported scheme \"" + std::string(target.scheme) + "\" (http or https)";
    return out;
  }
  if (request.method.empty() || request.method.find_first_of(" \t\r\n") != std::string::npos) {
    out["error"] = "invalid method \"" + request.method + "\"";
    return out;
  }

  // The request as the router sees it: client headers with the gateway's
  // edge changes that matter for matching (client x-envoy-* removed,
  // x-forwarded-proto set). XFF, x-request-id and the like are added too by
  // the real gateway but are not shown.
  http::HeaderMap headers;
  for (const auto& [name, value] : request.headers) headers.add(name, value);
  headers.remove_prefix("x-envoy-");
  headers.set("x-forwarded-proto", target.scheme);
  if (!headers.has("host")) headers.set("host", target.authority);
  const std::string authority(*headers.get("host"));
  std::string path_and_query(target.path_and_query);
  if (path_and_query.empty() || path_and_query.front() != '/')
    path_and_query.insert(path_and_query.begin(), '/');

  router::RequestView view;
  view.method = request.method;
  view.path = target.path;
  view.query = target.query;
  view.authority = authority;
  view.scheme = target.scheme;
  view.headers = &headers;
  view.path_and_query = path_and_query;

  const uint32_t port = url_port(target.authority, target.scheme);
  json& req = out["request"];
  req["method"] = request.method;
  req["url"] = request.url;
  req["authority"] = authority;
  req["path"] = std::string(target.path);
  req["query"] = std::string(target.query);
  req["port"] = port;
  json header_list = json::array();
  for (const auto& e : headers.entries()) header_list.push_back({e.name, e.value});
  req["headers"] = std::move(header_list);
  out["snapshot_version"] = snapshot.version;

  auto result = [&](int status, const std::string& why) {
    out["result"] = {{"status", status}, {"reason", why}};
  };

  const compile::Listener* listener = find_listener(snapshot, port);
  if (listener == nullptr) {
    json ports = json::array();
    for (const compile::Listener& l : snapshot.listeners) ports.push_back(l.name);
    out["listeners"] = ports;
    result(0, "no listener on port " + std::to_string(port) +
                  " (neither a bound port nor a Gateway port): the connection would be refused");
    return out;
  }
  json& l = out["listener"];
  l["name"] = listener->name;
  l["gateway_port"] = listener->gateway_port;
  l["listen_port"] = listener->listen_port;
  l["route_config"] = "http." + std::to_string(listener->gateway_port);
  const std::string host = http::to_lower(router::strip_port(authority));
  json servers = json::array();
  for (const compile::ServerInfo& server : listener->servers) {
    bool covers = false;
    for (const std::string& h : server.hosts) covers = covers || server_host_covers(h, host);
    servers.push_back({{"gateway", server.gateway},
                       {"port_name", server.port_name},
                       {"protocol", server.protocol},
                       {"hosts", server.hosts},
                       {"serves_host", covers}});
  }
  l["servers"] = std::move(servers);

  // RequestAuthentication, then AuthorizationPolicy, both before the router
  // (ISTIO_SECURITY.md §0): a bad token is 401 and a deny 403 whatever the
  // routes say. The token is the one in the request's headers or query,
  // verified as the gateway verifies it (CORS preflights skip it there too).
  security::JwtIdentity identity;
  const bool preflight =
      request.method == "OPTIONS" && headers.has("origin") && headers.has("access-control-request-method");
  if (snapshot.jwt_authn && !listener->l4 && !preflight) {
    const security::JwtOutcome outcome = snapshot.jwt_authn->authenticate(
        headers, target.query, static_cast<int64_t>(std::time(nullptr)), identity);
    json& jwt = out["jwt"];
    if (outcome.status != security::JwtStatus::Ok) {
      jwt["status"] = std::string(security::jwt_status_string(outcome.status));
      jwt["rejected"] = true;
      result(security::jwt_status_http_code(outcome.status),
             std::string(security::jwt_status_string(outcome.status)));
      return out;
    }
    jwt["status"] = identity.jwt ? "verified" : "no token (anonymous)";
    if (identity.jwt) {
      jwt["issuer"] = identity.jwt->iss;
      jwt["subject"] = identity.jwt->sub;
      view.jwt_payload = &identity.jwt->payload;  // for VirtualService matches on claims
    }
  }

  // AuthorizationPolicy runs before the router: a deny is the answer
  // whatever the routes say (docs/authorization.md).
  if (snapshot.authz && !listener->l4) {
    security::AuthzRequest ar;
    ar.method = request.method;
    ar.host = authority;
    ar.path = target.path;
    ar.port = listener->listen_port != 0 ? listener->listen_port : listener->gateway_port;
    ar.headers = &headers;
    ar.jwt = identity.jwt.get();
    const security::AuthzDecision d = snapshot.authz->evaluate(ar);
    json policies = json::array();
    for (const security::AuthzPolicy& p : snapshot.authz->policies()) {
      json rules = json::array();
      for (const security::AuthzRule& r : p.rules) rules.push_back(r.matches(ar));
      const char* action = p.action == security::AuthzPolicy::Action::Deny    ? "DENY"
                           : p.action == security::AuthzPolicy::Action::Allow ? "ALLOW"
                                                                              : "AUDIT";
      policies.push_back({{"policy", p.namespace_ + "/" + p.name},
                          {"action", action},
                          {"dry_run", p.dry_run},
                          {"rules_matching", rules}});
    }
    json& authz = out["authorization"];
    authz["allowed"] = d.allowed;
    authz["decided_by"] = d.policy != nullptr ? d.policy->namespace_ + "/" + d.policy->name + " rules[" +
                                                    std::to_string(d.rule) + "]"
                          : d.allowed ? "no ALLOW policy applies"
                                      : "no ALLOW rule matched";
    authz["policies"] = std::move(policies);
    authz["note"] =
        "evaluated from an unknown peer: ipBlocks, remoteIpBlocks, source.ip, remote.ip and destination.ip "
        "see "
        "no value; requestPrincipals and request.auth.* see the token the request carries, if any";
    if (!d.allowed) {
      result(403, "RBAC: access denied (" + authz["decided_by"].get<std::string>() + ")");
      return out;
    }
  }

  if (listener->l4) {
    // TCP / TLS passthrough: the URL's host stands for the SNI; a chain
    // found here relays bytes, HTTP routing does not apply.
    const compile::Listener::FilterChain chain =
        listener->filter_chain_for(listener->inspect_sni ? host : "");
    if (chain.l4 != nullptr) {
      const router::L4Route& r = *chain.l4;
      json destinations = json::array();
      std::string names;
      for (const auto& c : r.clusters) {
        destinations.push_back({{"cluster", c.name}, {"weight", c.weight}, {"exists", c.cluster != nullptr}});
        names += (names.empty() ? "" : ", ") + c.name;
      }
      l["l4_route"] = {{"kind", r.kind},
                       {"virtual_service", r.virtual_service},
                       {"rule", "spec." + r.kind + "[" + std::to_string(r.rule_index) + "]"},
                       {"server_names", r.server_names},
                       {"destinations", destinations}};
      result(0, "layer 4 (" + r.kind + " route of " + r.virtual_service +
                    "): the connection's bytes are relayed to " + names + "; HTTP routing does not apply");
      return out;
    }
    if (chain.tls == nullptr) {
      result(0, std::string("layer 4: no filter chain takes ") +
                    (listener->inspect_sni ? "SNI \"" + host + "\"" : "this connection") +
                    ": the connection would be closed");
      return out;
    }
  }

  const router::RouteTable* routes = listener->routes.get();
  if (!listener->tls_chains.empty()) {
    // HTTPS: the client's SNI (the URL's host, as curl sends it) picks the
    // server and its own route table; a Host header naming another server
    // of the port is Torii's 421 (docs/http2.md).
    const std::string sni = http::to_lower(router::strip_port(target.authority));
    const compile::TlsChain* chain = listener->chain_for_sni(sni);
    if (chain == nullptr) {
      result(0, "no HTTPS server of this listener takes SNI \"" + sni +
                    "\": the TLS handshake would be refused");
      return out;
    }
    const compile::TlsChain* named = listener->chain_for_sni(host);
    if (listener->tls_chains.size() > 1 && named != nullptr && named != chain) {
      result(421, "misdirected: SNI \"" + sni + "\" picked another HTTPS server than the one Host \"" + host +
                      "\" names (Torii's 421, beyond Envoy)");
      return out;
    }
    routes = chain->routes.get();
    const std::string& gw = chain->server.gateway;
    l["route_config"] = "https." + std::to_string(listener->gateway_port) + "." + chain->server.port_name +
                        "." + gw.substr(gw.find('/') + 1) + "." + gw.substr(0, gw.find('/'));
    l["sni_server_names"] = chain->server_names;
  }
  const router::VirtualHost* vhost = routes != nullptr ? routes->find_virtual_host(authority) : nullptr;
  if (vhost == nullptr) {
    result(404, "NR (route_not_found): no virtual host for \"" + host + "\"");
    return out;
  }
  out["virtual_host"] = vhost->domain;
  if (vhost->require_tls && target.scheme != "https") {
    out["action"] = {
        {"type", "https_redirect"}, {"status", 301}, {"location", "https://" + authority + path_and_query}};
    result(301, "the server has tls.httpsRedirect: plaintext requests are redirected before any route");
    return out;
  }

  const router::Route* matched = nullptr;
  json skipped = json::array();
  for (size_t i = 0; i < vhost->routes.size(); ++i) {
    const router::Route& route = vhost->routes[i];
    std::string failure = router::first_failure(route.match, view);
    if (failure.empty()) {
      matched = &route;
      out["route"] = route_label(route, i);
      break;
    }
    json label = route_label(route, i);
    label["failed"] = failure;
    skipped.push_back(std::move(label));
  }
  out["skipped_routes"] = std::move(skipped);
  if (matched == nullptr) {
    result(404, "NR (route_not_found): no route of virtual host \"" + vhost->domain + "\" matches");
    return out;
  }

  json& action = out["action"];
  const router::RedirectRequest info{target.scheme, authority, target.scheme, path_and_query};
  if (!matched->action.headers.response.empty())
    action["response_headers"] = header_ops_json(matched->action.headers.response);
  if (matched->redirect) {
    action["type"] = "redirect";
    action["status"] = matched->redirect->status;
    action["location"] = router::redirect_location(*matched->redirect, matched->match.path, info);
    result(matched->redirect->status, "redirect by the gateway");
  } else if (matched->direct_response) {
    action["type"] = "direct_response";
    action["status"] = matched->direct_response->status;
    action["body"] = matched->direct_response->body;
    std::string location = router::direct_response_location(matched->direct_response->status, info);
    if (!location.empty()) action["location"] = location;
    result(matched->direct_response->status, "direct response by the gateway");
  } else {
    action["type"] = "route";
    if (!matched->action.headers.request.empty())
      action["request_headers"] = header_ops_json(matched->action.headers.request);
    if (!matched->action.headers.host_rewrite.empty())
      action["host_rewrite"] = matched->action.headers.host_rewrite;
    if (matched->action.path_rewrite.kind == router::PathRewrite::Kind::Prefix) {
      action["path_rewrite"] = "prefix -> \"" + matched->action.path_rewrite.replacement + "\"";
    } else if (matched->action.path_rewrite.kind == router::PathRewrite::Kind::Regex) {
      action["path_rewrite"] = "regex \"" + matched->action.path_rewrite.regex->pattern() + "\" -> \"" +
                               matched->action.path_rewrite.replacement + "\"";
    }
    json destinations = json::array();
    for (const router::WeightedCluster& cluster : matched->action.clusters) {
      destinations.push_back(destination_json(*matched, cluster, headers, request.method, path_and_query));
    }
    action["destinations"] = std::move(destinations);
    const json& first = action["destinations"][0];
    if (matched->action.clusters.size() == 1 && first.contains("outcome")) {
      result(503, first["outcome"].get<std::string>());
    } else {
      result(0, "forwarded upstream (the status is the upstream's)");
    }
  }
  json policies = json::object();
  describe_policies(*matched, policies);
  out["policies"] = std::move(policies);
  return out;
}

}  // namespace torii::explain
