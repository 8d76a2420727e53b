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

  // One translation in one route table. The views need only live for the
  // call they are passed to.
  struct Key {
    const config::VirtualService* vs = nullptr;
    std::string_view table;
    std::string_view gateway;
    uint32_t port = 0;
    bool tls = false;
  };

  // Only VirtualServices of the ResourceSet are kept (keep() checks), not
  // those a compile makes anew each time (delegation's merged roots,
  // translated Gateway API routes): the next compile's may take their
  // addresses. A kept VS is held alive until its entry goes, so no other
  // object can have its address, and find() needs no check.
  // What the last compile kept for this translation, or null.
  Entry* find(const Key& key);
  // Marks `entry` as shared by this compile.
  void share(Entry& entry) {
    entry.used = compile_;
    ++shared_;
  }
  void keep(const Key& key, Entry entry);

  // Virtual hosts the current compile shared rather than built.
  size_t shared_count() const { return shared_; }

 private:
  // The rest of a Key, owned. A VS has one per route table and server it
  // reaches (usually one).
  struct Slot {
    std::string table;
    std::string gateway;
    uint32_t port = 0;
    bool tls = false;
    Entry entry;
  };

  // By VS: a lookup hashes a pointer and builds no string (10,000 lookups
  // a compile with the bench's hosts config).
  std::unordered_map<const config::VirtualService*, std::vector<Slot>> entries_;
  // Is `vs` one of current_'s? A few keep() calls (a warm compile's) scan the
  // list; past kScanBudget of them, a sorted copy is made once.
  bool in_current(const config::VirtualService* vs);
  static constexpr int kScanBudget = 16;
  int scans_left_ = kScanBudget;
  std::vector<const config::VirtualService*> sorted_current_;
  // The VirtualServices the entries were made from, kept alive until the
  // entries are swept, so no other object can take one of their addresses.
  config::ObjectList<config::VirtualService> held_;
  config::ObjectList<config::VirtualService> current_;
  uint64_t compile_ = 0;
  size_t shared_ = 0;
};

}  // namespace torii::compile
