// AuthorizationPolicy as Envoy's RBAC filters evaluate it at an Istio gateway
// (ISTIO_SECURITY.md §2-§8; docs/authorization.md).
//
// compile/authz_selection builds an AuthzEngine per snapshot from the
// policies that apply to the gateway; workers call evaluate() for every
// request after jwt_authn and before the router. Matchers are built once:
// evaluating allocates nothing.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"
#include "security/jwt.h"

namespace torii::security {

// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into ::ffff:0:0/96).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  static std::optional<IpAddress> parse(std::string_view text);
  static std::optional<IpAddress> of(const sockaddr_storage& address);
};

// What one request offers to the policies.
struct AuthzRequest {
  std::string_view method;
  std::string_view host;               // :authority as received, port included
  std::string_view path;               // normalised, without the query
  uint32_t port = 0;                   // the local port the connection arrived on
  std::optional<IpAddress> source_ip;  // the TCP peer
  std::optional<IpAddress> remote_ip;  // from X-Forwarded-For with --num-trusted-proxies, else the peer
  std::string_view sni;
  // The local address the connection arrived on; filled only when a policy
  // asks for it (AuthzEngine::needs_destination_ip: a getsockname call).
  std::optional<IpAddress> destination_ip;
  const http::HeaderMap* headers = nullptr;
  const Jwt* jwt = nullptr;  // verified token; null: anonymous
};

// exact "v", prefix "v*", suffix "*v", presence "*" (ISTIO_SECURITY.md §4).
struct ValueMatcher {
  enum class Kind : uint8_t { Exact, Prefix, Suffix, Present };
  Kind kind = Kind::Exact;
  std::string value;
  bool ignore_case = false;

  static ValueMatcher of(std::string_view written, bool ignore_case = false);
  bool matches(std::string_view s) const;
};

// requestPrincipals / request.auth.principal: istiod splits the value at its
// last '/' into an issuer and a subject matcher (`iss/sub` exact, `iss/*` any
// subject of that issuer, `*` both present, `*x` / `x*` without a '/' a
// subject suffix / issuer prefix; authz/model/generator.go), and Envoy
// compares them with the token's `iss` and `sub` claims.
struct PrincipalMatcher {
  ValueMatcher iss, sub;

  static PrincipalMatcher of(std::string_view written);
  bool matches(const Jwt& jwt) const;
};

// A `paths` value with `{*}` (one segment) or `{**}` (any number, the last
// operator): Istio turns it into Envoy's uri_template matcher, where `{*}` is
// one or more path characters other than '/' and `{**}` any run of path
// characters and '/' (ISTIO_SECURITY.md §4). Validation keeps every other
// segment a plain literal.
struct PathTemplate {
  struct Segment {
    enum class Kind : uint8_t { Literal, OneSegment, AnySegments };
    Kind kind = Kind::Literal;
    std::string literal;
  };
  std::vector<Segment> segments;  // between the '/' separators, after the leading one
  // For `{**}`: the '/'-joined literal segments after it, which the path must end with.
  std::string tail;

  static bool is_template(std::string_view written);
  static PathTemplate of(std::string_view written);
  bool matches(std::string_view path) const;
};

struct IpRange {
  IpAddress base;
  int prefix_bits = 128;  // over the 16-byte form
  static std::optional<IpRange> parse(std::string_view text);
  bool contains(const IpAddress& ip) const;
};

// One field of a source, operation or condition: its attribute, the values
// and whether it is the not-form.
struct AuthzPredicate {
  enum class Attribute : uint8_t {
    Host,
    Method,
    Path,
    Port,
    SourceIp,
    RemoteIp,
    DestinationIp,
    Sni,
    Header,            // `name`
    RequestPrincipal,  // `principals`
    Audiences,
    Presenter,
    Claim,         // `claim_path`
    PeerIdentity,  // principals, namespaces, service accounts: never present here
    Never,         // a key Torii cannot evaluate (Envoy dynamic metadata)
  };
  Attribute attribute = Attribute::Never;
  bool negated = false;
  std::string name;                     // header name, lower-case
  std::vector<std::string> claim_path;  // request.auth.claims[a][b] -> {a, b}
  std::vector<ValueMatcher> values;
  std::vector<PathTemplate> templates;       // Path: the values with {*} / {**}
  std::vector<PrincipalMatcher> principals;  // RequestPrincipal
  std::vector<IpRange> ranges;
  std::vector<uint32_t> ports;

  bool matches(const AuthzRequest& request) const;
  // Needs an HTTP request (host, method, path, header, JWT); a TCP server
  // has none of these.
  bool http_only() const;
};

// A rule matches when every group matches; a group (from / to) matches when
// any of its alternatives does, an alternative when all its predicates do.
struct AuthzRule {
  bool any_source = true;
  std::vector<std::vector<AuthzPredicate>> sources;
  bool any_operation = true;
  std::vector<std::vector<AuthzPredicate>> operations;
  std::vector<AuthzPredicate> conditions;

  bool matches(const AuthzRequest& request) const;
};

struct AuthzPolicy {
  enum class Action : uint8_t { Allow, Deny, Audit };
  Action action = Action::Allow;
  std::string namespace_, name;
  bool dry_run = false;      // istio.io/dry-run: evaluated and counted, never enforced
  bool from_custom = false;  // a CUSTOM policy turned DENY (no provider, as istiod fails closed)
  std::vector<AuthzRule> rules;
  // Envoy's policy id prefix: "ns[<ns>]-policy[<name>]-rule[" (the index follows).
  std::string id_prefix;
};

struct AuthzDecision {
  bool allowed = true;
  const AuthzPolicy* policy = nullptr;  // the DENY that matched, or the ALLOW that let it through
  int rule = -1;
  bool shadow_denied = false;  // a dry-run policy would have denied
};

class AuthzEngine {
 public:
  explicit AuthzEngine(std::vector<AuthzPolicy> policies);

  // DENY (and CUSTOM-as-DENY) first, then ALLOW: no enforced ALLOW policy
  // means allow; else one of their rules must match (ISTIO_SECURITY.md §2).
  AuthzDecision evaluate(const AuthzRequest& request) const;

  const std::vector<AuthzPolicy>& policies() const { return policies_; }
  bool has_allow() const { return has_allow_; }
  // A rule reads destination.ip: the caller fills AuthzRequest::destination_ip.
  bool needs_destination_ip() const { return needs_destination_ip_; }

 private:
  std::vector<AuthzPolicy> policies_;  // DENY first, then ALLOW, then AUDIT
  bool has_allow_ = false;
  bool needs_destination_ip_ = false;
};

// The policies as istiod builds them for a TCP server's network RBAC
// (ISTIO_SECURITY.md §6): an ALLOW rule using an HTTP-only field is
// dropped (the policy allows less); in DENY and AUDIT rules only those
// fields are dropped (the rule matches more).
std::vector<AuthzPolicy> for_tcp(const std::vector<AuthzPolicy>& policies);

// Envoy's response code details for a deny:
// "rbac_access_denied_matched_policy[ns[N]-policy[P]-rule[R]]", or
// "...[none]" when no ALLOW rule matched.
std::string rbac_denied_details(const AuthzDecision& decision);

}  // namespace torii::security
