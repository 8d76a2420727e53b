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
// The object's key as views into `object` (and a literal for the kind);
// ObjectKeyView::owned() copies it.
ObjectKeyView key_view_of(const TypedObject& object);

// One object and the position of its document in the current load (the
// object's own meta.load_order may be stale until resource_set_of sets it).
// `object` is the caller's, alive for the call: the ResourceSet shares it,
// without a copy of the pointer here (25,000 reference counts a reload).
struct OrderedObject {
  const SharedObject* object = nullptr;
  int64_t load_order = 0;
};
// `objects` as a ResourceSet, in load order (sorted here unless they already
// are), shared rather than copied; each object's meta.load_order is set to
// its `load_order` (an Endpoints object appears as its slices, sharing its
// ownership).
ResourceSet resource_set_of(std::vector<OrderedObject> objects);

}  // namespace torii::config
