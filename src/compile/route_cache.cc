#include "compile/route_cache.h"

#include <utility>

namespace torii::compile {

void RouteCache::begin(const config::ObjectList<config::VirtualService>& virtual_services,
                       bool clusters_shared) {
  ++compile_;
  shared_ = 0;
  if (!clusters_shared) entries_.clear();
  current_ = virtual_services;
  cacheable_.clear();
  cacheable_.reserve(virtual_services.size());
  for (const config::VirtualService& vs : virtual_services) cacheable_.insert(&vs);
}

void RouteCache::end() {
  std::erase_if(entries_, [this](const auto& e) { return e.second.used != compile_; });
  // Every entry left is of a VS in `current_`: the older objects may go.
  held_ = std::move(current_);
  current_ = {};
  cacheable_.clear();
}

RouteCache::Entry* RouteCache::find(std::string_view key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void RouteCache::keep(std::string key, Entry entry) {
  entry.used = compile_;
  entries_.insert_or_assign(std::move(key), std::move(entry));
}

std::string RouteCache::key(std::string_view table, const config::VirtualService* vs,
                            std::string_view gateway, uint32_t port, bool tls) {
  std::string out;
  out.reserve(table.size() + gateway.size() + 40);
  out.append(table).append(1, '\0').append(gateway).append(1, '\0');
  out.append(std::to_string(port)).append(tls ? "s" : "p");
  out.append(std::to_string(reinterpret_cast<uintptr_t>(vs)));
  return out;
}

}  // namespace torii::compile
