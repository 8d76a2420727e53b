#include "telemetry/request_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "telemetry/response_flags.h"
#include "upstream/cluster_info.h"

// Counts heap allocations made by this test binary, to check that recording
// a label set seen before allocates nothing. (GCC cannot tell that the
// replaced operator delete pairs with the replaced operator new.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace torii::telemetry {
namespace {

struct Fixture {
  upstream::ClusterInfo cluster;
  upstream::Endpoint endpoint;
  Fixture() {
    cluster.service_host = "httpbin.default.svc.cluster.local";
    endpoint.origin = "WorkloadEntry default/httpbin-vm-with-a-long-name";
    endpoint.labels = {
        {"app", "httpbin"}, {"version", "v1"}, {"service.istio.io/canonical-revision", "rev-1"}};
  }
  HttpStreamRecord record(int code) const {
    HttpStreamRecord r;
    r.listener = "0.0.0.0_8080";
    r.cluster = &cluster;
    r.endpoint = &endpoint;
    r.authority = "httpbin.example.com";
    r.response_code = code;
    r.request_bytes = 120;
    r.response_bytes = 700;
    r.duration_ms = 3;
    return r;
  }
};

std::vector<const HttpSeries*> http_series(const RequestMetrics& m) {
  std::vector<const HttpSeries*> out;
  m.for_each_http([&out](const HttpSeries& s) { out.push_back(&s); });
  return out;
}

TEST(RequestMetricsTest, OneSeriesPerLabelSet) {
  Fixture f;
  RequestMetrics m;
  m.record_http(f.record(200));
  m.record_http(f.record(200));
  m.record_http(f.record(503));
  auto r = f.record(404);
  r.cluster = nullptr;
  r.endpoint = nullptr;
  r.response_flags = proxy::flag::NR;
  m.record_http(r);
  const auto series = http_series(m);
  ASSERT_EQ(series.size(), 3u);
  uint64_t total = 0;
  for (const HttpSeries* s : series) {
    total += s->requests.load();
    if (s->key.response_code == 200) {
      EXPECT_EQ(s->requests.load(), 2u);
      EXPECT_EQ(s->destination[0], "httpbin-vm-with-a-long-name");
      EXPECT_EQ(s->destination[4], "httpbin.default.svc.cluster.local");
      HistogramSnapshot h;
      s->response_bytes.add_to(h);
      EXPECT_EQ(h.sum, 1400u);
      EXPECT_EQ(h.count, 2u);
    }
    if (s->key.response_flags == proxy::flag::NR) {
      EXPECT_EQ(s->destination[4], "httpbin.example.com");
    }
  }
  EXPECT_EQ(total, 4u);
  m.for_each_listener([](const ListenerSeries& l) {
    EXPECT_EQ(l.listener, "0.0.0.0_8080");
    EXPECT_EQ(l.rq_total.load(), 4u);
    EXPECT_EQ(l.rq_class[1].load(), 2u);
    EXPECT_EQ(l.rq_class[3].load(), 1u);
    EXPECT_EQ(l.rq_class[4].load(), 1u);
    EXPECT_EQ(l.no_route.load(), 1u);
  });
}

TEST(RequestMetricsTest, RecordingASeenLabelSetAllocatesNothing) {
  Fixture f;
  RequestMetrics m;
  const HttpStreamRecord ok = f.record(200);
  const HttpStreamRecord bad = f.record(503);
  m.record_http(ok);
  m.record_http(bad);  // both series exist now
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    m.record_http(ok);
    m.record_http(bad);  // alternating: misses the one-entry cache, hits the map
  }
  EXPECT_EQ(g_allocations.load(), before);
  TcpConnectionRecord tcp{&f.cluster, &f.endpoint, 0, 10, 20};
  m.record_tcp(tcp);
  const uint64_t after_first_tcp = g_allocations.load();
  m.record_tcp(tcp);
  EXPECT_EQ(g_allocations.load(), after_first_tcp);
}

TEST(RequestMetricsTest, SeriesFoundByAddressUntilTheSnapshotChanges) {
  Fixture f;
  RequestMetrics m;
  HttpStreamRecord ok = f.record(200);
  ok.current_snapshot = true;
  HttpStreamRecord bad = f.record(503);
  bad.current_snapshot = true;
  m.record_http(ok);
  m.record_http(bad);
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < 100; ++i) {
    m.record_http(ok);
    m.record_http(bad);
  }
  EXPECT_EQ(g_allocations.load(), before);
  // The same label set reached by another path (an older snapshot's
  // endpoint with equal labels) lands in the same series.
  Fixture other;
  m.record_http(other.record(200));
  m.on_snapshot_change();
  m.record_http(ok);
  const auto series = http_series(m);
  ASSERT_EQ(series.size(), 2u);
  for (const HttpSeries* s : series) EXPECT_EQ(s->requests.load(), s->key.response_code == 200 ? 103u : 101u);
}

TEST(RequestMetricsTest, ListenerConnections) {
  RequestMetrics m;
  m.connection_opened("0.0.0.0_9000");
  m.connection_opened("0.0.0.0_9000");
  m.connection_opened("0.0.0.0_80");
  m.connection_closed("0.0.0.0_9000");
  size_t n = 0;
  m.for_each_listener([&n](const ListenerSeries& l) {
    ++n;
    EXPECT_FALSE(l.http.load());
    if (l.listener == "0.0.0.0_9000") {
      EXPECT_EQ(l.cx_total.load(), 2u);
      EXPECT_EQ(l.cx_active.load(), 1u);
    } else {
      EXPECT_EQ(l.cx_total.load(), 1u);
      EXPECT_EQ(l.cx_active.load(), 1u);
    }
  });
  EXPECT_EQ(n, 2u);
}

TEST(RequestMetricsTest, DisabledRecordsOnlyConnectionManagerStats) {
  Fixture f;
  RequestMetrics m(/*enabled=*/false);
  m.record_http(f.record(200));
  m.record_tcp(TcpConnectionRecord{&f.cluster, &f.endpoint, 0, 1, 1});
  EXPECT_TRUE(http_series(m).empty());
  size_t tcp = 0;
  m.for_each_tcp([&tcp](const TcpSeries&) { ++tcp; });
  EXPECT_EQ(tcp, 0u);
  uint64_t total = 0;
  m.for_each_listener([&total](const ListenerSeries& l) { total += l.rq_total.load(); });
  EXPECT_EQ(total, 1u);
}

TEST(RequestMetricsTest, TcpCountersAddUp) {
  Fixture f;
  RequestMetrics m;
  m.record_tcp(TcpConnectionRecord{&f.cluster, &f.endpoint, 0, 100, 2000});
  m.record_tcp(TcpConnectionRecord{&f.cluster, &f.endpoint, 0, 5, 7});
  m.record_tcp(TcpConnectionRecord{&f.cluster, nullptr, proxy::flag::UF, 0, 0});
  size_t n = 0;
  m.for_each_tcp([&n](const TcpSeries& s) {
    ++n;
    if (s.key.response_flags == 0) {
      EXPECT_EQ(s.opened.load(), 2u);
      EXPECT_EQ(s.closed.load(), 2u);
      EXPECT_EQ(s.received_bytes.load(), 105u);
      EXPECT_EQ(s.sent_bytes.load(), 2007u);
    } else {
      EXPECT_EQ(s.destination[0], "unknown");
    }
  });
  EXPECT_EQ(n, 2u);
}

TEST(ResponseFlagsTest, ShortNamesInEnvoysOrder) {
  EXPECT_EQ(response_flags_string(0), "-");
  EXPECT_EQ(response_flags_string(proxy::flag::NR), "NR");
  EXPECT_EQ(response_flags_string(proxy::flag::URX | proxy::flag::UF), "UF,URX");
  EXPECT_EQ(response_flags_string(proxy::flag::DI | proxy::flag::FI), "DI,FI");
  EXPECT_EQ(response_flags_string(proxy::flag::NC | proxy::flag::DT), "DT,NC");  // DT is bit 22, NC bit 24
}

}  // namespace
}  // namespace torii::telemetry
