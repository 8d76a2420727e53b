// The etcd JSON gateway's encoding (sources/etcd_wire.h), the key layout
// (sources/etcd_keys.h) and the object text helpers (sources/etcd_objects.h),
// without an etcd: tests/e2e/test_etcd.py runs them against a real one.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "sources/etcd_keys.h"
#include "sources/etcd_objects.h"
#include "sources/etcd_wire.h"

namespace torii::sources {
namespace {

TEST(EtcdWire, Base64RoundTripsEveryLength) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("/torii/objects/"), "L3RvcmlpL29iamVjdHMv");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t n = 0; n <= bytes.size(); n += 7) {
    std::string out;
    ASSERT_TRUE(base64_decode(base64_encode(bytes.substr(0, n)), out));
    EXPECT_EQ(out, bytes.substr(0, n));
  }
  std::string out;
  EXPECT_TRUE(base64_decode("Zg", out));  // padding optional
  EXPECT_EQ(out, "f");
  EXPECT_FALSE(base64_decode("Z!==", out));
  EXPECT_FALSE(base64_decode("Z", out));
}

TEST(EtcdWire, PrefixRangeEnd) {
  EXPECT_EQ(prefix_range_end("/torii/"), "/torii0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff", 1)), std::string(1, '\0'));
}

TEST(EtcdWire, Int64FieldsAreStringsOrNumbersOrAbsent) {
  const auto j = nlohmann::json::parse(R"({"a": "12", "b": 7, "c": null})");
  EXPECT_EQ(json_int(j, "a"), 12);
  EXPECT_EQ(json_int(j, "b"), 7);
  EXPECT_EQ(json_int(j, "c"), 0);
  EXPECT_EQ(json_int(j, "missing"), 0);
}

TEST(EtcdWire, RangeResponseAsEtcdWritesIt) {
  // etcd 3.4's gateway: int64 as strings, base64 keys and values, defaults left out.
  const auto body = nlohmann::json::parse(R"({
    "header": {"cluster_id": "1", "member_id": "2", "revision": "42", "raft_term": "3"},
    "kvs": [{"key": "L3RvcmlpL2E=", "create_revision": "5", "mod_revision": "40", "version": "3",
             "value": "a2luZDogWA=="},
            {"key": "L3RvcmlpL2I=", "create_revision": "41", "mod_revision": "41", "version": "1"}],
    "count": "2"})");
  RangeResponse out;
  ASSERT_TRUE(parse_range_response(body, out));
  EXPECT_EQ(out.revision, 42);
  ASSERT_EQ(out.kvs.size(), 2u);
  EXPECT_EQ(out.kvs[0].key, "/torii/a");
  EXPECT_EQ(out.kvs[0].value, "kind: X");
  EXPECT_EQ(out.kvs[0].mod_revision, 40);
  EXPECT_EQ(out.kvs[1].value, "");  // an empty value is left out
  EXPECT_FALSE(parse_range_response(nlohmann::json::parse(R"({"error": "x"})"), out));
}

TEST(EtcdWire, TxnRequestComparesModRevisionOfEveryKey) {
  const auto request = txn_request({{"/k1", 0}, {"/k2", 17}}, {{TxnOp::Type::Put, "/k1", "v", "", 0},
                                                               {TxnOp::Type::Delete, "/k2", "", "", 0}});
  ASSERT_EQ(request["compare"].size(), 2u);
  EXPECT_EQ(request["compare"][0]["key"], base64_encode("/k1"));
  EXPECT_EQ(request["compare"][0]["target"], "MOD");
  EXPECT_EQ(request["compare"][0]["result"], "EQUAL");
  EXPECT_EQ(request["compare"][0]["mod_revision"], "0");  // "does not exist"
  EXPECT_EQ(request["compare"][1]["mod_revision"], "17");
  EXPECT_EQ(request["success"][0]["request_put"]["value"], base64_encode("v"));
  EXPECT_EQ(request["success"][1]["request_delete_range"]["key"], base64_encode("/k2"));
  EXPECT_FALSE(request.contains("failure"));

  TxnResponse out;
  ASSERT_TRUE(
      parse_txn_response(nlohmann::json::parse(R"({"header": {"revision": "9"}, "succeeded": true})"), out));
  EXPECT_TRUE(out.succeeded);
  EXPECT_EQ(out.revision, 9);
  ASSERT_TRUE(parse_txn_response(nlohmann::json::parse(R"({"header": {"revision": "9"}})"), out));
  EXPECT_FALSE(out.succeeded);  // false is a default: left out
}

TEST(EtcdWire, WatchMessages) {
  WatchMessage m;
  ASSERT_TRUE(parse_watch_message(
      nlohmann::json::parse(R"({"result": {"header": {"revision": "7"}, "created": true}})"), m));
  EXPECT_TRUE(m.created);
  EXPECT_TRUE(m.events.empty());
  // A PUT has no "type" (the enum's default); a DELETE says so.
  ASSERT_TRUE(
      parse_watch_message(nlohmann::json::parse(R"({"result": {"header": {"revision": "9"}, "events": [
      {"kv": {"key": "L2E=", "mod_revision": "8", "value": "eA=="}},
      {"type": "DELETE", "kv": {"key": "L2I=", "mod_revision": "9"}}]}})"),
                          m));
  ASSERT_EQ(m.events.size(), 2u);
  EXPECT_FALSE(m.events[0].deleted);
  EXPECT_EQ(m.events[0].kv.key, "/a");
  EXPECT_EQ(m.events[0].kv.value, "x");
  EXPECT_TRUE(m.events[1].deleted);
  EXPECT_EQ(m.events[1].kv.mod_revision, 9);
  ASSERT_TRUE(parse_watch_message(nlohmann::json::parse(
                                      R"({"result": {"header": {"revision": "30"}, "canceled": true,
                                          "compact_revision": "25"}})"),
                                  m));
  EXPECT_TRUE(m.canceled);
  EXPECT_EQ(m.compact_revision, 25);
  ASSERT_TRUE(parse_watch_message(
      nlohmann::json::parse(
          R"({"error": {"grpc_code": 14, "http_code": 503, "message": "etcdserver: no leader"}})"),
      m));
  EXPECT_EQ(m.error, "etcdserver: no leader");
  EXPECT_EQ(watch_create_request("/p/", "/p0", 12)["create_request"]["start_revision"], "12");
}

TEST(EtcdKeys, LayoutOfTheContract) {
  EXPECT_EQ(object_key("/torii/", {"VirtualService", "default", "web"}),
            "/torii/objects/networking.istio.io/VirtualService/default/web");
  EXPECT_EQ(object_key("/torii/", {"Service", "shop", "cart"}), "/torii/objects/core/Service/shop/cart");
  EXPECT_EQ(object_key("/torii/", {"Namespace", "", "shop"}), "/torii/objects/core/Namespace/_/shop");
  EXPECT_EQ(object_key("/t/", {"Gateway.gateway.networking.k8s.io", "default", "g"}),
            "/t/objects/gateway.networking.k8s.io/Gateway/default/g");
  EXPECT_EQ(object_key("/t/", {"Gateway", "default", "g"}),
            "/t/objects/networking.istio.io/Gateway/default/g");
  EXPECT_EQ(object_key("/t/", {"Unknown", "default", "g"}), "");
  for (const KindInfo& kind : known_kinds()) {
    const config::ObjectKey key{kind.key_kind, kind.cluster_scoped ? "" : "ns1", "n1"};
    config::ObjectKey back;
    ASSERT_TRUE(parse_object_key("/torii/", object_key("/torii/", key), back)) << kind.key_kind;
    EXPECT_EQ(back, key);
  }
  config::ObjectKey out;
  EXPECT_FALSE(parse_object_key("/torii/", "/torii/replicas/r1", out));
  EXPECT_FALSE(parse_object_key("/torii/", "/torii/objects/core/Service/ns", out));
  EXPECT_FALSE(parse_object_key("/torii/", "/torii/objects/core/Service/ns/a/b", out));
  EXPECT_FALSE(parse_object_key("/other/", "/torii/objects/core/Service/ns/a", out));
}

TEST(EtcdKeys, KindNamesAsKubectlTakesThem) {
  for (const char* name :
       {"vs", "virtualservice", "virtualservices", "VirtualService", "virtualservice.networking.istio.io"}) {
    ASSERT_NE(resolve_kind(name), nullptr) << name;
    EXPECT_STREQ(resolve_kind(name)->key_kind, "VirtualService") << name;
  }
  EXPECT_STREQ(resolve_kind("gw")->key_kind, "Gateway");
  EXPECT_STREQ(resolve_kind("dr")->key_kind, "DestinationRule");
  EXPECT_STREQ(resolve_kind("se")->key_kind, "ServiceEntry");
  EXPECT_STREQ(resolve_kind("endpoints")->key_kind, "Endpoints");
  EXPECT_STREQ(resolve_kind("gatewayclasses")->key_kind, "GatewayClass");
  EXPECT_STREQ(resolve_kind("authorizationpolicies")->key_kind, "AuthorizationPolicy");
  EXPECT_STREQ(resolve_kind("gateway.gateway.networking.k8s.io")->key_kind,
               "Gateway.gateway.networking.k8s.io");
  EXPECT_EQ(resolve_kind("widgets"), nullptr);
}

TEST(EtcdObjects, NamedTextsTakeTheKeysNamespace) {
  // An object stored without metadata.namespace belongs to its key's namespace,
  // whatever the replica's --default-namespace.
  const std::vector<KeyValue> kvs = {{"/torii/objects/networking.istio.io/VirtualService/shop/web",
                                      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n "
                                      " name: web\nspec:\n  hosts: [a]\n",
                                      1, 2, 1, 0},
                                     {"/torii/replicas/r1", "{}", 1, 3, 1, 0}};
  const std::vector<config::NamedText> texts = named_texts(kvs, "/torii/");
  ASSERT_EQ(texts.size(), 1u);
  config::LoadResult loaded = config::load_paths({}, config::LoadOptions{}, nullptr, texts);
  ASSERT_EQ(loaded.objects.size(), 1u);
  EXPECT_EQ(loaded.objects[0].key, (config::ObjectKey{"VirtualService", "shop", "web"}));
  EXPECT_EQ(loaded.objects[0].source().file, kvs[0].key);
  EXPECT_EQ(loaded.objects[0].source().line, 1);
}

TEST(EtcdObjects, ResourceVersion) {
  const std::string yaml =
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {x: y}\nspec: {}\n";
  const std::string with = with_resource_version(yaml, 42);
  EXPECT_EQ(
      with,
      "apiVersion: v1\nkind: Service\nmetadata:\n  resourceVersion: \"42\"\n  name: a\n  labels: {x: y}\n"
      "spec: {}\n");
  EXPECT_EQ(resource_version_of(with), 42);
  EXPECT_EQ(resource_version_of(yaml), 0);
  // Applied again from `get -o yaml`: replaced, not doubled.
  EXPECT_EQ(resource_version_of(with_resource_version(with, 43)), 43);
  EXPECT_EQ(with_resource_version(with, 43).find("\"42\""), std::string::npos);
  // Flow-style metadata is left as it is.
  EXPECT_EQ(with_resource_version("metadata: {name: a}\n", 1), "metadata: {name: a}\n");
}

TEST(EtcdObjects, DocumentAtAndYamlToJson) {
  const std::string text = "# c\n---\na: 1\nb: [x, 2, true, 1.5]\n---\n\nname: second\n\n";
  int first = 0;
  EXPECT_EQ(document_at(text, 3, &first), "a: 1\nb: [x, 2, true, 1.5]\n");
  EXPECT_EQ(first, 3);
  EXPECT_EQ(document_at(text, 7, &first), "name: second\n");
  EXPECT_EQ(first, 7);
  EXPECT_EQ(yaml_to_json("a: 1\nb: [x, 2, true, 1.5]\nc:\n"),
            nlohmann::json::parse(R"({"a": 1, "b": ["x", 2, true, 1.5], "c": null})"));
}

}  // namespace
}  // namespace torii::sources

namespace torii::sources {
namespace {

TEST(EtcdWire, WatchStreamSplitIntoMessagesAcrossReads) {
  std::string buffer = R"({"result": {"created": true}})"
                       "\n"
                       R"({"result": {"events": [{"kv": {"value": "e30="}}]})";
  std::vector<std::string> out = take_json_objects(buffer);
  ASSERT_EQ(out.size(), 1u);  // the second one is not complete yet
  EXPECT_EQ(out[0], R"({"result": {"created": true}})");
  buffer += "}\n";
  out = take_json_objects(buffer);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(nlohmann::json::parse(out[0]).contains("result"));
  EXPECT_TRUE(buffer.empty());
  // Braces and escaped quotes inside strings do not count.
  buffer = R"({"error": {"message": "a } \" { b"}})"
           R"({"x": "{"})";
  out = take_json_objects(buffer);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(out[0])["error"]["message"], "a } \" { b");
  EXPECT_EQ(nlohmann::json::parse(out[1])["x"], "{");
  // One byte at a time.
  const std::string message = R"({"result": {"header": {"revision": "3"}, "events": []}})";
  std::vector<std::string> all;
  for (char c : message + "\n" + message) {
    buffer += c;
    for (std::string& m : take_json_objects(buffer)) all.push_back(std::move(m));
  }
  EXPECT_EQ(all, (std::vector<std::string>{message, message}));
}

}  // namespace
}  // namespace torii::sources
