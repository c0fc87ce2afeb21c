#include "domain/csv.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using cp2::domain::csv_record;
using cp2::domain::parse_csv;

namespace {

using fields = std::vector<std::string>;

struct expected_record {
  std::size_t row;
  fields values;
};

void check_records(const std::string& text, const std::vector<expected_record>& expected) {
  CAPTURE(text);
  const auto parsed = parse_csv(text);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
  REQUIRE(parsed->size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK((*parsed)[i].row == expected[i].row);
    CHECK((*parsed)[i].fields == expected[i].values);
  }
}

}  // namespace

TEST_CASE("csv: every RFC 4180 feature and allowance reads as written") {
  struct row {
    std::string name;
    std::string text;
    std::vector<expected_record> records;
  };
  const row rows[] = {
      {"plain, LF", "a,b,c\n1,2,3\n", {{1, {"a", "b", "c"}}, {2, {"1", "2", "3"}}}},
      {"CRLF", "a,b\r\n1,2\r\n", {{1, {"a", "b"}}, {2, {"1", "2"}}}},
      {"lone CR, as old Mac spreadsheets wrote", "a,b\r1,2\r", {{1, {"a", "b"}}, {2, {"1", "2"}}}},
      {"mixed line ends", "a\r\nb\nc\rd", {{1, {"a"}}, {2, {"b"}}, {3, {"c"}}, {4, {"d"}}}},
      {"no final line end", "a,b\n1,2", {{1, {"a", "b"}}, {2, {"1", "2"}}}},
      {"no final line end, CRLF file", "a,b\r\n1,2", {{1, {"a", "b"}}, {2, {"1", "2"}}}},
      {"BOM at the start dropped", "\xEF\xBB\xBF" "code,x\n1,2\n",
       {{1, {"code", "x"}}, {2, {"1", "2"}}}},
      {"BOM elsewhere kept", "a,\xEF\xBB\xBF" "b\n", {{1, {"a", "\xEF\xBB\xBF" "b"}}}},
      {"empty text", "", {}},
      {"BOM only", "\xEF\xBB\xBF", {}},
      {"blank lines only", "\n\r\n\r", {}},
      {"quoted field", "\"a\",\"b c\"\n", {{1, {"a", "b c"}}}},
      {"comma inside quotes", "\"Kisii, Nyanza\",x\n", {{1, {"Kisii, Nyanza", "x"}}}},
      {"doubled quote inside quotes", "\"say \"\"hi\"\"\",x\n", {{1, {"say \"hi\"", "x"}}}},
      {"only a doubled quote", "\"\"\"\"\n", {{1, {"\""}}}},
      {"quoted empty field", "\"\",x,\"\"\n", {{1, {"", "x", ""}}}},
      {"LF inside quotes kept", "\"line 1\nline 2\",x\n", {{1, {"line 1\nline 2", "x"}}}},
      {"CRLF inside quotes kept", "\"line 1\r\nline 2\",x\r\n", {{1, {"line 1\r\nline 2", "x"}}}},
      {"quoted field last, no line end", "a,\"b\"", {{1, {"a", "b"}}}},
      {"empty fields", ",,\n", {{1, {"", "", ""}}}},
      {"trailing comma is an empty last field", "a,\n", {{1, {"a", ""}}}},
      {"trailing comma at the very end", "a,", {{1, {"a", ""}}}},
      {"spaces kept, not trimmed", "  a  , b\t\n", {{1, {"  a  ", " b\t"}}}},
      {"records of different widths", "a,b,c\n1\n", {{1, {"a", "b", "c"}}, {2, {"1"}}}},
      {"a line of spaces is a record", "a\n   \nb\n", {{1, {"a"}}, {2, {"   "}}, {3, {"b"}}}},
      {"UTF-8 passes through", "Murang\xE2\x80\x99" "a,\xE2\x82\xAC\n",
       {{1, {"Murang\xE2\x80\x99" "a", "\xE2\x82\xAC"}}}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    check_records(r.text, r.records);
  }
}

TEST_CASE("csv: rows are numbered as a spreadsheet shows them") {
  SUBCASE("blank lines are skipped but counted") {
    check_records("h\n\nb\n\n\nc\n", {{1, {"h"}}, {3, {"b"}}, {6, {"c"}}});
  }
  SUBCASE("blank lines before the header count too") {
    check_records("\r\n\r\nh\r\nb\r\n", {{3, {"h"}}, {4, {"b"}}});
  }
  SUBCASE("trailing blank lines add nothing") {
    check_records("h\nb\n\n\n\n", {{1, {"h"}}, {2, {"b"}}});
  }
  SUBCASE("a record with quoted line breaks is one row; its text lines are counted apart") {
    const auto parsed = parse_csv("h,d\n1,\"two\nthree\r\nfour\"\n\n2,x\n3,\"a\rb\"\n4,y");
    REQUIRE(parsed.ok());
    struct where { std::size_t row, line; };
    const where expected[] = {{1, 1}, {2, 2}, {4, 6}, {5, 7}, {6, 9}};
    REQUIRE(parsed->size() == std::size(expected));
    for (std::size_t i = 0; i < parsed->size(); ++i) {
      CAPTURE(i);
      CHECK((*parsed)[i].row == expected[i].row);
      CHECK((*parsed)[i].line == expected[i].line);
    }
    CHECK((*parsed)[1].fields[1] == "two\nthree\r\nfour");
    CHECK((*parsed)[3].fields[1] == "a\rb");
  }
}

TEST_CASE("csv: malformed text is refused with the row at fault") {
  struct row {
    std::string name;
    std::string text;
    std::size_t row;
    std::size_t line;
    std::string fragment;
  };
  const row rows[] = {
      {"unterminated quote", "a,b\n1,\"two\n", 2, 2,
       "field 2 opens a quote on line 2 that is never closed"},
      {"unterminated quote at the very end", "a,\"", 1, 1, "never closed"},
      {"unterminated quote swallowing later lines", "a\n\n\"b\nc\nd", 3, 3,
       "opens a quote on line 3"},
      {"quote in the middle of an unquoted field", "a,b\n1,2\"3\n", 2, 2,
       "field 2 has a quote (\") but does not start with one"},
      {"quote at the end of an unquoted field", "ab\"\n", 1, 1, "field 1 has a quote"},
      {"space before the opening quote", "a, \"b\"\n", 1, 1, "field 2 has a quote"},
      {"text after the closing quote", "\"a\"b,c\n", 1, 1,
       "field 1 has text after its closing quote"},
      {"space after the closing quote", "x,\"a\" ,c\n", 1, 1,
       "field 2 has text after its closing quote"},
      {"undoubled quote inside quotes", "\"say \"hi\"\"\n", 1, 1, "text after its closing quote"},
      {"after a multi-line record and blank lines", "h\n\"1\n2\"\n\nx\"y\n", 4, 5,
       "field 1 has a quote"},
      {"text after a closing quote on a later line", "h\n\"1\n2\"z\n", 2, 3,
       "text after its closing quote"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto parsed = parse_csv(r.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().row == r.row);
    CHECK(parsed.error().line == r.line);
    CHECK_MESSAGE(parsed.error().message.find(r.fragment) != std::string::npos,
                  parsed.error().message);
  }
}
