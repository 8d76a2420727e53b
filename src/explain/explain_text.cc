// Text rendering of an explanation (explain.h): one section per routing step.
#include "explain/explain.h"

namespace torii::explain {

namespace {

using json = nlohmann::json;

std::string str(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

std::string route_text(const json& r) {
  // Routes from a Gateway API HTTPRoute name it; their generated
  // VirtualService (in precedence order) is an implementation detail.
  if (r.contains("http_route")) {
    std::string out = "#" + str(r["index"]) + " " + str(r["http_route"]);
    if (r.contains("name")) out += " \"" + str(r["name"]) + "\"";
    return out;
  }
  std::string out =
      "#" + str(r["index"]) + " " + str(r["virtual_service"]) + " spec.http[" + str(r["rule"]) + "]";
  if (r.contains("delegate")) {
    out += " -> delegate " + str(r["delegate"]) + " spec.http[" + str(r["delegate_rule"]) + "]";
  }
  if (r["match"].get<int>() >= 0) out += ".match[" + str(r["match"]) + "]";
  if (r.contains("name")) out += " \"" + str(r["name"]) + "\"";
  return out;
}

void header_ops_text(std::string& out, const std::string& indent, const std::string& what, const json& ops) {
  out += indent + what + ":";
  for (const json& op : ops) {
    out += " " + str(op["op"]) + " " + str(op["name"]);
    if (op.contains("value")) out += "=" + str(op["value"]);
    out += ";";
  }
  out.pop_back();
  out += "\n";
}

}  // namespace

std::string to_text(const json& e) {
  if (e.contains("error")) return "error: " + str(e["error"]) + "\n";
  std::string out;
  const json& req = e["request"];
  out += "request:      " + str(req["method"]) + " " + str(req["url"]) + "  (Host " + str(req["authority"]) +
         ")\n";
  if (!e.contains("listener")) {
    out += "listener:     none on port " + str(req["port"]) + "; listeners:";
    for (const json& l : e["listeners"]) out += " " + str(l);
    out += "\nresult:       " + str(e["result"]["reason"]) + "\n";
    return out;
  }
  const json& l = e["listener"];
  out += "listener:     " + str(l["name"]) + " (Gateway port " + str(l["gateway_port"]) + ", bound on " +
         str(l["listen_port"]) + ", route table " + str(l["route_config"]) + ")\n";
  for (const json& s : l["servers"]) {
    out += "  server:     " + str(s["gateway"]) + " " + str(s["port_name"]) + " " + str(s["protocol"]) +
           " hosts";
    for (const json& h : s["hosts"]) out += " " + str(h);
    out += s["serves_host"].get<bool>() ? "  <- covers this host\n" : "\n";
  }
  if (e.contains("jwt")) {
    const json& j = e["jwt"];
    out += "jwt:          " + str(j["status"]);
    if (j.contains("issuer")) out += ", principal " + str(j["issuer"]) + "/" + str(j["subject"]);
    out += "\n";
    if (j.value("rejected", false)) {
      out += "result:       " + str(e["result"]["status"]) + " " + str(e["result"]["reason"]) + "\n";
      return out;
    }
  }
  if (e.contains("authorization")) {
    const json& a = e["authorization"];
    out += std::string("authorization: ") + (a["allowed"].get<bool>() ? "allowed" : "denied") + ", " +
           str(a["decided_by"]) + "\n";
    for (const json& p : a["policies"]) {
      out += "  " + str(p["action"]) + " " + str(p["policy"]) +
             (p["dry_run"].get<bool>() ? " (dry run)" : "") + ": rules matching";
      for (const json& m : p["rules_matching"]) out += m.get<bool>() ? " yes" : " no";
      out += "\n";
    }
    out += "  (" + str(a["note"]) + ")\n";
  }
  if (!e.contains("virtual_host")) {
    out += "virtual host: none\nresult:       " + str(e["result"]["status"]) + " " +
           str(e["result"]["reason"]) + "\n";
    return out;
  }
  out += "virtual host: " + str(e["virtual_host"]) + "\n";
  if (e.contains("skipped_routes")) {
    for (const json& r : e["skipped_routes"]) {
      out += "  skipped     " + route_text(r) + "\n              failed: " + str(r["failed"]) + "\n";
    }
  }
  if (e.contains("route")) {
    out += "matched:      " + route_text(e["route"]) +
           "\n              when: " + str(e["route"]["conditions"]) + "\n";
  }
  if (e.contains("action")) {
    const json& a = e["action"];
    const std::string type = str(a["type"]);
    if (type == "redirect" || type == "https_redirect") {
      out += "action:       " + type + " " + str(a["status"]) + " location: " + str(a["location"]) + "\n";
    } else if (type == "direct_response") {
      std::string body = str(a["body"]);
      if (body.size() > 200) body = body.substr(0, 200) + "... (" + std::to_string(body.size()) + " bytes)";
      out += "action:       direct response " + str(a["status"]) + " body \"" + body + "\"\n";
      if (a.contains("location")) out += "              location: " + str(a["location"]) + "\n";
    } else {
      out += "action:       route to " + std::to_string(a["destinations"].size()) + " destination(s)\n";
      if (a.contains("path_rewrite")) out += "  rewrite:    uri " + str(a["path_rewrite"]) + "\n";
      if (a.contains("host_rewrite")) out += "  rewrite:    authority " + str(a["host_rewrite"]) + "\n";
      if (a.contains("request_headers")) header_ops_text(out, "  ", "request headers", a["request_headers"]);
      for (const json& d : a["destinations"]) {
        out += "  -> " + str(d["cluster"]) + "  weight " + str(d["weight"]);
        char percent[32];
        std::snprintf(percent, sizeof percent, " (%.1f%%)", d["percent"].get<double>());
        out += percent;
        out += "\n";
        if (!d["exists"].get<bool>()) {
          out += "     " + str(d["outcome"]) + "\n";
          continue;
        }
        std::string subset = str(d["subset"]);
        out += "     service " + str(d["service"]) + " port " + str(d["port"]) +
               (subset.empty() ? "" : " subset " + subset) + "\n";
        out += "     upstream protocol " + str(d["upstream_protocol"]) + "\n";
        out += "     endpoints:";
        if (d["endpoints"].empty()) out += " none";
        for (const json& ep : d["endpoints"])
          out += " " + str(ep["address"]) + " (" + str(ep["origin"]) + ")";
        out += "\n";
        if (d.contains("outcome")) out += "     " + str(d["outcome"]) + "\n";
        if (d.contains("request_headers"))
          header_ops_text(out, "     ", "request headers", d["request_headers"]);
        if (d.contains("response_headers"))
          header_ops_text(out, "     ", "response headers", d["response_headers"]);
        const json& up = d["upstream_request"];
        out += "     upstream request: " + str(up["method"]) + " " + str(up["target"]) +
               "  Host: " + str(up["host"]) + "\n";
      }
    }
    if (a.contains("response_headers")) header_ops_text(out, "  ", "response headers", a["response_headers"]);
  }
  if (e.contains("policies")) {
    for (const auto& [name, value] : e["policies"].items())
      out += "policy:       " + name + ": " + str(value) + "\n";
  }
  const json& result = e["result"];
  out += "result:       ";
  if (result["status"].get<int>() != 0) out += str(result["status"]) + " ";
  out += str(result["reason"]) + "\n";
  return out;
}

}  // namespace torii::explain
