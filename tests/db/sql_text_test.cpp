// Values reach SQL only through bound parameters (issue #7). SQL text may be put together from
// constant fragments, but never with a value spliced in: this scans every source file for the
// shapes that splicing takes.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The reasons `source` looks like SQL built from values; empty when clean. Line by line, and
// only on lines with an SQL keyword in capitals, as all our SQL is written.
std::vector<std::string> splicing(const std::string& source) {
  static const std::regex sql_line(R"(\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES)\b)");
  static const std::vector<std::pair<std::regex, std::string>> shapes = {
      {std::regex(R"('\"\s*\+)"), "a quoted SQL literal closed and then concatenated"},
      {std::regex(R"(\+\s*\"')"), "a concatenation that opens a quoted SQL literal"},
      {std::regex(R"(fmt::format\(\s*R?\"[^\"]*\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES)\b)"),
       "SQL with format placeholders"},
      {std::regex(R"(\"\s*\+\s*(std::to_string\(|[a-z_]+\.(phone|ref|code|text|body)\b))"),
       "a value appended to SQL"},
  };
  std::vector<std::string> found;
  std::istringstream in(source);
  std::string line;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, sql_line)) continue;
    for (const auto& [re, why] : shapes)
      if (std::regex_search(line, re)) found.push_back(why + ": " + line);
  }
  return found;
}

}  // namespace

TEST_CASE("the detector recognises spliced SQL") {
  CHECK_FALSE(splicing(R"(q.exec("SELECT * FROM accounts WHERE phone = '" + phone + "'");)").empty());
  CHECK_FALSE(splicing(R"(db.exec(fmt::format("DELETE FROM outbox WHERE id = {}", id));)").empty());
  CHECK_FALSE(splicing(R"(auto sql = "SELECT body FROM outbox WHERE id = " + std::to_string(id);)").empty());
  CHECK(splicing(R"(SQLite::Statement q(db_, "SELECT 1 FROM accounts WHERE phone = ?"); q.bind(1, phone);)").empty());
}

TEST_CASE("no source file splices a value into SQL") {
  namespace fs = std::filesystem;
  int scanned = 0;
  for (const char* folder : {"db", "gateway", "sms", "domain", "ussd", "config"}) {
    for (const auto& entry : fs::directory_iterator(fs::path(CP2_SOURCE_DIR) / folder)) {
      if (entry.path().extension() != ".cpp" && entry.path().extension() != ".hpp") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      ++scanned;
      auto found = splicing(text.str());
      CAPTURE(entry.path().string());
      CHECK_MESSAGE(found.empty(), (found.empty() ? "" : found.front()));
    }
  }
  CHECK(scanned > 40);
}
