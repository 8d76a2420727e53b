// The loader: files and documents, the Kubernetes envelope, every kind, List,
// Endpoints conversion, skipped kinds, duplicates and error reporting.
#include "config/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::load;
using testing::load_istio;
using testing::no_errors;

const std::string kTestData = std::string(TORII_SOURCE_DIR) + "/tests/config/testdata";

TEST(LoaderTest, HttpbinExample) {
  const LoadResult r =
      load_paths({kTestData + "/httpbin.yaml"}, LoadOptions{.default_namespace = "bookinfo"});
  ASSERT_TRUE(no_errors(r));

  ASSERT_EQ(r.resources().services.size(), 1u);
  const Service svc = r.resources().services[0];
  EXPECT_EQ(svc.meta.name, "httpbin");
  EXPECT_EQ(svc.meta.namespace_, "bookinfo");
  EXPECT_EQ(svc.meta.labels.at("service"), "httpbin");
  ASSERT_TRUE(svc.selector.has_value());
  EXPECT_EQ(svc.selector->at("app"), "httpbin");
  ASSERT_EQ(svc.ports.size(), 1u);
  EXPECT_EQ(svc.ports[0].name, "http");
  EXPECT_EQ(svc.ports[0].port, 8000u);
  EXPECT_EQ(svc.ports[0].target_port, 80u);
  EXPECT_EQ(svc.ports[0].protocol, "TCP");
  EXPECT_EQ(svc.type, "ClusterIP");

  ASSERT_EQ(r.resources().gateways.size(), 1u);
  const Gateway gw = r.resources().gateways[0];
  EXPECT_EQ(gw.meta.name, "httpbin-gateway");
  EXPECT_EQ(gw.selector.at("istio"), "ingressgateway");
  ASSERT_EQ(gw.servers.size(), 1u);
  EXPECT_EQ(gw.servers[0].port.number, 80u);
  EXPECT_EQ(gw.servers[0].port.protocol, "HTTP");
  EXPECT_EQ(gw.servers[0].hosts, (std::vector<std::string>{"httpbin.s1.whuanle.cn", "*"}));

  ASSERT_EQ(r.resources().virtual_services.size(), 1u);
  const VirtualService vs = r.resources().virtual_services[0];
  EXPECT_EQ(vs.hosts, std::vector<std::string>{"*"});
  EXPECT_EQ(vs.gateways, std::vector<std::string>{"httpbin-gateway"});
  ASSERT_EQ(vs.http.size(), 1u);
  ASSERT_EQ(vs.http[0].match.size(), 2u);
  EXPECT_EQ(vs.http[0].match[1].uri->kind, StringMatch::Kind::Prefix);
  EXPECT_EQ(vs.http[0].match[1].uri->value, "/delay");
  EXPECT_EQ(vs.http[0].route[0].destination.host, "httpbin");
  EXPECT_EQ(vs.http[0].route[0].destination.port.number, 8000u);

  ASSERT_EQ(r.resources().destination_rules.size(), 1u);
  EXPECT_EQ(r.resources().destination_rules[0].subsets[0].labels.at("version"), "v1");

  // ServiceAccount and Deployment: one notice each.
  int notices = 0;
  for (const Diagnostic& d : r.diagnostics) {
    if (d.severity != Diagnostic::Severity::Notice) continue;
    ++notices;
    EXPECT_TRUE(d.message == "skipped 1 object(s) of kind ServiceAccount (not used by a gateway)" ||
                d.message == "skipped 1 object(s) of kind Deployment (not used by a gateway)")
        << d.message;
  }
  EXPECT_EQ(notices, 2);
  EXPECT_EQ(r.objects.size(), 4u);
}

TEST(LoaderTest, SourceLinesAndLoadOrder) {
  const LoadResult r = load_paths({kTestData + "/httpbin.yaml"}, LoadOptions{});
  ASSERT_TRUE(no_errors(r));
  const Service svc = r.resources().services[0];
  EXPECT_EQ(svc.meta.source.file, kTestData + "/httpbin.yaml");
  EXPECT_EQ(svc.meta.source.line, 8);  // its `apiVersion:` line
  const VirtualService vs = r.resources().virtual_services[0];
  EXPECT_EQ(vs.meta.source.line, 63);
  EXPECT_EQ(vs.http[0].source.line, 73);
  EXPECT_EQ(vs.http[0].match[1].source.line, 76);
  EXPECT_EQ(r.resources().gateways[0].servers[0].source.line, 55);
  EXPECT_LT(svc.meta.load_order, r.resources().gateways[0].meta.load_order);
  EXPECT_LT(r.resources().gateways[0].meta.load_order, vs.meta.load_order);
  EXPECT_LT(vs.meta.load_order, r.resources().destination_rules[0].meta.load_order);
}

TEST(LoaderTest, ApiVersionsOfNetworkingAreTheSameSchema) {
  for (const char* version : {"v1alpha3", "v1beta1", "v1"}) {
    const LoadResult r = load(
        testing::object(std::string("networking.istio.io/") + version, "DestinationRule", "host: reviews\n"));
    ASSERT_TRUE(no_errors(r)) << version;
    ASSERT_EQ(r.resources().destination_rules.size(), 1u) << version;
  }
}

TEST(LoaderTest, GatewayApiGatewayIsNotMistakenForIstio) {
  // Same name, two groups: two objects of two kinds (docs/gateway-api.md).
  const LoadResult r = load(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
)");
  ASSERT_TRUE(no_errors(r)) << testing::dump(r.diagnostics);
  ASSERT_EQ(r.resources().gateways.size(), 1u);
  ASSERT_EQ(r.resources().k8s_gateways.size(), 1u);
  EXPECT_EQ(r.resources().k8s_gateways[0].gateway_class_name, "istio");
  ASSERT_EQ(r.objects.size(), 2u);
  EXPECT_NE(r.objects[0].key.kind, r.objects[1].key.kind);
}

TEST(LoaderTest, OneNoticePerSkippedKind) {
  const LoadResult r = load(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
)");
  ASSERT_EQ(r.diagnostics.size(), 2u);
  EXPECT_EQ(r.diagnostics[0].severity, Diagnostic::Severity::Notice);
  EXPECT_EQ(r.diagnostics[0].message, "skipped 2 object(s) of kind Deployment (not used by a gateway)");
  EXPECT_EQ(r.diagnostics[1].message, "skipped 1 object(s) of kind ConfigMap (not used by a gateway)");
  EXPECT_EQ(r.diagnostics[0].format(),
            "notice: skipped 2 object(s) of kind Deployment (not used by a gateway)");
}

TEST(LoaderTest, EmptyDocumentsAndCommentsAreIgnored) {
  const LoadResult r =
      load("---\n# just a comment\n---\n\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n");
  ASSERT_TRUE(no_errors(r));
  EXPECT_TRUE(r.diagnostics.empty()) << testing::dump(r.diagnostics);
  ASSERT_EQ(r.resources().namespaces.size(), 1u);
  EXPECT_EQ(r.resources().namespaces[0].meta.source.line, 6);
}

TEST(LoaderTest, DefaultNamespaceAppliesExceptToNamespaces) {
  const LoadResult r = load_string(R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: a}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: b, namespace: other}
spec: {host: b}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {team: x}}
)",
                                   "t.yaml", LoadOptions{.default_namespace = "prod"});
  ASSERT_TRUE(no_errors(r));
  EXPECT_EQ(r.resources().destination_rules[0].meta.namespace_, "prod");
  EXPECT_EQ(r.resources().destination_rules[1].meta.namespace_, "other");
  EXPECT_EQ(r.resources().namespaces[0].meta.namespace_, "");
  EXPECT_EQ(r.resources().namespaces[0].meta.labels.at("team"), "x");
  EXPECT_EQ(r.objects[2].key.str(), "Namespace other");
  EXPECT_EQ(r.objects[0].key.str(), "DestinationRule prod/a");
}

TEST(LoaderTest, MetadataFields) {
  const LoadResult r = load(R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: a
  labels: {app: a}
  annotations: {note: "hello"}
  creationTimestamp: "2024-01-02T03:04:05Z"
spec: {host: a}
)");
  ASSERT_TRUE(no_errors(r));
  const ObjectMeta meta = r.resources().destination_rules[0].meta;
  EXPECT_EQ(meta.labels.at("app"), "a");
  EXPECT_EQ(meta.annotations.at("note"), "hello");
  EXPECT_EQ(meta.creation_timestamp, "2024-01-02T03:04:05Z");
}

TEST(LoaderTest, NameIsRequired) {
  const LoadResult r =
      load("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  namespace: x\nspec: {}\n");
  EXPECT_TRUE(r.objects.empty());
  ASSERT_TRUE(has_error(r, "metadata.name", "name is required"));
  EXPECT_EQ(r.diagnostics[0].source.line, 3);  // the metadata line
  EXPECT_EQ(r.diagnostics[0].kind, "Gateway");
  // The object cannot be identified, so the Store must not treat it as deleted.
  EXPECT_EQ(r.unreadable_paths, std::vector<std::string>{"test.yaml"});
}

TEST(LoaderTest, DocumentThatIsNotAnObject) {
  const LoadResult r = load("- a\n- b\n---\nkind: Service\nmetadata: {name: x}\n");
  ASSERT_TRUE(has_error(r, "", "expected a Kubernetes object"));
  ASSERT_TRUE(has_error(r, "", "apiVersion and kind are required"));
  EXPECT_EQ(r.diagnostics[1].source.line, 4);
}

TEST(LoaderTest, ListIsFlattened) {
  const LoadResult r = load(R"(
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
  spec: {ports: [{port: 80}]}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: d}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: a}
    spec: {host: a}
)");
  ASSERT_TRUE(no_errors(r));
  ASSERT_EQ(r.resources().services.size(), 1u);
  ASSERT_EQ(r.resources().destination_rules.size(), 1u);
  EXPECT_EQ(r.resources().services[0].meta.source.line, 5);
  EXPECT_EQ(r.resources().destination_rules[0].meta.source.line, 15);
  EXPECT_LT(r.resources().services[0].meta.load_order, r.resources().destination_rules[0].meta.load_order);
  // Each item hashes on its own.
  EXPECT_NE(r.objects[0].content_hash, r.objects[1].content_hash);
}

TEST(LoaderTest, KindListFromKubectlGet) {
  const LoadResult r = load(R"(
apiVersion: networking.istio.io/v1
kind: VirtualServiceList
items:
- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: {name: a, namespace: x}
  spec:
    hosts: [a.example.com]
    gateways: [gw]
    http: [{route: [{destination: {host: a}}]}]
)");
  ASSERT_TRUE(no_errors(r));
  EXPECT_EQ(r.resources().virtual_services.size(), 1u);
}

TEST(LoaderTest, ServiceFields) {
  const LoadResult r = load(R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.0.0.10
  ports:
  - {name: http, protocol: tcp, appProtocol: http, port: 80, targetPort: web}
  - {name: grpc, port: 9090, targetPort: 9091}
  - {name: plain, port: 7000}
---
apiVersion: v1
kind: Service
metadata: {name: manual}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: empty-selector}
spec:
  selector: {}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  type: ExternalName
  externalName: example.com
)");
  ASSERT_TRUE(no_errors(r));
  ASSERT_EQ(r.resources().services.size(), 4u);
  const Service web = r.resources().services[0];
  EXPECT_EQ(web.type, "NodePort");
  EXPECT_EQ(web.cluster_ip, "10.0.0.10");
  EXPECT_FALSE(web.selector.has_value());
  EXPECT_EQ(web.ports[0].protocol, "TCP");
  EXPECT_EQ(web.ports[0].app_protocol, "http");
  EXPECT_EQ(web.ports[0].target_port, 0u);
  EXPECT_EQ(web.ports[0].target_port_name, "web");
  EXPECT_EQ(web.ports[1].target_port, 9091u);
  EXPECT_EQ(web.ports[2].target_port, 7000u);  // defaults to port, as the API server does
  EXPECT_FALSE(r.resources().services[1].selector.has_value());
  ASSERT_TRUE(r.resources().services[2].selector.has_value());
  EXPECT_TRUE(r.resources().services[2].selector->empty());
  EXPECT_EQ(r.resources().services[3].external_name, "example.com");
}

TEST(LoaderTest, PodFields) {
  const LoadResult r = load(R"(
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web, version: v2}}
spec:
  nodeName: node-a
  containers:
  - name: app
    ports:
    - {name: http, containerPort: 8080}
    - {containerPort: 9999}
  - name: sidecar
    ports: [{name: metrics, containerPort: 15090}]
status:
  podIP: 10.1.2.3
  conditions:
  - {type: PodScheduled, status: "True"}
  - {type: Ready, status: "False"}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2}
status:
  podIPs: [{ip: 10.1.2.4}]
)");
  ASSERT_TRUE(no_errors(r));
  ASSERT_EQ(r.resources().pods.size(), 2u);
  const Pod p = r.resources().pods[0];
  EXPECT_EQ(p.meta.labels.at("version"), "v2");
  EXPECT_EQ(p.pod_ip, "10.1.2.3");
  EXPECT_FALSE(p.ready);
  EXPECT_EQ(p.node_name, "node-a");
  EXPECT_EQ(p.container_ports, (std::map<std::string, uint32_t>{{"http", 8080}, {"metrics", 15090}}));
  EXPECT_EQ(r.resources().pods[1].pod_ip, "10.1.2.4");
  EXPECT_TRUE(r.resources().pods[1].ready);  // no Ready condition: ready
}

TEST(LoaderTest, EndpointsBecomeOneSlicePerSubset) {
  const LoadResult r = load(R"(
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: shop}
subsets:
- addresses:
  - ip: 10.0.0.1
    nodeName: n1
    targetRef: {kind: Pod, name: web-1, namespace: shop}
  - ip: 10.0.0.2
  notReadyAddresses:
  - ip: 10.0.0.3
  ports:
  - {name: http, port: 8080, protocol: TCP}
- addresses: [{ip: 10.0.1.1}]
  ports: [{name: admin, port: 9000}]
)");
  ASSERT_TRUE(no_errors(r));
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0].key.str(), "Endpoints shop/web");
  ASSERT_EQ(r.resources().endpoint_slices.size(), 2u);
  const EndpointSlice s = r.resources().endpoint_slices[0];
  EXPECT_TRUE(s.from_endpoints);
  EXPECT_EQ(s.service_name, "web");
  EXPECT_EQ(s.meta.name, "web");
  EXPECT_EQ(s.meta.namespace_, "shop");
  EXPECT_EQ(s.meta.labels.at("kubernetes.io/service-name"), "web");
  ASSERT_EQ(s.endpoints.size(), 3u);
  EXPECT_EQ(s.endpoints[0].addresses, std::vector<std::string>{"10.0.0.1"});
  EXPECT_TRUE(s.endpoints[0].ready);
  EXPECT_EQ(s.endpoints[0].node_name, "n1");
  ASSERT_TRUE(s.endpoints[0].target_ref.has_value());
  EXPECT_EQ(s.endpoints[0].target_ref->name, "web-1");
  EXPECT_FALSE(s.endpoints[2].ready);
  EXPECT_EQ(s.endpoints[2].addresses, std::vector<std::string>{"10.0.0.3"});
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0].name, "http");
  EXPECT_EQ(s.ports[0].port, 8080u);
  EXPECT_EQ(r.resources().endpoint_slices[1].ports[0].name, "admin");
}

TEST(LoaderTest, EndpointSliceFields) {
  const LoadResult r = load(R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: web-1}
  zone: us-east-1a
  nodeName: n1
- addresses: [10.0.0.2]
  conditions: {ready: false}
- addresses: [10.0.0.3]
ports:
- {name: http, port: 8080, protocol: TCP}
)");
  ASSERT_TRUE(no_errors(r));
  ASSERT_EQ(r.resources().endpoint_slices.size(), 1u);
  const EndpointSlice s = r.resources().endpoint_slices[0];
  EXPECT_FALSE(s.from_endpoints);
  EXPECT_EQ(s.service_name, "web");
  ASSERT_EQ(s.endpoints.size(), 3u);
  EXPECT_TRUE(s.endpoints[0].ready);
  EXPECT_EQ(s.endpoints[0].zone, "us-east-1a");
  EXPECT_EQ(s.endpoints[0].node_name, "n1");
  EXPECT_EQ(s.endpoints[0].target_ref->kind, "Pod");
  EXPECT_FALSE(s.endpoints[1].ready);
  EXPECT_TRUE(s.endpoints[2].ready);  // no conditions: ready
  EXPECT_EQ(s.ports[0].port, 8080u);
  EXPECT_EQ(r.objects[0].key.str(), "EndpointSlice default/web-abc");
}

TEST(LoaderTest, EndpointSliceWithoutServiceLabelWarns) {
  const LoadResult r =
      load("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\nendpoints: []\n");
  ASSERT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "metadata.labels", "no kubernetes.io/service-name label"));
  EXPECT_EQ(r.resources().endpoint_slices.size(), 1u);
}

TEST(LoaderTest, WorkloadEntryFields) {
  const LoadResult r = load(testing::object("networking.istio.io/v1beta1", "WorkloadEntry", R"(
address: 10.9.8.7
ports: {http: 8080}
labels: {app: legacy}
network: net1
locality: us-east/zone1
weight: 3
serviceAccount: legacy-sa
)"));
  ASSERT_TRUE(no_errors(r));
  const WorkloadEntry we = r.resources().workload_entries[0];
  EXPECT_EQ(we.address, "10.9.8.7");
  EXPECT_EQ(we.ports.at("http"), 8080u);
  EXPECT_EQ(we.labels.at("app"), "legacy");
  EXPECT_EQ(we.network, "net1");
  EXPECT_EQ(we.locality, "us-east/zone1");
  EXPECT_EQ(we.weight, 3u);
  EXPECT_EQ(we.service_account, "legacy-sa");
}

TEST(LoaderTest, ServiceEntryFields) {
  const LoadResult r = load(testing::object("networking.istio.io/v1", "ServiceEntry", R"(
hosts: [api.example.com]
addresses: [240.0.0.1]
ports:
- {number: 443, protocol: tls, name: tls, targetPort: 8443}
location: MESH_INTERNAL
resolution: static
endpoints:
- address: 10.0.0.1
  ports: {tls: 9443}
  labels: {zone: a}
  weight: 2
- address: 10.0.0.2
exportTo: ["."]
subjectAltNames: [spiffe://x]
)"));
  ASSERT_TRUE(no_errors(r));
  const ServiceEntry se = r.resources().service_entries[0];
  EXPECT_EQ(se.hosts, std::vector<std::string>{"api.example.com"});
  EXPECT_EQ(se.addresses, std::vector<std::string>{"240.0.0.1"});
  EXPECT_EQ(se.ports[0].protocol, "TLS");
  EXPECT_EQ(se.ports[0].target_port, 8443u);
  EXPECT_EQ(se.location, "MESH_INTERNAL");
  EXPECT_EQ(se.resolution, "STATIC");
  ASSERT_EQ(se.endpoints.size(), 2u);
  EXPECT_EQ(se.endpoints[0].ports.at("tls"), 9443u);
  EXPECT_EQ(se.endpoints[0].weight, 2u);
  EXPECT_EQ(se.endpoints[0].meta.name, "");
  EXPECT_EQ(se.endpoints[0].meta.namespace_, "ns");
  EXPECT_FALSE(se.workload_selector.has_value());
  EXPECT_EQ(se.export_to, std::vector<std::string>{"."});
  EXPECT_EQ(se.subject_alt_names, std::vector<std::string>{"spiffe://x"});
}

TEST(LoaderTest, ServiceEntryDefaults) {
  const LoadResult r = load(testing::object("networking.istio.io/v1", "ServiceEntry", R"(
hosts: [api.example.com]
ports: [{number: 80, protocol: HTTP, name: http}]
workloadSelector: {labels: {app: x}}
)"));
  ASSERT_TRUE(no_errors(r));
  const ServiceEntry se = r.resources().service_entries[0];
  EXPECT_EQ(se.location, "MESH_EXTERNAL");
  EXPECT_EQ(se.resolution, "NONE");
  ASSERT_TRUE(se.workload_selector.has_value());
  EXPECT_EQ(se.workload_selector->at("app"), "x");
}

TEST(LoaderTest, GatewayFields) {
  const LoadResult r = load(testing::object("networking.istio.io/v1", "Gateway", R"(
selector: {istio: ingressgateway}
servers:
- port: {number: 443, protocol: https, name: https-443}
  bind: 10.0.0.1
  hosts: [ns1/a.example.com]
  name: main
  tls:
    mode: simple
    serverCertificate: /etc/cert.pem
    privateKey: /etc/key.pem
    caCertificates: /etc/ca.pem
- port: {number: 80, protocol: HTTP, name: http}
  hosts: ["*"]
  tls: {httpsRedirect: true}
- port: {number: 8443, protocol: HTTPS, name: cred}
  hosts: ["*.example.com"]
  tls: {mode: SIMPLE, credentialName: my-secret}
)",
                                            "gw"));
  ASSERT_TRUE(no_errors(r));
  const Gateway gw = r.resources().gateways[0];
  const Server& s = gw.servers[0];
  EXPECT_EQ(s.port.protocol, "HTTPS");
  EXPECT_EQ(s.bind, "10.0.0.1");
  EXPECT_EQ(s.name, "main");
  ASSERT_TRUE(s.tls.has_value());
  EXPECT_EQ(s.tls->mode, "SIMPLE");
  EXPECT_EQ(s.tls->server_certificate, "/etc/cert.pem");
  EXPECT_EQ(s.tls->private_key, "/etc/key.pem");
  EXPECT_EQ(s.tls->ca_certificates, "/etc/ca.pem");
  EXPECT_TRUE(gw.servers[1].tls->https_redirect);
  EXPECT_EQ(gw.servers[1].tls->mode, "");
  EXPECT_EQ(gw.servers[2].tls->credential_name, "my-secret");
}

TEST(LoaderTest, DuplicateKeysLaterWins) {
  const LoadResult r = load(R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: first}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: second}
)");
  ASSERT_TRUE(no_errors(r));
  ASSERT_EQ(r.resources().destination_rules.size(), 1u);
  EXPECT_EQ(r.resources().destination_rules[0].host, "second");
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0].source().line, 7);
  ASSERT_TRUE(has_warning(r, "", "defined more than once (at test.yaml:2 and test.yaml:7)"));
}

TEST(LoaderTest, SameNameDifferentKindOrNamespaceIsNoDuplicate) {
  const LoadResult r = load(R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: a}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a, namespace: other}
spec: {host: a}
---
apiVersion: v1
kind: Service
metadata: {name: a}
)");
  ASSERT_TRUE(no_errors(r));
  EXPECT_TRUE(r.diagnostics.empty()) << testing::dump(r.diagnostics);
  EXPECT_EQ(r.objects.size(), 3u);
}

TEST(LoaderTest, YamlSyntaxErrorNamesLineAndStopsTheFile) {
  const LoadResult r = load(R"(apiVersion: v1
kind: Namespace
metadata: {name: before}
---
apiVersion: v1
kind: Namespace
metadata:
  name: broken
   labels: {a: b}
---
apiVersion: v1
kind: Namespace
metadata: {name: after}
)");
  ASSERT_EQ(r.resources().namespaces.size(), 1u);
  EXPECT_EQ(r.resources().namespaces[0].meta.name, "before");
  ASSERT_EQ(r.diagnostics.size(), 1u) << testing::dump(r.diagnostics);
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.severity, Diagnostic::Severity::Error);
  EXPECT_EQ(d.source.file, "test.yaml");
  EXPECT_EQ(d.source.line, 9);
  EXPECT_NE(d.message.find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(r.unreadable_paths, std::vector<std::string>{"test.yaml"});
}

TEST(LoaderTest, YamlSyntaxErrorInOneFileOthersStillLoad) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("torii_loader_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  fs::create_directories(dir / ".hidden");
  std::ofstream(dir / "a.yaml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: [unclosed\n";
  std::ofstream(dir / "sub" / "b.yml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n";
  std::ofstream(dir / "c.json") << R"({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}})";
  std::ofstream(dir / "notes.txt") << "not yaml: [";
  std::ofstream(dir / ".hidden" / "d.yaml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: d}\n";

  const LoadResult r = load_paths({dir.string()}, LoadOptions{});
  std::vector<std::string> names;
  for (const Namespace& ns : r.resources().namespaces) names.push_back(ns.meta.name);
  // Sorted by path: a.yaml (broken), c.json, sub/b.yml. Hidden dirs and other extensions skipped.
  EXPECT_EQ(names, (std::vector<std::string>{"c", "b"}));
  ASSERT_EQ(r.diagnostics.size(), 1u) << testing::dump(r.diagnostics);
  EXPECT_EQ(r.diagnostics[0].source.file, (dir / "a.yaml").string());
  EXPECT_EQ(r.diagnostics[0].source.line, 3);
  EXPECT_EQ(r.unreadable_paths, std::vector<std::string>{(dir / "a.yaml").string()});

  // A file named directly is read whatever its extension; the same file twice is read once.
  const LoadResult again = load_paths({(dir / "sub" / "b.yml").string(), dir.string()}, LoadOptions{});
  EXPECT_EQ(again.resources().namespaces.size(), 2u);
  EXPECT_EQ(again.resources().namespaces[0].meta.name, "b");
  fs::remove_all(dir);
}

TEST(LoaderTest, MissingPathIsAnError) {
  const LoadResult r = load_paths({"/nonexistent/torii/config"}, LoadOptions{});
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].format(), "/nonexistent/torii/config: cannot read: no such file or directory");
  EXPECT_EQ(r.unreadable_paths, std::vector<std::string>{"/nonexistent/torii/config"});
}

TEST(LoaderTest, WrongTypeNamesFieldPathAndLine) {
  const LoadResult r = load(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: [a.example.com]
  gateways: [gw]
  http:
  - route:
    - destination:
        host: a
        port:
          number: eighty
)");
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_FALSE(r.objects[0].valid);
  EXPECT_TRUE(r.resources().virtual_services.empty());
  ASSERT_TRUE(has_error(r, "spec.http[0].route[0].destination.port.number", "expected an integer"));
  const Diagnostic& d = r.objects[0].errors.at(0);
  EXPECT_EQ(d.source.line, 12);
  EXPECT_EQ(d.format(),
            "test.yaml:12: VirtualService default/vs: spec.http[0].route[0].destination.port.number: "
            "expected an integer, got \"eighty\"");
}

TEST(LoaderTest, WrongTypesOfManyShapes) {
  const LoadResult r = load(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: [a]
  servers:
  - port: 80
    hosts: a.example.com
  - port: {number: -1, name: x, protocol: HTTP}
    hosts: [{a: b}]
    tls: {httpsRedirect: maybe}
)");
  EXPECT_TRUE(has_error(r, "spec.selector", "expected a map, got a list"));
  EXPECT_TRUE(has_error(r, "spec.servers[0].port", "expected a map, got \"80\""));
  EXPECT_TRUE(has_error(r, "spec.servers[0].hosts", "expected a list"));
  EXPECT_TRUE(has_error(r, "spec.servers[1].port.number", "out of range"));
  EXPECT_TRUE(has_error(r, "spec.servers[1].hosts[0]", "expected a string, got a map"));
  EXPECT_TRUE(has_error(r, "spec.servers[1].tls.httpsRedirect", "expected a boolean"));
  EXPECT_FALSE(r.objects[0].valid);
}

TEST(LoaderTest, SpecOfWrongType) {
  const LoadResult r =
      load("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: a}\nspec: host\n");
  EXPECT_TRUE(has_error(r, "spec", "expected a map"));
  EXPECT_FALSE(r.objects[0].valid);
}

TEST(LoaderTest, DuplicateMapKeyIsAnError) {
  const LoadResult r = load(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec:
  host: a
  host: b
)");
  ASSERT_TRUE(has_error(r, "spec.host", "mapping key \"host\" already defined at line 5"));
  EXPECT_FALSE(r.objects[0].valid);
}

TEST(LoaderTest, DuplicateKeyInALargeMapNamesItsPathAndFirstLine) {
  // More than 16 keys: the sorted search, not the pairwise one.
  std::string labels;
  for (int i = 0; i < 20; ++i) labels += "    k" + std::to_string(i) + ": v\n";
  const LoadResult r = load(
      "apiVersion: networking.istio.io/v1\n"
      "kind: DestinationRule\n"
      "metadata:\n"
      "  name: a\n"
      "  labels:\n" +
      labels + "    k3: again\n    k7: again\n" + "spec:\n  host: a\n");
  EXPECT_TRUE(has_error(r, "metadata.labels.k3", "mapping key \"k3\" already defined at line 9"));
  EXPECT_TRUE(has_error(r, "metadata.labels.k7", "mapping key \"k7\" already defined at line 13"));
}

TEST(LoaderTest, InvalidObjectIsListedButNotInResources) {
  const LoadResult r = load(R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bad.name}
spec:
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: good}
spec:
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
)");
  ASSERT_EQ(r.objects.size(), 2u);
  EXPECT_FALSE(r.objects[0].valid);
  ASSERT_EQ(r.objects[0].errors.size(), 1u);
  EXPECT_EQ(r.objects[0].errors[0].message, "invalid gateway name: \"bad.name\"");
  EXPECT_EQ(r.objects[0].errors[0].kind, "Gateway");
  EXPECT_EQ(r.objects[0].errors[0].name, "bad.name");
  EXPECT_TRUE(r.objects[1].valid);
  EXPECT_TRUE(r.objects[1].errors.empty());
  ASSERT_EQ(r.resources().gateways.size(), 1u);
  EXPECT_EQ(r.resources().gateways[0].meta.name, "good");
}

TEST(LoaderTest, WarningsDoNotInvalidate) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
gateways: [gw.other]
http: [{route: [{destination: {host: a}}]}]
)");
  ASSERT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.gateways[0]", "legacy gatewayName format"));
  EXPECT_TRUE(r.objects[0].valid);
  EXPECT_TRUE(r.objects[0].errors.empty());
  EXPECT_EQ(r.resources().virtual_services.size(), 1u);
}

TEST(LoaderTest, ContentHashIgnoresFormatting) {
  const LoadResult a = load(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec:
  host: reviews   # the host
  subsets:
  - name: v1
    labels: {version: v1}
)");
  const LoadResult b = load(R"(
# reformatted
kind: DestinationRule
apiVersion: "networking.istio.io/v1"
metadata:
  name: 'a'
spec:
  subsets: [{labels: {version: "v1"}, name: v1}]
  host:     reviews
)");
  const LoadResult c = load(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec:
  host: reviews
  subsets:
  - name: v2
    labels: {version: v1}
)");
  ASSERT_EQ(a.objects.size(), 1u);
  ASSERT_EQ(b.objects.size(), 1u);
  ASSERT_EQ(c.objects.size(), 1u);
  EXPECT_EQ(a.objects[0].content_hash, b.objects[0].content_hash);
  EXPECT_NE(a.objects[0].content_hash, c.objects[0].content_hash);
}

}  // namespace
}  // namespace torii::config

namespace torii::config {
namespace {

TEST(LoaderHostileInputTest, SelfReferencingAliasIsRejectedNotFollowed) {
  const LoadResult r =
      testing::load("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nextra: &x [1, *x]\n");
  EXPECT_TRUE(r.objects.empty());
  ASSERT_TRUE(testing::has_error(r, "", "nested too deeply"));
  EXPECT_EQ(r.unreadable_paths, std::vector<std::string>{"test.yaml"});
}

TEST(LoaderHostileInputTest, AliasBombIsRejected) {
  std::string yaml =
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    yaml += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) yaml += (j ? ", *l" : "*l") + std::to_string(i - 1);
    yaml += "]\n";
  }
  const LoadResult r = testing::load(yaml);
  EXPECT_TRUE(testing::has_error(r, "", "too large"));
}

TEST(LoaderHostileInputTest, OddScalarsAndShapesDoNotThrow) {
  const char* inputs[] = {
      "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 99999999999999999999}]}\n",
      "apiVersion: v1\nkind: Service\nmetadata: {name: [a]}\n",
      "apiVersion: [v1]\nkind: Service\n",
      "? [complex, key]\n: value\napiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {[k]: v}}\n",
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a}\nspec: {http: [{match: "
      "[{headers: "
      "{x: [1]}}], route: 7}]}\n",
      "!!binary abc",
      "\t",
      "apiVersion: v1\nkind: List\nitems: {a: b}\n",
  };
  for (const char* yaml : inputs) {
    EXPECT_NO_THROW(testing::load(yaml)) << yaml;
  }
}

}  // namespace
}  // namespace torii::config

namespace torii::config {
namespace {

TEST(LoaderEnvelopeTest, TypeErrorsOfUnnamedObjectsAreReported) {
  const LoadResult list = testing::load("apiVersion: v1\nkind: List\nitems: {a: b}\n");
  EXPECT_TRUE(testing::has_error(list, "items", "expected a list"));
  EXPECT_EQ(list.unreadable_paths, std::vector<std::string>{"test.yaml"});

  const LoadResult kind = testing::load("apiVersion: v1\nkind: [Service]\nmetadata: {name: a}\n");
  EXPECT_TRUE(testing::has_error(kind, "kind", "expected a string, got a list"));
  EXPECT_TRUE(testing::has_error(kind, "", "apiVersion and kind are required"));

  const LoadResult meta = testing::load("apiVersion: v1\nkind: Service\nmetadata: {name: [a]}\n");
  EXPECT_TRUE(testing::has_error(meta, "metadata.name", "expected a string, got a list"));
  EXPECT_TRUE(testing::has_error(meta, "metadata.name", "name is required"));
}

}  // namespace
}  // namespace torii::config

namespace torii::config {
namespace {

TEST(LoaderTest, SecretsAreDecodedForCredentialName) {
  const LoadResult r = load(R"(
apiVersion: v1
kind: Secret
metadata: {name: cred, namespace: istio-system}
type: kubernetes.io/tls
data:
  tls.crt: Q0VSVA==
  tls.key: S0VZ
stringData:
  ca.crt: CA
---
apiVersion: v1
kind: Secret
metadata: {name: bad}
data:
  tls.crt: "@@not base64@@"
)");
  ASSERT_EQ(r.resources().secrets.size(), 1u);
  const Secret s = r.resources().secrets[0];
  EXPECT_EQ(s.type, "kubernetes.io/tls");
  EXPECT_EQ(s.data.at("tls.crt"), "CERT");
  EXPECT_EQ(s.data.at("tls.key"), "KEY");
  EXPECT_EQ(s.data.at("ca.crt"), "CA");
  EXPECT_TRUE(has_error(r, "data.tls.crt", "invalid base64"));
}

}  // namespace
}  // namespace torii::config
