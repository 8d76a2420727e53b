// security.istio.io RequestAuthentication: selector / targetRef(s) and
// jwtRules (ISTIO_SECURITY.md §10; docs/jwt.md).
#include "config/parsers.h"

namespace torii::config {

namespace {

void read_target_ref(const Field& ref, std::vector<PolicyTargetRef>& out) {
  if (!ref.expect_map()) return;
  out.push_back(PolicyTargetRef{ref["group"].string(), ref["kind"].string(), ref["name"].string()});
}

}  // namespace

void read_policy_attachment(const Field& spec, std::optional<Labels>& selector,
                            std::vector<PolicyTargetRef>& target_refs) {
  const Field s = spec["selector"];
  if (s.expect_map()) selector = s["matchLabels"].string_map();
  if (spec["targetRef"].present()) read_target_ref(spec["targetRef"], target_refs);
  for (const Field& ref : spec["targetRefs"].items()) read_target_ref(ref, target_refs);
}

void read_request_authentication(const Field& spec, RequestAuthentication& out) {
  if (!spec.present()) return;  // spec: {} is a policy without rules
  if (!spec.expect_map()) return;
  read_policy_attachment(spec, out.selector, out.target_refs);
  for (const Field& item : spec["jwtRules"].items()) {
    if (!item.expect_map()) continue;
    JwtRule rule;
    rule.issuer = item["issuer"].string();
    for (const Field& a : item["audiences"].items()) rule.audiences.push_back(a.string());
    rule.jwks = item["jwks"].string();
    rule.jwks_uri = item["jwksUri"].string();
    for (const Field& h : item["fromHeaders"].items()) {
      if (h.expect_map())
        rule.from_headers.push_back(JwtHeaderLocation{h["name"].string(), h["prefix"].string()});
    }
    for (const Field& p : item["fromParams"].items()) rule.from_params.push_back(p.string());
    for (const Field& c : item["fromCookies"].items()) rule.from_cookies.push_back(c.string());
    rule.output_payload_to_header = item["outputPayloadToHeader"].string();
    for (const Field& c : item["outputClaimToHeaders"].items()) {
      if (c.expect_map())
        rule.output_claim_to_headers.push_back(JwtClaimToHeader{c["header"].string(), c["claim"].string()});
    }
    rule.forward_original_token = item["forwardOriginalToken"].boolean();
    out.jwt_rules.push_back(std::move(rule));
  }
}

}  // namespace torii::config
