// VirtualService attachment and order (§0.3, §1.3, §3.1).
#include "compile/vs_ordering.h"

#include <gtest/gtest.h>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using testing::Resources;

std::vector<std::string> names(const std::vector<const config::VirtualService*>& list) {
  std::vector<std::string> out;
  for (const auto* vs : list) out.push_back(vs->meta.namespace_ + "/" + vs->meta.name);
  return out;
}

TEST(AttachmentGateways, EmptyMeansMeshOnly) {
  Resources r;
  auto& vs = r.virtual_service("app", "vs", {"a.com"}, {}, {});
  EXPECT_EQ(attachment_gateways(vs), (std::vector<std::string>{"mesh"}));
}

TEST(AttachmentGateways, ResolvesAndAddsMatchGateways) {
  Resources r;
  config::HTTPMatchRequest m;
  m.gateways = {"istio-system/other", "gw"};
  auto& vs =
      r.virtual_service("app", "vs", {"a.com"}, {"gw", "mesh"}, {testing::rule({m}, {testing::dest("x")})});
  EXPECT_EQ(attachment_gateways(vs), (std::vector<std::string>{"app/gw", "mesh", "istio-system/other"}));
}

TEST(AttachmentGateways, MatchGatewaysIgnoredWhenTopLevelEmpty) {
  // istiod getGatewayNames returns [mesh] straight away for an empty list.
  Resources r;
  config::HTTPMatchRequest m;
  m.gateways = {"istio-system/gw"};
  auto& vs = r.virtual_service("app", "vs", {"a.com"}, {}, {testing::rule({m}, {testing::dest("x")})});
  EXPECT_EQ(attachment_gateways(vs), (std::vector<std::string>{"mesh"}));
}

TEST(VirtualServiceIndex, BucketsPrivateThenExportedThenPublic) {
  Resources r;
  // Created in this order; the index must reorder by bucket.
  r.virtual_service("app", "public-old", {"a.com"}, {"istio-system/gw"}, {});
  auto& exported = r.virtual_service("app", "exported", {"a.com"}, {"istio-system/gw"}, {});
  exported.export_to = {"istio-system"};
  auto& priv = r.virtual_service("istio-system", "private", {"a.com"}, {"gw"}, {});
  priv.export_to = {"."};
  auto& priv_by_name = r.virtual_service("istio-system", "private-by-name", {"a.com"}, {"gw"}, {});
  priv_by_name.export_to = {"istio-system"};
  r.virtual_service("app", "public-new", {"a.com"}, {"istio-system/gw"}, {});

  VirtualServiceIndex index(r.set.virtual_services, "istio-system");
  EXPECT_EQ(names(index.for_gateway("istio-system/gw")),
            (std::vector<std::string>{"istio-system/private", "istio-system/private-by-name", "app/exported",
                                      "app/public-old", "app/public-new"}));
}

TEST(VirtualServiceIndex, ExportToDotInOtherNamespaceIsNotAttached) {
  // Appendix B.5: VS in `app` exported to `.`; gateway pod in istio-system.
  Resources r;
  auto& vs = r.virtual_service("app", "vs", {"a.com"}, {"istio-system/gw"}, {});
  vs.export_to = {"."};
  auto& hidden = r.virtual_service("app", "hidden", {"a.com"}, {"istio-system/gw"}, {});
  hidden.export_to = {"~"};
  auto& elsewhere = r.virtual_service("app", "elsewhere", {"a.com"}, {"istio-system/gw"}, {});
  elsewhere.export_to = {"other-ns"};
  VirtualServiceIndex index(r.set.virtual_services, "istio-system");
  EXPECT_TRUE(index.for_gateway("istio-system/gw").empty());
}

TEST(VirtualServiceIndex, CreationTimeThenNameThenNamespace) {
  Resources r;
  auto& b = r.virtual_service("ns1", "b", {"a.com"}, {"istio-system/gw"}, {});
  b.meta.creation_timestamp = "2024-01-01T00:00:00Z";
  auto& a2 = r.virtual_service("ns2", "a", {"a.com"}, {"istio-system/gw"}, {});
  a2.meta.creation_timestamp = "2024-01-01T00:00:00Z";
  auto& a1 = r.virtual_service("ns1", "a", {"a.com"}, {"istio-system/gw"}, {});
  a1.meta.creation_timestamp = "2024-01-01T00:00:00Z";
  auto& oldest = r.virtual_service("ns9", "z", {"a.com"}, {"istio-system/gw"}, {});
  oldest.meta.creation_timestamp = "2023-06-01T00:00:00Z";
  VirtualServiceIndex index(r.set.virtual_services, "istio-system");
  EXPECT_EQ(names(index.for_gateway("istio-system/gw")),
            (std::vector<std::string>{"ns9/z", "ns1/a", "ns2/a", "ns1/b"}));
}

TEST(VirtualServiceIndex, GatewayReferenceForms) {
  Resources r;
  r.virtual_service("istio-system", "short", {"a.com"}, {"gw"}, {});
  r.virtual_service("istio-system", "dot", {"a.com"}, {"./gw"}, {});
  r.virtual_service("app", "qualified", {"a.com"}, {"istio-system/gw"}, {});
  r.virtual_service("app", "legacy", {"a.com"}, {"gw.istio-system.svc.cluster.local"}, {});
  r.virtual_service("app", "wrong-ns", {"a.com"}, {"gw"}, {});  // => app/gw
  r.virtual_service("app", "mesh-only", {"a.com"}, {}, {});
  r.virtual_service("app", "delegate", {}, {"istio-system/gw"}, {});  // no hosts: delegate
  VirtualServiceIndex index(r.set.virtual_services, "istio-system");
  EXPECT_EQ(
      names(index.for_gateway("istio-system/gw")),
      (std::vector<std::string>{"istio-system/short", "istio-system/dot", "app/qualified", "app/legacy"}));
  EXPECT_EQ(names(index.for_gateway("app/gw")), (std::vector<std::string>{"app/wrong-ns"}));
  EXPECT_TRUE(index.for_gateway("mesh").empty());
}

}  // namespace
}  // namespace torii::compile
