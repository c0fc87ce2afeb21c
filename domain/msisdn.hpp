#pragma once
// Kenyan mobile numbers (SPEC §4.1): parsed once where they enter, then carried canonical.

#include "domain/result.hpp"

#include <compare>
#include <string>
#include <string_view>

namespace cp2::domain {

/// Why a text is not a Kenyan mobile number.
enum class msisdn_error {
  empty,              ///< nothing but whitespace
  bad_characters,     ///< not just digits, a leading '+' and spaces or hyphens between digits
  bad_length,         ///< digits, but too few or too many for the form used
  not_kenyan_mobile,  ///< another country code, or a Kenyan prefix other than 7 or 1
};

class msisdn;

/// Reads `2547XXXXXXXX`, `+2547XXXXXXXX`, `07XXXXXXXX`, `7XXXXXXXX` and the same with 1 in
/// place of 7; surrounding whitespace and spaces or hyphens between digits are ignored.
result<msisdn, msisdn_error> parse_msisdn(std::string_view text);

/// A Kenyan mobile number, always held as the 12 digits `2547XXXXXXXX` or `2541XXXXXXXX`.
class msisdn {
public:
  /// The canonical digits, e.g. "254712345678"; also the account username (SPEC §4.2).
  const std::string& digits() const noexcept { return digits_; }
  /// With a plus, e.g. "+254712345678", as the aggregator sends and expects it.
  std::string international() const;
  /// The national form people write, e.g. "0712345678".
  std::string local() const;

  /// Numbers compare by their canonical digits.
  friend bool operator==(const msisdn&, const msisdn&) = default;
  /// Orders by canonical digits, so 2541… sorts before 2547….
  friend auto operator<=>(const msisdn&, const msisdn&) = default;

private:
  friend result<msisdn, msisdn_error> parse_msisdn(std::string_view text);
  explicit msisdn(std::string digits) : digits_(std::move(digits)) {}

  std::string digits_;
};

/// A short English message for `error`, fit to show an applicant on a USSD screen or in an SMS.
std::string_view describe(msisdn_error error);

}  // namespace cp2::domain
