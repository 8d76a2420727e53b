#include "config/typed_object.h"

#include <algorithm>
#include <map>

namespace torii::config {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// The kind of a route read into the HTTPRoute shape, as a literal.
const char* route_kind_name(const std::string& kind) {
  for (const char* k : {"GRPCRoute", "TLSRoute", "TCPRoute"}) {
    if (kind == k) return k;
  }
  return "HTTPRoute";
}

}  // namespace

const ObjectMeta& meta_of(const TypedObject& object) {
  return std::visit([](const auto& o) -> const ObjectMeta& { return o.meta; }, object);
}

ObjectMeta& meta_of(TypedObject& object) {
  return std::visit([](auto& o) -> ObjectMeta& { return o.meta; }, object);
}

const char* kind_of(const TypedObject& object) {
  return std::visit(Overloaded{
                        [](const Gateway&) { return "Gateway"; },
                        [](const VirtualService&) { return "VirtualService"; },
                        [](const DestinationRule&) { return "DestinationRule"; },
                        [](const ServiceEntry&) { return "ServiceEntry"; },
                        [](const WorkloadEntry&) { return "WorkloadEntry"; },
                        [](const Service&) { return "Service"; },
                        [](const Pod&) { return "Pod"; },
                        [](const EndpointSlice&) { return "EndpointSlice"; },
                        [](const Endpoints&) { return "Endpoints"; },
                        [](const Namespace&) { return "Namespace"; },
                        [](const Secret&) { return "Secret"; },
                        [](const Telemetry&) { return "Telemetry"; },
                        [](const EnvoyFilter&) { return "EnvoyFilter"; },
                        [](const RequestAuthentication&) { return "RequestAuthentication"; },
                        [](const AuthorizationPolicy&) { return "AuthorizationPolicy"; },
                        [](const gwapi::GatewayClass&) { return "GatewayClass"; },
                        [](const gwapi::Gateway&) { return gwapi::kGatewayKind; },
                        [](const gwapi::HTTPRoute& o) { return route_kind_name(o.kind); },
                        [](const gwapi::ReferenceGrant&) { return "ReferenceGrant"; },
                    },
                    object);
}

ObjectKeyView key_view_of(const TypedObject& object) {
  const ObjectMeta& meta = meta_of(object);
  return ObjectKeyView{kind_of(object), meta.namespace_, meta.name};
}

namespace {

// Appends `object` to the list of its kind. An alias of `owner`: the list
// shares the ownership of the whole loaded object.
template <class T>
void share(ObjectList<T>& list, const SharedObject& owner, const T& object) {
  list.push_back(std::shared_ptr<const T>(owner, &object));
}

void add_shared(ResourceSet& set, const SharedObject& owner) {
  std::visit(Overloaded{
                 [&](const Gateway& o) { share(set.gateways, owner, o); },
                 [&](const VirtualService& o) { share(set.virtual_services, owner, o); },
                 [&](const DestinationRule& o) { share(set.destination_rules, owner, o); },
                 [&](const ServiceEntry& o) { share(set.service_entries, owner, o); },
                 [&](const WorkloadEntry& o) { share(set.workload_entries, owner, o); },
                 [&](const Service& o) { share(set.services, owner, o); },
                 [&](const Pod& o) { share(set.pods, owner, o); },
                 [&](const EndpointSlice& o) { share(set.endpoint_slices, owner, o); },
                 [&](const Endpoints& o) {
                   for (const EndpointSlice& slice : o.slices) {
                     slice.meta.load_order = o.meta.load_order;
                     share(set.endpoint_slices, owner, slice);
                   }
                 },
                 [&](const Namespace& o) { share(set.namespaces, owner, o); },
                 [&](const Secret& o) { share(set.secrets, owner, o); },
                 [&](const Telemetry& o) { share(set.telemetries, owner, o); },
                 [&](const EnvoyFilter& o) { share(set.envoy_filters, owner, o); },
                 [&](const RequestAuthentication& o) { share(set.request_authentications, owner, o); },
                 [&](const AuthorizationPolicy& o) { share(set.authorization_policies, owner, o); },
                 [&](const gwapi::GatewayClass& o) { share(set.gateway_classes, owner, o); },
                 [&](const gwapi::Gateway& o) { share(set.k8s_gateways, owner, o); },
                 [&](const gwapi::HTTPRoute& o) { share(set.http_routes, owner, o); },
                 [&](const gwapi::ReferenceGrant& o) { share(set.reference_grants, owner, o); },
             },
             *owner);
}

}  // namespace

ResourceSet resource_set_of(std::vector<OrderedObject> objects) {
  const auto by_load_order = [](const OrderedObject& a, const OrderedObject& b) {
    return a.load_order < b.load_order;
  };
  // The Store hands them over in load order already.
  if (!std::is_sorted(objects.begin(), objects.end(), by_load_order)) {
    std::stable_sort(objects.begin(), objects.end(), by_load_order);
  }
  ResourceSet set;
  for (const OrderedObject& o : objects) {
    meta_of(**o.object).load_order = o.load_order;
    add_shared(set, *o.object);
  }
  return set;
}

}  // namespace torii::config
