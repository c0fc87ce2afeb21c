#include "domain/vacancy.hpp"

#include "domain/gsm7.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <unordered_map>

namespace cp2::domain {

namespace {

// ---- text helpers ----------------------------------------------------------------------------

constexpr std::string_view nbsp = "\xC2\xA0";

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Spreadsheets and copy-paste leave spaces, line ends and no-break spaces around values.
std::string_view trim(std::string_view s) {
  for (;;) {
    if (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
    else if (s.starts_with(nbsp)) s.remove_prefix(nbsp.size());
    else break;
  }
  for (;;) {
    if (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
    else if (s.ends_with(nbsp)) s.remove_suffix(nbsp.size());
    else break;
  }
  return s;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool is_blank_record(const csv_record& record) {
  return std::all_of(record.fields.begin(), record.fields.end(),
                     [](const std::string& f) { return trim(f).empty(); });
}

struct code_point {
  char32_t cp;
  std::size_t size;  // 0 for an invalid sequence
};

// Strict UTF-8 (RFC 3629): no overlong forms, surrogates or code points past U+10FFFF.
code_point decode(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return {lead, 1};
  std::size_t size = 0;
  char32_t cp = 0;
  char32_t smallest = 0;
  if ((lead & 0xE0) == 0xC0) { size = 2; cp = lead & 0x1F; smallest = 0x80; }
  else if ((lead & 0xF0) == 0xE0) { size = 3; cp = lead & 0x0F; smallest = 0x800; }
  else if ((lead & 0xF8) == 0xF0) { size = 4; cp = lead & 0x07; smallest = 0x10000; }
  else return {0, 0};
  if (s.size() - i < size) return {0, 0};
  for (std::size_t k = 1; k < size; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < smallest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0, 0};
  return {cp, size};
}

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = decode(s, i);
    if (c.size == 0) return false;
    i += c.size;
  }
  return true;
}

// Characters, as a phone screen counts them; only for valid UTF-8.
std::size_t length_in_characters(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); i += decode(s, i).size) ++n;
  return n;
}

// `s` fit to quote in an error message: valid UTF-8 (the message goes out as JSON) and short.
std::string shown(std::string_view s) {
  if (!is_utf8(s)) return "(text that is not UTF-8)";
  constexpr std::size_t most = 40;
  std::size_t i = 0;
  for (std::size_t n = 0; i < s.size() && n < most; ++n) i += decode(s, i).size;
  if (i == s.size()) return fmt::format("'{}'", s);
  return fmt::format("'{}...'", s.substr(0, i));
}

// Names the first character of valid UTF-8 `s` that GSM-7 lacks, so the operator can find it.
std::string first_non_gsm7(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = decode(s, i);
    if (!is_gsm7(s.substr(i, c.size))) {
      // Control and invisible characters are named by number only: quoting them shows nothing.
      const bool invisible = c.cp < 0x20 || (c.cp >= 0x7F && c.cp <= 0xA0) || c.cp == 0xAD ||
                             (c.cp >= 0x2000 && c.cp <= 0x200F) ||
                             (c.cp >= 0x2028 && c.cp <= 0x202F) ||
                             (c.cp >= 0x2060 && c.cp <= 0x206F) || c.cp == 0xFEFF;
      if (invisible) return fmt::format("U+{:04X}", static_cast<std::uint32_t>(c.cp));
      return fmt::format("'{}' (U+{:04X})", s.substr(i, c.size), static_cast<std::uint32_t>(c.cp));
    }
    i += c.size;
  }
  return {};
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// ---- dates -----------------------------------------------------------------------------------

// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant, "chrono-Compatible
// Low-Level Date Algorithms").
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

constexpr std::array<std::string_view, 12> month_names{
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

// East Africa Time has no daylight saving, so one offset serves every date (SPEC §7).
constexpr int eat_offset_minutes = 3 * 60;

// A cursor over the time text; each reader consumes only on success.
struct time_text {
  std::string_view s;
  std::size_t i = 0;

  bool at_end() const { return i == s.size(); }
  bool peek(char c) const { return i < s.size() && s[i] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i;
    return true;
  }
  bool digits(std::size_t n, int& out) {
    if (s.size() - i < n) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    i += n;
    return true;
  }
};

// ---- the vacancy columns ---------------------------------------------------------------------

enum column : std::size_t {
  col_code, col_exam, col_activity, col_venue, col_role, col_county, col_subcounty, col_station,
  col_slots, col_description, col_opens_at, col_closes_at, column_count
};

constexpr std::array<std::string_view, column_count> column_names{
    "code", "exam", "activity", "venue", "role", "county", "subcounty", "station",
    "slots", "description", "opens_at", "closes_at"};

constexpr std::size_t max_code_length = 32;
constexpr std::size_t max_short_text = 40;  // exam, activity, venue, role: one USSD menu line
constexpr std::size_t max_station = 60;
constexpr std::size_t max_description = 300;
constexpr int max_slots = 100000;
// 2000-01-01T00:00Z and 2100-01-01T00:00Z: outside them a time is a typo such as 0226 or 2206.
constexpr std::int64_t earliest_time = 946684800000;
constexpr std::int64_t latest_time = 4102444800000;

bool is_code_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '/';
}

// Checks a text field shown on a feature phone; nullopt when it is fine.
std::optional<std::string> text_problem(std::string_view name, std::string_view value,
                                        std::size_t most, bool required, bool one_line) {
  if (value.empty()) {
    if (!required) return std::nullopt;
    return fmt::format("{} is empty", name);
  }
  if (!is_utf8(value)) {
    return fmt::format("{} is not UTF-8 text: save the file as CSV UTF-8", name);
  }
  if (one_line && value.find_first_of("\r\n") != std::string_view::npos) {
    return fmt::format("{} must be on one line", name);
  }
  if (!is_gsm7(value)) {
    return fmt::format("{} has {}, which feature phones cannot show", name,
                       first_non_gsm7(value));
  }
  if (const auto n = length_in_characters(value); n > most) {
    return fmt::format("{} is {} characters long, at most {}", name, n, most);
  }
  return std::nullopt;
}

std::string normalised_line_ends(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A time column: the time, or a problem appended to `problems`.
std::optional<std::int64_t> read_time(std::string_view name, std::string_view value,
                                      std::vector<std::string>& problems) {
  if (value.empty()) {
    problems.push_back(fmt::format("{} is empty", name));
    return std::nullopt;
  }
  const auto t = parse_iso8601(value);
  if (!t) {
    problems.push_back(fmt::format("{} {}: {}", name, shown(value), t.error()));
    return std::nullopt;
  }
  if (*t < earliest_time || *t >= latest_time) {
    problems.push_back(fmt::format("{} {} is not between the years 2000 and 2099", name,
                                   shown(value)));
    return std::nullopt;
  }
  return *t;
}

// Maps header fields to columns; the one error for the header, or the field index per column.
result<std::array<std::size_t, column_count>, std::string> read_header(
    const std::vector<std::string>& header) {
  std::array<std::size_t, column_count> index;
  index.fill(header.size());
  std::vector<std::string> problems;
  if (header.size() == 1) {
    // A spreadsheet set to another locale separates with ';' and the whole header is one field.
    for (const char sep : {';', '\t', '|'}) {
      if (header[0].find(sep) != std::string::npos) {
        return fmt::format("the header has no commas but '{}': save the file as CSV with "
                           "commas between fields",
                           sep == '\t' ? std::string("tab") : std::string(1, sep));
      }
    }
  }
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string name = ascii_lower(trim(header[i]));
    if (name.empty()) {
      problems.push_back(fmt::format("column {} has no name", i + 1));
      continue;
    }
    const auto known = std::find(column_names.begin(), column_names.end(), name);
    if (known == column_names.end()) {
      problems.push_back(fmt::format("unknown column {}", shown(trim(header[i]))));
      continue;
    }
    auto& slot = index[static_cast<std::size_t>(known - column_names.begin())];
    if (slot != header.size()) {
      problems.push_back(fmt::format("column '{}' appears twice (columns {} and {})", name,
                                     slot + 1, i + 1));
      continue;
    }
    slot = i;
  }
  for (std::size_t c = 0; c < column_count; ++c) {
    if (index[c] == header.size()) {
      problems.push_back(fmt::format("missing column '{}'", column_names[c]));
    }
  }
  if (!problems.empty()) return joined(problems);
  return index;
}

struct seen_code {
  std::string spelling;
  std::size_t row;
};

}  // namespace

// ---- counties ------------------------------------------------------------------------------

std::string county_match_key(std::string_view name) {
  std::string key;
  bool gap = false;
  for (std::size_t i = 0; i < name.size();) {
    const auto c = decode(name, i);
    const std::size_t size = c.size == 0 ? 1 : c.size;
    const char32_t cp = c.size == 0 ? U'\uFFFD' : c.cp;
    i += size;
    // Apostrophes as typed, autocorrected or left out: Murang'a, Murang’a, Muranga.
    if (cp == '\'' || cp == '`' || cp == U'\u2018' || cp == U'\u2019' || cp == U'\u00B4') {
      continue;
    }
    if (cp == ' ' || cp == '\t' || cp == '-' || cp == '/' || cp == U'\u00A0' ||
        cp == U'\u2010' || cp == U'\u2013' || cp == U'\u2014') {
      gap = true;
      continue;
    }
    if (gap && !key.empty()) key += ' ';
    gap = false;
    if (c.size == 0) key += "\xEF\xBF\xBD";
    else if (cp < 0x80) key += ascii_lower(static_cast<char>(cp));
    else key.append(name.substr(i - size, size));
  }
  return key;
}

static_county_lookup::static_county_lookup(std::vector<std::pair<std::string, std::string>> pairs) {
  for (auto& [county_name, subcounty_name] : pairs) {
    const std::string county_key = county_match_key(county_name);
    if (county_key.empty()) continue;
    auto [at, added] = county_index_.try_emplace(county_key, counties_.size());
    if (added) {
      counties_.push_back({std::string(trim(county_name)), {}});
      subcounty_index_.emplace_back();
    }
    const std::string subcounty_key = county_match_key(subcounty_name);
    if (subcounty_key.empty()) continue;
    auto& entry = counties_[at->second];
    if (subcounty_index_[at->second].try_emplace(subcounty_key, entry.subcounties.size()).second) {
      entry.subcounties.emplace_back(trim(subcounty_name));
    }
  }
}

result<static_county_lookup, csv_error> static_county_lookup::from_csv(
    std::string_view kenya_counties_csv) {
  auto parsed = parse_csv(kenya_counties_csv);
  if (!parsed) return parsed.error();
  const auto& records = *parsed;
  if (records.empty()) return csv_error{1, "the county list is empty", 1};

  const auto& header = records.front();
  std::size_t county_at = header.fields.size();
  std::size_t subcounty_at = header.fields.size();
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = ascii_lower(trim(header.fields[i]));
    if (name == "county") county_at = i;
    if (name == "subcounty") subcounty_at = i;
  }
  if (county_at == header.fields.size() || subcounty_at == header.fields.size()) {
    return csv_error{header.row,
                     fmt::format("the header needs columns 'county' and 'subcounty'"),
                     header.line};
  }

  // Spelling and row of each key, so a clash can name the row it clashes with.
  std::unordered_map<std::string, seen_code> counties_seen;
  std::unordered_map<std::string, seen_code> pairs_seen;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& record = records[r];
    if (is_blank_record(record)) continue;
    const auto fail = [&](std::string message) {
      return csv_error{record.row, std::move(message), record.line};
    };
    if (record.fields.size() != header.fields.size()) {
      return fail(fmt::format("has {} fields, the header has {}", record.fields.size(),
                              header.fields.size()));
    }
    const std::string_view county_name = trim(record.fields[county_at]);
    const std::string_view subcounty_name = trim(record.fields[subcounty_at]);
    if (county_name.empty() || subcounty_name.empty()) {
      return fail("a county or sub-county is empty");
    }
    if (!is_utf8(county_name) || !is_utf8(subcounty_name)) return fail("not UTF-8 text");

    const std::string county_key = county_match_key(county_name);
    // A name of apostrophes and dashes alone matches nothing: the lookup would drop it.
    if (county_key.empty() || county_match_key(subcounty_name).empty()) {
      return fail("a county or sub-county has no letters or digits");
    }
    const auto [county_at_seen, county_new] =
        counties_seen.try_emplace(county_key, seen_code{std::string(county_name), record.row});
    if (!county_new && county_at_seen->second.spelling != county_name) {
      return fail(fmt::format("county '{}' matches '{}' on row {}", county_name,
                              county_at_seen->second.spelling, county_at_seen->second.row));
    }
    // Keyed by the canonical county, so that the clash is within one county.
    const std::string pair_key = county_key + '\n' + county_match_key(subcounty_name);
    const auto [pair_at, pair_new] =
        pairs_seen.try_emplace(pair_key, seen_code{std::string(subcounty_name), record.row});
    if (!pair_new) {
      return fail(fmt::format("sub-county '{}' of {} is already on row {}{}", subcounty_name,
                              county_name, pair_at->second.row,
                              pair_at->second.spelling == subcounty_name
                                  ? std::string()
                                  : fmt::format(" as '{}'", pair_at->second.spelling)));
    }
    pairs.emplace_back(county_name, subcounty_name);
  }
  if (pairs.empty()) return csv_error{header.row, "the county list has no rows", header.line};
  return static_county_lookup(std::move(pairs));
}

std::optional<std::string> static_county_lookup::county(std::string_view name) const {
  const auto at = county_index_.find(county_match_key(name));
  if (at == county_index_.end()) return std::nullopt;
  return counties_[at->second].name;
}

std::optional<std::string> static_county_lookup::subcounty(std::string_view county_name,
                                                           std::string_view name) const {
  const auto c = county_index_.find(county_match_key(county_name));
  if (c == county_index_.end()) return std::nullopt;
  const auto& index = subcounty_index_[c->second];
  const auto s = index.find(county_match_key(name));
  if (s == index.end()) return std::nullopt;
  return counties_[c->second].subcounties[s->second];
}

// ---- times -----------------------------------------------------------------------------------

result<std::int64_t, std::string> parse_iso8601(std::string_view text) {
  time_text t{trim(text)};
  const std::string form_hint =
      t.s.find('/') != std::string_view::npos
          ? "write it as YYYY-MM-DDTHH:MM, e.g. 2026-11-02T08:00 (a spreadsheet rewrites dates "
            "it recognises: format the column as text)"
          : "write it as YYYY-MM-DDTHH:MM, e.g. 2026-11-02T08:00, optionally with seconds and "
            "an offset such as +03:00 or Z";
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!t.digits(4, year) || !t.eat('-') || !t.digits(2, month) || !t.eat('-') ||
      !t.digits(2, day)) {
    return form_hint;
  }
  if (month < 1 || month > 12) return fmt::format("there is no month {}", month);
  if (day < 1 || day > days_in_month(year, month)) {
    return fmt::format("there is no day {} in {} {}", day,
                       month_names[static_cast<std::size_t>(month - 1)], year);
  }
  int offset_minutes = eat_offset_minutes;
  if (!t.at_end()) {
    if (!(t.eat('T') || t.eat('t') || t.eat(' '))) return form_hint;
    if (!t.digits(2, hour) || !t.eat(':') || !t.digits(2, minute)) return form_hint;
    if (t.eat(':')) {
      if (!t.digits(2, second)) return form_hint;
      if (t.peek('.') || t.peek(',')) {
        ++t.i;
        std::size_t n = 0;
        for (; t.i < t.s.size() && t.s[t.i] >= '0' && t.s[t.i] <= '9'; ++t.i, ++n) {
          if (n < 3) millis = millis * 10 + (t.s[t.i] - '0');
        }
        if (n == 0 || n > 9) return form_hint;
        for (; n < 3; ++n) millis *= 10;
      }
    }
    if (hour > 23) {
      return fmt::format("there is no hour {}{}", hour,
                         hour == 24 ? " (write 00:00 of the next day)" : "");
    }
    if (minute > 59) return fmt::format("there is no minute {}", minute);
    if (second > 59) return fmt::format("there is no second {}", second);
    if (t.eat('Z') || t.eat('z')) {
      offset_minutes = 0;
    } else if (t.peek('+') || t.peek('-')) {
      const int sign = t.s[t.i++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!t.digits(2, oh)) return form_hint;
      t.eat(':');
      if (!t.digits(2, om)) return form_hint;
      if (oh > 23 || om > 59) return fmt::format("there is no offset of {:02}:{:02}", oh, om);
      offset_minutes = sign * (oh * 60 + om);
    }
    if (!t.at_end()) return form_hint;
  }
  const std::int64_t minutes = days_from_civil(year, static_cast<unsigned>(month),
                                               static_cast<unsigned>(day)) * 24 * 60 +
                               hour * 60 + minute - offset_minutes;
  return (minutes * 60 + second) * 1000 + millis;
}

// ---- the import ------------------------------------------------------------------------------

result<std::vector<vacancy>, std::vector<import_row_error>> validate_vacancy_csv(
    std::string_view csv_text, const county_lookup& counties) {
  using errors = std::vector<import_row_error>;
  auto parsed = parse_csv(csv_text);
  if (!parsed) return errors{{parsed.error().row, parsed.error().message}};
  const auto& records = *parsed;
  if (records.empty()) return errors{{1, "no vacancies in the file"}};

  const auto& header = records.front();
  auto index = read_header(header.fields);
  if (!index) return errors{{header.row, index.error()}};

  std::vector<const csv_record*> rows;
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (is_blank_record(records[r])) continue;
    if (rows.size() == max_vacancy_rows) {
      return errors{{records[r].row,
                     fmt::format("more than {} vacancies in one file: split it",
                                 max_vacancy_rows)}};
    }
    rows.push_back(&records[r]);
  }
  if (rows.empty()) return errors{{header.row, "no vacancies in the file"}};

  std::vector<vacancy> vacancies;
  vacancies.reserve(rows.size());
  errors bad;
  // Codes compare without regard to case: KCSE-1 and kcse-1 in one file is a slip.
  std::unordered_map<std::string, seen_code> codes;
  for (const csv_record* record : rows) {
    if (record->fields.size() != header.fields.size()) {
      bad.push_back({record->row,
                     fmt::format("has {} fields, the header has {}{}", record->fields.size(),
                                 header.fields.size(),
                                 record->fields.size() > header.fields.size()
                                     ? " (a value with a comma in it must be in double quotes)"
                                     : "")});
      continue;
    }
    const auto field = [&](column c) { return trim(record->fields[(*index)[c]]); };
    std::vector<std::string> problems;
    vacancy v;

    const std::string_view code = field(col_code);
    if (code.empty()) {
      problems.emplace_back("code is empty");
    } else if (code.size() > max_code_length ||
               !std::all_of(code.begin(), code.end(), is_code_char)) {
      problems.push_back(fmt::format("code {} must be 1 to {} letters, digits, '-', '_' or '/'",
                                     shown(code), max_code_length));
    } else {
      const auto [at, added] =
          codes.try_emplace(ascii_lower(code), seen_code{std::string(code), record->row});
      if (!added) {
        const std::string as = at->second.spelling == code
                                   ? std::string()
                                   : fmt::format(" as {}", at->second.spelling);
        problems.push_back(fmt::format("code {} is already on row {}{}", code, at->second.row, as));
      }
      v.code = code;
    }

    const auto text = [&](column c, std::string& out, std::size_t most) {
      const std::string_view value = field(c);
      if (auto p = text_problem(column_names[c], value, most, true, true)) {
        problems.push_back(std::move(*p));
      } else {
        out = value;
      }
    };
    text(col_exam, v.exam, max_short_text);
    text(col_activity, v.activity, max_short_text);
    text(col_venue, v.venue, max_short_text);
    text(col_role, v.role, max_short_text);

    const std::string_view county_name = field(col_county);
    const std::string_view subcounty_name = field(col_subcounty);
    if (county_name.empty()) {
      problems.emplace_back("county is empty");
    } else if (auto canonical = counties.county(county_name)) {
      v.county = std::move(*canonical);
    } else {
      problems.push_back(fmt::format("unknown county {}", shown(county_name)));
    }
    if (subcounty_name.empty()) {
      problems.emplace_back("subcounty is empty");
    } else if (!v.county.empty()) {
      if (auto canonical = counties.subcounty(v.county, subcounty_name)) {
        v.subcounty = std::move(*canonical);
      } else {
        problems.push_back(
            fmt::format("unknown sub-county {} in {}", shown(subcounty_name), v.county));
      }
    }

    text(col_station, v.station, max_station);

    const std::string_view slots = field(col_slots);
    if (slots.empty()) {
      problems.emplace_back("slots is empty");
    } else {
      // Digits only: "1,000", "5.0" and "+5" are more likely slips than numbers. Six digits
      // bound the value before it can overflow.
      const bool digits = slots.size() <= 6 && std::all_of(slots.begin(), slots.end(), [](char c) {
                            return c >= '0' && c <= '9';
                          });
      int n = 0;
      if (digits) for (const char c : slots) n = n * 10 + (c - '0');
      if (!digits || n < 1 || n > max_slots) {
        problems.push_back(fmt::format("slots {} must be a whole number from 1 to {}",
                                       shown(slots), max_slots));
      } else {
        v.slots = n;
      }
    }

    const std::string description = normalised_line_ends(field(col_description));
    if (auto p = text_problem("description", description, max_description, false, false)) {
      problems.push_back(std::move(*p));
    } else {
      v.description = description;
    }

    const auto opens = read_time("opens_at", field(col_opens_at), problems);
    const auto closes = read_time("closes_at", field(col_closes_at), problems);
    if (opens && closes) {
      if (*closes <= *opens) problems.emplace_back("closes_at must be after opens_at");
      v.opens_at = *opens;
      v.closes_at = *closes;
    }

    if (!problems.empty()) {
      bad.push_back({record->row, joined(problems)});
    } else if (bad.empty()) {
      // Once a row is bad nothing is imported, so later good rows need not be kept.
      vacancies.push_back(std::move(v));
    }
  }
  if (!bad.empty()) return bad;
  return vacancies;
}

}  // namespace cp2::domain
