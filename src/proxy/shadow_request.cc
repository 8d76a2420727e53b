#include "proxy/shadow_request.h"

#include "net/timer.h"
#include "proxy/worker.h"

namespace torii::proxy {

class ShadowRequest final : public UpstreamCallbacks, public net::Deferrable {
 public:
  ShadowRequest(ShadowRequests& owner, Worker& worker, compile::SnapshotPtr snapshot,
                const upstream::ClusterInfo& cluster, const UpstreamRequestHead& head,
                const http::HeaderMap& headers, std::shared_ptr<const std::string> body)
      : owner_(owner),
        worker_(worker),
        snapshot_(std::move(snapshot)),
        cluster_(cluster),
        method_(head.method),
        target_(head.path_and_query),
        headers_(headers),
        body_(std::move(body)),
        timer_(worker.loop(), [this] { end(true); }) {
    head_ = head;
    head_.method = method_;
    head_.path_and_query = target_;
    head_.headers = &headers_;
    head_.upgrade = false;
  }
  ~ShadowRequest() override {
    if (upstream_) upstream_->abort();
  }

  std::list<std::unique_ptr<ShadowRequest>>::iterator position;

  void start(uint64_t timeout_ms) {
    if (const std::string_view* host = headers_.get("host");
        host != nullptr && worker_.options().mirror_host_suffix)
      headers_.set("host", shadow_host(*host));
    if (timeout_ms != 0) timer_.arm(timeout_ms);
    upstream_ = std::make_unique<UpstreamRequest>(*this, worker_, cluster_, head_);
    UpstreamRequest* upstream = upstream_.get();
    upstream->start();
    if (done_ || upstream_.get() != upstream) return;
    if (body_ && !body_->empty()) upstream->send_body(*body_);
    upstream->end_request();
  }

  void abandon() { end(false); }

  // The response is of no interest: read and dropped.
  void on_upstream_informational(http::ResponseHead&) override {}
  void on_upstream_headers(http::ResponseHead&, uint64_t, bool) override {}
  void on_upstream_body(std::string_view) override {}
  void on_upstream_complete() override {
    upstream_done_ = true;
    end(false);
  }
  void flush_downstream() override {}
  void on_upstream_failure(UpstreamFailure) override {
    upstream_done_ = true;
    end(true);
  }
  void set_upstream_blocked(bool) override {}

 private:
  void end(bool failed) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    if (failed) WorkerStats::inc(worker_.mutable_stats().mirror_rq_failed);
    if (upstream_) {
      if (!upstream_done_) upstream_->abort();
      worker_.loop().defer_delete(std::move(upstream_));
    }
    owner_.finished(*this);
  }

  ShadowRequests& owner_;
  Worker& worker_;
  compile::SnapshotPtr snapshot_;
  const upstream::ClusterInfo& cluster_;
  std::string method_;
  std::string target_;
  http::HeaderMap headers_;
  std::shared_ptr<const std::string> body_;
  UpstreamRequestHead head_;
  std::unique_ptr<UpstreamRequest> upstream_;
  net::Timer timer_;
  bool done_ = false;
  bool upstream_done_ = false;
};

ShadowRequests::ShadowRequests(Worker& worker) : worker_(worker) {}

ShadowRequests::~ShadowRequests() { clear(); }

void ShadowRequests::launch(compile::SnapshotPtr snapshot, const upstream::ClusterInfo& cluster,
                            const UpstreamRequestHead& head, const http::HeaderMap& headers,
                            std::shared_ptr<const std::string> body, uint64_t timeout_ms) {
  WorkerStats& stats = worker_.mutable_stats();
  if (cluster.endpoints.empty() || active_.size() >= worker_.options().max_mirror_requests) {
    WorkerStats::inc(stats.mirror_rq_dropped);
    return;
  }
  WorkerStats::inc(stats.mirror_rq_total);
  active_.push_front(std::make_unique<ShadowRequest>(*this, worker_, std::move(snapshot), cluster, head,
                                                     headers, std::move(body)));
  active_.front()->position = active_.begin();
  active_.front()->start(timeout_ms);
}

void ShadowRequests::finished(ShadowRequest& request) {
  auto it = request.position;
  // Its callbacks may be on the stack: free it at the end of the iteration.
  worker_.loop().defer_delete(std::move(*it));
  active_.erase(it);
}

void ShadowRequests::clear() {
  while (!active_.empty()) active_.front()->abandon();
}

std::string shadow_host(std::string_view host) {
  // Envoy HeaderUtility::getPortStart: a ':' after the last ']' (IPv6 literal).
  size_t colon = host.rfind(':');
  size_t bracket = host.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) {
    return std::string(host) + "-shadow";
  }
  return std::string(host.substr(0, colon)) + "-shadow" + std::string(host.substr(colon));
}

}  // namespace torii::proxy
