#pragma once
// RFC 4180 CSV, as spreadsheets write it: operators load vacancies from such files (SPEC §6)
// and the gateway reads its county list from one (data/kenya-counties.csv).

#include "domain/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cp2::domain {

/// One record of a CSV text.
struct csv_record {
  /// The spreadsheet row that shows it (header = 1): each record and each blank line is one
  /// row, and a record whose quoted field holds line breaks is still one row.
  std::size_t row = 0;
  /// The fields as written, quotes removed, "" turned into " and nothing trimmed.
  std::vector<std::string> fields;
  /// The text line (1-based) on which the record starts, for an operator reading the file in an
  /// editor: greater than `row` once an earlier record held a line break.
  std::size_t line = 0;
};

/// Why a text is not CSV.
struct csv_error {
  /// The spreadsheet row of the record at fault (see csv_record::row).
  std::size_t row = 0;
  /// What is wrong, in words an operator can act on.
  std::string message;
  /// The text line of the fault itself (see csv_record::line).
  std::size_t line = 0;
};

/// Reads `text` as RFC 4180 CSV with these allowances: lines may end in CRLF, LF or a lone CR;
/// a UTF-8 byte order mark at the start is dropped; the last line may lack its line end; empty
/// lines are skipped but still count as rows. Quoted fields may hold commas, "" and line
/// breaks, kept as written (a CRLF inside quotes stays CRLF). Refused: a quote that is never
/// closed, a quote inside a field that does not start with one, and text between a closing
/// quote and the next comma or line end. Records may have different numbers of fields.
result<std::vector<csv_record>, csv_error> parse_csv(std::string_view text);

}  // namespace cp2::domain
