// security.istio.io AuthorizationPolicy: selector / targetRef(s), action,
// provider and rules (ISTIO_SECURITY.md §1-§6; docs/authorization.md).
#include "config/parsers.h"

namespace torii::config {

namespace {

AuthzSource read_source(const Field& f) {
  AuthzSource s;
  if (!f.expect_map()) return s;
  s.principals = f["principals"].strings();
  s.not_principals = f["notPrincipals"].strings();
  s.request_principals = f["requestPrincipals"].strings();
  s.not_request_principals = f["notRequestPrincipals"].strings();
  s.namespaces = f["namespaces"].strings();
  s.not_namespaces = f["notNamespaces"].strings();
  s.service_accounts = f["serviceAccounts"].strings();
  s.not_service_accounts = f["notServiceAccounts"].strings();
  s.ip_blocks = f["ipBlocks"].strings();
  s.not_ip_blocks = f["notIpBlocks"].strings();
  s.remote_ip_blocks = f["remoteIpBlocks"].strings();
  s.not_remote_ip_blocks = f["notRemoteIpBlocks"].strings();
  return s;
}

AuthzOperation read_operation(const Field& f) {
  AuthzOperation o;
  if (!f.expect_map()) return o;
  o.hosts = f["hosts"].strings();
  o.not_hosts = f["notHosts"].strings();
  o.ports = f["ports"].strings();
  o.not_ports = f["notPorts"].strings();
  o.methods = f["methods"].strings();
  o.not_methods = f["notMethods"].strings();
  o.paths = f["paths"].strings();
  o.not_paths = f["notPaths"].strings();
  return o;
}

}  // namespace

void read_authorization_policy(const Field& spec, AuthorizationPolicy& out) {
  if (!spec.present()) return;  // spec: {} is ALLOW with no rules: allow nothing
  if (!spec.expect_map()) return;
  read_policy_attachment(spec, out.selector, out.target_refs);
  if (spec["action"].present()) out.action = spec["action"].upper_string();
  if (spec["provider"].expect_map()) out.provider = spec["provider"]["name"].string();
  const Field rules = spec["rules"];
  out.has_rules = rules.present();
  for (const Field& item : rules.items()) {
    AuthzRule rule;
    if (item.present() && !item.expect_map()) continue;
    const Field from = item["from"];
    rule.has_from = from.present();
    for (const Field& f : from.items()) rule.from.push_back(read_source(f["source"]));
    const Field to = item["to"];
    rule.has_to = to.present();
    for (const Field& t : to.items()) rule.to.push_back(read_operation(t["operation"]));
    for (const Field& w : item["when"].items()) {
      if (!w.expect_map()) continue;
      rule.when.push_back(AuthzCondition{w["key"].string(), w["values"].strings(), w["notValues"].strings()});
    }
    out.rules.push_back(std::move(rule));
  }
}

}  // namespace torii::config
