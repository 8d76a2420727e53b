// The HTTP/1 hot path without sockets: request parsing (llhttp + header
// map), edge header mutation, response-head serialization, buffer churn.
//
//   torii_micro_bench --benchmark_filter='Http1|HeaderMutation|Buffer'
#include <benchmark/benchmark.h>

#include <string>

#include "http/http1_parser.h"
#include "http/http1_serializer.h"
#include "net/buffer.h"
#include "proxy/header_mutation.h"

namespace {

using namespace torii;

// A browser-like GET: 12 headers, ~500 bytes.
const std::string kRequest =
    "GET /api/v1/products/12345?view=full&lang=en HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n"
    "Referer: https://shop.example.com/\r\n"
    "X-Forwarded-For: 203.0.113.7\r\n"
    "Cache-Control: no-cache\r\n"
    "Pragma: no-cache\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n\r\n";

struct NullRequestSink : http::RequestCallbacks {
  size_t headers = 0;
  void on_request_head(http::RequestHead& head) override { headers += head.headers.size(); }
  void on_request_body(std::string_view) override {}
};

void BM_Http1ParseRequest(benchmark::State& state) {
  NullRequestSink sink;
  http::RequestParser parser(sink, http::ParseLimits{});
  for (auto _ : state) {
    http::FeedResult r = parser.feed(kRequest);
    benchmark::DoNotOptimize(r);
    parser.resume();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRequest.size()));
}
BENCHMARK(BM_Http1ParseRequest);

// Includes copying the parsed map (the mutation edits in place).
void BM_HeaderMutationEdgeRequest(benchmark::State& state) {
  struct Capture : http::RequestCallbacks {
    http::HeaderMap headers;
    void on_request_head(http::RequestHead& head) override { headers = head.headers; }
    void on_request_body(std::string_view) override {}
  } capture;
  http::RequestParser p(capture, http::ParseLimits{});
  p.feed(kRequest);
  proxy::EdgeRequestInfo info;
  info.peer_ip = "10.1.2.3";
  info.request_id = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
  for (auto _ : state) {
    http::HeaderMap copy = capture.headers;
    proxy::mutate_edge_request_headers(copy, info);
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_HeaderMutationEdgeRequest);

void BM_Http1SerializeResponseHead(benchmark::State& state) {
  http::HeaderMap h;
  h.add("content-type", "application/json");
  h.add("content-length", "1234");
  h.add("date", "Thu, 01 Jan 1970 00:00:00 GMT");
  h.add("server", "istio-envoy");
  h.add("x-envoy-upstream-service-time", "3");
  net::Buffer out;
  for (auto _ : state) {
    http::write_response_head(out, 200, h);
    out.clear();
  }
}
BENCHMARK(BM_Http1SerializeResponseHead);

void BM_BufferAppendDrain16K(benchmark::State& state) {
  std::string chunk(16 * 1024, 'x');
  net::Buffer b;
  for (auto _ : state) {
    b.append(chunk);
    b.drain(b.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_BufferAppendDrain16K);

}  // namespace
