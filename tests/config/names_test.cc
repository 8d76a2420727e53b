#include "config/names.h"

#include <gtest/gtest.h>

namespace torii::config {
namespace {

TEST(NamesTest, Dns1123Label) {
  EXPECT_TRUE(is_dns1123_label("a"));
  EXPECT_TRUE(is_dns1123_label("my-gateway-1"));
  EXPECT_TRUE(is_dns1123_label("MyGateway"));  // istiod accepts upper case
  EXPECT_FALSE(is_dns1123_label(""));
  EXPECT_FALSE(is_dns1123_label("-a"));
  EXPECT_FALSE(is_dns1123_label("a-"));
  EXPECT_FALSE(is_dns1123_label("a.b"));
  EXPECT_FALSE(is_dns1123_label("a_b"));
  EXPECT_TRUE(is_dns1123_label(std::string(63, 'a')));
  EXPECT_FALSE(is_dns1123_label(std::string(64, 'a')));
}

TEST(NamesTest, WildcardLabel) {
  EXPECT_TRUE(is_wildcard_dns1123_label("*"));
  EXPECT_TRUE(is_wildcard_dns1123_label("*foo"));
  EXPECT_TRUE(is_wildcard_dns1123_label("*-foo"));
  EXPECT_TRUE(is_wildcard_dns1123_label("foo"));
  EXPECT_FALSE(is_wildcard_dns1123_label("foo*"));
  EXPECT_FALSE(is_wildcard_dns1123_label("**"));
}

TEST(NamesTest, IpAddresses) {
  EXPECT_TRUE(is_ip_address("10.0.0.1"));
  EXPECT_TRUE(is_ip_address("::1"));
  EXPECT_TRUE(is_ip_address("2001:db8::1"));
  EXPECT_FALSE(is_ip_address("10.0.0"));
  EXPECT_FALSE(is_ip_address("10.0.0.256"));
  EXPECT_FALSE(is_ip_address("example.com"));
  EXPECT_FALSE(is_ip_address(""));
}

TEST(NamesTest, WildcardDomain) {
  EXPECT_EQ(check_wildcard_domain("*"), "");
  EXPECT_EQ(check_wildcard_domain("*.example.com"), "");
  EXPECT_EQ(check_wildcard_domain("reviews"), "");
  EXPECT_EQ(check_wildcard_domain("example.com."), "");
  EXPECT_EQ(check_wildcard_domain(""), "empty domain name not allowed");
  EXPECT_EQ(check_wildcard_domain("a.*.com"), "domain name \"*.com\" invalid (label \"*\" invalid)");
  EXPECT_EQ(check_wildcard_domain("foo.123"),
            "domain name \"123\" invalid (top level domain \"123\" cannot be all-numeric)");
  EXPECT_NE(check_wildcard_domain(std::string(256, 'a')), "");
}

TEST(NamesTest, Fqdn) {
  EXPECT_EQ(check_fqdn("a.example.com"), "");
  EXPECT_NE(check_fqdn("*.example.com"), "");
  EXPECT_NE(check_fqdn("10.0.0.1"), "");  // numeric top-level domain
}

TEST(NamesTest, PartialWildcard) {
  EXPECT_EQ(check_partial_wildcard("*"), "");
  EXPECT_EQ(check_partial_wildcard("*.a.com"), "");
  EXPECT_EQ(check_partial_wildcard("a.com"), "");
  EXPECT_EQ(check_partial_wildcard("*a.com"), "partial wildcard \"*a.com\" not allowed");
}

TEST(NamesTest, Subnets) {
  EXPECT_EQ(check_ip_subnet("10.0.0.0/8"), "");
  EXPECT_EQ(check_ip_subnet("2001:db8::/32"), "");
  EXPECT_EQ(check_ip_subnet("10.0.0.1"), "");
  EXPECT_NE(check_ip_subnet("10.0.0.0/33"), "");
  EXPECT_NE(check_ip_subnet("10.0.0.0/"), "");
  EXPECT_NE(check_ip_subnet("foo/8"), "");
}

TEST(NamesTest, Labels) {
  EXPECT_TRUE(check_labels({{"app", "web"}, {"app.kubernetes.io/name", "x"}, {"empty", ""}}).empty());
  EXPECT_EQ(check_labels({{"bad key", "v"}}).size(), 1u);
  EXPECT_EQ(check_labels({{"k", "-v"}}).size(), 1u);
  EXPECT_EQ(check_labels({{"a/b/c", "v"}}).size(), 1u);
  // istiod labels.Instance.Validate: values of any length; the key's name at most 63.
  EXPECT_TRUE(check_labels({{"k", std::string(64, 'v')}}).empty());
  EXPECT_EQ(check_labels({{std::string(64, 'k'), "v"}}).size(), 1u);
}

TEST(NamesTest, HttpToken) {
  EXPECT_TRUE(is_http_token("x-user"));
  EXPECT_TRUE(is_http_token("x_weird!#$%&'*+-.^_`|~09AZaz"));
  EXPECT_FALSE(is_http_token(""));
  for (const char* bad : {"x y", "x:y", "x@y", "x/y", "x\"y", "(x)", "x,y", ":path", "x\ty", "\xc3\xa9"})
    EXPECT_FALSE(is_http_token(bad)) << bad;
}

TEST(NamesTest, GatewayBoundDomain) {
  EXPECT_EQ(check_gateway_bound_domain(true, "outbound_.80_._.e2e.foobar.mesh"), "");
  EXPECT_EQ(check_gateway_bound_domain(false, "a.example.com"), "");
  EXPECT_NE(check_gateway_bound_domain(false, "outbound_.80_._.e2e.foobar.mesh"), "");  // no sniHosts
  EXPECT_NE(check_gateway_bound_domain(true, "outbound_.80_.x"), "");                   // too few parts
  EXPECT_NE(check_gateway_bound_domain(true, "outbound_.http_._.a.com"), "");           // no port digits
  EXPECT_NE(check_gateway_bound_domain(true, "outbound_.80_._.123"), "");               // no host letters
}

TEST(NamesTest, HostsOverlap) {
  EXPECT_TRUE(hosts_overlap("a.com", "a.com"));
  EXPECT_FALSE(hosts_overlap("a.com", "b.com"));
  EXPECT_TRUE(hosts_overlap("*.com", "a.com"));
  EXPECT_TRUE(hosts_overlap("a.foo.com", "*.foo.com"));
  EXPECT_FALSE(hosts_overlap("*.foo.com", "foo.com"));
  EXPECT_TRUE(hosts_overlap("*.foo.com", "*.com"));
  EXPECT_TRUE(hosts_overlap("*", "anything"));
}

}  // namespace
}  // namespace torii::config
