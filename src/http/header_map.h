// An ordered list of HTTP header fields with case-insensitive lookup.
//
// Names are stored lower-cased (as Envoy and HTTP/2 do, and as Istio gateways
// send them upstream); values are kept as received. Repeated fields stay as
// separate entries so they are forwarded as received; `get_joined` gives the
// comma-joined value that Envoy's header matchers see.
//
// Owned by one stream on one worker thread; not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/byte_arena.h"

namespace torii::http {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// ASCII case-insensitive equality, for header names and tokens. Inline: the
// header map calls it for every field on every lookup (callgrind: 4.5% of a
// proxied request's instructions when it was out of line).
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

class HeaderMap {
 public:
  // Views into the map's own ByteArena: valid while the map lives and the
  // field is not removed or replaced.
  struct Entry {
    std::string_view name;  // lower-case
    std::string_view value;
  };

  HeaderMap() = default;
  ~HeaderMap() { recycle_entries(); }
  HeaderMap(HeaderMap&&) noexcept = default;
  HeaderMap& operator=(HeaderMap&& other) noexcept {
    if (this != &other) {
      recycle_entries();
      entries_ = std::move(other.entries_);
      bytes_ = std::move(other.bytes_);
    }
    return *this;
  }
  // Copies re-store the bytes (a mirror, explain): views are per map.
  HeaderMap(const HeaderMap& other);
  HeaderMap& operator=(const HeaderMap& other);

  // Appends a field; `name` is lower-cased.
  void add(std::string_view name, std::string_view value);
  // add() for a name that is lower-case already (the parser folds it while
  // checking it is a token).
  void add_lower(std::string_view lower_name, std::string_view value);
  // Replaces every field of that name with one field (appends if absent).
  void set(std::string_view name, std::string_view value);
  // set() for a name already in lower case (a literal): no case folding in
  // the comparisons nor in the copy (the gateway's own fields, set on every
  // request: ~40% cheaper by callgrind).
  void set_lower(std::string_view lower_name, std::string_view value);
  // Removes every field of that name; returns how many were removed.
  size_t remove(std::string_view name);
  // Removes every field whose name starts with `prefix` (lower-case).
  size_t remove_prefix(std::string_view prefix);
  // Removes every field for which `pred(entry)` is true, in one pass.
  template <typename Pred>
  size_t remove_if(Pred pred) {
    return std::erase_if(entries_, pred);
  }

  // First value of that name, or nullptr. Valid until the map changes.
  const std::string_view* get(std::string_view name) const;
  // All values of that name joined by ","; `found` tells presence.
  std::string get_joined(std::string_view name, bool* found = nullptr) const;
  bool has(std::string_view name) const { return get(name) != nullptr; }

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() {
    entries_.clear();
    bytes_.clear();
  }
  // Sum of name and value lengths, for header-size limits.
  size_t byte_size() const;

 private:
  // `stored` is lower-case already; only `name` needs folding.
  static bool name_is(std::string_view stored, std::string_view name) {
    if (stored.size() != name.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      if (stored[i] != ascii_lower(name[i])) return false;
    }
    return true;
  }

  // The entry vector comes from, and goes back to, a per-thread free list:
  // the parser hands every request's map to its stream, so without it each
  // message would allocate a fresh vector.
  void reserve_entries();
  void recycle_entries();
  template <bool kLowerName>
  void set_field(std::string_view name, std::string_view value);

  std::vector<Entry> entries_;
  ByteArena bytes_;
};

std::string to_lower(std::string_view s);
// True if the comma-separated header value contains `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token);

// Calls `fn(token)` for each non-empty item of a comma-separated header
// value, spaces and tabs trimmed, until `fn` returns false. Returns false if
// it stopped early.
template <typename Fn>
bool for_each_token(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view token = list.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty() && !fn(token)) return false;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return true;
}

}  // namespace torii::http
