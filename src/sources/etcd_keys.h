// Where each object lives in etcd (issue 16, docs/scale_out.md):
//   <prefix>objects/<group>/<Kind>/<namespace>/<name>
// with group `core` for the core kinds (Service, Secret, ...) and `_` as the
// namespace of cluster-scoped objects (Namespace, GatewayClass). The value
// is the object as YAML (as it was applied). Replica status lives under
// <prefix>replicas/<name>.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/object_key.h"

namespace torii::sources {

// One kind Torii reads: ObjectKey::kind (config::kind_of), its API group, the
// kind as written in manifests, and the names `torii get` takes for it.
struct KindInfo {
  const char* key_kind;  // "VirtualService", "Gateway.gateway.networking.k8s.io"
  const char* group;     // "networking.istio.io", "core"
  const char* kind;      // "VirtualService", "Gateway"
  bool cluster_scoped;
  const char* short_name;  // "vs"; "" when kubectl has none
};

const std::vector<KindInfo>& known_kinds();
// By ObjectKey::kind; null when not one of known_kinds().
const KindInfo* kind_info(std::string_view key_kind);
// `torii get`'s KIND argument: kind, lower-case kind, plural, short name, or
// kind.group ("vs", "virtualservices", "VirtualService",
// "gateway.gateway.networking.k8s.io"); null when unknown.
const KindInfo* resolve_kind(std::string_view name);

std::string objects_prefix(std::string_view prefix);   // <prefix>objects/
std::string replicas_prefix(std::string_view prefix);  // <prefix>replicas/
// <prefix>objects/_generation: an apply too large for one transaction is
// written in chunks between a "writing" and a "done" value of this key
// ({"generation": N, "state": ...}); replicas serve none of it before "done".
// Under objects/ so that the replicas' watch sees it in order with the chunks;
// it is not an object key (parse_object_key() refuses it).
std::string generation_key_name(std::string_view prefix);
// <prefix>objects/<group>/<Kind>/ (and <namespace>/ when given).
std::string kind_prefix(std::string_view prefix, const KindInfo& kind, std::string_view namespace_ = {});
// The key of an object; empty when its kind is not a known one.
std::string object_key(std::string_view prefix, const config::ObjectKey& key);
// The inverse; false for a key that is not an object key under `prefix`.
bool parse_object_key(std::string_view prefix, std::string_view etcd_key, config::ObjectKey& out);

}  // namespace torii::sources
