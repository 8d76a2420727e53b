#include "router/forward_proxy_table.h"

#include <gtest/gtest.h>

namespace torii::router {
namespace {

TEST(SplitAuthority, HostAndPort) {
  std::string_view host;
  uint32_t port = 0;
  EXPECT_TRUE(split_authority("a.com", 80, host, port));
  EXPECT_EQ(host, "a.com");
  EXPECT_EQ(port, 80u);
  EXPECT_TRUE(split_authority("a.com:8080", 80, host, port));
  EXPECT_EQ(host, "a.com");
  EXPECT_EQ(port, 8080u);
  EXPECT_TRUE(split_authority("a.com:", 443, host, port));
  EXPECT_EQ(port, 443u);
  EXPECT_TRUE(split_authority("[::1]:9000", 80, host, port));
  EXPECT_EQ(host, "[::1]");
  EXPECT_EQ(port, 9000u);
  EXPECT_TRUE(split_authority("::1", 80, host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 80u);
  EXPECT_FALSE(split_authority("a.com:0", 80, host, port));
  EXPECT_FALSE(split_authority("a.com:65536", 80, host, port));
  EXPECT_FALSE(split_authority("a.com:8o", 80, host, port));
  EXPECT_FALSE(split_authority(":80", 80, host, port));
  EXPECT_FALSE(split_authority("[::1", 80, host, port));
  EXPECT_FALSE(split_authority("[]:443", 80, host, port));
  EXPECT_FALSE(split_authority("[]", 80, host, port));
  EXPECT_FALSE(split_authority("[::1]x80", 80, host, port));
  EXPECT_TRUE(split_authority("[::1]", 443, host, port));
  EXPECT_EQ(host, "[::1]");
  EXPECT_EQ(port, 443u);
  EXPECT_TRUE(split_authority("[::1]:", 443, host, port));
  EXPECT_EQ(host, "[::1]");
  EXPECT_EQ(port, 443u);
}

TEST(ForwardProxyTable, PortThenHost) {
  ForwardProxyTable table;
  table.table_for_port(80).add_virtual_host("a.com");
  table.table_for_port(80).add_virtual_host("*.b.com");
  table.table_for_port(8080).add_virtual_host("a.com");
  table.finalize();
  ASSERT_NE(table.find("a.com", 80), nullptr);
  EXPECT_EQ(table.find("a.com", 80)->domain, "a.com");
  EXPECT_EQ(table.find("A.COM:8080", 80)->domain, "a.com");
  EXPECT_EQ(table.find("x.b.com", 80)->domain, "*.b.com");
  EXPECT_EQ(table.find("b.com", 80), nullptr);
  EXPECT_EQ(table.find("x.b.com:8080", 80), nullptr);
  EXPECT_EQ(table.find("a.com:9090", 80), nullptr);
  EXPECT_EQ(table.find("a.com", 443), nullptr);  // https default port, no table
}

TEST(ForwardProxyTable, NeverACatchAll) {
  ForwardProxyTable table;
  table.table_for_port(80).add_virtual_host("*");
  table.finalize();
  EXPECT_EQ(table.find("anything.com", 80), nullptr);
}

}  // namespace
}  // namespace torii::router
