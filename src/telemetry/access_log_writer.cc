#include "telemetry/access_log_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace torii::telemetry {

AccessLogWriter::AccessLogWriter(std::string path, int channels, size_t limit_bytes)
    : path_(std::move(path)), limit_bytes_(limit_bytes) {
  for (int i = 0; i < channels; ++i) channels_.push_back(std::make_unique<Channel>());
}

AccessLogWriter::~AccessLogWriter() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

bool AccessLogWriter::open(std::string& error) {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "--access-log " + path_ + ": " + std::strerror(errno);
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return true;
}

void AccessLogWriter::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void AccessLogWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool AccessLogWriter::append(int channel, std::string_view line) {
  Channel& c = *channels_[static_cast<size_t>(channel)];
  // Held by the writer only for a swap: never across a write().
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.buffer.size() + line.size() > limit_bytes_) return false;
  c.buffer.append(line);
  return true;
}

void AccessLogWriter::do_reopen() {
  std::string error;
  // A path that cannot be opened now keeps the old file: lines still go somewhere.
  (void)open(error);
}

void AccessLogWriter::write_out(std::string& data) {
  size_t done = 0;
  while (done < data.size() && fd_ >= 0) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // disk full, closed pipe: these lines are lost
    }
    done += static_cast<size_t>(n);
  }
  data.clear();
}

void AccessLogWriter::run() {
  std::string pending;
  for (;;) {
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(kFlushIntervalMs), [this] { return stopping_; });
      stopping = stopping_;
    }
    if (reopen_.exchange(false, std::memory_order_acq_rel)) do_reopen();
    for (auto& channel : channels_) {
      {
        std::lock_guard<std::mutex> lock(channel->mutex);
        pending.swap(channel->buffer);
      }
      // The channel got `pending`'s empty buffer (with the capacity of an
      // earlier flush): buffers change hands, nothing is reallocated.
      write_out(pending);
    }
    if (stopping) return;
  }
}

}  // namespace torii::telemetry
