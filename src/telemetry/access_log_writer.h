// Writes access-log lines to a file from its own thread, so a worker never
// waits for the disk.
//
// Each worker appends its formatted line to its own channel: a buffer
// behind a mutex that only that worker and the writer thread take, the
// writer only long enough to swap the buffer for an empty one; the write()
// happens outside the lock. A channel holding `limit_bytes` already (the
// writer is behind: slow disk, full pipe) drops the line and counts it; the
// worker goes on. The writer flushes every kFlushIntervalMs (Envoy's file
// access log flushes every 1 s) and at stop().
//
// reopen() (SIGUSR1, for logrotate) makes the writer close and reopen the
// path before its next write: lines go to the new file once the old one
// was renamed away.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace torii::telemetry {

class AccessLogWriter {
 public:
  static constexpr int kFlushIntervalMs = 100;

  AccessLogWriter(std::string path, int channels, size_t limit_bytes = 4 * 1024 * 1024);
  ~AccessLogWriter();
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  // Opens the file (append, create); false + error if it cannot be.
  bool open(std::string& error);
  void start();
  // Writes what is buffered and joins the thread.
  void stop();
  // Any thread: reopen the path before the next write.
  void reopen() { reopen_.store(true, std::memory_order_release); }

  // Channel `channel`'s owner only. false: dropped (the writer is behind).
  bool append(int channel, std::string_view line);

  const std::string& path() const { return path_; }

 private:
  struct alignas(64) Channel {
    std::mutex mutex;
    std::string buffer;
  };
  void run();
  void write_out(std::string& data);
  void do_reopen();

  const std::string path_;
  const size_t limit_bytes_;
  std::vector<std::unique_ptr<Channel>> channels_;
  int fd_ = -1;
  std::atomic<bool> reopen_{false};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under wake_mutex_
  std::thread thread_;
};

}  // namespace torii::telemetry
