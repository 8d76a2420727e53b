#include "telemetry/access_log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace torii::telemetry {
namespace {

std::string temp_path(const char* name) {
  return std::string(testing::TempDir()) + "/" + name + "." + std::to_string(getpid());
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST(AccessLogWriter, WritesEveryChannelAndReopensAfterRename) {
  const std::string path = temp_path("access.log");
  std::remove(path.c_str());
  AccessLogWriter writer(path, 2);
  std::string error;
  ASSERT_TRUE(writer.open(error)) << error;
  writer.start();
  EXPECT_TRUE(writer.append(0, "a\n"));
  EXPECT_TRUE(writer.append(1, "b\n"));
  ASSERT_TRUE(eventually([&] { return read_all(path).size() == 4; }));
  const std::string rotated = path + ".1";
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  writer.reopen();
  // Lines after the reopen land in a new file at the old path.
  ASSERT_TRUE(eventually([&] {
    writer.append(0, "c\n");
    return read_all(path).find("c\n") != std::string::npos;
  }));
  writer.stop();
  EXPECT_EQ(read_all(rotated).find('c'), std::string::npos);
  std::remove(path.c_str());
  std::remove(rotated.c_str());
}

TEST(AccessLogWriter, DropsInsteadOfBlockingWhenTheFileIsStuck) {
  // A FIFO nobody reads: the writer thread blocks in write() once the pipe
  // is full, as on a stalled disk. append() must keep returning at once.
  const std::string path = temp_path("access.fifo");
  std::remove(path.c_str());
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  std::thread drain;
  {
    AccessLogWriter writer(path, 1, 64 * 1024);
    std::string error;
    ASSERT_TRUE(writer.open(error)) << error;
    writer.start();
    const std::string line(1000, 'x');
    uint64_t dropped = 0;
    for (int i = 0; i < 2000; ++i) {
      if (!writer.append(0, line)) ++dropped;
    }
    // 2 MB offered; the pipe (64 KiB) and the channel (64 KiB) hold far less.
    EXPECT_GT(dropped, 1000u);
    // Unblock the writer so stop() can join it; the read loop ends when
    // the writer's descriptor closes (EOF).
    drain = std::thread([reader] {
      fcntl(reader, F_SETFL, 0);
      char buf[65536];
      while (::read(reader, buf, sizeof(buf)) > 0) {
      }
    });
  }
  drain.join();
  ::close(reader);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace torii::telemetry
