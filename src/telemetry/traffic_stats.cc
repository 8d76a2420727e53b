#include "telemetry/traffic_stats.h"

namespace torii::telemetry {

namespace {

uint64_t read_counter(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

}  // namespace

void TrafficTotals::add(const TrafficSeries& s) {
  requests += read_counter(s.requests);
  for (size_t i = 0; i < by_class.size(); ++i) by_class[i] += read_counter(s.by_class[i]);
  no_response += read_counter(s.no_response);
  s.duration_ms.add_to(duration_ms);
}

double histogram_quantile(const HistogramSnapshot& h, double q) {
  if (h.count == 0) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  const double rank = q * static_cast<double>(h.count);
  uint64_t below = 0;  // observations in the buckets before i
  for (size_t i = 0; i < kBucketCount; ++i) {
    const uint64_t n = h.buckets[i];
    if (n == 0 || static_cast<double>(below + n) < rank) {
      below += n;
      continue;
    }
    if (i == kBucketCount - 1) return kDefaultBuckets.back();  // +Inf: the highest finite bound
    const double lower = i == 0 ? 0 : kDefaultBuckets[i - 1];
    const double upper = kDefaultBuckets[i];
    return lower + (upper - lower) * (rank - static_cast<double>(below)) / static_cast<double>(n);
  }
  return kDefaultBuckets.back();
}

size_t TrafficStats::AddressHash::operator()(const void* address) const {
  const uint64_t h = reinterpret_cast<uintptr_t>(address) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

void TrafficStats::on_snapshot_change() {
  route_by_address_.clear();
  cluster_by_address_.clear();
  last_route_ = {};
  last_cluster_ = {};
}

TrafficSeries& TrafficStats::find(ByName& by_name, ByAddress& by_address, Cached& last, const void* address,
                                  std::string_view listener, std::string_view name, bool cacheable,
                                  bool route) {
  if (cacheable) {
    if (last.address == address) return *last.series;
    if (auto it = by_address.find(address); it != by_address.end()) {
      last = {address, it->second};
      return *it->second;
    }
  }
  std::string_view full = name;
  if (route) {
    scratch_.assign(listener);
    scratch_ += ' ';
    scratch_ += name;
    full = scratch_;
  }
  TrafficSeries* series = nullptr;
  if (auto it = by_name.find(full); it != by_name.end()) {
    series = it->second.get();
  } else {
    auto owned = std::make_unique<TrafficSeries>();
    owned->name = std::string(full);
    series = owned.get();
    std::lock_guard<std::mutex> lock(mutex_);
    by_name.emplace(series->name, std::move(owned));
  }
  if (cacheable) {
    by_address.emplace(address, series);
    last = {address, series};
  }
  return *series;
}

void TrafficStats::for_each_route(const std::function<void(const TrafficSeries&)>& fn) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, series] : routes_) fn(*series);
}

void TrafficStats::for_each_cluster(const std::function<void(const TrafficSeries&)>& fn) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, series] : clusters_) fn(*series);
}

}  // namespace torii::telemetry
