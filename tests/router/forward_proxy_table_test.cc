#include "router/forward_proxy_table.h"

#include <gtest/gtest.h>

namespace torii::router {
namespace {

TEST(SplitAuthority, HostAndPort) {
  struct Case {
    std::string_view authority;
    uint32_t default_port;
    bool ok;
    std::string_view host;  // checked when ok
    uint32_t port;
  };
  const Case cases[] = {
      {"a.com", 80, true, "a.com", 80},
      {"a.com:8080", 80, true, "a.com", 8080},
      {"a.com:", 443, true, "a.com", 443},  // empty port: the default (RFC 3986 3.2.3)
      {"[::1]:9000", 80, true, "[::1]", 9000},
      {"::1", 80, true, "::1", 80},  // bare IPv6: no port
      {"[::1]", 443, true, "[::1]", 443},
      {"[::1]:", 443, true, "[::1]", 443},
      {"a.com:0", 80, false, {}, 0},
      {"a.com:65536", 80, false, {}, 0},
      {"a.com:8o", 80, false, {}, 0},
      {":80", 80, false, {}, 0},
      {"[::1", 80, false, {}, 0},
      {"[]:443", 80, false, {}, 0},
      {"[]", 80, false, {}, 0},
      {"[::1]x80", 80, false, {}, 0},
  };
  for (const Case& c : cases) {
    std::string_view host;
    uint32_t port = 0;
    ASSERT_EQ(split_authority(c.authority, c.default_port, host, port), c.ok) << c.authority;
    if (!c.ok) continue;
    EXPECT_EQ(host, c.host) << c.authority;
    EXPECT_EQ(port, c.port) << c.authority;
  }
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
