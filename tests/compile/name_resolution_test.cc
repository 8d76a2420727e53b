// Short-name (§1.2) and gateway-name (§1.3) resolution.
#include "compile/name_resolution.h"

#include <gtest/gtest.h>

namespace torii::compile {
namespace {

TEST(ShortName, DotFreeNamesExpandWithTheRuleNamespace) {
  EXPECT_EQ(resolve_short_name("reviews", "a", "cluster.local"), "reviews.a.svc.cluster.local");
  EXPECT_EQ(resolve_short_name("reviews", "a", "corp.example"), "reviews.a.svc.corp.example");
}

TEST(ShortName, WildcardIpAndDottedNamesAreUnchanged) {
  EXPECT_EQ(resolve_short_name("*", "a", "cluster.local"), "*");
  EXPECT_EQ(resolve_short_name("10.0.0.1", "a", "cluster.local"), "10.0.0.1");
  EXPECT_EQ(resolve_short_name("::1", "a", "cluster.local"), "::1");
  EXPECT_EQ(resolve_short_name("fe80::1", "a", "cluster.local"), "fe80::1");
  EXPECT_EQ(resolve_short_name("*.foo.com", "a", "cluster.local"), "*.foo.com");
  // §1.2 consequence: `httpbin.default` is NOT expanded (and then matches nothing).
  EXPECT_EQ(resolve_short_name("httpbin.default", "a", "cluster.local"), "httpbin.default");
  EXPECT_EQ(resolve_short_name("httpbin.default.svc.cluster.local", "a", "cluster.local"),
            "httpbin.default.svc.cluster.local");
}

TEST(ShortName, IsIpAddress) {
  EXPECT_TRUE(is_ip_address("192.168.1.1"));
  EXPECT_TRUE(is_ip_address("2001:db8::1"));
  EXPECT_FALSE(is_ip_address("[::1]"));
  EXPECT_FALSE(is_ip_address("example.com"));
  EXPECT_FALSE(is_ip_address("1.2.3"));
  EXPECT_FALSE(is_ip_address(""));
}

TEST(GatewayName, Forms) {
  EXPECT_EQ(resolve_gateway_name("mesh", "app"), "mesh");
  EXPECT_EQ(resolve_gateway_name("my-gw", "app"), "app/my-gw");
  EXPECT_EQ(resolve_gateway_name("./my-gw", "app"), "app/my-gw");
  EXPECT_EQ(resolve_gateway_name("istio-system/my-gw", "app"), "istio-system/my-gw");
  // Legacy FQDN forms.
  EXPECT_EQ(resolve_gateway_name("my-gw.istio-system.svc.cluster.local", "app"), "istio-system/my-gw");
  EXPECT_EQ(resolve_gateway_name("my-gw.istio-system", "app"), "istio-system/my-gw");
}

TEST(ServiceHostname, Builds) {
  EXPECT_EQ(service_hostname("httpbin", "default", "cluster.local"), "httpbin.default.svc.cluster.local");
}

}  // namespace
}  // namespace torii::compile
