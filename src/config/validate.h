// Validation of typed objects, following istiod's admission webhook
// (pkg/config/validation in istio/istio) for the fields Torii models.
//
// Each function returns the object's errors and warnings; an object with any
// Error is rejected (the Store keeps its previous version). Every diagnostic
// names the kind, the object, the field path (`spec.servers[0].port.number`)
// and, when `lines` has it, the line of that field; otherwise the line of the
// object. Messages are worded after istiod's so users can search for them.
#pragma once

#include "config/diagnostic.h"
#include "config/field_lines.h"
#include "config/resources.h"

namespace torii::config {

Diagnostics validate(const Gateway& gateway, const FieldLines& lines = {});
Diagnostics validate(const Telemetry& telemetry, const FieldLines& lines = {});
Diagnostics validate(const EnvoyFilter& envoy_filter, const FieldLines& lines = {});
Diagnostics validate(const RequestAuthentication& policy, const FieldLines& lines = {});
Diagnostics validate(const AuthorizationPolicy& policy, const FieldLines& lines = {});
Diagnostics validate(const VirtualService& virtual_service, const FieldLines& lines = {});
Diagnostics validate(const DestinationRule& destination_rule, const FieldLines& lines = {});
Diagnostics validate(const ServiceEntry& service_entry, const FieldLines& lines = {});
Diagnostics validate(const WorkloadEntry& workload_entry, const FieldLines& lines = {});
Diagnostics validate(const Service& service, const FieldLines& lines = {});
// Gateway API (validate_gateway_api.cc): the CRD schemas' and CEL rules' checks.
Diagnostics validate(const gwapi::GatewayClass& gateway_class, const FieldLines& lines = {});
Diagnostics validate(const gwapi::Gateway& gateway, const FieldLines& lines = {});
Diagnostics validate(const gwapi::HTTPRoute& route, const FieldLines& lines = {});
Diagnostics validate(const gwapi::ReferenceGrant& grant, const FieldLines& lines = {});

}  // namespace torii::config
