#include "telemetry/request_metrics.h"

#include "telemetry/response_flags.h"
#include "upstream/cluster_info.h"

namespace torii::telemetry {

namespace {

void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

SeriesKey make_key(const DestinationLabels& d) {
  SeriesKey key;
  key.destination = {d.workload,          d.workload_namespace, d.app,          d.version,          d.service,
                     d.canonical_service, d.canonical_revision, d.service_name, d.service_namespace};
  return key;
}

}  // namespace

size_t SeriesKeyHash::operator()(const SeriesKey& key) const {
  // The service and workload tell most series apart; the rest only when
  // they collide (equality compares every field).
  size_t h = std::hash<std::string_view>()(key.destination[4]);
  h ^= std::hash<std::string_view>()(key.destination[0]) * 31;
  h ^= (static_cast<size_t>(static_cast<uint16_t>(key.response_code)) << 1) ^
       (static_cast<size_t>(key.response_flags) << 17) ^
       (static_cast<size_t>(static_cast<uint16_t>(key.grpc_status)) << 40) ^ (key.grpc ? 1ull << 60 : 0);
  return h * 0x9E3779B97F4A7C15ull;
}

size_t RequestMetrics::AddressKeyHash::operator()(const AddressKey& key) const {
  uint64_t h = reinterpret_cast<uintptr_t>(key.cluster) * 0x9E3779B97F4A7C15ull;
  h ^= reinterpret_cast<uintptr_t>(key.endpoint) * 0xC2B2AE3D27D4EB4Full;
  h ^= (static_cast<uint64_t>(static_cast<uint16_t>(key.response_code)) << 3) ^
       (static_cast<uint64_t>(key.response_flags) << 19) ^
       (static_cast<uint64_t>(static_cast<uint16_t>(key.grpc_status)) << 40) ^ (key.grpc ? 1ull << 62 : 0);
  return h ^ (h >> 29);
}

void RequestMetrics::on_snapshot_change() {
  by_address_.clear();
  last_by_address_ = nullptr;
  traffic_.on_snapshot_change();
}

template <typename Series>
Series& RequestMetrics::find_or_add(SeriesMap<Series>& map, Series*& last, const SeriesKey& key) {
  if (last != nullptr && last->key == key) return *last;
  auto it = map.find(key);
  if (it != map.end()) {
    last = it->second.get();
    return *last;
  }
  // First time for this label set: own the strings, key the map by views of them.
  auto series = std::make_unique<Series>();
  for (size_t i = 0; i < kDestinationLabelCount; ++i)
    series->destination[i] = std::string(key.destination[i]);
  series->key = key;
  for (size_t i = 0; i < kDestinationLabelCount; ++i) series->key.destination[i] = series->destination[i];
  Series* raw = series.get();
  std::lock_guard<std::mutex> lock(mutex_);
  map.emplace(raw->key, std::move(series));
  last = raw;
  return *raw;
}

ListenerSeries& RequestMetrics::listener(std::string_view name) {
  if (last_listener_ != nullptr && last_listener_->listener == name) return *last_listener_;
  auto it = listeners_.find(name);
  if (it != listeners_.end()) {
    last_listener_ = it->second.get();
    return *last_listener_;
  }
  auto series = std::make_unique<ListenerSeries>();
  series->listener = std::string(name);
  ListenerSeries* raw = series.get();
  std::lock_guard<std::mutex> lock(mutex_);
  listeners_.emplace(raw->listener, std::move(series));
  last_listener_ = raw;
  return *raw;
}

void RequestMetrics::connection_opened(std::string_view name) {
  ListenerSeries& l = listener(name);
  bump(l.cx_total);
  bump(l.cx_active);
}

void RequestMetrics::connection_closed(std::string_view name) {
  ListenerSeries& l = listener(name);
  l.cx_active.store(l.cx_active.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void RequestMetrics::record_http(const HttpStreamRecord& r) {
  if (!r.listener.empty()) {
    ListenerSeries& l = listener(r.listener);
    if (!l.http.load(std::memory_order_relaxed)) l.http.store(true, std::memory_order_relaxed);
    bump(l.rq_total);
    if (r.response_code >= 100 && r.response_code < 600) bump(l.rq_class[r.response_code / 100 - 1]);
    if (r.response_flags & proxy::flag::NR) bump(l.no_route);
    l.rq_time_ms.record(r.duration_ms);
  }
  traffic_.record(r.listener, r.route, r.route_key, r.cluster,
                  r.cluster != nullptr ? std::string_view(r.cluster->name) : std::string_view(),
                  r.current_snapshot, r.response_code, r.duration_ms);
  if (!enabled_) return;
  HttpSeries* series = nullptr;
  // Without a cluster the authority is a label: only the slow path has it.
  const bool by_address = r.current_snapshot && r.cluster != nullptr;
  AddressKey address;
  if (by_address) {
    address = AddressKey{r.cluster,
                         r.endpoint,
                         r.response_flags,
                         static_cast<int16_t>(r.response_code),
                         static_cast<int16_t>(r.grpc_status),
                         r.grpc};
    if (last_by_address_ != nullptr && last_address_ == address) {
      series = last_by_address_;
    } else if (auto it = by_address_.find(address); it != by_address_.end()) {
      series = it->second;
    }
  }
  if (series == nullptr) {
    SeriesKey key = make_key(destination_labels(r.cluster, r.endpoint, r.authority));
    key.response_code = static_cast<int16_t>(r.response_code);
    key.grpc_status = static_cast<int16_t>(r.grpc_status);
    key.grpc = r.grpc;
    key.response_flags = r.response_flags;
    series = &find_or_add(http_, last_http_, key);
    if (by_address) by_address_.emplace(address, series);
  }
  if (by_address) {
    last_address_ = address;
    last_by_address_ = series;
  }
  HttpSeries& s = *series;
  bump(s.requests);
  s.duration_ms.record(r.duration_ms);
  s.request_bytes.record(r.request_bytes);
  s.response_bytes.record(r.response_bytes);
}

void RequestMetrics::record_tcp(const TcpConnectionRecord& r) {
  if (!enabled_) return;
  SeriesKey key = make_key(destination_labels(r.cluster, r.endpoint, {}));
  key.response_flags = r.response_flags;
  TcpSeries& s = find_or_add(tcp_, last_tcp_, key);
  bump(s.opened);
  bump(s.closed);
  bump(s.received_bytes, r.received_bytes);
  bump(s.sent_bytes, r.sent_bytes);
}

void RequestMetrics::for_each_http(const std::function<void(const HttpSeries&)>& fn) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, series] : http_) fn(*series);
}

void RequestMetrics::for_each_tcp(const std::function<void(const TcpSeries&)>& fn) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, series] : tcp_) fn(*series);
}

void RequestMetrics::for_each_listener(const std::function<void(const ListenerSeries&)>& fn) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, series] : listeners_) fn(*series);
}

}  // namespace torii::telemetry
