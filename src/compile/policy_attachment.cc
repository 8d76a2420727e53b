#include "compile/policy_attachment.h"

#include <algorithm>
#include <string_view>

#include "compile/labels.h"

namespace torii::compile {

namespace {
constexpr std::string_view kGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";
}  // namespace

bool policy_applies(const config::ObjectMeta& meta, const std::optional<config::Labels>& selector,
                    const std::vector<config::PolicyTargetRef>& target_refs,
                    const GatewayIdentity& identity) {
  const bool own = meta.namespace_ == identity.namespace_;
  if (!own && meta.namespace_ != identity.root_namespace) return false;
  if (!target_refs.empty()) {
    auto name = identity.labels.find(std::string(kGatewayNameLabel));
    if (name == identity.labels.end() || !own) return false;  // classic gateway: ignored entirely
    return std::any_of(target_refs.begin(), target_refs.end(), [&](const config::PolicyTargetRef& r) {
      return r.kind == "Gateway" && r.name == name->second;
    });
  }
  return !selector || selector->empty() || labels_subset(*selector, identity.labels);
}

}  // namespace torii::compile
