#include "net/buffer.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace torii::net {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST(BufferTest, AppendDrainAcrossSlices) {
  Buffer b;
  std::string data = pattern(Buffer::kSliceSize * 3 + 123);
  b.append(data);
  EXPECT_EQ(b.size(), data.size());
  EXPECT_EQ(b.to_string(), data);
  b.drain(Buffer::kSliceSize + 5);
  EXPECT_EQ(b.to_string(), data.substr(Buffer::kSliceSize + 5));
  EXPECT_EQ(b.front(), std::string_view(data).substr(Buffer::kSliceSize + 5, Buffer::kSliceSize - 5));
  b.drain(b.size());
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.front().empty());
}

TEST(BufferTest, MoveFromHandsOverBytesInOrder) {
  Buffer a;
  Buffer b;
  a.append("head-");
  std::string big = pattern(40000);
  b.append(big);
  a.move_from(b);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.to_string(), "head-" + big);
  Buffer small;
  small.append("tail");
  a.move_from(small);
  EXPECT_EQ(a.to_string(), "head-" + big + "tail");
}

TEST(BufferTest, ManySmallAppendsAndDrains) {
  Buffer b;
  std::string expect;
  for (int i = 0; i < 5000; ++i) {
    std::string piece = std::to_string(i) + ",";
    b.append(piece);
    expect += piece;
    if (i % 7 == 0) {
      b.drain(3);
      expect.erase(0, 3);
    }
  }
  EXPECT_EQ(b.to_string(), expect);
}

TEST(BufferTest, ReadFromAndWriteToSocketPair) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  std::string data = pattern(100000);
  Buffer out;
  out.append(data);
  Buffer in;
  std::string received;
  while (!out.empty() || received.size() < data.size()) {
    if (!out.empty()) out.write_to(fds[0]);
    ssize_t n = in.read_from(fds[1], 64 * 1024);
    if (n > 0) {
      received += in.to_string();
      in.drain(in.size());
    }
  }
  EXPECT_EQ(received, data);
  ::close(fds[0]);
  EXPECT_EQ(in.read_from(fds[1], 1024), 0);  // EOF
  ::close(fds[1]);
}

// Connection relies on this with edge-triggered epoll: a read that returns
// less than it asked for has emptied the socket. So read_from must offer at
// least `max_bytes` of room whether it reads into a fresh slice (recv) or
// into the tail of the last one plus fresh slices (readv).
TEST(BufferTest, ReadFromShortReadMeansSocketEmpty) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  int size = 1 << 20;
  ASSERT_EQ(setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)), 0);
  ASSERT_EQ(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
  for (size_t already : {size_t{0}, Buffer::kSliceSize - 2000}) {
    SCOPED_TRACE(already);
    std::string data = pattern(Buffer::kSliceSize + 100);
    ASSERT_EQ(::write(fds[0], data.data(), data.size()), static_cast<ssize_t>(data.size()));
    Buffer in;
    in.append(pattern(already));  // leaves a tail with room, or none
    std::string got;
    for (;;) {
      ssize_t n = in.read_from(fds[1], Buffer::kSliceSize);
      if (n < 0) {  // a full read may be followed by one that finds nothing
        ASSERT_EQ(errno, EAGAIN);
        break;
      }
      ASSERT_GT(n, 0);
      if (static_cast<size_t>(n) < Buffer::kSliceSize) {
        EXPECT_EQ(in.read_from(fds[1], Buffer::kSliceSize), -1);
        EXPECT_EQ(errno, EAGAIN);
        break;
      }
    }
    EXPECT_EQ(in.to_string(), pattern(already) + data);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(BufferTest, PeekListsRegions) {
  Buffer b;
  b.append(pattern(Buffer::kSliceSize + 10));
  iovec iov[4];
  size_t n = b.peek(iov, 4);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(iov[0].iov_len + iov[1].iov_len, Buffer::kSliceSize + 10);
}

// The gauge behind /stats buffer_slices_active: slices held, not slices cached.
TEST(BufferTest, CountsSlicesHeldAndGivenBack) {
  std::atomic<uint64_t> held{0};
  Buffer::count_slices_in(&held);
  {
    Buffer a;
    a.append(pattern(Buffer::kSliceSize + 10));
    EXPECT_EQ(held.load(), 2u);
    Buffer b;
    b.move_from(a);  // whole slices change hands: nothing taken or given
    EXPECT_EQ(held.load(), 2u);
    b.drain(Buffer::kSliceSize);
    EXPECT_EQ(held.load(), 1u);
    b.drain(10);  // empty: holds nothing
    EXPECT_EQ(held.load(), 0u);
    b.append("x");
    EXPECT_EQ(held.load(), 1u);
  }  // destroyed: given back
  EXPECT_EQ(held.load(), 0u);
  Buffer::count_slices_in(nullptr);
}

}  // namespace
}  // namespace torii::net
