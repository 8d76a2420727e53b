// Remote JWKS for RequestAuthentication `jwksUri: http(s)://...`, fetched on
// the control thread (never on a worker), as istiod fetches them and inlines
// the keys into Envoy's config (ISTIO_SECURITY.md §10; docs/jwt.md).
//
// RemoteJwks keeps, per URI, the last document fetched and when; a compile
// asks for a URI (fetching it at once the first time), and the control loop
// calls refresh() about once a second to fetch again those whose refresh
// interval has passed, or that failed (retried with back-off). A failed
// refresh keeps the last good keys, as istiod keeps its cached copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace torii::security {

struct JwksFetchOptions {
  uint32_t timeout_ms = 5000;  // connect + TLS + response, per fetch (--jwks-fetch-timeout-s)
  size_t max_bytes = 1 << 20;  // a larger document is an error
  uint64_t refresh_ms =
      20 * 60 * 1000;   // Istio's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL (--jwks-refresh-interval-s)
  std::string ca_file;  // https: trusted besides the system CAs (--jwks-ca-file)
};

// One blocking GET of an http:// or https:// URL (HTTP/1.1, Connection:
// close). True with `body` on a 200; else false with `error`.
bool fetch_url(const std::string& url, const JwksFetchOptions& options, std::string& body,
               std::string& error);

class RemoteJwks {
 public:
  // Control thread only.
  static RemoteJwks& instance();

  // `torii run` turns fetching on; validate and explain never fetch.
  void configure(const JwksFetchOptions& options) {
    options_ = options;
    enabled_ = true;
  }
  bool enabled() const { return enabled_; }
  // The last document fetched from `uri` (fetching now if never tried);
  // nullopt with `error` when none was ever fetched.
  std::optional<std::string> get(const std::string& uri, std::string& error, uint64_t now_ms);
  // The URIs a compile asked for; the others are forgotten at the next one.
  void begin_compile() { used_.clear(); }
  bool empty() const { return entries_.empty(); }
  // Fetches what is due; true when a document changed (recompile).
  bool refresh(uint64_t now_ms);

 private:
  struct Entry {
    std::optional<std::string> document;  // last good
    std::string error;                    // of the last attempt, "" if it worked
    uint64_t next_ms = 0;                 // when to fetch again
    uint32_t failures = 0;
  };
  bool fetch(const std::string& uri, Entry& entry, uint64_t now_ms);

  JwksFetchOptions options_;
  bool enabled_ = false;
  std::map<std::string, Entry> entries_;
  std::set<std::string> used_;
};

}  // namespace torii::security
