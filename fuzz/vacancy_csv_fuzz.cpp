// The vacancy importer (domain/csv.cpp, domain/vacancy.cpp): a CSV as an operator uploads it,
// checked against the county list the gateway ships. The same bytes also go through the county
// list reader and, when short, the time parser. Properties: the importer answers either
// vacancies or errors, never neither; what it accepts obeys the rules; its messages are UTF-8
// (they go out as JSON); record rows and lines only grow.

#include "check.hpp"
#include "domain/csv.hpp"
#include "domain/gsm7.hpp"
#include "domain/vacancy.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

using namespace cp2::domain;

namespace {

// Built once: data/kenya-counties.csv, as the gateway loads it.
const static_county_lookup& counties() {
  static const static_county_lookup lookup = [] {
    const std::string path = std::string(CP2_SOURCE_DIR) + "/data/kenya-counties.csv";
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = static_county_lookup::from_csv(text.str());
    if (!in || !parsed) {
      std::fprintf(stderr, "vacancy_csv_fuzz: cannot read the county list %s\n", path.c_str());
      std::abort();
    }
    return std::move(parsed).value();
  }();
  return lookup;
}

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t n = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
                                    : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || s.size() - i < n) return false;
    char32_t cp = n == 1 ? lead : lead & (0xFF >> (n + 1));
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

void check_csv(std::string_view text) {
  const auto parsed = parse_csv(text);
  if (!parsed) {
    CP2_FUZZ_CHECK(parsed.error().row >= 1 && parsed.error().line >= parsed.error().row);
    CP2_FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  std::size_t row = 0, line = 0;
  for (const auto& record : *parsed) {
    CP2_FUZZ_CHECK(record.row > row && record.line > line && record.line >= record.row);
    CP2_FUZZ_CHECK(!record.fields.empty());
    row = record.row;
    line = record.line;
  }
}

void check_import(std::string_view text) {
  const auto imported = validate_vacancy_csv(text, counties());
  if (!imported) {
    const auto& errors = imported.error();
    CP2_FUZZ_CHECK(!errors.empty());
    std::size_t row = 0;
    for (const auto& e : errors) {
      CP2_FUZZ_CHECK(e.row > row);
      CP2_FUZZ_CHECK(!e.error.empty() && is_utf8(e.error));
      row = e.row;
    }
    return;
  }
  const auto& vacancies = imported.value();
  CP2_FUZZ_CHECK(!vacancies.empty() && vacancies.size() <= max_vacancy_rows);
  for (const auto& v : vacancies) {
    CP2_FUZZ_CHECK(!v.code.empty() && v.code.size() <= 32);
    for (const auto* s : {&v.exam, &v.activity, &v.venue, &v.role, &v.station}) {
      CP2_FUZZ_CHECK(!s->empty() && is_gsm7(*s));
      CP2_FUZZ_CHECK(s->find_first_of("\r\n") == std::string::npos);
    }
    CP2_FUZZ_CHECK(is_gsm7(v.description) && v.description.find('\r') == std::string::npos);
    CP2_FUZZ_CHECK(counties().county(v.county) == v.county);
    CP2_FUZZ_CHECK(counties().subcounty(v.county, v.subcounty) == v.subcounty);
    CP2_FUZZ_CHECK(v.slots >= 1 && v.slots <= 100000);
    CP2_FUZZ_CHECK(v.opens_at < v.closes_at);
  }
}

void check_county_list(std::string_view text) {
  const auto lookup = static_county_lookup::from_csv(text);
  if (!lookup) {
    CP2_FUZZ_CHECK(!lookup.error().message.empty() && lookup.error().row >= 1);
    return;
  }
  CP2_FUZZ_CHECK(!lookup->counties().empty());
  // Every listed name finds itself.
  for (const auto& c : lookup->counties()) {
    CP2_FUZZ_CHECK(lookup->county(c.name) == c.name);
    for (const auto& s : c.subcounties) CP2_FUZZ_CHECK(lookup->subcounty(c.name, s) == s);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_csv(text);
  check_import(text);
  check_county_list(text);
  if (size <= 64) {
    // Only for the sanitizers: no overflow or bad index on any short text.
    (void)parse_iso8601(text);
  }
  return 0;
}
