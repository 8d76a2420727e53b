#include "http/header_map.h"

#include <algorithm>

#include "net/thread_cache.h"

namespace torii::http {

namespace {

// A request has ~10-20 fields; vectors that grew past 64 are not kept.
constexpr size_t kInitialEntries = 16;
constexpr size_t kMaxCachedEntries = 64;
struct DropEntries {
  void operator()(std::vector<HeaderMap::Entry>&) const {}  // its own destructor frees it
};
// 256 vectors per thread (up to 2 KiB each, ~0.5 KiB at 16 fields): a
// stream holds two or three maps at once (request, upstream request,
// response), so 64 ran dry at 100 HTTP/2 streams in flight and ~1 map a
// request went to malloc (callgrind, bench/callgrind_request.sh CLIENT=h2c).
using EntryVectorCache = net::ThreadCache<std::vector<HeaderMap::Entry>, 256, DropEntries>;

}  // namespace

void HeaderMap::reserve_entries() {
  if (!EntryVectorCache::take(entries_)) entries_.reserve(kInitialEntries);
}

void HeaderMap::recycle_entries() {
  if (entries_.capacity() == 0 || entries_.capacity() > kMaxCachedEntries) return;
  entries_.clear();
  EntryVectorCache::give(entries_);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool has_token(std::string_view list, std::string_view token) {
  return !for_each_token(list, [token](std::string_view item) { return !iequals(item, token); });
}

HeaderMap::HeaderMap(const HeaderMap& other) { *this = other; }

HeaderMap& HeaderMap::operator=(const HeaderMap& other) {
  if (this == &other) return *this;
  clear();
  entries_.reserve(other.entries_.size());
  for (const Entry& e : other.entries_) add_lower(e.name, e.value);
  return *this;
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  if (entries_.capacity() == 0) reserve_entries();
  entries_.push_back(Entry{bytes_.store_lower(name), bytes_.store(value)});
}

void HeaderMap::add_lower(std::string_view lower_name, std::string_view value) {
  if (entries_.capacity() == 0) reserve_entries();
  entries_.push_back(Entry{bytes_.store(lower_name), bytes_.store(value)});
}

template <bool kLowerName>
void HeaderMap::set_field(std::string_view name, std::string_view value) {
  bool replaced = false;
  auto it = entries_.begin();
  while (it != entries_.end()) {
    if (kLowerName ? it->name == name : name_is(it->name, name)) {
      if (!replaced) {
        // The old bytes stay in the arena until the map is cleared: a few
        // bytes per replaced field, for one message.
        it->value = bytes_.store(value);
        replaced = true;
        ++it;
      } else {
        it = entries_.erase(it);
      }
    } else {
      ++it;
    }
  }
  if (replaced) return;
  if (kLowerName) {
    add_lower(name, value);
  } else {
    add(name, value);
  }
}

void HeaderMap::set(std::string_view name, std::string_view value) { set_field<false>(name, value); }

void HeaderMap::set_lower(std::string_view lower_name, std::string_view value) {
  set_field<true>(lower_name, value);
}

size_t HeaderMap::remove(std::string_view name) {
  size_t before = entries_.size();
  std::erase_if(entries_, [&](const Entry& e) { return name_is(e.name, name); });
  return before - entries_.size();
}

size_t HeaderMap::remove_prefix(std::string_view prefix) {
  size_t before = entries_.size();
  std::erase_if(entries_, [&](const Entry& e) {
    return e.name.size() >= prefix.size() && iequals(e.name.substr(0, prefix.size()), prefix);
  });
  return before - entries_.size();
}

const std::string_view* HeaderMap::get(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (name_is(e.name, name)) return &e.value;
  }
  return nullptr;
}

std::string HeaderMap::get_joined(std::string_view name, bool* found) const {
  std::string out;
  bool any = false;
  for (const Entry& e : entries_) {
    if (!name_is(e.name, name)) continue;
    if (any) out += ',';
    out += e.value;
    any = true;
  }
  if (found) *found = any;
  return out;
}

size_t HeaderMap::byte_size() const {
  size_t n = 0;
  for (const Entry& e : entries_) n += e.name.size() + e.value.size();
  return n;
}

}  // namespace torii::http
