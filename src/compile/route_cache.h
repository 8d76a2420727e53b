// The virtual hosts one compile built, kept for the next compile to share
// instead of translating their VirtualServices again (issue 17: recompile
// only what a change reaches).
//
// A VirtualService's routes for one (route table, Gateway, port, TLS) are a
// function of the VS object, the gateway's identity and the clusters its
// destinations resolve to. An entry holds the one virtual host such a
// translation made on its own (one VS, one host: the common case), with
// what translating reported and every destination it resolved. The next
// compile, given the very same VS object (the Store shares unchanged
// documents' objects), resolves those destinations again, in the same
// order, and when each gives the very same cluster (ClusterCache) it
// replays the diagnostics and shares the virtual host itself: no
// translation, no copy, no index build.
//
// Entries are dropped whenever the ClusterCache drops its own (a Service,
// ServiceEntry, DestinationRule, ... changed, or the identity or DNS
// answers): then everything is translated again.
//
// Control thread only. Kept by the caller of compile() across compiles.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compile/cluster_builder.h"
#include "config/diagnostic.h"
#include "config/object_list.h"
#include "config/resources.h"
#include "router/route_table.h"

namespace torii::compile {

class RouteCache {
 public:
  struct Entry {
    std::shared_ptr<const router::VirtualHost> vhost;   // finalized; its routes are the translation's
    config::Diagnostics diagnostics;                    // what translating reported
    std::vector<ClusterBuilder::Resolved> resolutions;  // every resolve() call, in order
    uint64_t used = 0;                                  // the last compile that shared it
  };

  // Start of a compile. `clusters_shared`: the ClusterCache kept its entries
  // (nothing clusters are built from changed); otherwise all entries go.
  void begin(const config::ObjectList<config::VirtualService>& virtual_services, bool clusters_shared);
  // End of a compile: entries it did not share or make are dropped.
  void end();

  // Only VirtualServices of the ResourceSet are cached (not delegation's
  // merged copies, nor translated Gateway API routes, made anew each time).
  bool cacheable(const config::VirtualService* vs) const { return cacheable_.contains(vs); }
  // What the last compile kept for this translation, or null.
  Entry* find(std::string_view key);
  // Marks `entry` as shared by this compile.
  void share(Entry& entry) {
    entry.used = compile_;
    ++shared_;
  }
  void keep(std::string key, Entry entry);

  // The key of one translation in one route table.
  static std::string key(std::string_view table, const config::VirtualService* vs, std::string_view gateway,
                         uint32_t port, bool tls);

  // Virtual hosts the current compile shared rather than built.
  size_t shared_count() const { return shared_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries_;
  std::unordered_set<const config::VirtualService*> cacheable_;
  // The VirtualServices the entries were made from, kept alive until the
  // entries are swept, so no other object can take one of their addresses.
  config::ObjectList<config::VirtualService> held_;
  config::ObjectList<config::VirtualService> current_;
  uint64_t compile_ = 0;
  size_t shared_ = 0;
};

}  // namespace torii::compile
