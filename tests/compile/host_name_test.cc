// Host-name algebra, ISTIO_SEMANTICS §1.1 (pkg/config/host/name.go).
#include "compile/host_name.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace torii::compile::host {
namespace {

TEST(HostName, IsWildcard) {
  EXPECT_TRUE(is_wildcard("*"));
  EXPECT_TRUE(is_wildcard("*.foo.com"));
  EXPECT_FALSE(is_wildcard("foo.com"));
  EXPECT_FALSE(is_wildcard(""));
}

struct PairCase {
  const char* a;
  const char* b;
  bool expected;
};

TEST(HostName, MatchesIsSymmetricOverlap) {
  const PairCase cases[] = {
      {"foo.com", "foo.com", true},
      {"foo.com", "bar.com", false},
      {"*.com", "foo.com", true},
      {"*", "foo.com", true},
      {"*", "*", true},
      {"*", "*.foo.com", true},
      {"*.foo.com", "foo.com", false},  // §1.1: the wildcard needs at least one label
      {"*.foo.com", "a.foo.com", true},
      {"*.foo.com", "a.b.foo.com", true},  // any depth
      {"*.foo.com", "*.com", true},        // one suffix ends with the other
      {"*.foo.com", "*.bar.com", false},
      {"*.foo.com", "*.a.foo.com", true},
      {"FOO.com", "foo.COM", true},  // case-insensitive
      {"*.Foo.com", "a.foo.COM", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(matches(c.a, c.b), c.expected) << c.a << " ~ " << c.b;
    EXPECT_EQ(matches(c.b, c.a), c.expected) << c.b << " ~ " << c.a << " (symmetric)";
  }
}

TEST(HostName, SubsetOfIsDirectional) {
  const PairCase cases[] = {
      {"a.foo.com", "*.foo.com", true},   {"*.foo.com", "a.foo.com", false},
      {"*.a.foo.com", "*.foo.com", true}, {"*.foo.com", "*.a.foo.com", false},
      {"foo.com", "*.foo.com", false},    {"anything.io", "*", true},
      {"*.foo.com", "*", true},           {"*", "*.foo.com", false},
      {"a.com", "a.com", true},           {"A.com", "a.COM", true},
  };
  for (const auto& c : cases) EXPECT_EQ(subset_of(c.a, c.b), c.expected) << c.a << " <= " << c.b;
}

TEST(HostName, IntersectionKeepsTheMoreSpecificSide) {
  // §0.4 examples.
  EXPECT_EQ(intersection({"*.foo.com"}, {"a.foo.com"}), (Names{"a.foo.com"}));
  EXPECT_EQ(intersection({"a.foo.com"}, {"*"}), (Names{"a.foo.com"}));
  EXPECT_EQ(intersection({"*"}, {"*.foo.com"}), (Names{"*.foo.com"}));
  EXPECT_EQ(intersection({"*"}, {"*"}), (Names{"*"}));
  // Server with several hosts, VS wildcard.
  EXPECT_EQ(intersection({"a.foo.com", "b.foo.com", "c.bar.com"}, {"*.foo.com"}),
            (Names{"a.foo.com", "b.foo.com"}));
  // No overlap; and `*.foo.com` does not admit `foo.com`.
  EXPECT_TRUE(intersection({"*.foo.com"}, {"foo.com"}).empty());
  EXPECT_TRUE(intersection({"a.com"}, {"b.com"}).empty());
  // No duplicates.
  EXPECT_EQ(intersection({"*", "*.foo.com"}, {"a.foo.com"}), (Names{"a.foo.com"}));
  // Keeps the spelling of the side it came from; matching ignores case.
  EXPECT_EQ(intersection({"*.Foo.com"}, {"A.foo.com"}), (Names{"A.foo.com"}));
}

TEST(HostName, MoreSpecificOrdering) {
  Names names{"*", "*.com", "b.foo.com", "*.foo.com", "a.foo.com", "foo.com"};
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return more_specific(a, b); });
  // Plain names first (longer first, then lexicographic), then wildcards (longer first).
  EXPECT_EQ(names, (Names{"a.foo.com", "b.foo.com", "foo.com", "*.foo.com", "*.com", "*"}));
}

TEST(HostName, SanitizeServerHosts) {
  // mergeGateways sanitizeServerHostNamespace (§0.2).
  EXPECT_EQ(sanitize_server_hosts({"./a.com", "*/b.com", "ns1/c.com", "d.com"}, "gw-ns"),
            (Names{"gw-ns/a.com", "b.com", "ns1/c.com", "d.com"}));
  EXPECT_EQ(sanitize_server_hosts({"ns1/a.com", "*/*"}, "gw-ns"), (Names{"*"}));
}

TEST(HostName, NamesForNamespace) {
  // host.NamesForNamespace doc example.
  Names hosts{"ns1/foo.com", "*/bar.com", "ns2/bar.com", "baz.com"};
  EXPECT_EQ(names_for_namespace(hosts, "ns1"), (Names{"foo.com", "bar.com", "baz.com"}));
  EXPECT_EQ(names_for_namespace(hosts, "ns2"), (Names{"bar.com", "bar.com", "baz.com"}));
  EXPECT_EQ(names_for_namespace(hosts, "other"), (Names{"bar.com", "baz.com"}));
  // Appendix B.4: `ns1/*` admits nothing from ns2.
  EXPECT_TRUE(names_for_namespace({"ns1/*"}, "ns2").empty());
}

TEST(HostName, StripNamespace) {
  EXPECT_EQ(strip_namespace("ns1/a.com"), "a.com");
  EXPECT_EQ(strip_namespace("a.com"), "a.com");
}

TEST(HostName, MostSpecificMatch) {
  Names candidates{"*", "*.svc.cluster.local", "reviews.default.svc.cluster.local",
                   "*.default.svc.cluster.local"};
  EXPECT_EQ(most_specific_match("reviews.default.svc.cluster.local", candidates), 2);
  EXPECT_EQ(most_specific_match("ratings.default.svc.cluster.local", candidates), 3);
  EXPECT_EQ(most_specific_match("ratings.other.svc.cluster.local", candidates), 1);
  EXPECT_EQ(most_specific_match("example.com", candidates), 0);
  EXPECT_EQ(most_specific_match("example.com", Names{"a.com"}), -1);
  EXPECT_EQ(most_specific_match("REVIEWS.default.svc.cluster.local", candidates), 2);
}

}  // namespace
}  // namespace torii::compile::host
