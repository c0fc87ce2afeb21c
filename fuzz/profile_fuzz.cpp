// Profile fields as typed on a phone or sent by the portal (domain/profile.cpp). The first byte
// picks the field, the rest is the value. Properties: a canonical value is stable (normalising
// it again gives it back) and keeps its field's shape; a refusal is a short GSM-7 message.

#include "check.hpp"
#include "domain/gsm7.hpp"
#include "domain/profile.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace cp2::domain;

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }

// Code points of valid UTF-8.
std::size_t characters(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void check_shape(profile_field f, const std::string& v) {
  switch (f) {
    case profile_field::full_name:
      CP2_FUZZ_CHECK(!v.empty() && v.size() <= 60);
      CP2_FUZZ_CHECK(std::all_of(v.begin(), v.end(), [](char c) {
        const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        return letter || c == ' ' || c == '\'' || c == '-';
      }));
      CP2_FUZZ_CHECK(v.find(' ') != std::string::npos);
      break;
    case profile_field::national_id:
      CP2_FUZZ_CHECK(v.size() >= 6 && v.size() <= 9 && all_digits(v));
      break;
    case profile_field::kra_pin:
      CP2_FUZZ_CHECK(v.size() == 11 && v.front() == 'A' && v.back() >= 'A' && v.back() <= 'Z');
      CP2_FUZZ_CHECK(all_digits(std::string_view(v).substr(1, 9)));
      break;
    case profile_field::county:
      CP2_FUZZ_CHECK(!v.empty() && characters(v) <= 30);
      break;
    case profile_field::workstation:
      CP2_FUZZ_CHECK(is_gsm7(v));
      CP2_FUZZ_CHECK(characters(v) >= 2 && characters(v) <= 60);
      break;
    case profile_field::tsc_number:
      CP2_FUZZ_CHECK(v.empty() || (v.size() >= 4 && v.size() <= 10 && all_digits(v)));
      break;
  }
  // Canonical values carry no outer or doubled whitespace.
  CP2_FUZZ_CHECK(v.empty() || (v.front() != ' ' && v.back() != ' '));
  CP2_FUZZ_CHECK(v.find("  ") == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& fields = profile_fields();
  const profile_field f = fields[data[0] % fields.size()];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto r = normalise_field(f, input);
  if (!r) {
    const std::string& message = r.error().message;
    CP2_FUZZ_CHECK(!message.empty() && message.size() <= 60 && is_gsm7(message));
    return 0;
  }
  check_shape(f, r.value());
  const auto again = normalise_field(f, r.value());
  CP2_FUZZ_CHECK(again && again.value() == r.value());
  return 0;
}
