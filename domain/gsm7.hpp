#pragma once
// The GSM 03.38 7-bit alphabet: USSD screens must keep to it (SPEC §3.1) and SMS cost is
// counted in its segments (issue #4). All text in and out is UTF-8.

#include <cstddef>
#include <string>
#include <string_view>

namespace cp2::domain {

/// True when every code point of `utf8` is in the GSM 03.38 default alphabet or its extension
/// table (^ { } \ [ ~ ] | €); false for invalid UTF-8. The empty text is GSM-7.
bool is_gsm7(std::string_view utf8);

/// How long a text is as an SMS.
struct sms_length {
  /// The encoding a handset or aggregator would pick: GSM-7 if it can, otherwise UCS-2.
  enum class encoding { gsm7, ucs2 } enc;
  /// Septets for GSM-7 (an extension character is 2), UTF-16 code units for UCS-2.
  std::size_t units;
  /// Parts sent and billed: 1 up to 160 septets or 70 units, else parts of 153 or 67.
  std::size_t segments;
};

/// Measures `utf8` as an SMS. An escape pair or surrogate pair is never split between two
/// parts, so a long text can need one more part than units / 153 (or / 67) suggests. Invalid
/// UTF-8 is measured as UCS-2, each bad byte one unit (as the U+FFFD it would become).
sms_length measure_sms(std::string_view utf8);

/// `utf8` with every character outside the GSM-7 alphabet replaced by a close equivalent where
/// one is obvious (curly quotes, dashes, odd spaces, accented Latin letters, "…") and '?'
/// otherwise; invisible characters (zero-width, BOM, combining accents) are dropped. The result
/// satisfies is_gsm7. For operator-entered text on its way to a USSD screen.
std::string to_gsm7_lossy(std::string_view utf8);

}  // namespace cp2::domain
