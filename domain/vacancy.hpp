#pragma once
// Vacancies (jobs for examiners, invigilators…) and the checks a vacancy CSV passes before any
// row of it is imported (SPEC §6, §7): the whole file is checked, every bad row is reported.

#include "domain/csv.hpp"
#include "domain/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cp2::domain {

/// One vacancy as imported: fields trimmed, county and sub-county in their canonical spelling.
struct vacancy {
  /// The operator's key for the vacancy; an import upserts by it.
  std::string code;
  /// The narrowing choices of the USSD menu (SPEC §4.5), in that order.
  std::string exam, activity, venue, role, county, subcounty, station;
  /// How many applicants can be approved.
  int slots = 0;
  /// Free text shown on the vacancy's screen; may be empty; line breaks are LF.
  std::string description;
  /// Opening and closing times, unix milliseconds UTC.
  std::int64_t opens_at = 0, closes_at = 0;

  /// Field by field.
  friend bool operator==(const vacancy&, const vacancy&) = default;
};

/// Canonical county/sub-county names (the gateway loads them from data/kenya-counties.csv);
/// matching is case-insensitive and treats runs of spaces, hyphens and slashes alike.
class county_lookup {
public:
  virtual ~county_lookup() = default;
  /// The canonical county name, or nullopt.
  virtual std::optional<std::string> county(std::string_view name) const = 0;
  /// The canonical sub-county of that (canonical) county, or nullopt.
  virtual std::optional<std::string> subcounty(std::string_view county,
                                               std::string_view name) const = 0;
};

/// A county and its sub-counties, as listed.
struct county_entry {
  /// Canonical county name.
  std::string name;
  /// Canonical sub-county names, in the order listed.
  std::vector<std::string> subcounties;
};

/// A county_lookup over a list held in memory; also the gateway's production lookup.
/// Besides case and runs of spaces, hyphens and slashes, apostrophes are ignored (straight or
/// curly: "Muranga", "Murang’a" and "MURANG'A" all find "Murang'a").
/// Thread safety: immutable once built; any thread may call it.
class static_county_lookup : public county_lookup {
public:
  /// From (county, sub-county) pairs; the first spelling of a name is canonical, a repeated
  /// pair is ignored and empty names are skipped.
  explicit static_county_lookup(std::vector<std::pair<std::string, std::string>> pairs);

  /// From the text of data/kenya-counties.csv: a header naming `county` and `subcounty` columns
  /// (any order and case; others, such as `code`, are ignored), then one row per sub-county.
  /// Refuses a file with a missing column, a row of the wrong width, an empty name, a repeated
  /// (county, sub-county) pair, two spellings that match alike, or no rows; the error names the
  /// row.
  static result<static_county_lookup, csv_error> from_csv(std::string_view kenya_counties_csv);

  std::optional<std::string> county(std::string_view name) const override;
  std::optional<std::string> subcounty(std::string_view county,
                                       std::string_view name) const override;

  /// The counties in the order first listed, each with its sub-counties (for GET
  /// /api/v1/counties).
  const std::vector<county_entry>& counties() const noexcept { return counties_; }

private:
  std::vector<county_entry> counties_;
  // county_match_key → index into counties_.
  std::unordered_map<std::string, std::size_t> county_index_;
  // Per county (same index): county_match_key → index into its subcounties.
  std::vector<std::unordered_map<std::string, std::size_t>> subcounty_index_;
};

/// The key under which static_county_lookup matches `name`: ASCII letters lowercased,
/// apostrophes (' ‘ ’ ` ´) dropped, runs of spaces, tabs, no-break spaces, hyphens, dashes and
/// slashes as one space, none at either end.
std::string county_match_key(std::string_view name);

/// A bad row of an import, numbered as a spreadsheet does (header = row 1).
struct import_row_error {
  /// Spreadsheet row (see csv_record::row).
  std::size_t row = 0;
  /// Every problem found on the row, joined by "; ".
  std::string error;

  /// Field by field.
  friend bool operator==(const import_row_error&, const import_row_error&) = default;
};

/// Most data rows in one import.
inline constexpr std::size_t max_vacancy_rows = 20000;

/// Checks a vacancy CSV (SPEC §6, §7) and returns its vacancies in file order, or an error for
/// every bad row in row order, each listing all of its problems. Header problems (a missing,
/// unknown, repeated or unnamed column) or a CSV syntax error give one error and stop there.
/// Rows whose fields are all blank are skipped, as are empty lines.
result<std::vector<vacancy>, std::vector<import_row_error>> validate_vacancy_csv(
    std::string_view csv_text, const county_lookup& counties);

/// Reads an ISO 8601 time into unix milliseconds: YYYY-MM-DD, YYYY-MM-DDTHH:MM or
/// YYYY-MM-DDTHH:MM:SS with optional fractional seconds (',' or '.', truncated to ms), then an
/// optional Z, ±HH:MM or ±HHMM. A space or 't' may stand for T; surrounding whitespace is
/// ignored. Without an offset the time is East Africa Time, UTC+3 (SPEC §7); a date alone is
/// 00:00 EAT that day. Refuses impossible dates and times (30 February, month 13, hour 24,
/// second 60) and an offset on a date alone.
result<std::int64_t, std::string> parse_iso8601(std::string_view text);

}  // namespace cp2::domain
