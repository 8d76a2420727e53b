#include "compile/secret_lookup.h"

namespace torii::compile {

const config::Secret* SecretLookup::find(const std::string& name, const std::string& also_namespace) const {
  if (name.starts_with(kGatewaySecretScheme)) {
    // "kubernetes-gateway://<ns>/<name>": exactly that Secret (a Gateway API
    // certificateRef, already checked against ReferenceGrants).
    const std::string_view rest = std::string_view(name).substr(kGatewaySecretScheme.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return nullptr;
    for (const config::Secret& s : secrets_) {
      if (s.meta.namespace_ == rest.substr(0, slash) && s.meta.name == rest.substr(slash + 1)) return &s;
    }
    return nullptr;
  }
  for (const std::string* ns : {&gateway_namespace_, &also_namespace}) {
    if (ns->empty()) continue;
    for (const config::Secret& s : secrets_) {
      if (s.meta.name == name && s.meta.namespace_ == *ns) return &s;
    }
  }
  return nullptr;
}

std::string SecretLookup::value(const config::Secret& secret, const char* a, const char* b) {
  if (auto it = secret.data.find(a); it != secret.data.end()) return it->second;
  if (auto it = secret.data.find(b); it != secret.data.end()) return it->second;
  return "";
}

std::string SecretLookup::ca_of(const config::Secret& secret, const std::string& name,
                                const std::string& also_namespace) const {
  std::string ca = value(secret, "ca.crt", "cacert");
  if (!ca.empty()) return ca;
  return separate_ca(name, also_namespace);
}

std::string SecretLookup::separate_ca(const std::string& name, const std::string& also_namespace) const {
  const config::Secret* separate = find(name + "-cacert", also_namespace);
  return separate != nullptr ? value(*separate, "ca.crt", "cacert") : std::string();
}

}  // namespace torii::compile
