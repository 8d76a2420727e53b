// One object of any kind Torii reads, for the code that handles objects
// without caring about their kind: duplicate detection in the loader and the
// last-good bookkeeping of the Store.
#pragma once

#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "config/object_key.h"
#include "config/resources.h"

namespace torii::config {

// A core/v1 Endpoints object, kept whole: it is one object to the Store even
// though the ResourceSet sees it as one EndpointSlice per subset.
struct Endpoints {
  ObjectMeta meta;
  std::vector<EndpointSlice> slices;
};

using TypedObject = std::variant<Gateway, VirtualService, DestinationRule, ServiceEntry, WorkloadEntry,
                                 Service, Pod, EndpointSlice, Endpoints, Namespace, Secret, Telemetry,
                                 EnvoyFilter, RequestAuthentication, AuthorizationPolicy, gwapi::GatewayClass,
                                 gwapi::Gateway, gwapi::HTTPRoute, gwapi::ReferenceGrant>;

// A parsed object is never changed once read: the load cache, the Store and
// the loader's result share it instead of copying it.
using SharedObject = std::shared_ptr<const TypedObject>;

const ObjectMeta& meta_of(const TypedObject& object);
ObjectMeta& meta_of(TypedObject& object);
const char* kind_of(const TypedObject& object);
ObjectKey key_of(const TypedObject& object);

// Appends to the vector of its kind (an Endpoints adds its slices).
void add_to(ResourceSet& set, TypedObject object);

// One object and the position of its document in the current load. The
// object's own meta.load_order may be stale: it is shared with the load
// cache and the Store, and other documents may have moved around it.
struct OrderedObject {
  const TypedObject* object = nullptr;
  int64_t load_order = 0;
};
// Copies of `objects` as a ResourceSet, in load order, each carrying its
// `load_order`.
ResourceSet resource_set_of(std::vector<OrderedObject> objects);
// The inverse of add_to: every object of `set`, Endpoints slices regrouped,
// sorted by load order.
std::vector<TypedObject> objects_of(ResourceSet set);

}  // namespace torii::config
