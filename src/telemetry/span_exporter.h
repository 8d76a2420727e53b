// Sends sampled spans to an OTLP/HTTP collector from its own thread, so a
// worker never waits for the network.
//
// Each worker appends a SpanRecord to its own channel: a preallocated
// vector behind a mutex that only that worker and the exporter thread take,
// the exporter only to swap vectors. A full channel (the collector is slow
// or down and the exporter is behind) drops the span and counts it; the
// worker goes on. The exporter wakes every kPollIntervalMs and posts a
// batch once kMinFlushSpans are waiting or kFlushIntervalMs have passed
// (Envoy: 5 spans or 5 s; the interval is shorter here so a quiet gateway's
// spans show up within a second). Each batch is one blocking HTTP/1.1 POST
// (Content-Type application/x-protobuf) on a fresh connection, with
// kTimeoutMs for connect and answer; a failed batch is dropped and counted,
// not retried (Envoy's HTTP exporter does not retry either), and so is the
// rest of that flush, so one flush (and shutdown) waits one timeout at most.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/otlp_encoder.h"
#include "telemetry/span_record.h"

namespace torii::telemetry {

// "http://host:port/path" (port defaults to 80, path to /v1/traces).
struct OtlpEndpoint {
  std::string host;
  uint16_t port = 80;
  std::string path = "/v1/traces";
  std::string authority;  // host[:port] for the Host header
};
// false + error ("expected http://host:port/v1/traces ...") when `url` is not one.
bool parse_otlp_endpoint(const std::string& url, OtlpEndpoint& out, std::string& error);

class SpanExporter {
 public:
  static constexpr int kPollIntervalMs = 100;
  static constexpr int kFlushIntervalMs = 1000;
  static constexpr size_t kMinFlushSpans = 5;
  static constexpr int kTimeoutMs = 2000;
  static constexpr size_t kMaxBatch = 512;

  SpanExporter(OtlpEndpoint endpoint, OtlpResource resource, int channels, size_t channel_capacity = 1024);
  ~SpanExporter();
  SpanExporter(const SpanExporter&) = delete;
  SpanExporter& operator=(const SpanExporter&) = delete;

  void start();
  // Posts what is buffered (one last try) and joins the thread.
  void stop();

  // Channel `channel`'s owner only. false: dropped (the channel is full).
  bool append(int channel, const SpanRecord& span);

  // Any thread: spans the collector accepted (2xx), spans dropped at export
  // (collector down, slow or refusing), batches that failed.
  uint64_t spans_sent() const { return spans_sent_.load(std::memory_order_relaxed); }
  uint64_t spans_export_failed() const { return spans_failed_.load(std::memory_order_relaxed); }
  uint64_t export_failures() const { return batches_failed_.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Channel {
    std::mutex mutex;
    std::vector<SpanRecord> spans;
  };
  void run();
  // Collects what the channels hold; true when a batch is due.
  void collect();
  void flush();
  // One POST; true for a 2xx answer.
  bool post(const std::string& body);

  const OtlpEndpoint endpoint_;
  const OtlpResource resource_;
  const size_t capacity_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::vector<SpanRecord> pending_;  // exporter thread only
  std::vector<SpanRecord> swap_;     // exporter thread only
  std::string body_;                 // exporter thread only
  std::atomic<uint64_t> spans_sent_{0};
  std::atomic<uint64_t> spans_failed_{0};
  std::atomic<uint64_t> batches_failed_{0};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under wake_mutex_
  std::thread thread_;
};

}  // namespace torii::telemetry
