#include "domain/msisdn.hpp"

namespace cp2::domain {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

result<msisdn, msisdn_error> parse_msisdn(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) return msisdn_error::empty;

  const bool plus = text.front() == '+';
  if (plus) text.remove_prefix(1);
  // Separators only between digits: "-0712345678" or "0712-" is more likely a slip than a number.
  if (text.empty() || !is_digit(text.front()) || !is_digit(text.back())) {
    return msisdn_error::bad_characters;
  }
  std::string digits;
  for (const char c : text) {
    if (is_digit(c)) digits += c;
    else if (c != ' ' && c != '-') return msisdn_error::bad_characters;
  }

  // The form is read from the prefix; `national` is then the 9 digits after 254 or 0.
  const std::string_view all = digits;
  std::string_view national;
  if (plus || all.starts_with("254")) {
    if (!all.starts_with("254")) return msisdn_error::not_kenyan_mobile;
    if (all.size() != 12) return msisdn_error::bad_length;
    national = all.substr(3);
  } else if (all.starts_with('0')) {
    if (all.size() != 10) return msisdn_error::bad_length;
    national = all.substr(1);
  } else if (all.size() == 9) {
    national = all;
  } else {
    // Eleven or more digits without 0 or 254 in front read as another country's number.
    return all.size() > 10 ? msisdn_error::not_kenyan_mobile : msisdn_error::bad_length;
  }
  // Kenyan mobile ranges are 07xx and 01xx; 02–06 are fixed lines and services.
  if (national.front() != '7' && national.front() != '1') return msisdn_error::not_kenyan_mobile;
  return msisdn("254" + std::string(national));
}

std::string msisdn::international() const { return "+" + digits_; }

std::string msisdn::local() const { return "0" + digits_.substr(3); }

std::string_view describe(msisdn_error error) {
  switch (error) {
    case msisdn_error::empty: return "Enter your phone number, e.g. 0712345678.";
    case msisdn_error::bad_characters: return "Use digits only, e.g. 0712345678.";
    case msisdn_error::bad_length:
      return "That number has too few or too many digits. Enter it as 0712345678.";
    case msisdn_error::not_kenyan_mobile: break;
  }
  return "Enter a Kenyan mobile number such as 0712345678.";
}

}  // namespace cp2::domain
