#include "compile/authz_selection.h"

#include <algorithm>
#include <string>

#include "compile/policy_attachment.h"
#include "http/header_map.h"

namespace torii::compile {

namespace {

using Attribute = security::AuthzPredicate::Attribute;
using security::AuthzPredicate;

// One predicate per written list (`x` and `notX` are two); nothing for an
// empty list.
void add(std::vector<AuthzPredicate>& out, Attribute attribute, const std::vector<std::string>& values,
         bool negated, bool ignore_case = false) {
  if (values.empty()) return;
  AuthzPredicate p;
  p.attribute = attribute;
  p.negated = negated;
  for (const std::string& v : values) {
    switch (attribute) {
      case Attribute::SourceIp:
      case Attribute::RemoteIp:
      case Attribute::DestinationIp:
        if (auto range = security::IpRange::parse(v)) p.ranges.push_back(*range);
        break;
      case Attribute::Port:
        p.ports.push_back(static_cast<uint32_t>(std::stoul(v)));
        break;
      case Attribute::RequestPrincipal:
        p.principals.push_back(security::PrincipalMatcher::of(v));
        break;
      case Attribute::Path:
        if (security::PathTemplate::is_template(v)) {
          p.templates.push_back(security::PathTemplate::of(v));
        } else {
          p.values.push_back(security::ValueMatcher::of(v));
        }
        break;
      default:
        p.values.push_back(security::ValueMatcher::of(v, ignore_case));
    }
  }
  out.push_back(std::move(p));
}

void add_pair(std::vector<AuthzPredicate>& out, Attribute attribute, const std::vector<std::string>& values,
              const std::vector<std::string>& not_values, bool ignore_case = false) {
  add(out, attribute, values, false, ignore_case);
  add(out, attribute, not_values, true, ignore_case);
}

std::vector<AuthzPredicate> source_predicates(const config::AuthzSource& s) {
  std::vector<AuthzPredicate> out;
  add_pair(out, Attribute::PeerIdentity, s.principals, s.not_principals);
  add_pair(out, Attribute::PeerIdentity, s.namespaces, s.not_namespaces);
  add_pair(out, Attribute::PeerIdentity, s.service_accounts, s.not_service_accounts);
  add_pair(out, Attribute::RequestPrincipal, s.request_principals, s.not_request_principals);
  add_pair(out, Attribute::SourceIp, s.ip_blocks, s.not_ip_blocks);
  add_pair(out, Attribute::RemoteIp, s.remote_ip_blocks, s.not_remote_ip_blocks);
  return out;
}

std::vector<AuthzPredicate> operation_predicates(const config::AuthzOperation& o) {
  std::vector<AuthzPredicate> out;
  add_pair(out, Attribute::Host, o.hosts, o.not_hosts, /*ignore_case=*/true);
  add_pair(out, Attribute::Port, o.ports, o.not_ports);
  add_pair(out, Attribute::Method, o.methods, o.not_methods);
  add_pair(out, Attribute::Path, o.paths, o.not_paths);
  return out;
}

// "[a][b.c]" -> {"a", "b.c"}; empty on a malformed key (validation refused it).
std::vector<std::string> bracketed(std::string_view rest) {
  std::vector<std::string> out;
  while (!rest.empty()) {
    if (rest.front() != '[') return {};
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return {};
    out.emplace_back(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
  }
  return out;
}

void condition_predicates(std::vector<AuthzPredicate>& out, const config::AuthzCondition& c) {
  const std::string& key = c.key;
  auto simple = [&](Attribute a, bool ignore_case = false) {
    add_pair(out, a, c.values, c.not_values, ignore_case);
  };
  if (key.starts_with("request.headers[")) {
    const size_t before = out.size();
    simple(Attribute::Header);
    for (size_t i = before; i < out.size(); ++i)
      out[i].name = http::to_lower(std::string_view(key).substr(16, key.size() - 17));
  } else if (key.starts_with("request.auth.claims[")) {
    const size_t before = out.size();
    simple(Attribute::Claim);
    for (size_t i = before; i < out.size(); ++i)
      out[i].claim_path = bracketed(std::string_view(key).substr(19));
  } else if (key == "source.ip") {
    simple(Attribute::SourceIp);
  } else if (key == "remote.ip") {
    simple(Attribute::RemoteIp);
  } else if (key == "request.auth.principal") {
    simple(Attribute::RequestPrincipal);
  } else if (key == "request.auth.audiences") {
    simple(Attribute::Audiences);
  } else if (key == "request.auth.presenter") {
    simple(Attribute::Presenter);
  } else if (key == "destination.ip") {
    simple(Attribute::DestinationIp);
  } else if (key == "destination.port") {
    simple(Attribute::Port);
  } else if (key == "connection.sni") {
    simple(Attribute::Sni);
  } else if (key.starts_with("source.")) {
    simple(Attribute::PeerIdentity);
  } else {
    simple(Attribute::Never);  // experimental.envoy.filters.*: no Envoy dynamic metadata here
  }
}

}  // namespace

std::vector<security::AuthzRule> compile_authz_rules(const config::AuthorizationPolicy& policy) {
  std::vector<security::AuthzRule> rules;
  for (const config::AuthzRule& written : policy.rules) {
    security::AuthzRule rule;
    rule.any_source = written.from.empty();
    for (const config::AuthzSource& s : written.from) rule.sources.push_back(source_predicates(s));
    rule.any_operation = written.to.empty();
    for (const config::AuthzOperation& o : written.to) rule.operations.push_back(operation_predicates(o));
    for (const config::AuthzCondition& c : written.when) condition_predicates(rule.conditions, c);
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::shared_ptr<const security::AuthzEngine> build_authz(
    const config::ObjectList<config::AuthorizationPolicy>& policies, const GatewayIdentity& identity,
    DiagnosticSink& diagnostics) {
  std::vector<security::AuthzPolicy> compiled;
  for (const config::AuthorizationPolicy& policy : policies) {
    if (!policy_applies(policy.meta, policy.selector, policy.target_refs, identity)) continue;
    security::AuthzPolicy p;
    p.namespace_ = policy.meta.namespace_;
    p.name = policy.meta.name;
    p.id_prefix = "ns[" + p.namespace_ + "]-policy[" + p.name + "]-rule[";
    auto dry_run = policy.meta.annotations.find("istio.io/dry-run");
    p.dry_run = dry_run != policy.meta.annotations.end() && dry_run->second == "true";
    if (policy.action == "DENY") {
      p.action = security::AuthzPolicy::Action::Deny;
    } else if (policy.action == "AUDIT") {
      p.action = security::AuthzPolicy::Action::Audit;
    } else if (policy.action == "CUSTOM") {
      p.action = security::AuthzPolicy::Action::Deny;
      p.from_custom = true;
      diagnostics.warning(
          "AuthorizationPolicy", policy.meta, "spec.provider.name",
          "no external authorizer '" + policy.provider +
              "' in Torii: requests this policy's rules match are denied (403), as istiod does "
              "when the provider is missing");
    } else {
      p.action = security::AuthzPolicy::Action::Allow;
    }
    p.rules = compile_authz_rules(policy);
    compiled.push_back(std::move(p));
  }
  if (compiled.empty()) return nullptr;
  return std::make_shared<const security::AuthzEngine>(std::move(compiled));
}

}  // namespace torii::compile
