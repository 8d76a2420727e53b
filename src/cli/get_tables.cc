#include "cli/get_tables.h"

#include <algorithm>
#include <map>

namespace torii::cli {

using nlohmann::json;

namespace {

const json kNull;
const json kEmptyArray = json::array();

// j[key] without inserting (json::operator[] on a const object asserts on absent keys).
const json& at(const json& j, const char* key) {
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// j as an array to iterate, or an empty one (by reference: rows keep pointers into the answer).
const json& items(const json& j) { return j.is_array() ? j : kEmptyArray; }

std::string str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

std::string join(const std::vector<std::string>& parts, const char* sep = ",") {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// "1.2.3.4:80" / "[::1]:80" from a listener status's local_address.
std::string socket_address(const json& local_address) {
  const json& sa = at(local_address, "socket_address");
  const std::string ip = str(at(sa, "address"));
  const std::string port = str(at(sa, "port_value"));
  return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + port;
}

// A duration in milliseconds as Istio writes them: "15s", "250ms"; 0 is "" (none).
std::string duration(uint64_t ms) {
  if (ms == 0) return "";
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

// An ejection's remaining time, whole seconds rounded up once it is a second or more.
std::string time_left(uint64_t ms) {
  return ms >= 1000 ? std::to_string((ms + 999) / 1000) + "s"
                    : std::to_string(std::max<uint64_t>(ms, 1)) + "ms";
}

// {"prefix": "/api"} -> "prefix:/api"; "exact" values print bare in headers and
// query parameters ("x-user=alice"), the way a VirtualService is usually read.
std::string matcher(const json& m, bool bare_exact) {
  if (!m.is_object() || m.empty()) return "";
  std::string kind, value;
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (it.key() == "ignore_case") continue;
    kind = it.key();
    value = str(it.value());
  }
  std::string out = kind == "present"                 ? "present"
                    : (kind == "exact" && bare_exact) ? value
                                                      : kind + ":" + value;
  if (at(m, "ignore_case").is_boolean() && at(m, "ignore_case").get<bool>()) out += "(ignore-case)";
  return out;
}

std::string match_text(const json& match) {
  std::vector<std::string> parts = {matcher(at(match, "path"), false)};
  for (const json& h : items(at(match, "headers"))) {
    const bool invert = at(h, "invert").is_boolean() && at(h, "invert").get<bool>();
    parts.push_back(std::string(invert ? "!" : "") + "header:" + str(at(h, "name")) + "=" +
                    matcher(at(h, "value"), true));
  }
  for (const json& q : items(at(match, "query_params"))) {
    parts.push_back("query:" + str(at(q, "name")) + "=" + matcher(at(q, "value"), true));
  }
  return join(parts);
}

// Clusters with their weights when there are several ("a=90,b=10"), a
// missing cluster marked as such (Envoy answers 503 NC for it).
std::string destinations(const json& clusters, const char* name_key) {
  std::vector<std::string> out;
  const bool weighted = clusters.is_array() && clusters.size() > 1;
  for (const json& c : items(clusters)) {
    std::string d = str(at(c, name_key));
    if (weighted) d += "=" + str(at(c, "weight"));
    if (at(c, "exists").is_boolean() && !at(c, "exists").get<bool>()) d += "(missing)";
    out.push_back(d);
  }
  return join(out);
}

std::vector<std::string> route_row(const std::string& listener, const std::string& host, const json& r) {
  std::string dest;
  if (const json& redirect = at(r, "redirect"); redirect.is_object()) {
    dest = "redirect:" + str(at(redirect, "status"));
  } else if (const json& direct = at(r, "direct_response"); direct.is_object()) {
    dest = "direct-response:" + str(at(direct, "status"));
  } else {
    dest = destinations(at(r, "clusters"), "name");
  }
  // The gateway answers redirects and direct responses itself: no timeout, no retries.
  const bool forwarded = !at(r, "redirect").is_object() && !at(r, "direct_response").is_object();
  const json& policies = forwarded ? at(r, "policies") : kNull;
  const json& retries = at(policies, "retries");
  const json& timeout = at(policies, "timeout_ms");
  return {listener,
          host,
          match_text(at(r, "match")),
          dest,
          str(at(r, "virtual_service")),
          timeout.is_number() ? duration(timeout.get<uint64_t>()) : "",
          retries.is_object() ? str(at(retries, "num_retries"))
          : forwarded         ? "0"
                              : "",
          str(at(retries, "retry_on"))};
}

void add_route_rows(Table& t, const std::string& listener, const json& vhosts, const std::string& port = "") {
  for (const json& vh : items(vhosts)) {
    const std::string host = str(at(vh, "domain")) + port;
    for (const json& r : items(at(vh, "routes"))) t.rows.push_back(route_row(listener, host, r));
  }
}

const json& snapshot_listeners(const json& dump) { return at(at(dump, "snapshot"), "listeners"); }

}  // namespace

std::string format_table(const Table& table, bool wide) {
  const size_t n = wide ? table.columns.size() : std::min(table.narrow_columns, table.columns.size());
  auto cell = [](const std::vector<std::string>& row, size_t i) -> std::string {
    return i < row.size() && !row[i].empty() ? row[i] : "<none>";
  };
  std::vector<size_t> widths(n, 0);
  for (size_t i = 0; i < n; ++i) {
    widths[i] = table.columns[i].size();
    for (const auto& row : table.rows) widths[i] = std::max(widths[i], cell(row, i).size());
  }
  std::string out;
  auto line = [&](auto get) {
    std::string l;
    for (size_t i = 0; i < n; ++i) {
      const std::string text = get(i);
      l += text;
      if (i + 1 < n) l.append(widths[i] - text.size() + 2, ' ');
    }
    out += l + "\n";
  };
  line([&](size_t i) { return table.columns[i]; });
  for (const auto& row : table.rows) line([&](size_t i) { return cell(row, i); });
  return out;
}

json table_json(const Table& table) {
  json out = json::array();
  for (const auto& row : table.rows) {
    json o = json::object();
    for (size_t i = 0; i < table.columns.size(); ++i) {
      std::string key = table.columns[i];
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return c == '-' ? '_' : static_cast<char>(std::tolower(c)); });
      o[key] = i < row.size() ? row[i] : "";
    }
    out.push_back(std::move(o));
  }
  return out;
}

Table listeners_table(const json& listeners, const json& dump) {
  Table t{{"NAME", "ADDRESS", "PROTOCOLS", "HOSTS", "GATEWAY-PORT", "GATEWAYS"}, 4, {}};
  std::map<std::string, const json*> bound;
  for (const json& l : items(at(listeners, "listener_statuses"))) bound[str(at(l, "name"))] = &l;
  for (const json& l : items(snapshot_listeners(dump))) {
    const std::string name = str(at(l, "name"));
    auto b = bound.find(name);
    std::vector<std::string> protocols, hosts, gateways;
    // What a connection meets (HTTP, HTTPS, TLS_PASSTHROUGH, TCP...), as
    // /listeners says; the servers' protocols when the listener is not bound.
    if (b != bound.end() && at(*b->second, "kinds").is_array()) {
      for (const json& k : at(*b->second, "kinds")) add_unique(protocols, str(k));
    }
    for (const json& s : items(at(l, "servers"))) {
      if (b == bound.end()) add_unique(protocols, str(at(s, "protocol")));
      for (const json& h : items(at(s, "hosts"))) add_unique(hosts, str(h));
      add_unique(gateways, str(at(s, "gateway")));
    }
    t.rows.push_back({name,
                      b != bound.end() ? socket_address(at(*b->second, "local_address")) : "(not bound)",
                      join(protocols), join(hosts), str(at(l, "gateway_port")), join(gateways)});
  }
  return t;
}

Table routes_table(const json& dump) {
  Table t{{"LISTENER", "HOST", "MATCH", "DESTINATIONS", "VIRTUALSERVICE", "TIMEOUT", "RETRIES", "RETRY-ON"},
          4,
          {}};
  for (const json& l : items(snapshot_listeners(dump))) {
    const std::string name = str(at(l, "name"));
    add_route_rows(t, name, at(l, "virtual_hosts"));
    for (const json& chain : items(at(l, "tls_chains"))) add_route_rows(t, name, at(chain, "virtual_hosts"));
    // Forward-proxy routes, per target port: HOST is host:port.
    if (const json& fp = at(l, "forward_proxy"); fp.is_object()) {
      for (auto it = fp.begin(); it != fp.end(); ++it) add_route_rows(t, name, it.value(), ":" + it.key());
    }
    // TCP / TLS passthrough chains: MATCH is the chain kind (and its SNI names in HOST).
    for (const json& chain : items(at(l, "l4_filter_chains"))) {
      std::vector<std::string> names;
      for (const json& n : items(at(chain, "server_names"))) names.push_back(str(n));
      t.rows.push_back({name, names.empty() ? "*" : join(names), str(at(chain, "kind")),
                        destinations(at(chain, "destinations"), "cluster"), str(at(chain, "virtual_service")),
                        "", "", ""});
    }
  }
  return t;
}

Table clusters_table(const json& clusters, const json& dump) {
  Table t{{"NAME", "PROTOCOL", "ENDPOINTS", "HEALTHY", "LB", "CIRCUIT-BREAKERS", "OUTLIER-DETECTION", "TLS"},
          6,
          {}};
  std::map<std::string, const json*> policies;
  for (const json& c : items(at(at(dump, "snapshot"), "clusters")))
    policies[str(at(c, "name"))] = &at(c, "traffic_policy");
  for (const json& c : items(at(clusters, "clusters"))) {
    const std::string name = str(at(c, "name"));
    const json& endpoints = at(c, "endpoints");
    size_t total = 0, healthy = 0;
    for (const json& e : items(endpoints)) {
      ++total;
      healthy += str(at(e, "health")) == "healthy";
    }
    auto p = policies.find(name);
    const json& policy = p != policies.end() ? *p->second : kNull;
    std::string protocol = str(at(at(policy, "connection"), "protocol"));
    if (protocol.starts_with("client")) protocol = "CLIENT";  // useClientProtocol
    // The limits a DestinationRule set; Istio's defaults are unlimited (none shown).
    std::vector<std::string> limits;
    const std::pair<const char*, const char*> breakers[] = {{"max_connections", "connections"},
                                                            {"max_pending_requests", "pending"},
                                                            {"max_requests", "requests"},
                                                            {"max_retries", "retries"}};
    for (const auto& [key, label] : breakers) {
      const json& v = at(at(policy, "circuit_breakers"), key);
      if (v.is_number()) limits.push_back(std::string(label) + "=" + str(v));
    }
    std::string outlier;
    if (const json& od = at(policy, "outlier_detection"); od.is_object()) {
      outlier = "5xx=" + str(at(od, "consecutive_5xx")) +
                ",gateway=" + str(at(od, "consecutive_gateway_errors")) +
                ",interval=" + duration(at(od, "interval_ms").get<uint64_t>()) +
                ",ejection=" + duration(at(od, "base_ejection_time_ms").get<uint64_t>()) +
                ",max=" + str(at(od, "max_ejection_percent")) + "%";
    }
    t.rows.push_back({name, protocol, std::to_string(total), std::to_string(healthy), str(at(c, "lb_policy")),
                      join(limits), outlier, str(at(at(policy, "tls"), "mode"))});
  }
  return t;
}

Table endpoints_table(const json& clusters) {
  Table t{{"CLUSTER", "ADDRESS", "HEALTH", "WEIGHT", "LOCALITY", "PRIORITY", "EJECTION-LEFT", "RQ-ACTIVE",
           "RQ-TOTAL", "RQ-ERROR"},
          5,
          {}};
  for (const json& c : items(at(clusters, "clusters"))) {
    for (const json& e : items(at(c, "endpoints"))) {
      const json& left = at(e, "ejection_time_left_ms");
      const bool ejected = str(at(e, "health")) == "ejected";
      t.rows.push_back({str(at(c, "name")), str(at(e, "address")), str(at(e, "health")),
                        str(at(e, "lb_weight")), str(at(e, "locality")), str(at(e, "priority")),
                        ejected && left.is_number() ? time_left(left.get<uint64_t>()) : "",
                        str(at(e, "rq_active")), str(at(e, "rq_total")), str(at(e, "rq_error"))});
    }
  }
  return t;
}

}  // namespace torii::cli
