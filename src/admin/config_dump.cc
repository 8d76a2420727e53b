#include "admin/config_dump.h"

#include "admin/route_policies_json.h"

namespace torii::admin {

using nlohmann::json;

namespace {

const char* kind_name(router::StringMatcher::Kind kind) {
  switch (kind) {
    case router::StringMatcher::Kind::Exact:
      return "exact";
    case router::StringMatcher::Kind::Prefix:
      return "prefix";
    case router::StringMatcher::Kind::Regex:
      return "regex";
    case router::StringMatcher::Kind::Presence:
      return "present";
  }
  return "?";
}

json matcher_json(const router::StringMatcher& m) {
  json j = {{kind_name(m.kind), m.value}};
  if (m.ignore_case) j["ignore_case"] = true;
  return j;
}

json route_json(const router::Route& r) {
  json match = {{"path", matcher_json(r.match.path)}};
  for (const auto& h : r.match.headers) {
    json hj = {{"name", h.name}, {"value", matcher_json(h.value)}};
    if (h.invert) hj["invert"] = true;
    match["headers"].push_back(hj);
  }
  for (const auto& q : r.match.query_params) {
    match["query_params"].push_back({{"name", q.name}, {"value", matcher_json(q.value)}});
  }
  json clusters = json::array();
  for (const auto& wc : r.action.clusters) {
    clusters.push_back({{"name", wc.name}, {"weight", wc.weight}, {"exists", wc.cluster != nullptr}});
  }
  json j = {{"virtual_service", r.virtual_service},
            {"rule", r.rule_index},
            {"match", match},
            {"clusters", clusters}};
  if (r.match_index >= 0) j["match_index"] = r.match_index;
  if (!r.name.empty()) j["name"] = r.name;
  j["policies"] = route_policies_json(r.action.policies);
  return j;
}

json diagnostics_json(const config::Diagnostics& diagnostics) {
  json out = json::array();
  for (const auto& d : diagnostics) out.push_back(d.format());
  return out;
}

}  // namespace

json snapshot_to_json(const compile::Snapshot& snapshot) {
  json listeners = json::array();
  for (const auto& l : snapshot.listeners) {
    json servers = json::array();
    for (const auto& s : l.servers) {
      servers.push_back({{"gateway", s.gateway},
                         {"port_name", s.port_name},
                         {"protocol", s.protocol},
                         {"hosts", s.hosts},
                         {"https_redirect", s.https_redirect}});
    }
    json vhosts = json::array();
    if (l.routes) {
      for (const auto& vh : l.routes->virtual_hosts()) {
        json routes = json::array();
        for (const auto& r : vh->routes) routes.push_back(route_json(r));
        vhosts.push_back({{"domain", vh->domain}, {"routes", routes}});
      }
    }
    listeners.push_back({{"name", l.name},
                         {"bind", l.bind},
                         {"listen_port", l.listen_port},
                         {"gateway_port", l.gateway_port},
                         {"protocol", l.protocol},
                         {"route_config", "http." + std::to_string(l.gateway_port)},
                         {"servers", servers},
                         {"virtual_hosts", vhosts}});
  }
  json clusters = json::array();
  for (const auto& c : snapshot.clusters) {
    json endpoints = json::array();
    for (const auto& e : c->endpoints) {
      endpoints.push_back({{"address", e.address},
                           {"port", e.port},
                           {"labels", e.labels},
                           {"weight", e.weight},
                           {"locality", e.locality},
                           {"origin", e.origin}});
    }
    clusters.push_back({{"name", c->name},
                        {"service_host", c->service_host},
                        {"port", c->port},
                        {"subset", c->subset},
                        {"connect_timeout_ms", c->connect_timeout_ms},
                        {"endpoints", endpoints}});
  }
  return {{"version", snapshot.version}, {"listeners", listeners}, {"clusters", clusters}};
}

json config_dump(const ConfigState& state) {
  json active = json::array();
  json rejected = json::array();
  for (const auto& o : state.objects) {
    json j = {{"kind", o.key.kind},
              {"namespace", o.key.namespace_},
              {"name", o.key.name},
              {"source", o.source.file + ":" + std::to_string(o.source.line)}};
    if (o.in_force) {
      j["generation"] = o.generation;
      if (o.latest_rejected) {
        // The object serves its last good version; its latest edit was refused.
        j["latest_rejected"] = true;
        j["errors"] = diagnostics_json(o.errors);
      }
      active.push_back(j);
    }
    if (o.latest_rejected || !o.in_force) {
      json r = j;
      r.erase("generation");
      r["errors"] = diagnostics_json(o.errors);
      r["serving_last_good"] = o.in_force;
      rejected.push_back(r);
    }
  }
  json out = {{"resources", {{"active", active}, {"rejected", rejected}}},
              {"diagnostics", diagnostics_json(state.diagnostics)},
              {"listener_errors", state.listener_errors},
              {"reloads", state.reloads},
              {"last_reload", state.last_reload}};
  if (state.snapshot) {
    out["snapshot"] = snapshot_to_json(*state.snapshot);
  }
  return out;
}

}  // namespace torii::admin
