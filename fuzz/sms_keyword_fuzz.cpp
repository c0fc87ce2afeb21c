// Keywords of incoming SMS (sms/keywords.cpp): any bytes a phone or aggregator may send.
// Properties: the parse is pure, folds ASCII case only, and `rest` is a trimmed piece of the
// text.

#include "check.hpp"
#include "sms/keywords.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using cp2::sms::keyword;
using cp2::sms::parse_keyword;

namespace {

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool is_ascii_separator(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x80 && !((u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_keyword(text);

  CP2_FUZZ_CHECK(!cp2::sms::to_string(parsed.kw).empty());
  if (parsed.kw == keyword::unknown) CP2_FUZZ_CHECK(parsed.rest.empty());
  if (!parsed.rest.empty()) {
    CP2_FUZZ_CHECK(text.find(parsed.rest) != std::string_view::npos);
    // Trimmed: no ASCII separator at either end, but a leading '+' (a phone number) is kept.
    CP2_FUZZ_CHECK(parsed.rest.front() == '+' || !is_ascii_separator(parsed.rest.front()));
    CP2_FUZZ_CHECK(!is_ascii_separator(parsed.rest.back()));
  }

  // ASCII case never changes the keyword, and changes `rest` only by its case.
  const auto upper = parse_keyword(ascii_upper(text));
  CP2_FUZZ_CHECK(upper.kw == parsed.kw);
  CP2_FUZZ_CHECK(upper.rest == ascii_upper(parsed.rest));
  return 0;
}
