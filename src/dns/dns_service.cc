#include "dns/dns_service.h"

namespace torii::dns {

DnsService::DnsService(ResolverOptions resolver_options, RefreshPolicy policy,
                       NameCache::OnChange on_change) {
  // Resolver and cache are built here but used only on the DNS thread, which
  // starts after they exist.
  resolver_ = std::make_unique<Resolver>(loop_, std::move(resolver_options));
  init_error_ = resolver_->init_error();
  cache_ = std::make_unique<NameCache>(loop_, *resolver_, policy, std::move(on_change));
  thread_ = std::thread([this] { loop_.run(); });
}

DnsService::~DnsService() {
  loop_.post([this] {
    cache_.reset();
    resolver_.reset();
    loop_.stop();
  });
  thread_.join();
  loop_.flush_deferred_deletes();
}

void DnsService::set_names(std::set<std::string> names) {
  loop_.post([this, names = std::move(names)] { cache_->set_names(names); });
}

}  // namespace torii::dns
