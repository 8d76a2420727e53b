#include "net/fd_passing.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace torii::net {
namespace {

struct Pair {
  UniqueFd a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

TEST(FdPassingTest, TextAndDescriptorsArriveTogether) {
  Pair p;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  std::string error;
  ASSERT_TRUE(send_message(p.a.get(), "LISTENER x", {write_end.get(), read_end.get()}, error)) << error;
  ASSERT_TRUE(send_message(p.a.get(), "END 1", {}, error)) << error;

  std::string text;
  std::vector<UniqueFd> fds;
  ASSERT_TRUE(receive_message(p.b.get(), text, fds, 1000, error)) << error;
  EXPECT_EQ(text, "LISTENER x");
  ASSERT_EQ(fds.size(), 2u);
  // New descriptors for the same pipe: what goes into one comes out of the other.
  EXPECT_NE(fds[0].get(), write_end.get());
  ASSERT_EQ(::write(fds[0].get(), "hi", 2), 2);
  char buf[2];
  ASSERT_EQ(::read(read_end.get(), buf, 2), 2);
  EXPECT_EQ(std::string(buf, 2), "hi");

  // One message at a time: the next one has no descriptors.
  ASSERT_TRUE(receive_message(p.b.get(), text, fds, 1000, error)) << error;
  EXPECT_EQ(text, "END 1");
  EXPECT_TRUE(fds.empty());
}

TEST(FdPassingTest, TimeoutAndCloseAreErrors) {
  Pair p;
  std::string text, error;
  std::vector<UniqueFd> fds;
  EXPECT_FALSE(receive_message(p.b.get(), text, fds, 10, error));
  EXPECT_EQ(error, "no answer within 10 ms");
  p.a.reset();
  EXPECT_FALSE(receive_message(p.b.get(), text, fds, 1000, error));
  EXPECT_EQ(error, "closed");
}

TEST(FdPassingTest, UnixSocketPathsAreChecked) {
  std::string error;
  EXPECT_FALSE(connect_unix("", error).valid());
  EXPECT_NE(error.find("Unix socket path"), std::string::npos) << error;
  EXPECT_FALSE(connect_unix(std::string(200, 'x'), error).valid());

  const std::string path = ::testing::TempDir() + "fd_passing_test_" + std::to_string(::getpid()) + ".sock";
  UniqueFd listening = listen_unix(path, error);
  ASSERT_TRUE(listening.valid()) << error;
  UniqueFd client = connect_unix(path, error);
  ASSERT_TRUE(client.valid()) << error;
  listening.reset();
  ::unlink(path.c_str());
  EXPECT_FALSE(connect_unix(path, error).valid());
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
}

}  // namespace
}  // namespace torii::net
