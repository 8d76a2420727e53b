// Typed Istio / Kubernetes resources, as read from YAML.
//
// These structs are plain data: the loader (loader.h) fills them from YAML and
// records where each came from; validation (validate.h) checks them; the
// compiler (compile/compiler.h) turns a ResourceSet into a Snapshot. Nothing
// here is used on the request path.
//
// Field names follow the Istio API (camelCase in YAML, snake_case here).
// Only the fields some issue implements are modelled; unknown fields are
// ignored the way `kubectl apply` of an Istio CRD would prune them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/access_log_filter.h"
#include "config/heap_optional.h"
#include "config/object_list.h"
#include "config/traffic_policy.h"

namespace torii::config {

using Labels = std::map<std::string, std::string>;

// Where an object (or a field of it) was written.
struct SourceRef {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
};

struct ObjectMeta {
  std::string name;
  std::string namespace_;  // defaulted by the loader (--default-namespace)
  Labels labels;
  Labels annotations;
  std::string creation_timestamp;  // RFC 3339 as written; empty if absent
  SourceRef source;                // file and line of the document
  // Position of the document in load order (files sorted by path, documents in
  // file order). Stands in for creation time when creationTimestamp is absent,
  // so "older" means "loaded earlier", which is what `kubectl apply` of the
  // same files in the same order would give.
  // Where the object's document is in the latest load. Mutable: objects are
  // shared between loads (the load cache, the Store) and the control thread,
  // the only one that reads them, updates it in place when documents before
  // it came or went (config/typed_object.cc resource_set_of).
  mutable int64_t load_order = 0;
};

// Istio StringMatch. `{}` means presence (kind == Presence), and so does
// `regex: "*"` in withoutHeaders (the parser turns it into Presence there).
struct StringMatch {
  enum class Kind { Exact, Prefix, Regex, Presence };
  Kind kind = Kind::Presence;
  std::string value;
};

struct PortSelector {
  uint32_t number = 0;  // 0 = not set
};

struct Destination {
  std::string host;
  std::string subset;
  PortSelector port;
};

struct HeaderOperations {
  std::map<std::string, std::string> set;
  std::map<std::string, std::string> add;
  std::vector<std::string> remove;
};

struct Headers {
  HeaderOperations request;
  HeaderOperations response;
};

struct HTTPRouteDestination {
  Destination destination;
  int32_t weight = 0;
  bool weight_set = false;
  HeapOptional<Headers> headers;
};

struct HTTPMatchRequest {
  std::string name;
  std::optional<StringMatch> uri;
  std::optional<StringMatch> scheme;
  std::optional<StringMatch> method;
  std::optional<StringMatch> authority;
  std::map<std::string, StringMatch> headers;
  std::map<std::string, StringMatch> without_headers;
  std::map<std::string, StringMatch> query_params;
  uint32_t port = 0;
  std::vector<std::string> gateways;  // as written; resolved by the compiler
  Labels source_labels;
  std::string source_namespace;
  bool ignore_uri_case = false;
  SourceRef source;
};

struct HTTPRewrite {
  std::string uri;
  std::string authority;
  std::optional<std::pair<std::string, std::string>> uri_regex_rewrite;  // match, rewrite
};

struct HTTPRedirect {
  std::string uri;
  std::string authority;
  std::string scheme;
  std::string prefix_rewrite;
  uint32_t port = 0;
  std::string derive_port;     // FROM_PROTOCOL_DEFAULT | FROM_REQUEST_PORT | ""
  uint32_t redirect_code = 0;  // 0 => 301
};

struct HTTPDirectResponse {
  uint32_t status = 0;
  std::optional<std::string> body;  // decoded (string or base64 bytes)
};

struct Delegate {
  std::string name;
  std::string namespace_;
};

// Durations are kept in milliseconds; -1 means "not set".
struct HTTPRetry {
  int32_t attempts = 0;
  int64_t per_try_timeout_ms = -1;
  std::string retry_on;
  std::optional<bool> retry_remote_localities;
  std::optional<bool> retry_ignore_previous_hosts;
  int64_t backoff_ms = -1;  // base interval; -1 = Envoy's 25 ms
};

// ---- Route policies (fault, mirror, CORS): issue 3, second half ----

// Istio Percent: {value: double}, 0..100.
struct Percent {
  double value = 0;
};

struct HTTPFaultInjection {
  struct Delay {
    int64_t fixed_delay_ms = -1;
    bool exponential_delay = false;  // rejected by validation, as by istiod
    std::optional<Percent> percentage;
    int32_t percent = 0;  // deprecated integer form; used when percentage is absent
  };
  struct Abort {
    std::optional<int32_t> http_status;
    std::optional<std::string> grpc_status;  // code name, e.g. "UNAVAILABLE"
    bool http2_error = false;                // rejected by validation
    std::optional<Percent> percentage;       // absent => 0%
  };
  std::optional<Delay> delay;
  std::optional<Abort> abort;
};

struct HTTPMirrorPolicy {
  std::optional<Destination> destination;
  std::optional<Percent> percentage;  // absent => 100%
};

struct CorsPolicy {
  std::vector<StringMatch> allow_origins;
  std::vector<std::string> allow_origin;  // deprecated: exact matches, used when allow_origins is empty
  std::vector<std::string> allow_methods;
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  int64_t max_age_ms = -1;
  std::optional<bool> allow_credentials;
  std::string unmatched_preflights;  // "" / UNSPECIFIED / FORWARD (default) / IGNORE
};

// The policy fields of one HTTP rule, read by parse_route_policies.cc.
struct HTTPRoutePolicies {
  HeapOptional<HTTPFaultInjection> fault;
  HeapOptional<Destination> mirror;
  std::optional<Percent> mirror_percentage;
  std::optional<int32_t> mirror_percent;  // deprecated integer form
  std::vector<HTTPMirrorPolicy> mirrors;
  HeapOptional<CorsPolicy> cors_policy;
};

struct HTTPRoute {
  std::string name;
  std::vector<HTTPMatchRequest> match;
  std::vector<HTTPRouteDestination> route;
  HeapOptional<HTTPRedirect> redirect;
  HeapOptional<HTTPDirectResponse> direct_response;
  HeapOptional<Delegate> delegate;
  HeapOptional<HTTPRewrite> rewrite;
  int64_t timeout_ms = -1;
  HeapOptional<HTTPRetry> retries;
  HeapOptional<Headers> headers;
  bool has_fault = false;      // fault injection: a later issue; recorded so validation can check conflicts
  HTTPRoutePolicies policies;  // fault, mirror(s), corsPolicy
  // Not a VirtualService field: on routes translated from a Gateway API
  // HTTPRoute, the rule and match they come from ("HTTPRoute ns/name
  // spec.rules[1].matches[0]"), for `torii explain`.
  std::string gateway_api_origin;
  // Not a VirtualService field: set on the routes translated from Gateway
  // API HTTPRoutes, whose invalid backends answer 500 instead of 503 (NC).
  uint16_t cluster_not_found_status = 503;
  SourceRef source;
};

// ---- Layer 4 routes (issue 5): `tcp:` and `tls:` ----

// L4MatchAttributes; TLSMatchAttributes adds sniHosts.
struct L4MatchAttributes {
  std::vector<std::string> destination_subnets;
  uint32_t port = 0;
  Labels source_labels;
  std::vector<std::string> gateways;  // as written; resolved by the compiler
  std::string source_namespace;
  std::vector<std::string> sni_hosts;  // TLS matches only
  SourceRef source;
};

// RouteDestination (no header operations at L4).
struct RouteDestination {
  Destination destination;
  bool has_destination = false;  // `destination` was written
  int32_t weight = 0;
  bool weight_set = false;
};

// TCPRoute and TLSRoute have the same shape (TLS matches carry sniHosts).
struct L4Route {
  std::vector<L4MatchAttributes> match;
  std::vector<RouteDestination> route;
  SourceRef source;
};

struct VirtualService {
  ObjectMeta meta;
  std::vector<std::string> hosts;
  std::vector<std::string> gateways;
  std::vector<HTTPRoute> http;
  bool has_tls = false;  // tls/tcp routes: later issues; recorded so validation can say so
  bool has_tcp = false;
  std::vector<std::string> export_to;
  std::vector<L4Route> tls;  // spec.tls (TLSRoute)
  std::vector<L4Route> tcp;  // spec.tcp (TCPRoute)
};

struct ServerTLSSettings {
  bool https_redirect = false;
  std::string mode;  // as written, upper-cased
  std::string server_certificate;
  std::string private_key;
  std::string ca_certificates;
  std::string credential_name;
  // Up to two (e.g. RSA and ECDSA); Torii serves the first.
  std::vector<std::string> credential_names;
  struct Certificate {
    std::string server_certificate;
    std::string private_key;
    std::string ca_certificates;
  };
  std::vector<Certificate> tls_certificates;
  // Read so validation can check them as istiod does; not implemented
  // (validation warns): Torii serves TLS 1.2-1.3 with OpenSSL's ciphers.
  std::string ca_crl;
  std::vector<std::string> cipher_suites;
  std::string min_protocol_version;  // upper-cased enum name, "" = unset
  std::string max_protocol_version;
  std::vector<std::string> subject_alt_names;
  std::vector<std::string> verify_certificate_spki;
  std::vector<std::string> verify_certificate_hash;
};

struct Port {
  uint32_t number = 0;
  std::string protocol;  // upper-cased
  std::string name;
  uint32_t target_port = 0;
};

struct Server {
  Port port;
  std::string bind;
  std::vector<std::string> hosts;
  std::optional<ServerTLSSettings> tls;
  std::string name;
  SourceRef source;
};

struct Gateway {
  ObjectMeta meta;
  Labels selector;
  std::vector<Server> servers;
};

struct Subset {
  std::string name;
  Labels labels;
  HeapOptional<TrafficPolicy> traffic_policy;
};

struct DestinationRule {
  ObjectMeta meta;
  std::string host;
  std::vector<Subset> subsets;
  std::vector<std::string> export_to;
  HeapOptional<TrafficPolicy> traffic_policy;  // config/traffic_policy.h
};

// Also the element type of ServiceEntry.endpoints.
struct WorkloadEntry {
  ObjectMeta meta;  // empty name for inline ServiceEntry endpoints
  std::string address;
  std::map<std::string, uint32_t> ports;  // service port name -> port
  Labels labels;
  std::string network;
  std::string locality;
  uint32_t weight = 0;  // 0 = not set (=> 1)
  std::string service_account;
};

struct ServiceEntry {
  ObjectMeta meta;
  std::vector<std::string> hosts;
  std::vector<std::string> addresses;
  std::vector<Port> ports;
  std::string location;    // MESH_EXTERNAL (default) | MESH_INTERNAL
  std::string resolution;  // NONE (default) | STATIC | DNS | DNS_ROUND_ROBIN
  std::vector<WorkloadEntry> endpoints;
  HeapOptional<Labels> workload_selector;
  std::vector<std::string> export_to;
  std::vector<std::string> subject_alt_names;
};

// Kubernetes core/v1 Service.
struct ServicePort {
  std::string name;
  std::string protocol;  // TCP/UDP/SCTP (L4)
  std::string app_protocol;
  uint32_t port = 0;
  // targetPort may be a number or a named container port.
  uint32_t target_port = 0;
  std::string target_port_name;
};

struct Service {
  ObjectMeta meta;
  std::optional<Labels> selector;  // absent => endpoints come only from Endpoints/EndpointSlices
  std::vector<ServicePort> ports;
  std::string type;           // ClusterIP, NodePort, LoadBalancer, ExternalName
  std::string external_name;  // for ExternalName
  std::string cluster_ip;
};

struct Pod {
  ObjectMeta meta;
  std::string pod_ip;
  bool ready = true;  // status.conditions Ready (absent => true)
  // containerPort names for named targetPorts: name -> number
  std::map<std::string, uint32_t> container_ports;
  std::string node_name;
};

struct ObjectReference {
  std::string kind;
  std::string name;
  std::string namespace_;
};

// discovery.k8s.io/v1 EndpointSlice, and core/v1 Endpoints converted to the
// same shape by the loader (one slice per subset).
struct EndpointSlice {
  ObjectMeta meta;
  std::string service_name;  // label kubernetes.io/service-name, or Endpoints name
  struct EndpointPort {
    std::string name;
    uint32_t port = 0;
  };
  struct Endpoint {
    std::vector<std::string> addresses;
    bool ready = true;
    std::optional<ObjectReference> target_ref;
    std::string zone;
    std::string node_name;
  };
  std::vector<EndpointPort> ports;
  std::vector<Endpoint> endpoints;
  // Converted from a core/v1 Endpoints object (meta is the Endpoints' meta,
  // shared by the slices of its subsets) rather than read as an EndpointSlice.
  bool from_endpoints = false;
};

struct Namespace {
  ObjectMeta meta;
};

// core/v1 Secret, for Gateway `credentialName`: kubernetes.io/tls (tls.crt,
// tls.key, optional ca.crt) or generic (cert, key, cacert). `data` is
// decoded; `stringData` entries are merged in, as the API server does.
// Never shown by the admin endpoint.
struct Secret {
  ObjectMeta meta;
  std::string type;
  std::map<std::string, std::string> data;
};

// telemetry.istio.io Telemetry (v1, v1alpha1): the accessLogging part, the
// one a standalone gateway acts on (docs/access-log.md).
struct AccessLogging {
  std::vector<std::string> providers;  // providers[].name
  bool disabled = false;
  std::optional<AccessLogFilter> filter;  // filter.expression, compiled
  std::string match_mode;                 // CLIENT_AND_SERVER (default), CLIENT, SERVER
  std::string filter_error;               // why filter.expression did not compile (validation reports it)
};

// Telemetry spec.tracing[] (the fields Torii reads; docs/tracing.md).
struct TracingRule {
  std::vector<std::string> providers;                // providers[].name
  std::optional<double> random_sampling_percentage;  // absent: the mesh default (--trace-sampling)
  bool disable_span_reporting = false;               // keep propagating, stop exporting
  std::string match_mode;                            // CLIENT_AND_SERVER (default), CLIENT, SERVER
};

struct Telemetry {
  ObjectMeta meta;
  std::optional<Labels> selector;  // selector.matchLabels; absent => the whole namespace
  bool has_target_refs = false;    // targetRef(s): Gateway API attachment, not modelled
  std::vector<AccessLogging> access_logging;
  std::vector<TracingRule> tracing;
};

// networking.istio.io EnvoyFilter, reduced to the one idiom Torii acts on:
// Envoy's local rate limit filter inserted at the gateway, with per-vhost and
// per-route token buckets (docs/rate-limit.md). Every other patch is kept
// only to be reported as having no effect.
struct RateLimitHeader {
  std::string key;
  std::string value;
  bool append = true;  // HeaderValueOption.append (default true); false: replace
};

// An Envoy HeaderMatcher (config.route.v3) in a rate limit action.
struct RateLimitHeaderMatcher {
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex, Present };
  std::string name;  // lower-case
  Kind kind = Kind::Present;
  std::string value;
  bool ignore_case = false;             // string_match.ignore_case
  bool present = true;                  // present_match: false = matches when absent
  bool invert = false;                  // invert_match
  bool treat_missing_as_empty = false;  // treat_missing_header_as_empty
};

// One action of an Envoy route.v3.RateLimit: it adds one entry to the
// descriptor, or fails and drops the descriptor (docs/rate-limit.md).
struct RateLimitActionConfig {
  // request_headers, remote_address, masked_remote_address, generic_key,
  // header_value_match, query_parameter_value_match; anything else is
  // reported as unsupported and its RateLimit produces no descriptor.
  std::string type;
  std::string descriptor_key;
  std::string descriptor_value;
  std::string header_name;  // request_headers (lower-case)
  bool skip_if_absent = false;
  bool expect_match = true;
  std::vector<RateLimitHeaderMatcher> headers;           // header_value_match
  std::vector<RateLimitHeaderMatcher> query_parameters;  // query_parameter_value_match (name + value)
  uint32_t v4_prefix_len = 32;                           // masked_remote_address
  uint32_t v6_prefix_len = 128;
};

// route.v3.RateLimit: the actions that together make one descriptor.
struct RateLimitRuleConfig {
  uint32_t stage = 0;
  std::string disable_key;  // non-empty: Envoy's local filter skips the rule
  bool has_limit = false;   // limit (dynamic metadata override): not modelled
  std::vector<RateLimitActionConfig> actions;
};

// common.ratelimit.v3.LocalRateLimitDescriptor: entries and their own bucket.
// An entry with an empty value matches any value, with one bucket per value
// seen (Envoy's dynamic descriptors, at most max_dynamic_descriptors).
struct RateLimitDescriptorConfig {
  std::vector<std::pair<std::string, std::string>> entries;
  bool has_token_bucket = false;
  uint64_t max_tokens = 0;
  uint64_t tokens_per_fill = 1;
  int64_t fill_interval_ms = 0;
};

// envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.
struct LocalRateLimitConfig {
  std::string stat_prefix;
  bool has_token_bucket = false;
  uint64_t max_tokens = 0;
  uint64_t tokens_per_fill = 1;  // default 1 (google.protobuf.UInt32Value)
  int64_t fill_interval_ms = 0;
  // RuntimeFractionalPercent default_value, in parts per million; absent => 0 %.
  uint32_t enabled_per_million = 0;
  uint32_t enforced_per_million = 0;
  uint32_t status = 429;             // status.code; below 400 falls back to 429
  bool resource_exhausted = false;   // rate_limited_as_resource_exhausted (gRPC)
  bool per_connection = false;       // local_rate_limit_per_downstream_connection
  bool x_ratelimit_headers = false;  // enable_x_ratelimit_headers: DRAFT_VERSION_03
  std::vector<RateLimitDescriptorConfig> descriptors;
  // The filter's own rate_limits: when set, route and vhost rate_limits are ignored.
  std::vector<RateLimitRuleConfig> rate_limits;
  bool always_consume_default_token_bucket = true;  // default true
  std::string vh_rate_limits = "OVERRIDE";          // OVERRIDE, INCLUDE, IGNORE
  uint32_t stage = 0;
  uint32_t max_dynamic_descriptors = 20;  // Envoy's default
  std::vector<RateLimitHeader> response_headers_to_add;
  std::vector<RateLimitHeader> request_headers_to_add_when_not_enforced;
  // The canonical text of the fields above: equal text, equal limit (the
  // key under which a bucket survives a reload).
  std::string identity() const;
};

struct EnvoyFilterPatch {
  std::string apply_to;   // HTTP_FILTER, HTTP_ROUTE, VIRTUAL_HOST, ...
  std::string context;    // match.context: ANY (default), GATEWAY, SIDECAR_INBOUND, ...
  std::string operation;  // patch.operation
  // match.routeConfiguration
  std::optional<uint32_t> port_number;
  std::string route_config_name;
  std::string vhost_name;    // vhost.name, "host:port" at a gateway
  std::string route_name;    // vhost.route.name
  std::string route_action;  // vhost.route.action: ANY (default), ROUTE, REDIRECT, DIRECT_RESPONSE
  // match.listener.filterChain.filter.(subFilter.)name
  std::string listener_filter;
  std::string sub_filter;
  std::string filter_name;  // patch.value.name (HTTP_FILTER)
  std::string type_url;     // the LocalRateLimit's type as written (direct @type or TypedStruct type_url)
  std::optional<LocalRateLimitConfig> rate_limit;  // a local rate limit config in this patch
  // MERGE patches: HTTP_ROUTE value.route.rate_limits (and
  // include_vh_rate_limits), VIRTUAL_HOST value.rate_limits. Set when present.
  std::optional<std::vector<RateLimitRuleConfig>> route_rate_limits;
  bool include_vh_rate_limits = false;
};

struct EnvoyFilter {
  ObjectMeta meta;
  std::optional<Labels> selector;  // workloadSelector.labels; absent => the whole namespace
  bool has_target_refs = false;
  int32_t priority = 0;
  std::vector<EnvoyFilterPatch> patches;
};

// security.istio.io RequestAuthentication (v1, v1beta1): JWT rules
// (docs/jwt.md, ISTIO_SECURITY.md §10).
struct JwtHeaderLocation {
  std::string name;
  std::string prefix;
};
struct JwtClaimToHeader {
  std::string header;
  std::string claim;
};
struct JwtRule {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks;      // inline JWKS document
  std::string jwks_uri;  // file:// (read by Torii), http(s):// (not fetched)
  std::vector<JwtHeaderLocation> from_headers;
  std::vector<std::string> from_params;
  std::vector<std::string> from_cookies;
  std::string output_payload_to_header;
  std::vector<JwtClaimToHeader> output_claim_to_headers;
  bool forward_original_token = false;
};
struct PolicyTargetRef {
  std::string group;
  std::string kind;
  std::string name;
};
struct RequestAuthentication {
  ObjectMeta meta;
  std::optional<Labels> selector;            // selector.matchLabels; absent => the whole namespace
  std::vector<PolicyTargetRef> target_refs;  // targetRef and targetRefs
  std::vector<JwtRule> jwt_rules;
};

// security.istio.io AuthorizationPolicy (v1, v1beta1): access rules
// (docs/authorization.md, ISTIO_SECURITY.md §1-§9). Values are kept as
// written; compile/authz_selection builds the matchers.
struct AuthzSource {
  std::vector<std::string> principals, not_principals;
  std::vector<std::string> request_principals, not_request_principals;
  std::vector<std::string> namespaces, not_namespaces;
  std::vector<std::string> service_accounts, not_service_accounts;
  std::vector<std::string> ip_blocks, not_ip_blocks;
  std::vector<std::string> remote_ip_blocks, not_remote_ip_blocks;
};
struct AuthzOperation {
  std::vector<std::string> hosts, not_hosts;
  std::vector<std::string> ports, not_ports;
  std::vector<std::string> methods, not_methods;
  std::vector<std::string> paths, not_paths;
};
struct AuthzCondition {
  std::string key;
  std::vector<std::string> values, not_values;
};
struct AuthzRule {
  bool has_from = false;  // `from: []` is an error; absent means any source
  std::vector<AuthzSource> from;
  bool has_to = false;
  std::vector<AuthzOperation> to;
  std::vector<AuthzCondition> when;
};
struct AuthorizationPolicy {
  ObjectMeta meta;
  std::optional<Labels> selector;
  std::vector<PolicyTargetRef> target_refs;
  std::string action = "ALLOW";  // ALLOW, DENY, AUDIT, CUSTOM (upper-cased)
  std::string provider;          // CUSTOM: provider.name
  bool has_rules = false;        // `rules` written (absent: ALLOW matches nothing)
  std::vector<AuthzRule> rules;
};

// ---- Kubernetes Gateway API (gateway.networking.k8s.io; issue 15) ----
//
// In their own namespace because two names collide with Istio's: `Gateway`
// (networking.istio.io) and `HTTPRoute` (a VirtualService rule). The loader
// dispatches on apiVersion, never on kind alone. CRD defaults the API server
// would fill in are applied by the parser (parse_gateway_api.cc), so the
// compiler never sees an absent `path`, `weight` or `kind`
// (docs/gateway-api.md, GATEWAY_API.md §0-1).
namespace gwapi {

inline constexpr const char* kGroup = "gateway.networking.k8s.io";
// The kind as the Store, `torii get` and diagnostics name a Gateway API
// Gateway: kubectl's "kind.group" form, so that it and an Istio Gateway of
// the same name are two objects.
inline constexpr const char* kGatewayKind = "Gateway.gateway.networking.k8s.io";

// metav1.LabelSelector.
struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};
struct LabelSelector {
  Labels match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
};

struct RouteGroupKind {
  std::string group = kGroup;
  std::string kind;
};

struct SecretObjectReference {
  std::string group;  // "" = core
  std::string kind = "Secret";
  std::string name;
  std::string namespace_;  // "" = the referrer's
};

struct Listener {
  std::string name;
  std::string hostname;  // "" = any
  uint32_t port = 0;
  std::string protocol;  // as written: case-sensitive (HTTP, HTTPS, TLS, TCP, UDP)
  struct Tls {
    std::string mode = "Terminate";  // Terminate | Passthrough
    std::vector<SecretObjectReference> certificate_refs;
    Labels options;
  };
  std::optional<Tls> tls;
  std::string from = "Same";  // allowedRoutes.namespaces.from: All | Same | Selector | None
  std::optional<LabelSelector> selector;
  std::optional<std::vector<RouteGroupKind>> kinds;  // allowedRoutes.kinds; absent = the protocol's
  SourceRef source;
};

struct Gateway {
  ObjectMeta meta;
  std::string gateway_class_name;
  std::vector<Listener> listeners;
  std::vector<std::string> addresses;  // spec.addresses[].value
};

struct GatewayClass {
  ObjectMeta meta;
  std::string controller_name;
};

struct ParentReference {
  std::string group = kGroup;
  std::string kind = "Gateway";
  std::string namespace_;  // "" = the route's
  std::string name;
  std::string section_name;
  uint32_t port = 0;  // 0 = not set
};

struct HTTPPathMatch {
  std::string type = "PathPrefix";  // Exact | PathPrefix | RegularExpression
  std::string value = "/";
};

struct HTTPValueMatch {        // headers[] and queryParams[]
  std::string type = "Exact";  // Exact | RegularExpression
  std::string name;
  std::string value;
};

struct HTTPRouteMatch {
  HTTPPathMatch path;
  std::vector<HTTPValueMatch> headers;
  std::vector<HTTPValueMatch> query_params;
  std::string method;  // "" = any
};

struct HTTPHeaderFilter {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
};

struct HTTPPathModifier {
  std::string type;  // ReplaceFullPath | ReplacePrefixMatch
  std::string replace_full_path;
  std::string replace_prefix_match;
};

struct BackendObjectReference {
  std::string group;  // "" = core
  std::string kind = "Service";
  std::string name;
  std::string namespace_;  // "" = the route's
  uint32_t port = 0;       // 0 = not set
};

struct HTTPRouteFilter {
  std::string type;  // RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite, ...
  std::optional<HTTPHeaderFilter> request_header_modifier;
  std::optional<HTTPHeaderFilter> response_header_modifier;
  struct Redirect {
    std::string scheme;
    std::string hostname;
    std::optional<HTTPPathModifier> path;
    uint32_t port = 0;
    uint32_t status_code = 302;
  };
  std::optional<Redirect> request_redirect;
  struct Rewrite {
    std::string hostname;
    std::optional<HTTPPathModifier> path;
  };
  std::optional<Rewrite> url_rewrite;
  struct Mirror {
    BackendObjectReference backend_ref;
    std::optional<uint32_t> percent;
    std::optional<std::pair<int32_t, int32_t>> fraction;  // numerator, denominator
  };
  std::optional<Mirror> request_mirror;
  // HTTPCORSFilter (experimental channel; Istio translates it).
  struct Cors {
    std::vector<std::string> allow_origins;  // "*", exact, or with '*' wildcards
    bool allow_credentials = false;
    std::vector<std::string> allow_methods;
    std::vector<std::string> allow_headers;
    std::vector<std::string> expose_headers;
    int32_t max_age_s = 5;  // CRD default
  };
  std::optional<Cors> cors;
  SourceRef source;
};

struct HTTPBackendRef {
  BackendObjectReference ref;
  int32_t weight = 1;
  std::vector<HTTPRouteFilter> filters;
};

struct HTTPRouteRule {
  std::string name;
  std::vector<HTTPRouteMatch> matches;  // never empty once parsed (CRD default)
  std::vector<HTTPRouteFilter> filters;
  std::vector<HTTPBackendRef> backend_refs;
  int64_t request_timeout_ms = -1;  // timeouts.request; -1 unset, 0 = none
  int64_t backend_request_timeout_ms = -1;
  // HTTPRouteRetry (experimental channel): codes, attempts, backoff.
  struct Retry {
    std::vector<uint32_t> codes;
    std::optional<int32_t> attempts;  // absent: Istio's 2
    int64_t backoff_ms = -1;
  };
  std::optional<Retry> retry;
  SourceRef source;
};

struct HTTPRoute {
  ObjectMeta meta;
  // "GRPCRoute" for a GRPCRoute, read into this shape as istiod translates
  // it: its method matches become path matches on /<service>/<method>.
  std::string kind = "HTTPRoute";
  std::vector<ParentReference> parent_refs;
  std::vector<std::string> hostnames;
  std::vector<HTTPRouteRule> rules;  // never empty once parsed (CRD default)
};

struct ReferenceGrant {
  ObjectMeta meta;
  struct From {
    std::string group;
    std::string kind;
    std::string namespace_;
  };
  struct To {
    std::string group;
    std::string kind;
    std::string name;  // "" = every object of the kind
  };
  std::vector<From> from;
  std::vector<To> to;
};

}  // namespace gwapi

// Everything loaded from all sources, after validation. Objects that failed
// validation are not here (see Store for last-good handling).
struct ResourceSet {
  ObjectList<Gateway> gateways;
  ObjectList<VirtualService> virtual_services;
  ObjectList<DestinationRule> destination_rules;
  ObjectList<ServiceEntry> service_entries;
  ObjectList<WorkloadEntry> workload_entries;
  ObjectList<Service> services;
  ObjectList<Pod> pods;
  ObjectList<EndpointSlice> endpoint_slices;
  ObjectList<Namespace> namespaces;
  ObjectList<Secret> secrets;
  ObjectList<Telemetry> telemetries;
  ObjectList<EnvoyFilter> envoy_filters;
  ObjectList<RequestAuthentication> request_authentications;
  ObjectList<AuthorizationPolicy> authorization_policies;
  ObjectList<gwapi::GatewayClass> gateway_classes;
  ObjectList<gwapi::Gateway> k8s_gateways;
  ObjectList<gwapi::HTTPRoute> http_routes;
  ObjectList<gwapi::ReferenceGrant> reference_grants;
};

}  // namespace torii::config
