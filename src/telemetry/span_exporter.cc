#include "telemetry/span_exporter.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>

#include "http/http_url.h"

namespace torii::telemetry {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// A non-blocking socket connected to host:port by `deadline`, or -1.
int connect_to(const OtlpEndpoint& endpoint, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &list) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = list; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    int err = errno;
    if (err == EINPROGRESS && wait_fd(fd, POLLOUT, deadline)) {
      socklen_t len = sizeof(err);
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) break;
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(list);
  return fd;
}

bool send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_fd(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// The status code of the answer's status line, 0 if none came in time.
int read_status(int fd, Clock::time_point deadline) {
  char buf[512];
  size_t have = 0;
  for (;;) {
    const std::string_view got(buf, have);
    const size_t eol = got.find("\r\n");
    if (eol != std::string_view::npos || have == sizeof(buf)) {
      // "HTTP/1.1 200 OK"
      if (!got.starts_with("HTTP/1.") || got.size() < 12) return 0;
      int status = 0;
      auto [ptr, ec] = std::from_chars(buf + 9, buf + 12, status);
      return ec == std::errc() ? status : 0;
    }
    const ssize_t n = ::recv(fd, buf + have, sizeof(buf) - have, 0);
    if (n > 0) {
      have += static_cast<size_t>(n);
    } else if (n == 0) {
      return 0;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_fd(fd, POLLIN, deadline)) return 0;
    } else {
      return 0;
    }
  }
}

}  // namespace

bool parse_otlp_endpoint(const std::string& url, OtlpEndpoint& out, std::string& error) {
  const std::string expected = "expected http://HOST:PORT/v1/traces (OTLP/HTTP), got '" + url + "'";
  http::HttpUrl parsed;
  if (!http::parse_http_url(url, parsed)) {
    error = expected;
    return false;
  }
  if (parsed.tls) {
    error = "https is not supported (the collector must listen on plain HTTP); " + expected;
    return false;
  }
  out.host = std::move(parsed.host);
  out.port = parsed.port;
  out.authority = std::move(parsed.authority);
  out.path = parsed.path.empty() ? "/v1/traces" : std::move(parsed.path);
  return true;
}

SpanExporter::SpanExporter(OtlpEndpoint endpoint, OtlpResource resource, int channels,
                           size_t channel_capacity)
    : endpoint_(std::move(endpoint)), resource_(std::move(resource)), capacity_(channel_capacity) {
  for (int i = 0; i < channels; ++i) {
    channels_.push_back(std::make_unique<Channel>());
    channels_.back()->spans.reserve(capacity_);
  }
  swap_.reserve(capacity_);
}

SpanExporter::~SpanExporter() { stop(); }

void SpanExporter::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void SpanExporter::stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SpanExporter::append(int channel, const SpanRecord& span) {
  Channel& c = *channels_[static_cast<size_t>(channel)];
  // Held by the exporter only for a swap: never across a send.
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.spans.size() >= capacity_) return false;
  c.spans.push_back(span);  // within the reserved capacity: no allocation
  return true;
}

void SpanExporter::collect() {
  for (auto& channel : channels_) {
    {
      std::lock_guard<std::mutex> lock(channel->mutex);
      if (channel->spans.empty()) continue;
      // The channel gets swap_'s empty vector (same reserved capacity).
      swap_.swap(channel->spans);
    }
    pending_.insert(pending_.end(), swap_.begin(), swap_.end());
    swap_.clear();
  }
}

void SpanExporter::flush() {
  size_t done = 0;
  while (done < pending_.size()) {
    const size_t count = std::min(kMaxBatch, pending_.size() - done);
    body_.clear();
    encode_export_request(resource_, pending_.data() + done, count, body_);
    if (post(body_)) {
      spans_sent_.fetch_add(count, std::memory_order_relaxed);
      done += count;
      continue;
    }
    // The collector is down or slow: the rest of this flush would wait the
    // same timeout per batch (and hold up shutdown); it is dropped with it.
    spans_failed_.fetch_add(pending_.size() - done, std::memory_order_relaxed);
    batches_failed_.fetch_add(1, std::memory_order_relaxed);
    break;
  }
  pending_.clear();
}

bool SpanExporter::post(const std::string& body) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(kTimeoutMs);
  const int fd = connect_to(endpoint_, deadline);
  if (fd < 0) return false;
  std::string head =
      "POST " + endpoint_.path + " HTTP/1.1\r\nHost: " + endpoint_.authority +
      "\r\nContent-Type: application/x-protobuf\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  const bool sent = send_all(fd, head, deadline) && send_all(fd, body, deadline);
  const int status = sent ? read_status(fd, deadline) : 0;
  ::close(fd);
  return status >= 200 && status < 300;
}

void SpanExporter::run() {
  Clock::time_point last_flush = Clock::now();
  for (;;) {
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(kPollIntervalMs), [this] { return stopping_; });
      stopping = stopping_;
    }
    collect();
    const bool due = pending_.size() >= kMinFlushSpans ||
                     Clock::now() - last_flush >= std::chrono::milliseconds(kFlushIntervalMs);
    if (!pending_.empty() && (due || stopping)) {
      flush();
      last_flush = Clock::now();
    } else if (pending_.empty()) {
      last_flush = Clock::now();
    }
    if (stopping) return;
  }
}

}  // namespace torii::telemetry
