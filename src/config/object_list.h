// The objects of one kind in a ResourceSet, shared rather than copied.
//
// The Store and the load cache hold every object as read; a compile reads
// them through this list. With 25,000 objects, copying each into the
// ResourceSet was 145 ms of every reload; sharing them is a pointer each.
// Reads like a std::vector<T> of const objects (range-for, size(), [i],
// begin()/end() with the standard algorithms); push_back(T) takes ownership
// of a new object (tests, translated objects).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <vector>

namespace torii::config {

template <class T>
class ObjectList {
  using Pointers = std::vector<std::shared_ptr<const T>>;

 public:
  using value_type = T;
  using size_type = size_t;

  // Random access over the objects themselves, not the pointers.
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using iterator_concept = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    explicit const_iterator(typename Pointers::const_iterator it) : it_(it) {}

    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    reference operator[](difference_type n) const { return *it_[n]; }
    const_iterator& operator++() { return ++it_, *this; }
    const_iterator operator++(int) { return const_iterator(it_++); }
    const_iterator& operator--() { return --it_, *this; }
    const_iterator operator--(int) { return const_iterator(it_--); }
    const_iterator& operator+=(difference_type n) { return it_ += n, *this; }
    const_iterator& operator-=(difference_type n) { return it_ -= n, *this; }
    friend const_iterator operator+(const_iterator a, difference_type n) { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return a.it_ - b.it_;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.it_ == b.it_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) { return a.it_ <=> b.it_; }

   private:
    typename Pointers::const_iterator it_;
  };
  using iterator = const_iterator;

  ObjectList() = default;
  // Copies of `objects`, owned by the list (tests, objects built in place).
  ObjectList(std::initializer_list<T> objects) {
    for (const T& o : objects) push_back(o);
  }
  ObjectList(const std::vector<T>& objects) {  // NOLINT(google-explicit-constructor): reads as a vector
    for (const T& o : objects) push_back(o);
  }

  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const T& operator[](size_t i) const { return *items_[i]; }
  const T& at(size_t i) const { return *items_.at(i); }
  const T& front() const { return *items_.front(); }

  // The very same objects, in the same order (not merely equal ones): what
  // tells a compile that a kind is unchanged since the last one, as the
  // Store shares the objects of unchanged documents between reloads.
  bool same_objects(const ObjectList& other) const {
    if (items_.size() != other.items_.size()) return false;
    for (size_t i = 0; i < items_.size(); ++i)
      if (items_[i] != other.items_[i]) return false;
    return true;
  }

  void reserve(size_t n) { items_.reserve(n); }
  void push_back(std::shared_ptr<const T> object) { items_.push_back(std::move(object)); }
  void push_back(T object) { items_.push_back(std::make_shared<const T>(std::move(object))); }
  // A new object owned by the list, for a builder to finish before anything
  // reads the list (tests).
  T& add(T object) {
    auto owned = std::make_shared<T>(std::move(object));
    T& ref = *owned;
    items_.push_back(std::move(owned));
    return ref;
  }

 private:
  Pointers items_;
};

}  // namespace torii::config
