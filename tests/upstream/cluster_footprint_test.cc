// What each compiled cluster and endpoint holds (issue 17: 10,000 services
// in <= 100 MiB). Every cluster of a snapshot is one ClusterInfo with its
// endpoints in a vector; the sizes are printed and bounded so a member added
// to either shows up here first.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstdio>

#include "upstream/cluster_info.h"

namespace torii::upstream {
namespace {

TEST(ClusterFootprint, PrintsAndBoundsClusterAndEndpoint) {
  std::printf("sizeof Endpoint      %zu\n", sizeof(Endpoint));
  std::printf("sizeof ClusterInfo   %zu\n", sizeof(ClusterInfo));
  std::printf("sizeof ClusterPolicy %zu\n", sizeof(ClusterPolicy));
  // jemalloc size class 224 (was 336, class 384, with a sockaddr_storage).
  EXPECT_LE(sizeof(Endpoint), 224u);
  EXPECT_LE(sizeof(EndpointSockaddr), sizeof(sockaddr_in6));
  // Class 192 (was 624, class 640, with the 464-byte ClusterPolicy inline
  // rather than shared between the clusters that have the same one).
  EXPECT_LE(sizeof(ClusterInfo), 192u);
}

TEST(ClusterFootprint, EqualPoliciesAreSharedAndWritesCopy) {
  ClusterInfo a;
  ClusterInfo b;
  ClusterInfo c;
  EXPECT_EQ(&*a.policy, &*b.policy);  // the default, not allocated per cluster
  a.policy.write().lb = LbPolicy::RoundRobin;
  b.policy.write().lb = LbPolicy::RoundRobin;
  c.policy.write().lb = LbPolicy::Random;
  EXPECT_NE(&*a.policy, &*b.policy);  // each built its own
  a.policy.share();
  b.policy.share();
  c.policy.share();
  EXPECT_EQ(&*a.policy, &*b.policy);
  EXPECT_NE(&*a.policy, &*c.policy);
  EXPECT_EQ(c.policy->lb, LbPolicy::Random);

  // Writing to a shared policy changes this cluster's copy only.
  b.policy.write().limits.max_connections = 7;
  EXPECT_NE(&*a.policy, &*b.policy);
  EXPECT_EQ(a.policy->limits.max_connections, kUnlimited);
  EXPECT_EQ(b.policy->limits.max_connections, 7u);

  // A copied cluster shares the policy until it writes.
  ClusterInfo d = a;
  EXPECT_EQ(&*d.policy, &*a.policy);
  d.policy.write().lb = LbPolicy::LeastRequest;
  EXPECT_EQ(a.policy->lb, LbPolicy::RoundRobin);
  EXPECT_EQ(d.policy->lb, LbPolicy::LeastRequest);
}

TEST(ClusterFootprint, EndpointSockaddrHoldsBothFamilies) {
  Endpoint v4;
  v4.address = "10.1.2.3";
  v4.port = 8080;
  ASSERT_TRUE(resolve_numeric(v4));
  EXPECT_EQ(v4.sockaddr.v4.sin_family, AF_INET);
  EXPECT_EQ(ntohs(v4.sockaddr.v4.sin_port), 8080);
  EXPECT_EQ(v4.sockaddr_len, sizeof(sockaddr_in));

  Endpoint v6;
  v6.address = "fd00::1";
  v6.port = 443;
  ASSERT_TRUE(resolve_numeric(v6));
  EXPECT_EQ(v6.sockaddr.v6.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(v6.sockaddr.v6.sin6_port), 443);
  EXPECT_EQ(v6.sockaddr_len, sizeof(sockaddr_in6));

  Endpoint name;
  name.address = "not-an-ip";
  EXPECT_FALSE(resolve_numeric(name));
  EXPECT_EQ(name.sockaddr_len, 0u);
}

}  // namespace
}  // namespace torii::upstream
