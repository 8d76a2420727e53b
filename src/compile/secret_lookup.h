// Kubernetes Secrets named by `credentialName` (Gateway server TLS and
// DestinationRule TLS at a gateway). Istio reads them from the gateway's own
// namespace; for a Gateway server, the Gateway object's namespace is tried
// too. Keys: kubernetes.io/tls (tls.crt, tls.key, ca.crt) or generic
// (cert, key, cacert); a CA may also sit in a Secret named <name>-cacert.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/resources.h"

namespace torii::compile {

// istiod's credentialName for a Gateway API certificateRef:
// "kubernetes-gateway://<namespace>/<name>", a Secret in any namespace.
inline constexpr std::string_view kGatewaySecretScheme = "kubernetes-gateway://";

class SecretLookup {
 public:
  SecretLookup(const config::ObjectList<config::Secret>& secrets, std::string gateway_namespace)
      : secrets_(secrets), gateway_namespace_(std::move(gateway_namespace)) {}

  // The Secret `name` in the gateway's namespace, else in `also_namespace`
  // (may be empty); null if neither has it.
  const config::Secret* find(const std::string& name, const std::string& also_namespace = "") const;
  const std::string& gateway_namespace() const { return gateway_namespace_; }

  // The value of key `a`, else of key `b`; empty if neither is there.
  static std::string value(const config::Secret& secret, const char* a, const char* b);
  // The CA bundle for credential `name`: ca.crt/cacert of the Secret itself,
  // else of the Secret <name>-cacert.
  std::string ca_of(const config::Secret& secret, const std::string& name,
                    const std::string& also_namespace = "") const;
  // ca.crt/cacert of the Secret <name>-cacert alone; empty if it or the key is missing.
  std::string separate_ca(const std::string& name, const std::string& also_namespace = "") const;

 private:
  const config::ObjectList<config::Secret>& secrets_;
  std::string gateway_namespace_;
};

}  // namespace torii::compile
