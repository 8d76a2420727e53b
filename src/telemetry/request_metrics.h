// One worker's Istio standard metrics (istio_requests_total, the duration
// and size histograms, the TCP counters) and its connection managers'
// per-listener request stats, keyed by label set.
//
// Threads: the owning worker records; the admin thread reads on scrape
// (for_each_*). Recording a label set seen before takes no lock and
// allocates nothing: a hash lookup by string_views (a one-entry cache first,
// since consecutive requests mostly share their labels), then relaxed
// single-writer increments. A label set seen for the first time allocates
// its series once, under the mutex the scraper holds while it iterates;
// series are never removed (like Envoy's stats, they live as long as the
// process). Owned by the Worker.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "telemetry/histogram.h"
#include "telemetry/istio_labels.h"
#include "telemetry/traffic_stats.h"

namespace torii::telemetry {

// What a stream knows when it ends (ActiveStream, at destruction).
struct HttpStreamRecord {
  std::string_view listener;                       // "0.0.0.0_8080": connection manager stats prefix
  const void* route = nullptr;                     // the router::Route matched; null: none
  std::string_view route_key;                      // its Route::stats_key
  const upstream::ClusterInfo* cluster = nullptr;  // null: no cluster chosen
  const upstream::Endpoint* endpoint = nullptr;    // the endpoint that answered; null: none
  std::string_view authority;                      // Host: destination_service when no cluster
  int response_code = 0;                           // 0: no response sent
  int grpc_status = -1;                            // -1: none (label "")
  bool grpc = false;                               // request_protocol grpc, else http
  uint32_t response_flags = 0;                     // telemetry::ResponseFlag bits
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  uint64_t duration_ms = 0;
  // `cluster` and `endpoint` belong to the worker's current snapshot (not an
  // older one a long request started with, nor a per-request cluster): the
  // series may be found by their addresses, valid until on_snapshot_change().
  bool current_snapshot = false;
};

// A TCP-proxied connection that ended (L4 routes, CONNECT tunnels).
struct TcpConnectionRecord {
  const upstream::ClusterInfo* cluster = nullptr;
  const upstream::Endpoint* endpoint = nullptr;
  uint32_t response_flags = 0;
  uint64_t received_bytes = 0;  // from the downstream
  uint64_t sent_bytes = 0;      // to the downstream
};

// Label values that vary per request (source_* are per process).
struct SeriesKey {
  std::array<std::string_view, kDestinationLabelCount> destination;  // DestinationLabels order
  uint32_t response_flags = 0;
  int16_t response_code = 0;
  int16_t grpc_status = -1;
  bool grpc = false;
  bool operator==(const SeriesKey& other) const = default;
};
struct SeriesKeyHash {
  size_t operator()(const SeriesKey& key) const;
};

struct HttpSeries {
  std::array<std::string, kDestinationLabelCount> destination;  // owned copies the map key views
  SeriesKey key;
  std::atomic<uint64_t> requests{0};
  Histogram duration_ms;
  Histogram request_bytes;
  Histogram response_bytes;
};

struct TcpSeries {
  std::array<std::string, kDestinationLabelCount> destination;
  SeriesKey key;
  std::atomic<uint64_t> opened{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> received_bytes{0};
  std::atomic<uint64_t> sent_bytes{0};
};

// Envoy's listener.<address>.downstream_cx_* stats of one listener, and the
// http.<prefix>.* request stats of its connection manager (`http`: it
// served HTTP).
struct ListenerSeries {
  std::string listener;
  std::atomic<uint64_t> cx_total{0};
  std::atomic<uint64_t> cx_active{0};  // a gauge; only its worker moves it
  std::atomic<bool> http{false};
  std::atomic<uint64_t> rq_total{0};
  std::array<std::atomic<uint64_t>, 5> rq_class{};  // 1xx..5xx
  std::atomic<uint64_t> no_route{0};
  std::atomic<uint64_t> rq_direct_response{0};
  Histogram rq_time_ms;
};

class RequestMetrics {
 public:
  explicit RequestMetrics(bool enabled = true) : enabled_(enabled) {}
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  // ---- owning worker ----
  // Connection manager stats always; Istio's series unless disabled
  // (--no-istio-metrics).
  void record_http(const HttpStreamRecord& record);
  void record_tcp(const TcpConnectionRecord& record);
  bool enabled() const { return enabled_; }
  // A downstream connection was accepted on / closed from a listener.
  void connection_opened(std::string_view listener);
  void connection_closed(std::string_view listener);
  // The worker swapped its snapshot: addresses of the old one's clusters
  // and endpoints may be reused, so forget the series found by them.
  void on_snapshot_change();

  // ---- any thread ----
  void for_each_http(const std::function<void(const HttpSeries&)>& fn) const;
  void for_each_tcp(const std::function<void(const TcpSeries&)>& fn) const;
  void for_each_listener(const std::function<void(const ListenerSeries&)>& fn) const;
  // Per-route and per-cluster series (the dashboard's), kept whether or not
  // Istio's metrics are.
  const TrafficStats& traffic() const { return traffic_; }

 private:
  // The fast path: a series by the addresses of its cluster and endpoint
  // plus the per-request values, skipping the label derivation and string
  // hashing (callgrind: 867 -> 161 instructions per request over
  // --no-istio-metrics; docs/metrics.md "Cost").
  struct AddressKey {
    const void* cluster = nullptr;
    const void* endpoint = nullptr;
    uint32_t response_flags = 0;
    int16_t response_code = 0;
    int16_t grpc_status = -1;
    bool grpc = false;
    bool operator==(const AddressKey& other) const = default;
  };
  struct AddressKeyHash {
    size_t operator()(const AddressKey& key) const;
  };

  template <typename Series>
  using SeriesMap = std::unordered_map<SeriesKey, std::unique_ptr<Series>, SeriesKeyHash>;
  template <typename Series>
  Series& find_or_add(SeriesMap<Series>& map, Series*& last, const SeriesKey& key);
  ListenerSeries& listener(std::string_view name);

  const bool enabled_;
  mutable std::mutex mutex_;  // inserts (worker) vs iteration (admin)
  SeriesMap<HttpSeries> http_;
  SeriesMap<TcpSeries> tcp_;
  std::unordered_map<std::string_view, std::unique_ptr<ListenerSeries>> listeners_;
  std::unordered_map<AddressKey, HttpSeries*, AddressKeyHash> by_address_;  // worker only
  AddressKey last_address_;
  HttpSeries* last_by_address_ = nullptr;
  HttpSeries* last_http_ = nullptr;
  TcpSeries* last_tcp_ = nullptr;
  ListenerSeries* last_listener_ = nullptr;
  TrafficStats traffic_;
};

}  // namespace torii::telemetry
