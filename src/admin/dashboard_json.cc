#include "admin/dashboard_json.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <set>

#include "admin/clusters_page.h"
#include "proxy/stats.h"
#include "telemetry/request_metrics.h"

namespace torii::admin {

using nlohmann::json;

namespace {

uint64_t counter_value(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }

// RFC 3339 UTC with milliseconds; "" for a negative (unknown) time.
std::string rfc3339(int64_t us) {
  if (us < 0) return "";
  const time_t seconds = static_cast<time_t>(us / 1000000);
  tm t{};
  gmtime_r(&seconds, &t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(us % 1000000 / 1000));
  return buf;
}

int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Milliseconds between two microsecond times, to 0.1 ms.
double ms_between(int64_t from_us, int64_t to_us) {
  return static_cast<double>((to_us - from_us) / 100) / 10;
}

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "prefix /api, header x-user exact alice, query v present": what the
// route's match block asks for, one line.
std::string match_summary(const router::RouteMatch& m) {
  std::string out = std::string(router::kind_name(m.path.kind)) + " " + m.path.value;
  for (const auto& h : m.headers) {
    out += std::string(", ") + (h.invert ? "without header " : "header ") + h.name;
    if (h.value.kind != router::StringMatcher::Kind::Presence)
      out += std::string(" ") + router::kind_name(h.value.kind) + " " + h.value.value;
  }
  for (const auto& q : m.query_params) {
    out += ", query " + q.name;
    if (q.value.kind != router::StringMatcher::Kind::Presence)
      out += std::string(" ") + router::kind_name(q.value.kind) + " " + q.value.value;
  }
  return out;
}

json route_json(const router::Route& route, const std::string& listener, const std::string& domain,
                uint32_t port, bool https, const TrafficByName& traffic) {
  json destinations = json::array();
  for (const auto& wc : route.action.clusters)
    destinations.push_back({{"cluster", wc.name}, {"weight", wc.weight}, {"exists", wc.cluster != nullptr}});
  std::string action = "route";
  if (route.redirect) action = "redirect " + std::to_string(route.redirect->status);
  if (route.direct_response) action = "direct response " + std::to_string(route.direct_response->status);
  json j = {{"key", listener + " " + route.stats_key},
            {"virtual_service", route.virtual_service},
            {"rule", route.rule_index},
            {"match_index", route.match_index},
            {"name", route.name},
            {"match", match_summary(route.match)},
            {"action", action},
            {"destinations", destinations},
            {"explain", explain_link(domain, port, https, route)}};
  if (!route.delegate.empty())
    j["delegate"] = route.delegate + "#" + std::to_string(route.delegate_rule_index);
  auto it = traffic.find(listener + " " + route.stats_key);
  j["traffic"] = traffic_json(it != traffic.end() ? it->second : telemetry::TrafficTotals{});
  return j;
}

json route_table_json(const std::string& name, const std::vector<std::string>& server_names,
                      const router::RouteTable* table, const compile::Listener& l, bool https,
                      const TrafficByName& traffic) {
  json vhosts = json::array();
  if (table != nullptr) {
    for (const auto& vh : table->virtual_hosts()) {
      json routes = json::array();
      for (const auto& r : vh->routes)
        routes.push_back(route_json(r, l.name, vh->domain, l.gateway_port, https, traffic));
      vhosts.push_back({{"domain", vh->domain}, {"require_tls", vh->require_tls}, {"routes", routes}});
    }
  }
  return {{"name", name}, {"server_names", server_names}, {"virtual_hosts", vhosts}};
}

json listener_json(const compile::Listener& l, const ConfigState& state, const TrafficByName& traffic) {
  json servers = json::array();
  for (const auto& s : l.servers) {
    servers.push_back({{"gateway", s.gateway},
                       {"port_name", s.port_name},
                       {"protocol", s.protocol},
                       {"hosts", s.hosts},
                       {"https_redirect", s.https_redirect}});
  }
  auto bound = state.bound_ports.find(l.name);
  json j = {{"name", l.name},
            {"bind", l.bind},
            {"port", bound != state.bound_ports.end() ? json(bound->second) : json(nullptr)},
            {"gateway_port", l.gateway_port},
            {"kinds", l.kinds()},
            {"servers", servers}};
  // Route configuration names as /config_dump gives them.
  json tables = json::array();
  if (l.routes) {
    tables.push_back(
        route_table_json("http." + std::to_string(l.gateway_port), {}, l.routes.get(), l, false, traffic));
  }
  for (const auto& chain : l.tls_chains) {
    const std::string& gw = chain.server.gateway;
    const size_t slash = gw.find('/');
    const std::string name = "https." + std::to_string(l.gateway_port) + "." + chain.server.port_name + "." +
                             gw.substr(slash + 1) + "." + gw.substr(0, slash);
    tables.push_back(route_table_json(name, chain.server_names, chain.routes.get(), l, true, traffic));
  }
  j["route_tables"] = tables;
  json l4 = json::array();
  for (const auto& route : l.l4_routes) {
    json destinations = json::array();
    for (const auto& c : route.clusters) destinations.push_back({{"cluster", c.name}, {"weight", c.weight}});
    l4.push_back({{"kind", route.kind},
                  {"server_names", route.server_names},
                  {"virtual_service", route.virtual_service},
                  {"rule", route.rule_index},
                  {"destinations", destinations}});
  }
  j["l4_routes"] = l4;
  return j;
}

json diagnostic_json(const config::Diagnostic& d) {
  const char* severity = d.severity == config::Diagnostic::Severity::Error     ? "error"
                         : d.severity == config::Diagnostic::Severity::Warning ? "warning"
                                                                               : "notice";
  std::string object = d.kind;
  if (!d.name.empty()) object += (object.empty() ? "" : " ") + d.namespace_ + "/" + d.name;
  return {{"severity", severity},
          {"location", d.source.file.empty() ? "" : d.source.file + ":" + std::to_string(d.source.line)},
          {"object", object},
          {"field", d.field},
          {"message", d.message},
          {"text", d.format()}};
}

json clusters_json(const ConfigState& state, const proxy::Server& server, const TrafficByName& traffic) {
  // /clusters?format=json as it is (health, ejections, circuit breakers),
  // with each cluster's traffic and a few of Envoy's counters added.
  json clusters = json::parse(clusters_page(state, server.clusters(), "format=json").body)["clusters"];
  for (json& c : clusters) {
    const std::string name = c["name"].get<std::string>();
    auto it = traffic.find(name);
    c["traffic"] = traffic_json(it != traffic.end() ? it->second : telemetry::TrafficTotals{});
    json counters = json::object();
    if (auto shared = server.clusters().find(name)) {
      const upstream::ClusterStats& s = shared->stats();
      counters = {{"upstream_rq_total", counter_value(s.upstream_rq_total)},
                  {"upstream_rq_5xx", counter_value(s.upstream_rq_5xx)},
                  {"upstream_rq_retry", counter_value(s.upstream_rq_retry)},
                  {"upstream_rq_pending_overflow", counter_value(s.upstream_rq_pending_overflow)},
                  {"upstream_cx_overflow", counter_value(s.upstream_cx_overflow)},
                  {"upstream_cx_connect_fail", counter_value(s.upstream_cx_connect_fail)},
                  {"upstream_rq_timeout", counter_value(s.upstream_rq_timeout)},
                  {"upstream_cx_none_healthy", counter_value(s.upstream_cx_none_healthy)}};
    }
    c["counters"] = counters;
    // Open breakers: a limit reached now (Envoy's circuit_breakers.*_open).
    json open = json::array();
    if (c.contains("active")) {
      const json& active = c["active"];
      const json& limits = c["circuit_breakers"];
      for (const char* r : {"connections", "pending_requests", "requests", "retries"}) {
        const std::string limit = std::string("max_") + r;
        if (active[r].get<uint64_t>() >= limits[limit].get<uint64_t>()) open.push_back(r);
      }
    }
    c["breakers_open"] = open;
  }
  return clusters;
}

TrafficByName merge(const std::vector<const telemetry::RequestMetrics*>& workers, bool routes) {
  TrafficByName out;
  for (const telemetry::RequestMetrics* m : workers) {
    auto add = [&out](const telemetry::TrafficSeries& s) { out[s.name].add(s); };
    if (routes) {
      m->traffic().for_each_route(add);
    } else {
      m->traffic().for_each_cluster(add);
    }
  }
  return out;
}

}  // namespace

TrafficByName merge_routes(const std::vector<const telemetry::RequestMetrics*>& workers) {
  return merge(workers, true);
}

TrafficByName merge_clusters(const std::vector<const telemetry::RequestMetrics*>& workers) {
  return merge(workers, false);
}

json traffic_json(const telemetry::TrafficTotals& t) {
  // Quantiles to 0.01 ms: the buckets are coarser than that anyway.
  auto round = [](double v) { return static_cast<double>(static_cast<int64_t>(v * 100 + 0.5)) / 100; };
  return {{"requests", t.requests},
          {"by_class", t.by_class},
          {"no_response", t.no_response},
          {"errors", t.errors()},
          {"p50_ms", round(telemetry::histogram_quantile(t.duration_ms, 0.5))},
          {"p99_ms", round(telemetry::histogram_quantile(t.duration_ms, 0.99))},
          {"buckets", t.duration_ms.buckets}};
}

std::string explain_link(const std::string& domain, uint32_t port, bool https, const router::Route& route) {
  // A name the domain covers: "*" -> "any.host", "*.a.com" -> "any.a.com".
  std::string host = domain;
  if (host == "*") {
    host = "any.host";
  } else if (host.starts_with("*")) {
    host = "any" + host.substr(1);
  }
  std::string path = "/";
  const router::StringMatcher& m = route.match.path;
  if ((m.kind == router::StringMatcher::Kind::Exact || m.kind == router::StringMatcher::Kind::Prefix) &&
      !m.value.empty())
    path = m.value.front() == '/' ? m.value : "/" + m.value;
  std::string url = std::string(https ? "https" : "http") + "://" + host;
  if (port != (https ? 443u : 80u)) url += ":" + std::to_string(port);
  url += path;
  std::string link = "/explain?format=text&url=" + url_encode(url);
  // Exact header matches make the request take this route.
  for (const auto& h : route.match.headers) {
    if (h.invert || h.value.kind != router::StringMatcher::Kind::Exact || h.name.starts_with(":")) continue;
    link += "&header=" + url_encode(h.name + ":" + h.value.value);
  }
  return link;
}

json reloads_json(const std::vector<ReloadRecord>& history,
                  const std::function<int64_t(uint64_t)>& serving_since_us) {
  json out = json::array();
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    const ReloadRecord& r = *it;
    const int64_t serving = serving_since_us(r.version);
    std::string result = "ok";
    if (r.rejected != 0 || r.listener_errors != 0) {
      result.clear();
      if (r.rejected != 0) result = std::to_string(r.rejected) + " object(s) rejected";
      if (r.listener_errors != 0)
        result += (result.empty() ? "" : ", ") + std::to_string(r.listener_errors) + " listener(s) not bound";
    }
    out.push_back({{"version", r.version},
                   {"trigger", r.trigger},
                   {"detected", rfc3339(r.detected_us)},
                   {"published", rfc3339(r.published_us)},
                   {"serving", serving < 0 ? json(nullptr) : json(rfc3339(serving))},
                   {"publish_ms", ms_between(r.detected_us, r.published_us)},
                   {"serve_ms", serving < 0 ? json(nullptr) : json(ms_between(r.detected_us, serving))},
                   {"objects", r.objects},
                   {"rejected", r.rejected},
                   {"errors", r.errors},
                   {"listener_errors", r.listener_errors},
                   {"result", result}});
  }
  return out;
}

json dashboard_json(const ConfigState& state, const proxy::Server& server) {
  const std::vector<const telemetry::RequestMetrics*> workers = server.worker_metrics();
  const TrafficByName routes = merge_routes(workers);
  const TrafficByName clusters = merge_clusters(workers);
  json listeners = json::array();
  if (state.snapshot) {
    for (const auto& l : state.snapshot->listeners) listeners.push_back(listener_json(l, state, routes));
  }
  json rejected = json::array();
  std::set<std::string> listed;  // diagnostics shown with their object
  for (const auto& o : state.object_list()) {
    if (!o->latest_rejected && o->in_force) continue;
    json errors = json::array();
    for (const auto& d : o->errors) {
      errors.push_back(diagnostic_json(d));
      listed.insert(d.format());
    }
    rejected.push_back({{"kind", o->key.kind},
                        {"namespace", o->key.namespace_},
                        {"name", o->key.name},
                        {"location", o->source.file + ":" + std::to_string(o->source.line)},
                        {"serving_last_good", o->in_force},
                        {"errors", errors}});
  }
  // The rest: file-level errors (YAML that does not parse), warnings, notices.
  json diagnostics = json::array();
  for (const auto& d : state.diagnostics) {
    if (listed.count(d.format()) == 0) diagnostics.push_back(diagnostic_json(d));
  }
  json totals = json::object();
  for (const auto& [name, value] : proxy::sum_stats(server.worker_stats())) {
    if (name.starts_with("downstream_rq_") || name == "downstream_cx_active" || name == "no_route")
      totals[name] = value;
  }
  std::vector<double> bounds(telemetry::kDefaultBuckets.begin(), telemetry::kDefaultBuckets.end());
  return {{"now", rfc3339(now_us())},
          {"version", state.snapshot ? json(state.snapshot->version) : json(nullptr)},
          {"ready", state.snapshot != nullptr && server.ready()},
          {"workers", workers.size()},
          {"bucket_bounds_ms", bounds},
          {"totals", totals},
          {"listeners", listeners},
          {"clusters", clusters_json(state, server, clusters)},
          {"rejected", rejected},
          {"diagnostics", diagnostics},
          {"listener_errors", state.listener_errors},
          {"reloads", reloads_json(state.reload_history, [&server](uint64_t version) {
             return server.serving_since_us(version);
           })}};
}

}  // namespace torii::admin
