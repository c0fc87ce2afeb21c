// The phone normaliser (domain/msisdn.cpp): any text typed in a form, an SMS or the API.
// Properties: a parsed number is 12 digits 2547… or 2541…, and each of its forms parses back
// to it; a refusal has a message fit for a phone screen.

#include "check.hpp"
#include "domain/gsm7.hpp"
#include "domain/msisdn.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace cp2::domain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_msisdn(text);
  if (!parsed) {
    const std::string_view message = describe(parsed.error());
    CP2_FUZZ_CHECK(!message.empty() && message.size() <= 160 && is_gsm7(message));
    return 0;
  }
  const std::string& digits = parsed->digits();
  CP2_FUZZ_CHECK(digits.size() == 12);
  CP2_FUZZ_CHECK(
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }));
  CP2_FUZZ_CHECK(digits.starts_with("2547") || digits.starts_with("2541"));
  for (const auto& form : {digits, parsed->international(), parsed->local()}) {
    const auto again = parse_msisdn(form);
    CP2_FUZZ_CHECK(again && *again == *parsed);
  }
  CP2_FUZZ_CHECK(parsed->local().size() == 10 && parsed->international().size() == 13);
  return 0;
}
