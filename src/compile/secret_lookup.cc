#include "compile/secret_lookup.h"

namespace torii::compile {

const config::Secret* SecretLookup::find(const std::string& name, const std::string& also_namespace) const {
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
