#include "ussd/screen.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

using namespace cp2::ussd;

TEST_CASE("a long list pages with 98 and every page fits with room for a notice") {
  std::vector<std::string> labels;
  for (int i = 0; i < 47; ++i) labels.push_back(fmt::format("County number {}", i + 1));
  auto pages = paginate("Choose your county", labels, true);
  REQUIRE(pages.size() > 1);
  std::size_t total = 0;
  for (std::size_t p = 0; p < pages.size(); ++p) {
    CAPTURE(p);
    auto text = render_page("Invalid choice.", "Choose your county", labels, pages[p], true);
    CHECK(text.size() <= max_screen_chars);
    CHECK(pages[p].more == (p + 1 < pages.size()));
    CHECK((text.find("98. More") != std::string::npos) == pages[p].more);
    CHECK(text.find("\n1. ") != std::string::npos);  // numbering restarts on each page
    CHECK(text.find("0. Back\n00. Main menu") != std::string::npos);
    CHECK(pages[p].first == total);
    total += pages[p].count;
  }
  CHECK(total == labels.size());
}

TEST_CASE("a label too long for any page is shortened, never dropped") {
  std::vector<std::string> labels = {std::string(400, 'A'), "Short"};
  auto pages = paginate("Title", labels, true);
  CHECK(labels[0].size() < 182);
  CHECK(labels[0].substr(labels[0].size() - 2) == "..");
  for (const auto& p : pages) CHECK(render_page("", "Title", labels, p, true).size() <= max_screen_chars);
}

TEST_CASE("a short menu is one page without More") {
  std::vector<std::string> labels = {"Create account"};
  auto pages = paginate("KNEC CP2", labels, false);
  REQUIRE(pages.size() == 1);
  CHECK(render_page("", "KNEC CP2", labels, pages[0], false) == "KNEC CP2\n1. Create account");
}

TEST_CASE("shortening never splits a character") {
  CHECK(shorten("Kisii School", 20) == "Kisii School");
  CHECK(shorten("Kisii School", 8) == "Kisii ..");
  // 'é' is 2 bytes and '€' 3: the cut moves back to the start of the character it would split.
  CHECK(shorten("Th\xC3\xA9r\xC3\xA8se", 5) == "Th..");
  CHECK(shorten("ab\xE2\x82\xAC\xE2\x82\xAC", 7) == "ab\xE2\x82\xAC..");
  CHECK(shorten("ab\xE2\x82\xAC\xE2\x82\xAC", 6) == "ab..");
  std::vector<std::string> labels = {"Workstation: " + std::string(40, 'a')};
  for (int i = 0; i < 60; ++i) labels[0] += "\xE2\x82\xAC";
  paginate("Your profile. Choose one to change:", labels, true);
  CHECK(labels[0].ends_with(".."));
  CHECK(labels[0].find("\xE2\x82\xAC..") != std::string::npos);
}
