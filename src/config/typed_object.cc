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

ObjectKey key_of(const TypedObject& object) {
  const ObjectMeta& meta = meta_of(object);
  return ObjectKey{kind_of(object), meta.namespace_, meta.name};
}

void add_to(ResourceSet& set, TypedObject object) {
  std::visit(Overloaded{
                 [&](Gateway&& o) { set.gateways.push_back(std::move(o)); },
                 [&](VirtualService&& o) { set.virtual_services.push_back(std::move(o)); },
                 [&](DestinationRule&& o) { set.destination_rules.push_back(std::move(o)); },
                 [&](ServiceEntry&& o) { set.service_entries.push_back(std::move(o)); },
                 [&](WorkloadEntry&& o) { set.workload_entries.push_back(std::move(o)); },
                 [&](Service&& o) { set.services.push_back(std::move(o)); },
                 [&](Pod&& o) { set.pods.push_back(std::move(o)); },
                 [&](EndpointSlice&& o) { set.endpoint_slices.push_back(std::move(o)); },
                 [&](Endpoints&& o) {
                   for (EndpointSlice& slice : o.slices) {
                     slice.meta.load_order = o.meta.load_order;  // the Store may move the object
                     set.endpoint_slices.push_back(std::move(slice));
                   }
                 },
                 [&](Namespace&& o) { set.namespaces.push_back(std::move(o)); },
                 [&](Secret&& o) { set.secrets.push_back(std::move(o)); },
                 [&](Telemetry&& o) { set.telemetries.push_back(std::move(o)); },
                 [&](EnvoyFilter&& o) { set.envoy_filters.push_back(std::move(o)); },
                 [&](RequestAuthentication&& o) { set.request_authentications.push_back(std::move(o)); },
                 [&](AuthorizationPolicy&& o) { set.authorization_policies.push_back(std::move(o)); },
                 [&](gwapi::GatewayClass&& o) { set.gateway_classes.push_back(std::move(o)); },
                 [&](gwapi::Gateway&& o) { set.k8s_gateways.push_back(std::move(o)); },
                 [&](gwapi::HTTPRoute&& o) { set.http_routes.push_back(std::move(o)); },
                 [&](gwapi::ReferenceGrant&& o) { set.reference_grants.push_back(std::move(o)); },
             },
             std::move(object));
}

ResourceSet resource_set_of(std::vector<OrderedObject> objects) {
  std::stable_sort(objects.begin(), objects.end(), [](const OrderedObject& a, const OrderedObject& b) {
    return a.load_order < b.load_order;
  });
  ResourceSet set;
  for (const OrderedObject& o : objects) {
    TypedObject copy = *o.object;
    meta_of(copy).load_order = o.load_order;
    add_to(set, std::move(copy));
  }
  return set;
}

std::vector<TypedObject> objects_of(ResourceSet set) {
  std::vector<TypedObject> out;
  auto take = [&out](auto& vec) {
    for (auto& o : vec) out.emplace_back(std::move(o));
  };
  take(set.gateways);
  take(set.virtual_services);
  take(set.destination_rules);
  take(set.service_entries);
  take(set.workload_entries);
  take(set.services);
  take(set.pods);
  take(set.namespaces);
  take(set.secrets);
  take(set.telemetries);
  take(set.envoy_filters);
  take(set.request_authentications);
  take(set.authorization_policies);
  take(set.gateway_classes);
  take(set.k8s_gateways);
  take(set.http_routes);
  take(set.reference_grants);
  std::map<std::pair<std::string, std::string>, size_t> endpoints;  // (ns, name) -> index in out
  for (EndpointSlice& slice : set.endpoint_slices) {
    if (!slice.from_endpoints) {
      out.emplace_back(std::move(slice));
      continue;
    }
    const auto id = std::make_pair(slice.meta.namespace_, slice.meta.name);
    auto it = endpoints.find(id);
    if (it == endpoints.end()) {
      Endpoints e;
      e.meta = slice.meta;
      e.meta.labels.erase("kubernetes.io/service-name");  // added by the conversion
      it = endpoints.emplace(id, out.size()).first;
      out.emplace_back(std::move(e));
    }
    std::get<Endpoints>(out[it->second]).slices.push_back(std::move(slice));
  }
  std::stable_sort(out.begin(), out.end(), [](const TypedObject& a, const TypedObject& b) {
    return meta_of(a).load_order < meta_of(b).load_order;
  });
  return out;
}

}  // namespace torii::config
