#include "cli/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace torii::cli {
namespace {

bool parse(std::vector<std::string> args, Options& o, std::string& error) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data(), 0, o, error);
}

TEST(OptionsTest, DefaultsMatchTheContract) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse({"--config", "a.yaml"}, o, error)) << error;
  EXPECT_EQ(o.identity.namespace_, "istio-system");
  EXPECT_EQ(o.identity.labels, (config::Labels{{"istio", "ingressgateway"}}));
  EXPECT_EQ(o.load.default_namespace, "default");
  EXPECT_EQ(o.identity.bind, "0.0.0.0");
  EXPECT_EQ(o.identity.domain_suffix, "cluster.local");
  EXPECT_TRUE(o.admin);
  EXPECT_EQ(o.admin_address, "127.0.0.1");
  EXPECT_EQ(o.admin_port, 15000);
  EXPECT_EQ(o.admin_address_path, "");
  EXPECT_GE(o.server.workers, 1);
  EXPECT_TRUE(o.server.accept_http10);
  EXPECT_EQ(o.server.max_request_headers_bytes, 60u * 1024);
  EXPECT_EQ(o.server.max_request_headers_count, 100u);
  EXPECT_EQ(o.server.max_response_headers_bytes, 80u * 1024);  // Envoy's MAX_RESPONSE_HEADERS_KB
}

TEST(OptionsTest, ParsesEveryFlag) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse({"--config",
                     "a",
                     "--config=b",
                     "--namespace",
                     "gw",
                     "--labels",
                     "istio=egressgateway,app=x",
                     "--default-namespace",
                     "bookinfo",
                     "--port-map",
                     "80=8080,443=8443",
                     "--bind",
                     "127.0.0.1",
                     "--admin",
                     "127.0.0.1:0",
                     "--workers",
                     "3",
                     "--domain-suffix",
                     "example.local",
                     "--reject-http10",
                     "--max-request-headers-kb",
                     "8",
                     "--max-response-headers-kb",
                     "96"},
                    o, error))
      << error;
  EXPECT_EQ(o.config_paths, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.identity.namespace_, "gw");
  EXPECT_EQ(o.identity.labels, (config::Labels{{"istio", "egressgateway"}, {"app", "x"}}));
  EXPECT_EQ(o.load.default_namespace, "bookinfo");
  EXPECT_EQ(o.identity.port_map, (std::map<uint32_t, uint32_t>{{80, 8080}, {443, 8443}}));
  EXPECT_EQ(o.identity.bind, "127.0.0.1");
  EXPECT_TRUE(o.admin);  // port 0: the kernel picks one
  EXPECT_EQ(o.admin_port, 0);
  EXPECT_EQ(o.server.workers, 3);
  EXPECT_EQ(o.identity.domain_suffix, "example.local");
  EXPECT_FALSE(o.server.accept_http10);
  EXPECT_EQ(o.server.max_request_headers_bytes, 8u * 1024);
  EXPECT_EQ(o.server.max_response_headers_bytes, 96u * 1024);
}

TEST(OptionsTest, Http2LimitsHaveEnvoysEdgeDefaultsAndSettings) {
  std::string error;
  Options defaults;
  ASSERT_TRUE(parse({"--config", "a"}, defaults, error)) << error;
  EXPECT_EQ(defaults.server.http2_max_concurrent_streams, 100u);
  EXPECT_EQ(defaults.server.http2_stream_window_bytes, 64u * 1024);
  EXPECT_EQ(defaults.server.http2_connection_window_bytes, 1024u * 1024);
  Options o;
  ASSERT_TRUE(parse({"--config", "a", "--http2-max-concurrent-streams", "250", "--http2-stream-window-kb",
                     "256", "--http2-connection-window-kb", "4096"},
                    o, error))
      << error;
  EXPECT_EQ(o.server.http2_max_concurrent_streams, 250u);
  EXPECT_EQ(o.server.http2_stream_window_bytes, 256u * 1024);
  EXPECT_EQ(o.server.http2_connection_window_bytes, 4096u * 1024);
  Options bad;
  EXPECT_FALSE(parse({"--config", "a", "--http2-stream-window-kb", "16"}, bad, error));
  EXPECT_NE(error.find("--http2-stream-window-kb: expected a number from 64"), std::string::npos) << error;
}

TEST(OptionsTest, RejectsBadValuesWithTheFlagNamed) {
  std::string error;
  Options o1;
  EXPECT_FALSE(parse({"--config", "a", "--port-map", "80:8080"}, o1, error));
  EXPECT_NE(error.find("--port-map"), std::string::npos);
  Options o2;
  EXPECT_FALSE(parse({"--config", "a", "--labels", "novalue"}, o2, error));
  EXPECT_NE(error.find("--labels"), std::string::npos);
  Options o3;
  EXPECT_FALSE(parse({"--config", "a", "--workers", "0"}, o3, error));
  Options o4;
  EXPECT_FALSE(parse({"--config", "a", "--frobnicate"}, o4, error));
  EXPECT_NE(error.find("unknown option"), std::string::npos);
  Options o5;
  EXPECT_FALSE(parse({}, o5, error));
  EXPECT_NE(error.find("--config"), std::string::npos);
  Options o6;
  EXPECT_FALSE(parse({"--config"}, o6, error));
  // Limits where 0 means nothing are refused, not quietly raised to 1.
  for (const char* flag :
       {"--forward-proxy-max-hosts", "--tls-inspector-timeout-s", "--max-response-headers-kb"}) {
    Options o;
    EXPECT_FALSE(parse({"--config", "a", flag, "0"}, o, error)) << flag;
    EXPECT_NE(error.find(std::string(flag) + ": expected a number from 1"), std::string::npos) << error;
  }
  // Not a number: the message names the range the flag accepts.
  Options o7;
  EXPECT_FALSE(parse({"--config", "a", "--tls-inspector-timeout-s", "x"}, o7, error));
  EXPECT_EQ(error, "--tls-inspector-timeout-s: expected a number from 1 to 3600, got 'x'");
  Options o9;
  EXPECT_FALSE(parse({"--config", "a", "--delayed-close-timeout-ms", "60001"}, o9, error));
  EXPECT_NE(error.find("--delayed-close-timeout-ms: expected a number up to 60000"), std::string::npos)
      << error;
  Options o10;
  EXPECT_TRUE(parse({"--config", "a", "--delayed-close-timeout-ms", "0"}, o10, error)) << error;
  EXPECT_EQ(o10.server.delayed_close_timeout_ms, 0u);
  Options o11;
  EXPECT_TRUE(parse({"--config", "a"}, o11, error)) << error;
  EXPECT_EQ(o11.server.delayed_close_timeout_ms, 2000u);
  Options o8;
  EXPECT_FALSE(parse({"--config", "a", "--drain-timeout-s", "x"}, o8, error));
  EXPECT_NE(error.find("--drain-timeout-s: expected a number up to "), std::string::npos) << error;
  // An empty port list is not "no forward proxy": it is a mistake.
  for (const char* ports : {"", ",", "8080,0", "80,x"}) {
    Options o;
    EXPECT_FALSE(parse({"--config", "a", "--forward-proxy-port", ports}, o, error)) << ports;
    EXPECT_NE(error.find("--forward-proxy-port: expected Gateway port numbers"), std::string::npos) << error;
  }
}

TEST(OptionsTest, PortZeroAndTheAdminEndpoint) {
  std::string error;
  Options o;
  ASSERT_TRUE(parse({"--config", "a", "--port-map", "80=0,443=8443", "--admin", "[::1]:0",
                     "--admin-address-path", "/tmp/x/admin"},
                    o, error))
      << error;
  EXPECT_EQ(o.identity.port_map, (std::map<uint32_t, uint32_t>{{80, 0}, {443, 8443}}));
  EXPECT_TRUE(o.admin);
  EXPECT_EQ(o.admin_address, "::1");
  EXPECT_EQ(o.admin_port, 0);
  EXPECT_EQ(o.admin_address_path, "/tmp/x/admin");
  Options off;
  ASSERT_TRUE(parse({"--config", "a", "--admin", "off"}, off, error)) << error;
  EXPECT_FALSE(off.admin);
  // A Gateway port is never 0; an address file without an admin endpoint is a mistake.
  Options o1;
  EXPECT_FALSE(parse({"--config", "a", "--port-map", "0=80"}, o1, error));
  EXPECT_NE(error.find("--port-map"), std::string::npos) << error;
  Options o2;
  EXPECT_FALSE(parse({"--config", "a", "--admin", "off", "--admin-address-path", "p"}, o2, error));
  EXPECT_EQ(error, "--admin-address-path: there is no admin endpoint (--admin off)");
  Options o3;
  EXPECT_FALSE(parse({"--config", "a", "--admin", "127.0.0.1"}, o3, error));
  EXPECT_EQ(error, "--admin: expected ADDR:PORT or off, got '127.0.0.1'");
}

TEST(OptionsTest, UpgradeSocketAndTakeover) {
  std::string error;
  Options none;
  ASSERT_TRUE(parse({"--config", "a"}, none, error)) << error;
  EXPECT_EQ(none.upgrade_socket_path, "");  // off by default
  EXPECT_EQ(none.takeover_path, "");
  Options o;
  ASSERT_TRUE(parse(
      {"--config", "a", "--upgrade-socket", "/run/torii/upgrade.sock", "--takeover=/run/torii/upgrade.sock"},
      o, error))
      << error;
  EXPECT_EQ(o.upgrade_socket_path, "/run/torii/upgrade.sock");
  EXPECT_EQ(o.takeover_path, "/run/torii/upgrade.sock");
  Options empty;
  EXPECT_FALSE(parse({"--config", "a", "--takeover", ""}, empty, error));
  EXPECT_EQ(error, "--takeover: expected a Unix socket path, got ''");
  EXPECT_FALSE(parse({"--config", "a", "--upgrade-socket"}, empty, error));
  EXPECT_EQ(error, "--upgrade-socket: missing value");
}

}  // namespace
}  // namespace torii::cli

namespace torii::cli {
namespace {

TEST(OptionsTest, HelpStopsParsingWithoutNeedingConfig) {
  for (const char* flag : {"--help", "-h"}) {
    Options o;
    std::string error;
    ASSERT_TRUE(parse({flag}, o, error)) << flag << ": " << error;
    EXPECT_TRUE(o.help) << flag;
    // what follows --help is not parsed: no 'unknown option' for it
    Options later;
    ASSERT_TRUE(parse({"--workers", "2", flag, "--no-such-flag"}, later, error)) << error;
    EXPECT_TRUE(later.help);
    EXPECT_EQ(later.server.workers, 2);
  }
  Options none;
  std::string error;
  ASSERT_TRUE(parse({"--config", "a"}, none, error)) << error;
  EXPECT_FALSE(none.help);
}

TEST(OptionsTest, Locality) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse({"--config", "a", "--locality", "us-east1/us-east1-b/rack1"}, o, error)) << error;
  EXPECT_EQ(o.identity.locality, "us-east1/us-east1-b/rack1");
  Options defaults;
  ASSERT_TRUE(parse({"--config", "a"}, defaults, error));
  EXPECT_EQ(defaults.identity.locality, "");
  Options bad;
  EXPECT_FALSE(parse({"--config", "a", "--locality", "a/b/c/d"}, bad, error));
  EXPECT_NE(error.find("--locality"), std::string::npos);
  EXPECT_FALSE(parse({"--config", "a", "--locality", "us/*"}, bad, error));
}

}  // namespace
}  // namespace torii::cli

namespace torii::cli {
namespace {

TEST(OptionsTest, DnsServersMustBeAddresses) {
  Options ok;
  std::string error;
  ASSERT_TRUE(parse({"--config", "a", "--dns-server", "127.0.0.1:5353,10.0.0.2,[::1]:53,::1"}, ok, error))
      << error;
  EXPECT_EQ(ok.dns.servers, (std::vector<std::string>{"127.0.0.1:5353", "10.0.0.2", "[::1]:53", "::1"}));
  for (const char* bad : {"dns.example.com", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "1.2.3.4:x"}) {
    Options o;
    EXPECT_FALSE(parse({"--config", "a", "--dns-server", bad}, o, error)) << bad;
    EXPECT_NE(error.find("--dns-server"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace torii::cli

namespace torii::cli {
namespace {

TEST(OptionsTest, TracingFlags) {
  Options o;
  std::string error;
  ASSERT_TRUE(parse({"--config", "a"}, o, error)) << error;
  EXPECT_EQ(o.server.otlp_endpoint, "");
  EXPECT_EQ(o.server.trace_sampling_basis_points, 100u);  // Istio's 1 %
  ASSERT_TRUE(parse(
      {"--config", "a", "--otlp-endpoint", "http://127.0.0.1:4318/v1/traces", "--trace-sampling", "12.34"}, o,
      error))
      << error;
  EXPECT_EQ(o.server.otlp_endpoint, "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(o.server.trace_sampling_basis_points, 1234u);
  for (const char* bad : {"-1", "100.5", "", "1%", "abc"}) {
    Options b;
    EXPECT_FALSE(parse({"--config", "a", "--trace-sampling", bad}, b, error)) << bad;
    EXPECT_NE(error.find("--trace-sampling"), std::string::npos) << error;
  }
  Options b;
  EXPECT_FALSE(parse({"--config", "a", "--otlp-endpoint", "localhost:4318"}, b, error));
  EXPECT_NE(error.find("--otlp-endpoint: expected http://HOST:PORT/v1/traces"), std::string::npos) << error;
}

}  // namespace
}  // namespace torii::cli

namespace torii::cli {
namespace {

TEST(OptionsTest, EtcdFlags) {
  Options o;
  std::string error;
  // --etcd alone is a config source: no --config needed.
  ASSERT_TRUE(
      parse({"--etcd", "http://127.0.0.1:2379,https://[::1]:2379", "--etcd-prefix", "/gw", "--etcd-user",
             "torii", "--etcd-password-file", "/p", "--etcd-cacert", "/ca", "--etcd-cert", "/c", "--etcd-key",
             "/k", "--etcd-cache", "/var/cache/torii", "--replica-name", "r1"},
            o, error))
      << error;
  EXPECT_EQ(o.etcd.endpoints, (std::vector<std::string>{"http://127.0.0.1:2379", "https://[::1]:2379"}));
  EXPECT_EQ(o.etcd.prefix, "/gw/");  // a trailing / added
  EXPECT_EQ(o.etcd.user, "torii");
  EXPECT_EQ(o.etcd.password_file, "/p");
  EXPECT_EQ(o.etcd.cacert, "/ca");
  EXPECT_EQ(o.etcd.cert, "/c");
  EXPECT_EQ(o.etcd.key, "/k");
  EXPECT_EQ(o.etcd_cache_dir, "/var/cache/torii");
  EXPECT_EQ(o.replica_name, "r1");
  EXPECT_TRUE(o.config_paths.empty());
  Options defaults;
  ASSERT_TRUE(parse({"--etcd=http://h:1"}, defaults, error)) << error;
  EXPECT_EQ(defaults.etcd.prefix, "/torii/");

  Options bad;
  EXPECT_FALSE(parse({"--etcd", "127.0.0.1:2379"}, bad, error));  // no scheme
  EXPECT_NE(error.find("--etcd"), std::string::npos);
  Options bad_prefix;
  EXPECT_FALSE(parse({"--etcd", "http://h:1", "--etcd-prefix", "torii"}, bad_prefix, error));
  EXPECT_NE(error.find("--etcd-prefix"), std::string::npos);
  Options cache_alone;
  EXPECT_FALSE(parse({"--config", "a", "--etcd-cache", "/d"}, cache_alone, error));
  EXPECT_NE(error.find("need --etcd"), std::string::npos);
}

}  // namespace
}  // namespace torii::cli
