#include "domain/gsm7.hpp"
#include "domain/msisdn.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using cp2::domain::msisdn_error;
using cp2::domain::parse_msisdn;

TEST_CASE("msisdn: every accepted form becomes the canonical 12 digits") {
  struct row { std::string input; std::string digits; };
  const row rows[] = {
      {"+254712345678", "254712345678"},
      {"254712345678", "254712345678"},
      {"0712345678", "254712345678"},
      {"712345678", "254712345678"},
      {"+254112345678", "254112345678"},
      {"254112345678", "254112345678"},
      {"0112345678", "254112345678"},
      {"112345678", "254112345678"},
      {"0712 345 678", "254712345678"},
      {"0712-345-678", "254712345678"},
      {"+254-712-345678", "254712345678"},
      {"+254 712 345 678", "254712345678"},
      {"254 7 1 2 3 4 5 6 7 8", "254712345678"},
      {"  0712345678\t\r\n", "254712345678"},
      {"0799999999", "254799999999"},
      {"0110000000", "254110000000"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.input);
    const auto parsed = parse_msisdn(r.input);
    REQUIRE(parsed.ok());
    CHECK(parsed->digits() == r.digits);
  }
}

TEST_CASE("msisdn: every refused form names its reason") {
  struct row { std::string input; msisdn_error error; };
  const row rows[] = {
      {"", msisdn_error::empty},
      {"   ", msisdn_error::empty},
      {"\t\n", msisdn_error::empty},
      {"07123456a8", msisdn_error::bad_characters},
      {"zero seven one two", msisdn_error::bad_characters},
      {"0712.345.678", msisdn_error::bad_characters},
      {"(0712) 345678", msisdn_error::bad_characters},
      {"0712\t345678", msisdn_error::bad_characters},
      {"+", msisdn_error::bad_characters},
      {"++254712345678", msisdn_error::bad_characters},
      {"254+712345678", msisdn_error::bad_characters},
      {"-0712345678", msisdn_error::bad_characters},
      {"0712345678-", msisdn_error::bad_characters},
      {"\uff10\uff17\uff11\uff12", msisdn_error::bad_characters},  // fullwidth digits
      {"071234567", msisdn_error::bad_length},
      {"07123456789", msisdn_error::bad_length},
      {"25471234567", msisdn_error::bad_length},
      {"2547123456789", msisdn_error::bad_length},
      {"+2547123456", msisdn_error::bad_length},
      {"00254712345678", msisdn_error::bad_length},
      {"71234567", msisdn_error::bad_length},
      {"12345", msisdn_error::bad_length},
      {"0212345678", msisdn_error::not_kenyan_mobile},
      {"0812345678", msisdn_error::not_kenyan_mobile},
      {"812345678", msisdn_error::not_kenyan_mobile},
      {"254012345678", msisdn_error::not_kenyan_mobile},
      {"254212345678", msisdn_error::not_kenyan_mobile},
      {"+254812345678", msisdn_error::not_kenyan_mobile},
      {"+255712345678", msisdn_error::not_kenyan_mobile},
      {"255712345678", msisdn_error::not_kenyan_mobile},
      {"+44 7911 123456", msisdn_error::not_kenyan_mobile},
      {"+0712345678", msisdn_error::not_kenyan_mobile},
  };
  for (const auto& r : rows) {
    CAPTURE(r.input);
    const auto parsed = parse_msisdn(r.input);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error() == r.error);
  }
}

TEST_CASE("msisdn: the three written forms and parsing them back") {
  const auto m = parse_msisdn("0712 345 678").value();
  CHECK(m.digits() == "254712345678");
  CHECK(m.international() == "+254712345678");
  CHECK(m.local() == "0712345678");
  CHECK(parse_msisdn(m.digits()).value() == m);
  CHECK(parse_msisdn(m.international()).value() == m);
  CHECK(parse_msisdn(m.local()).value() == m);

  const auto one = parse_msisdn("0110000000").value();
  CHECK(one.local() == "0110000000");
  CHECK(one.international() == "+254110000000");
}

TEST_CASE("msisdn: equality and ordering follow the canonical digits") {
  const auto a = parse_msisdn("+254712345678").value();
  const auto b = parse_msisdn("0712345678").value();
  const auto c = parse_msisdn("0712345679").value();
  const auto d = parse_msisdn("0110000000").value();
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a < c);
  CHECK(d < a);
  CHECK_FALSE(c < a);
  CHECK(std::set{a, b, c, d}.size() == 3);
}

TEST_CASE("msisdn: messages are distinct and fit a USSD screen") {
  const msisdn_error all[] = {msisdn_error::empty, msisdn_error::bad_characters,
                              msisdn_error::bad_length, msisdn_error::not_kenyan_mobile};
  std::set<std::string_view> seen;
  for (const auto e : all) {
    const auto text = cp2::domain::describe(e);
    CAPTURE(std::string(text));
    CHECK(text.find("0712345678") != std::string_view::npos);
    CHECK(text.size() <= 182);
    CHECK(cp2::domain::is_gsm7(text));
    seen.insert(text);
  }
  CHECK(seen.size() == 4);
  CHECK(cp2::domain::describe(msisdn_error::not_kenyan_mobile) ==
        "Enter a Kenyan mobile number such as 0712345678.");
}
