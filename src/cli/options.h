// Command-line options of `torii run` / `torii validate` / `torii explain` (a contract other
// issues and the acceptance checks rely on: keep the flag names).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compile/compiler.h"
#include "config/loader.h"
#include "dns/name_cache.h"
#include "dns/resolver.h"
#include "proxy/server.h"
#include "security/jwks_fetch.h"
#include "sources/etcd_client.h"

namespace torii::cli {

struct Options {
  std::vector<std::string> config_paths;  // --config (repeatable)
  config::LoadOptions load;               // --default-namespace
  compile::GatewayIdentity identity;      // --namespace --labels --port-map --bind --domain-suffix
  proxy::ServerOptions server;            // --workers and the limits
  bool admin = true;                      // --admin off: no admin endpoint
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 15000;     // --admin ADDR:PORT; port 0: one the kernel picks
  std::string admin_address_path;  // --admin-address-path: where the bound ADDR:PORT is written
  bool watch = true;               // --no-watch disables the file watcher
  dns::ResolverOptions dns;        // --dns-server
  dns::RefreshPolicy dns_refresh;  // --dns-refresh-rate-s --dns-min-ttl-s --dns-grace-s
  // Remote JWKS (docs/jwt.md): --jwks-refresh-interval-s, --jwks-fetch-timeout-s, --jwks-ca-file.
  security::JwksFetchOptions jwks;
  // Hot upgrade (cli/upgrade.h, docs/upgrade.md): --upgrade-socket PATH, where
  // this process hands its sockets to a new one (default: off);
  // --takeover PATH, the running process to take them from.
  std::string upgrade_socket_path;
  std::string takeover_path;
  // Config from etcd (docs/scale_out.md): --etcd, --etcd-prefix, --etcd-user,
  // --etcd-password-file, --etcd-cacert, --etcd-cert, --etcd-key.
  sources::EtcdOptions etcd;
  std::string etcd_cache_dir;  // --etcd-cache DIR: last config read, to start from when etcd is down
  std::string replica_name;    // --replica-name (default: host:admin-port)
  bool help = false;           // --help / -h: print usage() and exit 0, nothing else is checked
};

// Parses argv[first..] into `options`; on error returns false with `error` set.
// `--help` (or `-h`) anywhere stops parsing: it returns true with `help` set.
// With `positional`, arguments that are not flags are collected there (the
// METHOD and URL of `torii explain`) instead of being errors.
bool parse_options(int argc, char** argv, int first, Options& options, std::string& error,
                   std::vector<std::string>* positional = nullptr);

// "ADDR:PORT" (IPv6 as "[ADDR]:PORT") of --admin, for `torii run` and `torii get`.
bool parse_admin_address(const std::string& value, std::string& host, uint16_t& port, std::string& error);

// The help text, listing every flag with its default.
std::string usage();

}  // namespace torii::cli
