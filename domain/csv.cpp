#include "domain/csv.hpp"

#include <fmt/format.h>

namespace cp2::domain {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

bool is_line_end(char c) { return c == '\n' || c == '\r'; }

// Reads one text in one pass. `row_` counts records and blank lines, not text lines, because a
// spreadsheet shows a quoted line break inside its cell: the operator's row numbers are ours.
class csv_reader {
public:
  explicit csv_reader(std::string_view text) : text_(text) {
    if (text_.starts_with(utf8_bom)) text_.remove_prefix(utf8_bom.size());
  }

  result<std::vector<csv_record>, csv_error> read() {
    std::vector<csv_record> records;
    while (pos_ < text_.size()) {
      if (is_line_end(text_[pos_])) {
        skip_line_end();
        ++row_;
        continue;
      }
      csv_record record{row_, {}, line_};
      if (!read_record(record.fields)) return error_;
      records.push_back(std::move(record));
      ++row_;
    }
    return records;
  }

private:
  // Consumes CRLF, LF or CR at pos_ and counts one text line.
  void skip_line_end() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  bool fail(std::size_t line, std::string message) {
    error_ = csv_error{row_, std::move(message), line};
    return false;
  }

  // Reads fields up to and including the record's line end (or the end of the text).
  bool read_record(std::vector<std::string>& fields) {
    for (;;) {
      std::string field;
      const bool ok = pos_ < text_.size() && text_[pos_] == '"'
                          ? read_quoted(field, fields.size() + 1)
                          : read_unquoted(field, fields.size() + 1);
      if (!ok) return false;
      fields.push_back(std::move(field));
      if (pos_ >= text_.size()) return true;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      skip_line_end();  // the field readers stop only at a comma, a line end or the end
      return true;
    }
  }

  bool read_unquoted(std::string& field, std::size_t number) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ',' && !is_line_end(text_[pos_])) {
      if (text_[pos_] == '"') {
        return fail(line_, fmt::format("field {} has a quote (\") but does not start with one: "
                                       "put the whole field in quotes and double each quote "
                                       "inside it",
                                       number));
      }
      ++pos_;
    }
    field.assign(text_.substr(start, pos_ - start));
    return true;
  }

  bool read_quoted(std::string& field, std::size_t number) {
    const std::size_t opened_on = line_;
    ++pos_;
    for (;;) {
      if (pos_ >= text_.size()) {
        return fail(opened_on, fmt::format("field {} opens a quote on line {} that is never "
                                           "closed",
                                           number, opened_on));
      }
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          field += '"';
          pos_ += 2;
          continue;
        }
        ++pos_;
        break;
      }
      // Kept as written; a CRLF is one text line, so it is counted once.
      if (c == '\n' || (c == '\r' && !(pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'))) {
        ++line_;
      }
      field += c;
      ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] != ',' && !is_line_end(text_[pos_])) {
      return fail(line_, fmt::format("field {} has text after its closing quote: double each "
                                     "quote inside a quoted field",
                                     number));
    }
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t row_ = 1;
  std::size_t line_ = 1;
  csv_error error_;
};

}  // namespace

result<std::vector<csv_record>, csv_error> parse_csv(std::string_view text) {
  return csv_reader(text).read();
}

}  // namespace cp2::domain
