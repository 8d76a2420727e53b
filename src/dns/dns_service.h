// The control plane's DNS: one thread with its own event loop, a c-ares
// Resolver and a NameCache. The control thread says which names it needs
// (set_names) and reads what they resolve to (current()); on_change runs on
// the DNS thread whenever a name's addresses change, so the owner can
// recompile. Workers never see this: resolved addresses reach them inside
// the next compiled snapshot.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <thread>

#include "dns/name_cache.h"
#include "dns/resolver.h"
#include "net/event_loop.h"

namespace torii::dns {

class DnsService {
 public:
  DnsService(ResolverOptions resolver_options, RefreshPolicy policy, NameCache::OnChange on_change);
  // Stops the thread; on_change is not called afterwards.
  ~DnsService();
  DnsService(const DnsService&) = delete;
  DnsService& operator=(const DnsService&) = delete;

  // Empty if the resolver is usable (the thread runs either way).
  const std::string& init_error() const { return init_error_; }

  // Thread-safe. Takes effect shortly, on the DNS thread.
  void set_names(std::set<std::string> names);
  // Thread-safe.
  std::shared_ptr<const ResolvedNames> current() const { return cache_->current(); }

 private:
  net::EventLoop loop_;
  std::unique_ptr<Resolver> resolver_;
  std::unique_ptr<NameCache> cache_;
  std::string init_error_;
  std::thread thread_;
};

}  // namespace torii::dns
