#pragma once
// Random passwords for new and reset accounts (SPEC §4.2, §4.3). Randomness is injected so
// that tests are deterministic.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cp2::domain {

/// Where make_password gets its randomness; in production a CSPRNG reduced without modulo bias.
class random_source {
public:
  virtual ~random_source() = default;
  /// uniform integer in [0, upper_bound)
  virtual std::uint32_t uniform(std::uint32_t upper_bound) = 0;
};

/// The 56 characters a password is drawn from: digits 2-9, A-Z without I and O, a-z without l
/// and o. Applicants copy the password from an SMS by eye, so 0/O/o and 1/l/I are left out.
inline constexpr std::string_view password_alphabet =
    "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";

/// The shortest password make_password makes and is_generated_password_shape accepts.
inline constexpr std::size_t min_password_length = 8;

/// `length` characters of password_alphabet with at least one digit, one upper-case and one
/// lower-case letter. Throws std::invalid_argument when length < min_password_length, and
/// std::runtime_error or std::logic_error when `random` is evidently broken.
std::string make_password(random_source& random, std::size_t length = 10);

/// True when `text` has the shape make_password gives: at least min_password_length characters,
/// all from password_alphabet (the mix of classes is not checked).
bool is_generated_password_shape(std::string_view text);

}  // namespace cp2::domain
