// YAML -> typed resources, one function per kind. The loader has already read
// the envelope (apiVersion, kind, metadata) into `out.meta`; these read the
// rest. Type errors are reported through the Field's reader; values are not
// validated here (validate.h does that on the typed result).
#pragma once

#include <vector>

#include "config/resources.h"
#include "config/yaml_fields.h"

namespace torii::config {

void read_gateway(const Field& spec, Gateway& out);
void read_virtual_service(const Field& spec, VirtualService& out);
void read_destination_rule(const Field& spec, DestinationRule& out);
void read_service_entry(const Field& spec, ServiceEntry& out);
void read_workload_entry(const Field& spec, WorkloadEntry& out);

// Kubernetes kinds keep data outside `spec`, so these take the document root.
void read_service(const Field& root, Service& out);
void read_pod(const Field& root, Pod& out);
void read_endpoint_slice(const Field& root, EndpointSlice& out);
// core/v1 Endpoints: one EndpointSlice per subset, sharing `meta`.
std::vector<EndpointSlice> read_endpoints(const Field& root, const ObjectMeta& meta);
void read_secret(const Field& root, Secret& out);
void read_telemetry(const Field& spec, Telemetry& out);
void read_envoy_filter(const Field& spec, EnvoyFilter& out);
// Proto JSON: the field under its snake_case name, else its camelCase one.
Field proto_field(const Field& map, std::string_view snake, std::string_view camel);
// An Envoy TokenBucket, with Envoy's checks (max_tokens >= 1, fill_interval >= 50ms).
void read_token_bucket(const Field& bucket, uint64_t& max_tokens, uint64_t& tokens_per_fill,
                       int64_t& fill_interval_ms);
// route.v3.RateLimit list and LocalRateLimitDescriptor list (parse_rate_limit_rules.cc).
std::vector<RateLimitRuleConfig> read_rate_limit_rules(const Field& list);
std::vector<RateLimitDescriptorConfig> read_rate_limit_descriptors(const Field& list);
// selector.matchLabels, targetRef and targetRefs of a security.istio.io policy.
void read_policy_attachment(const Field& spec, std::optional<Labels>& selector,
                            std::vector<PolicyTargetRef>& target_refs);
void read_request_authentication(const Field& spec, RequestAuthentication& out);
void read_authorization_policy(const Field& spec, AuthorizationPolicy& out);

// Gateway API kinds (parse_gateway_api.cc); CRD defaults applied.
void read_gateway_class(const Field& spec, gwapi::GatewayClass& out);
void read_k8s_gateway(const Field& spec, gwapi::Gateway& out);
void read_http_route(const Field& spec, gwapi::HTTPRoute& out);
// A GRPCRoute, read into the HTTPRoute shape (kind "GRPCRoute").
void read_grpc_route(const Field& spec, gwapi::HTTPRoute& out);
// A TLSRoute or TCPRoute (`kind`), read into the HTTPRoute shape: parentRefs,
// hostnames (TLSRoute) and each rule's backendRefs.
void read_l4_route(const Field& spec, gwapi::HTTPRoute& out, std::string kind);
void read_reference_grant(const Field& spec, gwapi::ReferenceGrant& out);

// The policy fields of one VirtualService HTTP rule (parse_route_policies.cc);
// call after the core fields (it completes `out.retries`).
void read_route_policies(const Field& rule, HTTPRoute& out);

// Shared by VirtualService matches and anything else using Istio StringMatch.
std::optional<StringMatch> read_string_match(const Field& f);

// DestinationRule trafficPolicy (top level and subsets); nullopt when absent.
std::optional<TrafficPolicy> read_traffic_policy(const Field& f);

}  // namespace torii::config
