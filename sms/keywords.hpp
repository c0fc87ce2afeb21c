#pragma once
// Keywords of SMS sent to the shortcode (SPEC §4.2, §4.3, §4.5, §4.6). Pure: no I/O, any bytes.

#include <string>
#include <string_view>

namespace cp2::sms {

/// What an incoming SMS asks for, decided by its first word (or a known two-word phrase).
enum class keyword { register_account, reset_password, status, help, stop, start, unknown };

/// An incoming SMS split into its keyword and the text that followed it.
struct parsed_sms {
  /// The keyword; `unknown` for empty or unrecognised text (the caller replies with help).
  keyword kw = keyword::unknown;
  /// The text after the keyword's word(s), separators trimmed from both ends (a leading '+' is
  /// kept, so a phone number survives); otherwise the bytes as received, possibly not UTF-8.
  /// Empty when the keyword is `unknown`.
  std::string rest;

  /// Field-wise equality, for tests.
  friend bool operator==(const parsed_sms&, const parsed_sms&) = default;
};

/// Parses the text of an incoming SMS.
///
/// Case is ignored (ASCII only: no locale). Words are separated by ASCII whitespace and
/// punctuation and by a few Unicode spaces and quotes that phones insert (no-break space, zero
/// width space, byte order mark, curly quotes, en/em dash, ellipsis), so "  password. ",
/// "*Password*", "PASSWORD!!", "“PASSWORD”" and "Password\r\n" all mean `reset_password`. Any
/// other byte is part of a word, so "Pässword" is `unknown` rather than a guess; malformed
/// UTF-8 is just more such bytes.
///
/// Words (first word decides; a two-word phrase is consumed whole so it stays out of `rest`):
/// - register_account: REGISTER, JOIN, REG
/// - reset_password:   PASSWORD, PASSWD, RESET, FORGOT, and RESET PASSWORD / RESET PASSWD /
///                     PASSWORD RESET / PASSWD RESET / FORGOT PASSWORD / FORGOT PASSWD
/// - status:           STATUS
/// - help:             HELP, INFO
/// - stop:             STOP, STOPALL, UNSUBSCRIBE, OPT OUT (common opt-out words; CANCEL, END
///                     and QUIT are left out: here they more likely mean "withdraw my
///                     application" than "stop notifications")
/// - start:            START, UNSTOP, SUBSCRIBE, OPT IN
parsed_sms parse_keyword(std::string_view text);

/// The keyword's enumerator name ("register_account"…), for logs and metrics labels.
std::string_view to_string(keyword kw) noexcept;

}  // namespace cp2::sms
