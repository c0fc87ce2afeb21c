#include "sms/keywords.hpp"

#include <array>
#include <cstddef>

namespace cp2::sms {

namespace {

// UTF-8 sequences that phones and copy-paste put around words. Only whole sequences are
// separators, so trimming never splits a multi-byte character; everything else non-ASCII stays
// part of a word.
constexpr std::array<std::string_view, 11> unicode_separators{
    "\xC2\xA0",      // U+00A0 no-break space
    "\xE2\x80\x8B",  // U+200B zero width space
    "\xEF\xBB\xBF",  // U+FEFF byte order mark
    "\xE2\x80\x98",  // U+2018 left single quotation mark
    "\xE2\x80\x99",  // U+2019 right single quotation mark
    "\xE2\x80\x9C",  // U+201C left double quotation mark
    "\xE2\x80\x9D",  // U+201D right double quotation mark
    "\xE2\x80\x93",  // U+2013 en dash
    "\xE2\x80\x94",  // U+2014 em dash
    "\xE2\x80\xA6",  // U+2026 horizontal ellipsis
    "\xE3\x80\x80",  // U+3000 ideographic space
};

bool is_ascii_alnum(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Every ASCII byte that is not a letter or digit: whitespace, punctuation, control characters.
bool is_ascii_separator(unsigned char c) noexcept { return c < 0x80 && !is_ascii_alnum(c); }

// Length of the separator at the start of `s`, or 0 when `s` starts with a word byte.
std::size_t separator_prefix(std::string_view s) noexcept {
  if (s.empty()) return 0;
  if (is_ascii_separator(static_cast<unsigned char>(s.front()))) return 1;
  for (std::string_view sep : unicode_separators)
    if (s.starts_with(sep)) return sep.size();
  return 0;
}

// Length of the separator at the end of `s`, or 0 when `s` ends with a word byte.
std::size_t separator_suffix(std::string_view s) noexcept {
  if (s.empty()) return 0;
  if (is_ascii_separator(static_cast<unsigned char>(s.back()))) return 1;
  for (std::string_view sep : unicode_separators)
    if (s.ends_with(sep)) return sep.size();
  return 0;
}

std::string_view skip_separators(std::string_view s) noexcept {
  while (std::size_t n = separator_prefix(s)) s.remove_prefix(n);
  return s;
}

// The word at the start of `s` (which must not start with a separator).
std::string_view leading_word(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && separator_prefix(s.substr(i)) == 0) ++i;
  return s.substr(0, i);
}

// `upper` is an upper-case ASCII table entry; the comparison folds ASCII only, so no locale can
// change which messages count as keywords.
bool equals_keyword(std::string_view word, std::string_view upper) noexcept {
  if (word.size() != upper.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

std::string_view trim_rest(std::string_view s) noexcept {
  // A leading '+' starts an international phone number ("REGISTER +254712345678"): keep it.
  while (!s.empty() && s.front() != '+') {
    std::size_t n = separator_prefix(s);
    if (n == 0) break;
    s.remove_prefix(n);
  }
  while (std::size_t n = separator_suffix(s)) s.remove_suffix(n);
  return s;
}

struct alias {
  std::string_view first;
  std::string_view second;  // empty: a one-word alias
  keyword kw;
};

// Two-word phrases come before the one-word alias of their first word, so that "RESET
// PASSWORD" consumes both words instead of leaving "PASSWORD" in `rest`.
constexpr alias aliases[] = {
    {"RESET", "PASSWORD", keyword::reset_password},
    {"RESET", "PASSWD", keyword::reset_password},
    {"PASSWORD", "RESET", keyword::reset_password},
    {"PASSWD", "RESET", keyword::reset_password},
    {"FORGOT", "PASSWORD", keyword::reset_password},
    {"FORGOT", "PASSWD", keyword::reset_password},
    {"OPT", "OUT", keyword::stop},
    {"OPT", "IN", keyword::start},
    {"REGISTER", "", keyword::register_account},
    {"JOIN", "", keyword::register_account},
    {"REG", "", keyword::register_account},
    {"PASSWORD", "", keyword::reset_password},
    {"PASSWD", "", keyword::reset_password},
    {"RESET", "", keyword::reset_password},
    {"FORGOT", "", keyword::reset_password},
    {"STATUS", "", keyword::status},
    {"HELP", "", keyword::help},
    {"INFO", "", keyword::help},
    {"STOP", "", keyword::stop},
    {"STOPALL", "", keyword::stop},
    {"UNSUBSCRIBE", "", keyword::stop},
    {"START", "", keyword::start},
    {"UNSTOP", "", keyword::start},
    {"SUBSCRIBE", "", keyword::start},
};

}  // namespace

parsed_sms parse_keyword(std::string_view text) {
  std::string_view s = skip_separators(text);
  std::string_view first = leading_word(s);
  if (first.empty()) return {};
  std::string_view after_first = s.substr(first.size());

  std::string_view after_second = skip_separators(after_first);
  std::string_view second = leading_word(after_second);
  after_second.remove_prefix(second.size());

  for (const alias& a : aliases) {
    if (!equals_keyword(first, a.first)) continue;
    if (a.second.empty()) return {a.kw, std::string(trim_rest(after_first))};
    if (equals_keyword(second, a.second)) return {a.kw, std::string(trim_rest(after_second))};
  }
  return {};
}

std::string_view to_string(keyword kw) noexcept {
  switch (kw) {
    case keyword::register_account: return "register_account";
    case keyword::reset_password: return "reset_password";
    case keyword::status: return "status";
    case keyword::help: return "help";
    case keyword::stop: return "stop";
    case keyword::start: return "start";
    case keyword::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace cp2::sms
