// An optional value kept on the heap: the interface of std::optional (the
// parts the config types use), the size of one pointer.
//
// For the large fields that most objects leave out (a DestinationRule's
// trafficPolicy, an HTTP route's redirect, retries, headers, fault, CORS):
// std::optional holds the whole value inline, so every object paid for all of
// them. With 10,000 objects loaded, the parsed objects were a third of the
// gateway's memory (each TypedObject as large as its largest kind, 1.4 KiB,
// because of DestinationRule's inline TrafficPolicy). Copies are deep, so a
// copied object owns its values as it did with std::optional.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace torii::config {

template <class T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): as std::optional
  HeapOptional(const T& value) : value_(std::make_unique<T>(value)) {}  // NOLINT(google-explicit-constructor)
  HeapOptional(T&& value)
      : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT(google-explicit-constructor)
  HeapOptional(std::optional<T> value) {                  // NOLINT(google-explicit-constructor)
    if (value) value_ = std::make_unique<T>(std::move(*value));
  }
  HeapOptional(const HeapOptional& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }
  HeapOptional& operator=(std::optional<T> value) {
    value_ = value ? std::make_unique<T>(std::move(*value)) : nullptr;
    return *this;
  }
  HeapOptional& operator=(T value) {
    value_ = std::make_unique<T>(std::move(value));
    return *this;
  }

  template <class... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  void reset() { value_.reset(); }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return value_ != nullptr; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }
  T& value() {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  const T& value() const {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  template <class U>
  T value_or(U&& fallback) const {
    return value_ ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }
  // The value or null: for code that passes "maybe a T" on as a pointer.
  const T* get() const { return value_.get(); }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace torii::config
