#pragma once
// A value or an error code: business outcomes travel as values, not exceptions.

#include <cassert>
#include <utility>
#include <variant>

namespace cp2::domain {

/// Either a T or an E (an enum class of the outcomes that are not a T).
template <class T, class E>
class result {
public:
  /// A successful result holding `value`.
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  /// A failed result holding `error`.
  result(E error) : v_(std::in_place_index<1>, error) {}

  /// True when the result holds a value.
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; only when ok().
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  /// The error; only when !ok().
  E error() const { assert(!ok()); return std::get<1>(v_); }

private:
  std::variant<T, E> v_;
};

/// The value type of a result that carries nothing on success.
struct done {};

}  // namespace cp2::domain
