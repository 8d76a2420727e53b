// A bounded per-thread cache of reusable items (buffer slices, header
// chunks, header entry vectors), so a steady request flow does not go to
// malloc for them.
//
// take() hands out a cached item if there is one; give() keeps an item
// unless the cache is full. Bounded, so a burst does not pin memory
// afterwards. After the thread's cache is destroyed (thread exit, or a
// static object released at process exit) both just say no and the caller
// allocates or frees directly: a bool that needs no destructor remembers it.
//
// Dispose frees an item the cache still holds when the thread exits.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace torii::net {

template <typename T, size_t kMaxCached, typename Dispose>
class ThreadCache {
 public:
  static bool take(T& out) {
    if (gone_) return false;
    std::vector<T>& items = cache().items;
    if (items.empty()) return false;
    out = std::move(items.back());
    items.pop_back();
    return true;
  }
  // False (the item untouched) if the cache is full or gone.
  static bool give(T& item) {
    if (gone_) return false;
    std::vector<T>& items = cache().items;
    if (items.size() >= kMaxCached) return false;
    items.push_back(std::move(item));
    return true;
  }

 private:
  struct Cache {
    std::vector<T> items;
    ~Cache() {
      for (T& item : items) Dispose{}(item);
      gone_ = true;
    }
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
  }
  static inline thread_local bool gone_ = false;
};

}  // namespace torii::net
