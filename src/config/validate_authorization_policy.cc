// AuthorizationPolicy validation as istiod's (pkg/config/validation
// validation.go ValidateAuthorizationPolicy, security.go ValidateAttribute;
// ISTIO_SECURITY.md §11), plus warnings for what a standalone gateway can
// never match (§6: peer identities need mTLS).
#include <string>

#include "config/names.h"
#include "config/validate.h"
#include "config/validate_common.h"

namespace torii::config {

namespace {

constexpr std::string_view kNoPeerIdentity =
    "needs an mTLS peer identity, which a standalone gateway never has: the positive form never "
    "matches and the not-form always does (as at an Istio gateway without mTLS)";

bool is_identity_key(std::string_view key) {
  return key == "source.principal" || key == "source.namespace" || key == "source.serviceAccount" ||
         key == "source.trustDomain";
}

// The `when` keys istiod accepts; "" when `key` is one, else why not.
std::string check_key(std::string_view key) {
  auto bracketed = [&](std::string_view prefix) {
    if (!key.starts_with(prefix)) return false;
    const std::string_view rest = key.substr(prefix.size());
    return rest.size() > 2 && rest.front() == '[' && rest.back() == ']';
  };
  if (bracketed("request.headers") || bracketed("request.auth.claims")) return "";
  if (key.starts_with("experimental.envoy.filters.")) return "";
  for (std::string_view known :
       {"source.ip", "remote.ip", "source.namespace", "source.principal", "source.serviceAccount",
        "source.trustDomain", "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
        "destination.ip", "destination.port", "connection.sni"}) {
    if (key == known) return "";
  }
  if (key == "destination.labels" || key == "destination.name" || key == "destination.namespace" ||
      key == "destination.user" || key.starts_with("destination.labels[")) {
    return "attribute " + std::string(key) + " is no longer supported (it was removed with v1alpha1 RBAC)";
  }
  return "unknown attribute: " + std::string(key);
}

void check_values(Report& r, const std::string& field, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) r.error(at(field, i), "empty value is not allowed");
  }
}

void check_ips(Report& r, const std::string& field, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) r.error_unless_empty(at(field, i), check_ip_subnet(values[i]));
}

void check_ports(Report& r, const std::string& field, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    bool digits = !v.empty() && v.size() <= 5;
    for (char c : v) digits = digits && c >= '0' && c <= '9';
    if (!digits || std::stoul(v) > 65535) r.error(at(field, i), "invalid port: " + v);
  }
}

// Istio's CheckValidPathTemplate (pkg/config/security): `{` and `}` only as
// whole `{*}` / `{**}` segments, `{**}` the last operator, and in a path with
// a template every other segment a plain path literal (no `*`). "" when
// `path` is fine.
std::string check_path(std::string_view path) {
  const bool templated =
      path.find("{*}") != std::string_view::npos || path.find("{**}") != std::string_view::npos;
  // Envoy's uri_template refuses a template without the leading '/', which
  // istiod does not check: the gateway would reject its whole listener.
  if (templated && !path.starts_with('/')) return "a path template must start with '/'";
  std::string_view rest = path;
  while (rest.starts_with('/')) rest.remove_prefix(1);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  bool after_any = false;
  for (size_t start = 0; start <= rest.size();) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view glob = rest.substr(start, end - start);
    start = end + 1;
    if (glob == "{*}" || glob == "{**}") {
      if (after_any) return "invalid path " + std::string(path) + ": {**} is not the last operator";
      after_any = glob == "{**}";
      continue;
    }
    if (glob.find_first_of("{}") != std::string_view::npos) {
      return "invalid path " + std::string(path) +
             ": '{' or '}' beyond a supported path template ({*}, {**})";
    }
    if (!templated) continue;
    bool literal = !glob.empty();
    for (char c : glob) {
      literal = literal && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            std::string_view("-._~%!$&'()+,;:@=").find(c) != std::string_view::npos);
    }
    if (!literal) {
      return "invalid path " + std::string(path) + ": segment '" + std::string(glob) +
             "' is not a valid path literal in a path template";
    }
  }
  return "";
}

void check_paths(Report& r, const std::string& field, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) r.error_unless_empty(at(field, i), check_path(values[i]));
}

void check_source(Report& r, const std::string& field, const AuthzSource& s, bool custom) {
  const bool empty = s.principals.empty() && s.not_principals.empty() && s.request_principals.empty() &&
                     s.not_request_principals.empty() && s.namespaces.empty() && s.not_namespaces.empty() &&
                     s.service_accounts.empty() && s.not_service_accounts.empty() && s.ip_blocks.empty() &&
                     s.not_ip_blocks.empty() && s.remote_ip_blocks.empty() && s.not_remote_ip_blocks.empty();
  if (empty) r.error(field, "Source must not be empty");
  const std::pair<const char*, const std::vector<std::string>*> lists[] = {
      {"principals", &s.principals},
      {"notPrincipals", &s.not_principals},
      {"requestPrincipals", &s.request_principals},
      {"notRequestPrincipals", &s.not_request_principals},
      {"namespaces", &s.namespaces},
      {"notNamespaces", &s.not_namespaces},
      {"serviceAccounts", &s.service_accounts},
      {"notServiceAccounts", &s.not_service_accounts},
      {"ipBlocks", &s.ip_blocks},
      {"notIpBlocks", &s.not_ip_blocks},
      {"remoteIpBlocks", &s.remote_ip_blocks},
      {"notRemoteIpBlocks", &s.not_remote_ip_blocks}};
  for (const auto& [name, values] : lists) check_values(r, field + "." + name, *values);
  check_ips(r, field + ".ipBlocks", s.ip_blocks);
  check_ips(r, field + ".notIpBlocks", s.not_ip_blocks);
  check_ips(r, field + ".remoteIpBlocks", s.remote_ip_blocks);
  check_ips(r, field + ".notRemoteIpBlocks", s.not_remote_ip_blocks);
  if ((!s.service_accounts.empty() || !s.not_service_accounts.empty()) &&
      (!s.principals.empty() || !s.not_principals.empty() || !s.namespaces.empty() ||
       !s.not_namespaces.empty())) {
    r.error(field + ".serviceAccounts", "cannot set serviceAccounts with namespaces or principals");
  }
  const bool identity = !s.principals.empty() || !s.not_principals.empty() || !s.namespaces.empty() ||
                        !s.not_namespaces.empty() || !s.service_accounts.empty() ||
                        !s.not_service_accounts.empty();
  if (custom && (identity || !s.request_principals.empty() || !s.not_request_principals.empty())) {
    r.error(
        field,
        "principals, namespaces, serviceAccounts and requestPrincipals are not supported with CUSTOM action");
  } else if (identity) {
    r.warning(field, std::string(kNoPeerIdentity));
  }
}

void check_operation(Report& r, const std::string& field, const AuthzOperation& o) {
  const bool empty = o.hosts.empty() && o.not_hosts.empty() && o.ports.empty() && o.not_ports.empty() &&
                     o.methods.empty() && o.not_methods.empty() && o.paths.empty() && o.not_paths.empty();
  if (empty) r.error(field, "Operation must not be empty");
  const std::pair<const char*, const std::vector<std::string>*> lists[] = {
      {"hosts", &o.hosts},        {"notHosts", &o.not_hosts}, {"ports", &o.ports},
      {"notPorts", &o.not_ports}, {"methods", &o.methods},    {"notMethods", &o.not_methods},
      {"paths", &o.paths},        {"notPaths", &o.not_paths}};
  for (const auto& [name, values] : lists) check_values(r, field + "." + name, *values);
  check_ports(r, field + ".ports", o.ports);
  check_ports(r, field + ".notPorts", o.not_ports);
  check_paths(r, field + ".paths", o.paths);
  check_paths(r, field + ".notPaths", o.not_paths);
}

void check_condition(Report& r, const std::string& field, const AuthzCondition& c, bool custom) {
  if (c.key.empty()) {
    r.error(field + ".key", "key must not be empty");
    return;
  }
  r.error_unless_empty(field + ".key", check_key(c.key));
  if (c.values.empty() && c.not_values.empty()) {
    r.error(field, "at least one of values or notValues must be set for key " + c.key);
  }
  check_values(r, field + ".values", c.values);
  check_values(r, field + ".notValues", c.not_values);
  if (c.key == "source.ip" || c.key == "remote.ip" || c.key == "destination.ip") {
    check_ips(r, field + ".values", c.values);
    check_ips(r, field + ".notValues", c.not_values);
  } else if (c.key == "destination.port") {
    check_ports(r, field + ".values", c.values);
    check_ports(r, field + ".notValues", c.not_values);
  }
  if (custom && (is_identity_key(c.key) || c.key.starts_with("request.auth."))) {
    r.error(field + ".key", c.key + " is not supported with CUSTOM action");
  } else if (is_identity_key(c.key)) {
    r.warning(field + ".key", std::string(kNoPeerIdentity));
  } else if (c.key.starts_with("experimental.envoy.filters.")) {
    r.warning(field + ".key",
              "Envoy dynamic metadata is not available in Torii: this condition never matches");
  }
}

}  // namespace

Diagnostics validate(const AuthorizationPolicy& policy, const FieldLines& lines) {
  Report r("AuthorizationPolicy", policy.meta, lines);
  check_policy_attachment(r, policy.selector, policy.target_refs);
  const std::string& action = policy.action;
  if (action != "ALLOW" && action != "DENY" && action != "AUDIT" && action != "CUSTOM") {
    r.error("spec.action", "unknown action " + quote(action) + " (ALLOW, DENY, AUDIT or CUSTOM)");
  }
  const bool custom = action == "CUSTOM";
  if (custom) {
    if (policy.provider.empty()) r.error("spec.provider.name", "must not be empty");
    if (policy.rules.empty()) r.error("spec.rules", "CUSTOM action without `rules` is meaningless");
  } else if (!policy.provider.empty()) {
    r.error("spec.provider", "provider must only be used with the CUSTOM action");
  }
  if (action == "DENY" && policy.rules.empty()) {
    r.error("spec.rules", "DENY action without `rules` is meaningless");
  }
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const AuthzRule& rule = policy.rules[i];
    const std::string field = at("spec.rules", i);
    if (rule.has_from && rule.from.empty()) r.error(field + ".from", "`from` must not be empty");
    if (rule.has_to && rule.to.empty()) r.error(field + ".to", "`to` must not be empty");
    for (size_t j = 0; j < rule.from.size(); ++j)
      check_source(r, at(field + ".from", j) + ".source", rule.from[j], custom);
    for (size_t j = 0; j < rule.to.size(); ++j)
      check_operation(r, at(field + ".to", j) + ".operation", rule.to[j]);
    for (size_t j = 0; j < rule.when.size(); ++j)
      check_condition(r, at(field + ".when", j), rule.when[j], custom);
  }
  if (custom && !policy.provider.empty()) {
    r.warning("spec.provider.name",
              "no external authorizer is configured in Torii: as istiod does when the provider is "
              "missing from meshConfig, the policy's rules become a DENY (403 for requests they match)");
  }
  return r.take();
}

}  // namespace torii::config
