#include "proxy/router_request.h"

#include <algorithm>
#include <charconv>

#include "proxy/grpc.h"
#include "proxy/shadow_request.h"
#include "proxy/worker.h"

namespace torii::proxy {

namespace {

std::string_view digits(uint64_t value, char (&buffer)[24]) {
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  (void)ec;
  return std::string_view(buffer, static_cast<size_t>(end - buffer));
}

}  // namespace

RouterRequest::RouterRequest(UpstreamCallbacks& downstream, Worker& worker, Params params)
    : downstream_(downstream),
      worker_(worker),
      params_(std::move(params)),
      retry_(params_.policies->retry),
      global_timer_(worker.loop(), [this] { on_global_timeout(); }),
      per_try_timer_(worker.loop(), [this] { on_per_try_timeout(); }),
      backoff_timer_(worker.loop(), [this] { start_attempt(); }),
      idle_timer_(worker.loop(), [this] { on_tunnel_idle(); }) {
  timeout_ms_ = params_.policies->timeout_ms;
  if (is_grpc_request(*params_.headers)) {
    // Istio sets max_grpc_timeout to the route timeout: the client's
    // deadline applies, capped by the route's, and the upstream is told
    // what it is (Envoy's FilterUtility::finalTimeout).
    timeout_ms_ = grpc_route_timeout_ms(timeout_ms_, *params_.headers);
    if (timeout_ms_ != 0) params_.headers->set("grpc-timeout", format_grpc_timeout(timeout_ms_));
  }
  // A body is kept for replay only if something may replay it. Upgrades
  // carry no body worth replaying (and are not mirrored, as in Envoy).
  const bool may_replay = retry_.enabled() || !params_.policies->mirrors.empty();
  buffering_ = may_replay && !params_.head.upgrade;
}

RouterRequest::~RouterRequest() {
  if (attempt_) attempt_->abort();
  release_retry_slot();
}

void RouterRequest::release_retry_slot() {
  if (!holds_retry_slot_) return;
  holds_retry_slot_ = false;
  worker_.clusters().cluster(*params_.cluster).shared().circuit_breaker().release_retry();
}

void RouterRequest::start() { start_attempt(); }

uint64_t RouterRequest::per_try_timeout_ms() const {
  const uint64_t global = timeout_ms_;
  // Envoy drops a per-try timeout that cannot fire before the route timeout.
  if (global != 0 && retry_.per_try_timeout_ms >= global) return 0;
  return retry_.per_try_timeout_ms;
}

void RouterRequest::set_attempt_headers() {
  http::HeaderMap& headers = *params_.headers;
  char buffer[24];
  headers.set_lower("x-envoy-attempt-count", digits(attempts_, buffer));
  // Envoy setTimeoutHeaders: the per-try timeout if any, else the route
  // timeout, never more than what is left of the route timeout.
  const uint64_t global = timeout_ms_;
  uint64_t expected = per_try_timeout_ms();
  if (expected == 0) expected = global;
  if (expected == 0) return;
  if (global != 0) {
    const uint64_t elapsed = request_complete_ ? worker_.loop().now_ms() - request_complete_ms_ : 0;
    expected = elapsed >= global ? 1 : std::min(expected, global - elapsed);
  }
  headers.set_lower("x-envoy-expected-rq-timeout-ms", digits(expected, buffer));
}

void RouterRequest::start_attempt() {
  if (done_) return;
  ++attempts_;
  set_attempt_headers();
  attempt_ = std::make_unique<UpstreamRequest>(*this, worker_, *params_.cluster, params_.head);
  UpstreamRequest* attempt = attempt_.get();
  attempt->start(retry_.avoid_previous_hosts ? &tried_endpoints_ : nullptr,
                 retry_.host_selection_max_attempts);
  // The attempt is alive until the end of the iteration even if it failed at once.
  if (params_.info != nullptr && attempt->endpoint() != nullptr)
    params_.info->set_upstream_host(attempt->endpoint()->address, attempt->endpoint()->port);
  if (attempt_.get() != attempt) return;  // failed at once (and was retried or reported)
  if (!body_.empty()) attempt->send_body(body_);
  if (request_complete_) {
    attempt->end_request();  // flushes
    arm_per_try_timer();
  } else if (attempts_ > 1) {
    attempt->flush();  // a retry runs from a timer: nobody else flushes
  }
}

void RouterRequest::release_attempt() {
  per_try_timer_.cancel();
  if (!attempt_) return;
  attempt_->abort();
  // Its callbacks may be on the stack: free it at the end of the iteration.
  worker_.loop().defer_delete(std::move(attempt_));
  if (blocked_) set_upstream_blocked(false);
}

void RouterRequest::arm_per_try_timer() {
  const uint64_t per_try = per_try_timeout_ms();
  // A queued attempt starts its per-try timeout when its connection comes (on_upstream_ready).
  if (per_try != 0 && attempt_ && !attempt_->queued()) per_try_timer_.arm(per_try);
}

void RouterRequest::send_body(std::string_view data) {
  if (done_ || data.empty()) return;
  if (tunnel_) {
    if (attempt_) attempt_->send_body(data);
    if (worker_.options().tunnel_idle_timeout_ms != 0)
      idle_timer_.arm(worker_.options().tunnel_idle_timeout_ms);
    return;
  }
  if (buffering_) {
    if (body_.size() + data.size() <= worker_.options().buffer_limit_bytes) {
      body_.append(data);
    } else {
      stop_buffering();
      replay_lost_ = true;
      WorkerStats::inc(worker_.mutable_stats().retry_or_shadow_abandoned);
      if (!attempt_) {
        // Waiting to retry, and the bytes the retry needs are gone.
        backoff_timer_.cancel();
        fail(last_failure_);
        return;
      }
    }
  }
  if (attempt_) attempt_->send_body(data);
}

void RouterRequest::end_request() {
  if (done_ || request_complete_) return;
  request_complete_ = true;
  request_complete_ms_ = worker_.loop().now_ms();
  if (timeout_ms_ != 0 && !tunnel_) global_timer_.arm(timeout_ms_);
  if (!replay_lost_) launch_mirrors();
  if (response_started_) stop_buffering();
  if (attempt_) {
    attempt_->end_request();
    if (!response_started_) arm_per_try_timer();
  }
}

void RouterRequest::launch_mirrors() {
  const auto& mirrors = params_.policies->mirrors;
  if (mirrors.empty() || params_.head.upgrade) return;
  std::shared_ptr<const std::string> body;
  for (const router::MirrorPolicy& mirror : mirrors) {
    if (mirror.cluster == nullptr) continue;
    if (!router::fraction_hit(mirror.per_million, worker_.clusters().random().next())) continue;
    if (!body) body = std::make_shared<const std::string>(body_);
    worker_.shadows().launch(params_.snapshot, *mirror.cluster, params_.head, *params_.headers, body,
                             timeout_ms_);
  }
}

void RouterRequest::stop_buffering() {
  buffering_ = false;
  std::string().swap(body_);
}

void RouterRequest::flush() {
  if (attempt_ && !done_) attempt_->flush();
}

void RouterRequest::pause_reading(bool paused) {
  if (attempt_) attempt_->pause_reading(paused);
}

void RouterRequest::abort() {
  if (done_) return;
  finish();
}

void RouterRequest::close_tunnel() {
  if (attempt_ && tunnel_) attempt_->close_tunnel();
}

void RouterRequest::finish() {
  done_ = true;
  global_timer_.cancel();
  backoff_timer_.cancel();
  idle_timer_.cancel();
  release_attempt();
  stop_buffering();
}

void RouterRequest::fail(UpstreamFailure failure) {
  finish();
  downstream_.on_upstream_failure(failure);
}

bool RouterRequest::maybe_retry(bool retriable, bool connect_failure) {
  if (!retriable || response_started_ || done_ || !retry_.enabled()) return false;
  WorkerStats& stats = worker_.mutable_stats();
  if (retries_ >= retry_.num_retries) {
    WorkerStats::inc(stats.upstream_rq_retry_limit_exceeded);
    // Envoy's router (RetryStatus::NoRetryLimitExceeded): URX, beside the
    // failure's own flag, or alone on a retriable response passed on.
    if (params_.info != nullptr) params_.info->set_flag(flag::URX);
    return false;
  }
  if (replay_lost_) return false;
  if (!connect_failure && !worker_.options().retry_non_idempotent &&
      !router::is_idempotent_method(params_.head.method)) {
    WorkerStats::inc(stats.upstream_rq_retry_skipped_method);
    return false;
  }
  // DestinationRule http.maxRetries: retries in flight per cluster, across
  // workers. This request holds one slot from its first retry to its end.
  if (!holds_retry_slot_) {
    upstream::SharedClusterState& shared = worker_.clusters().cluster(*params_.cluster).shared();
    if (!shared.circuit_breaker().try_acquire_retry(params_.cluster->policy->limits)) {
      upstream::ClusterStats::inc(shared.stats().upstream_rq_retry_overflow);
      if (params_.info != nullptr) params_.info->set_flag(flag::UO);  // Envoy: RetryStatus::NoOverflow
      return false;
    }
    holds_retry_slot_ = true;
  }
  // Remembered only when a retry follows (previous_hosts): a request that
  // ends normally allocates nothing here.
  if (attempt_) tried_endpoints_.push_back(attempt_->endpoint_index());
  release_attempt();
  ++retries_;
  WorkerStats::inc(stats.upstream_rq_retry);
  backoff_timer_.arm(router::backoff_ms(retry_, retries_, worker_.clusters().random().next()));
  return true;
}

// ---- from the current attempt ----

void RouterRequest::on_upstream_informational(http::ResponseHead& head) {
  if (!response_started_) downstream_.on_upstream_informational(head);
}

void RouterRequest::on_upstream_headers(http::ResponseHead& head, uint64_t service_time_ms, bool end_stream) {
  per_try_timer_.cancel();
  const bool switching = head.status == 101;
  if (!switching && retry_.enabled() && router::retry_on_response(retry_, head.status, head.headers)) {
    // The response is dropped with its connection (Envoy resets the stream).
    if (maybe_retry(true, false)) return;
  } else if (retries_ > 0) {
    WorkerStats::inc(worker_.mutable_stats().upstream_rq_retry_success);
  }
  response_started_ = true;
  if (request_complete_) stop_buffering();
  if (switching) {
    tunnel_ = true;
    global_timer_.cancel();
    WorkerStats& stats = worker_.mutable_stats();
    WorkerStats::inc(stats.downstream_cx_upgrades_total);
    if (worker_.options().tunnel_idle_timeout_ms != 0)
      idle_timer_.arm(worker_.options().tunnel_idle_timeout_ms);
  }
  downstream_.on_upstream_headers(head, service_time_ms, end_stream);
}

void RouterRequest::on_upstream_body(std::string_view data) {
  if (tunnel_ && worker_.options().tunnel_idle_timeout_ms != 0)
    idle_timer_.arm(worker_.options().tunnel_idle_timeout_ms);
  downstream_.on_upstream_body(data);
}

void RouterRequest::on_upstream_complete() {
  end_response();
  downstream_.on_upstream_complete();
}

void RouterRequest::on_upstream_trailers(http::HeaderMap& trailers) {
  end_response();
  downstream_.on_upstream_trailers(trailers);
}

void RouterRequest::end_response() {
  done_ = true;
  global_timer_.cancel();
  backoff_timer_.cancel();
  idle_timer_.cancel();
  per_try_timer_.cancel();
  stop_buffering();
  // The attempt returned its connection already; drop our pointer later.
  if (attempt_) worker_.loop().defer_delete(std::move(attempt_));
}

const upstream::Endpoint* RouterRequest::endpoint() const {
  if (!attempt_ || attempt_->endpoint_index() >= params_.cluster->endpoints.size()) return nullptr;
  return &params_.cluster->endpoints[attempt_->endpoint_index()];
}

void RouterRequest::flush_downstream() { downstream_.flush_downstream(); }

void RouterRequest::on_upstream_ready() {
  if (request_complete_ && !response_started_) arm_per_try_timer();
}

void RouterRequest::on_upstream_failure(UpstreamFailure failure) {
  per_try_timer_.cancel();
  last_failure_ = failure;
  if (failure == UpstreamFailure::Overflow || failure == UpstreamFailure::NoHealthyUpstream) {
    fail(failure);  // Envoy does not retry its own 503 UO / UH
    return;
  }
  const bool connect_failure = failure == UpstreamFailure::ConnectionFailure;
  const bool retriable = router::retry_on_failure(
      retry_, connect_failure                             ? router::AttemptFailure::ConnectFailure
              : failure == UpstreamFailure::RefusedStream ? router::AttemptFailure::RefusedStream
                                                          : router::AttemptFailure::Reset);
  // A refused stream was never processed either: safe to replay whatever the method.
  if (maybe_retry(retriable, connect_failure || failure == UpstreamFailure::RefusedStream)) return;
  fail(failure);
}

void RouterRequest::set_upstream_blocked(bool blocked) {
  blocked_ = blocked;
  downstream_.set_upstream_blocked(blocked);
}

// ---- timers ----

upstream::ClusterStats& RouterRequest::cluster_stats() {
  return worker_.clusters().cluster(*params_.cluster).shared().stats();
}

void RouterRequest::on_global_timeout() {
  if (done_) return;
  WorkerStats::inc(worker_.mutable_stats().upstream_rq_timeout);
  upstream::ClusterStats::inc(cluster_stats().upstream_rq_timeout);
  fail(UpstreamFailure::Timeout);  // a queued attempt leaves the queue
}

void RouterRequest::on_per_try_timeout() {
  if (done_ || !attempt_) return;
  WorkerStats::inc(worker_.mutable_stats().upstream_rq_per_try_timeout);
  upstream::ClusterStats::inc(cluster_stats().upstream_rq_per_try_timeout);
  last_failure_ = UpstreamFailure::Timeout;
  if (maybe_retry(router::retry_on_failure(retry_, router::AttemptFailure::PerTryTimeout), false)) return;
  fail(UpstreamFailure::Timeout);
}

void RouterRequest::on_tunnel_idle() {
  if (done_) return;
  WorkerStats::inc(worker_.mutable_stats().upgrade_tunnel_idle_timeout);
  fail(UpstreamFailure::ConnectionTermination);  // headers are out: the client sees a close
}

}  // namespace torii::proxy
