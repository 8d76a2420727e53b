// The part of ActiveStream that applies a matched route's policies before
// the router: the local rate limit (first: Istio's documented EnvoyFilter
// inserts it before every other filter), fault injection, then CORS (the
// order of Istio's gateway HTTP filter chain: ... fault -> cors -> ... ->
// router), and the websocket 101.
#include "proxy/active_stream.h"
#include "proxy/downstream_stream.h"
#include "proxy/header_mutation.h"
#include "proxy/router_request.h"
#include "proxy/worker.h"
#include "telemetry/response_flags.h"

namespace torii::proxy {

namespace {

constexpr std::string_view kFaultAbort = "fault filter abort";
// Envoy's local rate limit body (LocalRateLimitFilter, "local_rate_limited").
constexpr std::string_view kLocalRateLimitedBody = "local_rate_limited";

// Envoy's featureEnabled: 0 % and 100 % need no random number.
bool rate_limit_hit(uint32_t per_million, upstream::FastRandom& random) {
  if (per_million == 0) return false;
  if (per_million >= 1000000) return true;
  return router::fraction_hit(per_million, random.next());
}

}  // namespace

// Envoy's LocalRateLimitFilter::decodeHeaders: not enabled -> nothing;
// enabled -> counted; a token -> ok; none -> rate_limited, then either
// enforced (429 local reply, the backend is not contacted) or, when not
// enforced, the request goes on with request_headers_to_add_when_not_enforced.
// Cost without an EnvoyFilter: one null test. With one: a hash lookup when
// per-route configs exist, one relaxed fetch_add per counter touched and one
// CAS on the shared bucket (a contended cache line across workers). Configs
// with descriptors also build the request's descriptors (small strings).
bool ActiveStream::local_rate_limited(const router::RequestView& view, const router::VirtualHost* vhost,
                                      const router::Route* route) {
  if (!snapshot_ || !snapshot_->rate_limit.gateway) return false;
  const router::LocalRateLimit& limit = *snapshot_->rate_limit.find(vhost, route);
  upstream::FastRandom& random = worker_.clusters().random();
  if (!rate_limit_hit(limit.enabled_per_million, random)) return false;
  router::LocalRateLimitCounters& counters = *limit.counters;
  counters.enabled.fetch_add(1, std::memory_order_relaxed);
  router::RateLimitVerdict verdict;
  if (limit.descriptors.empty()) {
    router::TokenBucket* bucket = limit.bucket.get();
    verdict.bucket = bucket;
    verdict.allowed = bucket == nullptr || bucket->try_consume();
  } else {
    const std::vector<router::DescriptorEntries> request = request_descriptors(limit, view, vhost, route);
    verdict = router::decide(limit.descriptors, limit.bucket.get(), limit.always_consume_default, request);
  }
  if (verdict.allowed) {
    counters.ok.fetch_add(1, std::memory_order_relaxed);
    if (limit.x_ratelimit_headers && verdict.bucket != nullptr) {
      x_ratelimit_ = verdict.bucket;
      x_ratelimit_hold_ = std::move(verdict.hold);
    }
    return false;
  }
  counters.rate_limited.fetch_add(1, std::memory_order_relaxed);
  if (!rate_limit_hit(limit.enforced_per_million, random)) {
    for (const router::LocalRateLimit::RequestHeader& h : limit.request_headers_when_not_enforced) {
      if (h.append) {
        head_.headers.add(h.key, h.value);
      } else {
        head_.headers.set(h.key, h.value);
      }
    }
    return false;
  }
  counters.enforced.fetch_add(1, std::memory_order_relaxed);
  LocalReply reply{limit.status, kLocalRateLimitedBody, {}, &limit.response_headers_to_add};
  reply.grpc_status = limit.grpc_status;
  send_local_reply(reply, details::kLocalRateLimited, flag::RL);
  return true;
}

// Envoy's Filter::populateDescriptors: the filter's own rate_limits if it
// has any; else the route's, and the virtual host's as vh_rate_limits says
// (OVERRIDE: only when the route has none; a route's include_vh_rate_limits
// means INCLUDE). No route (404, redirects to HTTPS): only the filter's own.
std::vector<router::DescriptorEntries> ActiveStream::request_descriptors(const router::LocalRateLimit& limit,
                                                                         const router::RequestView& view,
                                                                         const router::VirtualHost* vhost,
                                                                         const router::Route* route) const {
  std::vector<router::DescriptorEntries> out;
  // The client address the gateway trusts (--num-trusted-proxies), as remote.ip in RBAC.
  const std::string_view remote =
      remote_address_.empty() ? downstream_.peer_ip() : std::string_view(remote_address_);
  if (!limit.rate_limits.empty()) {
    router::populate_descriptors(limit.rate_limits, limit.stage, view, remote, out);
    return out;
  }
  if (route == nullptr) return out;
  const compile::RateLimitPolicy& policy = snapshot_->rate_limit;
  const router::RouteRateLimits* route_rules = policy.rules_of(route);
  if (route_rules != nullptr)
    router::populate_descriptors(route_rules->rules, limit.stage, view, remote, out);
  using Vh = router::LocalRateLimit::VhRateLimits;
  const Vh option =
      route_rules != nullptr && route_rules->include_vh_rate_limits ? Vh::Include : limit.vh_rate_limits;
  const bool route_has_rules = route_rules != nullptr && !route_rules->rules.empty();
  if (option == Vh::Include || (option == Vh::Override && !route_has_rules)) {
    if (const router::RouteRateLimits* vhost_rules = policy.rules_of(vhost))
      router::populate_descriptors(vhost_rules->rules, limit.stage, view, remote, out);
  }
  return out;
}

void ActiveStream::add_x_ratelimit_headers(http::HeaderMap& headers) const {
  // Envoy's DRAFT_VERSION_03 headers (local_ratelimit.cc encodeHeaders): the
  // size of the bucket that decided (the strictest matched descriptor's, else
  // the default), whole tokens left now, and seconds until the next token.
  const router::TokenBucket& bucket = *x_ratelimit_;
  const int64_t reset_ns = bucket.ns_until_next_token();
  headers.set("x-ratelimit-limit", std::to_string(bucket.max_tokens()));
  headers.set("x-ratelimit-remaining", std::to_string(bucket.remaining()));
  headers.set("x-ratelimit-reset", std::to_string((reset_ns + 999999999) / 1000000000));
}

void ActiveStream::run_route_policies() {
  const router::RoutePolicies& policies = route_->action.policies;
  if (policies.fault) {
    const router::FaultPolicy& fault = *policies.fault;
    upstream::FastRandom& random = worker_.clusters().random();
    const bool delay = fault.has_delay && router::fraction_hit(fault.delay_per_million, random.next());
    fault_abort_ = fault.has_abort && router::fraction_hit(fault.abort_per_million, random.next());
    if (delay) {
      // The request waits here; its body is held until the delay ends.
      WorkerStats::inc(worker_.mutable_stats().fault_delays_injected);
      info_.set_flag(flag::DI);
      holding_ = true;
      fault_timer_ = std::make_unique<net::Timer>(worker_.loop(), [this] { end_fault_delay(); });
      fault_timer_->arm(fault.delay_ms);
      return;
    }
    if (fault_abort_) {
      send_fault_abort();
      return;
    }
  }
  after_fault();
}

void ActiveStream::end_fault_delay() {
  if (!holding_) return;
  holding_ = false;
  // Reading resumes before the held body is handed on, so the upstream's
  // own back-pressure (set while sending it) is the one that stays.
  downstream_.set_upstream_blocked(false);
  if (fault_abort_) {
    send_fault_abort();
    return;
  }
  after_fault();
  if (upstream_ && !local_reply_) {
    if (!held_body_.empty()) upstream_->send_body(held_body_);
    if (downstream_.request_complete()) {
      upstream_->end_request();
    } else {
      upstream_->flush();  // from a timer: nobody else flushes
    }
  }
  std::string().swap(held_body_);
}

void ActiveStream::send_fault_abort() {
  WorkerStats::inc(worker_.mutable_stats().fault_aborts_injected);
  const router::FaultPolicy& fault = *route_->action.policies.fault;
  if (fault.grpc_status && grpc_) {
    // Envoy's local reply to a gRPC request with the fault's own status.
    LocalReply reply{200, kFaultAbort, {}};
    reply.grpc_status = *fault.grpc_status;
    send_local_reply(reply, details::kFaultAbort, flag::FI);
    return;
  }
  send_local_reply(LocalReply{fault.http_status, kFaultAbort, {}}, details::kFaultAbort, flag::FI);
}

void ActiveStream::after_fault() {
  const router::RoutePolicies& policies = route_->action.policies;
  if (policies.cors) {
    const router::CorsPolicy& cors = *policies.cors;
    router::CorsDecision decision = router::decide_cors(cors, head_.method, head_.headers);
    if (decision.kind != router::CorsDecision::Kind::None) {
      WorkerStats& stats = worker_.mutable_stats();
      WorkerStats::inc(decision.origin_allowed ? stats.cors_origin_valid : stats.cors_origin_invalid);
    }
    if (decision.kind == router::CorsDecision::Kind::Preflight) {
      WorkerStats::inc(worker_.mutable_stats().cors_preflight_answered);
      http::HeaderMap headers;
      router::add_preflight_headers(cors, decision, head_.headers, headers);
      send_local_reply(LocalReply{200, {}, {}, &headers}, details::kCorsPreflight);
      return;
    }
    cors_response_ = decision.kind == router::CorsDecision::Kind::Forward && decision.origin_allowed;
  }
  forward_to_upstream();
}

void ActiveStream::write_switching_protocols(http::ResponseHead& head, uint64_t service_time_ms) {
  // The upgrade was granted: relay the 101 with its Upgrade/Connection
  // (hop-by-hop, so re-added after the usual edits), then bytes both ways.
  std::string upgrade;
  if (const std::string_view* value = head.headers.get("upgrade")) upgrade = *value;
  ResponseInfo info;
  info.server = worker_.options().server_header;
  info.date = worker_.date().now();
  info.upstream_service_time_ms = static_cast<int64_t>(service_time_ms);
  mutate_response_headers(head.headers, info);
  head.headers.set("connection", "upgrade");
  head.headers.set("upgrade", upgrade.empty() ? std::string_view(upgrade_) : std::string_view(upgrade));
  worker_.mutable_stats().count_response(101);
  note_response(101, head.headers);
  if (upstream_) endpoint_ = upstream_->endpoint();
  downstream_.encode_headers(101, head.headers, /*end_stream=*/false);
  downstream_.start_tunnel();
}

void ActiveStream::on_downstream_tunnel_eof() {
  if (upstream_) upstream_->close_tunnel();
}

}  // namespace torii::proxy
