#include "net/socket_ops.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace torii::net {
namespace {

sockaddr_storage v4(const char* text) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in*>(&s);
  a->sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &a->sin_addr), 1);
  return s;
}

sockaddr_storage v6(const char* text) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in6*>(&s);
  a->sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
  return s;
}

TEST(SocketOpsTest, IpToStringWritesEachAddressAsInetNtopDoes) {
  for (const char* text : {"127.0.0.1", "0.0.0.0", "255.255.255.255", "10.20.3.40", "192.168.100.9"}) {
    EXPECT_EQ(ip_to_string(v4(text)), text);
  }
  EXPECT_EQ(ip_to_string(v6("::1")), "::1");
  EXPECT_EQ(ip_to_string(v6("2001:db8::7")), "2001:db8::7");
  // An IPv4 client on a dual-stack socket reads as plain IPv4.
  EXPECT_EQ(ip_to_string(v6("::ffff:192.0.2.33")), "192.0.2.33");
  sockaddr_storage unknown{};
  unknown.ss_family = AF_UNIX;
  EXPECT_EQ(ip_to_string(unknown), "");
}

}  // namespace
}  // namespace torii::net
