#include "sms/keywords.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace cp2::sms {
// doctest 2.4 prints enums as numbers and skips StringMaker for them, but finds this overload by
// argument-dependent lookup (its name is doctest's customisation point), so failures name the
// keyword.
static doctest::String toString(keyword kw) {
  std::string_view name = to_string(kw);
  return doctest::String(name.data(), static_cast<doctest::String::size_type>(name.size()));
}
}  // namespace cp2::sms

namespace cp2::sms {
namespace {

struct keyword_row {
  std::string_view text;
  keyword kw;
  std::string_view rest;
};

// Each row is an SMS as a teacher might type it on a keypad or paste from a notice.
constexpr keyword_row keyword_rows[] = {
    // §4.3: case and surrounding spaces/punctuation are ignored.
    {"PASSWORD", keyword::reset_password, ""},
    {"password", keyword::reset_password, ""},
    {"PaSsWoRd", keyword::reset_password, ""},
    {"  password. ", keyword::reset_password, ""},
    {"*Password*", keyword::reset_password, ""},
    {"PASSWORD!!", keyword::reset_password, ""},
    {"Password\r\n", keyword::reset_password, ""},
    {"\tpassword\t", keyword::reset_password, ""},
    {"\"PASSWORD\"", keyword::reset_password, ""},
    {"\xE2\x80\x9CPASSWORD\xE2\x80\x9D", keyword::reset_password, ""},  // “PASSWORD”
    {"\xEF\xBB\xBF" "PASSWORD", keyword::reset_password, ""},           // BOM first
    {"\xC2\xA0password\xC2\xA0", keyword::reset_password, ""},          // no-break spaces
    {"PASSWD", keyword::reset_password, ""},
    {"reset", keyword::reset_password, ""},
    {"RESET PASSWORD", keyword::reset_password, ""},
    {"reset-password", keyword::reset_password, ""},
    {"RESET_PASSWD", keyword::reset_password, ""},
    {"Password reset", keyword::reset_password, ""},
    {"Forgot password", keyword::reset_password, ""},
    {"forgot my password", keyword::reset_password, "my password"},
    {"PASSWORD please", keyword::reset_password, "please"},
    {"RESET now", keyword::reset_password, "now"},
    // §4.2
    {"REGISTER", keyword::register_account, ""},
    {"register", keyword::register_account, ""},
    {"Join", keyword::register_account, ""},
    {"JOIN.", keyword::register_account, ""},
    {"reg", keyword::register_account, ""},
    {"REGISTER Jane Wanjiku", keyword::register_account, "Jane Wanjiku"},
    {"REGISTER, Jane Wanjiku.", keyword::register_account, "Jane Wanjiku"},
    {"REGISTER +254712345678", keyword::register_account, "+254712345678"},
    {"JOIN  Zo\xC3\xAB  ", keyword::register_account, "Zo\xC3\xAB"},  // non-ASCII rest kept
    {"JOIN \xE2\x80\x94 Achieng\xE2\x80\xA6", keyword::register_account, "Achieng"},
    // §4.5, §4.6
    {"STATUS", keyword::status, ""},
    {"status KCSE", keyword::status, "KCSE"},
    {"Status?", keyword::status, ""},
    {"HELP", keyword::help, ""},
    {"help!", keyword::help, ""},
    {"info", keyword::help, ""},
    {"STOP", keyword::stop, ""},
    {"stop.", keyword::stop, ""},
    {"Unsubscribe", keyword::stop, ""},
    {"STOPALL", keyword::stop, ""},
    {"opt out", keyword::stop, ""},
    {"OPT-OUT please", keyword::stop, "please"},
    {"START", keyword::start, ""},
    {"start", keyword::start, ""},
    {"UNSTOP", keyword::start, ""},
    {"subscribe", keyword::start, ""},
    {"Opt in", keyword::start, ""},
    // Unknown: the caller replies with help; rest is then empty.
    {"", keyword::unknown, ""},
    {"   ", keyword::unknown, ""},
    {"?!.,*#", keyword::unknown, ""},
    {"Hello", keyword::unknown, ""},
    {"Hi PASSWORD", keyword::unknown, ""},  // only the first word decides
    {"PASSWORDS", keyword::unknown, ""},
    {"password123", keyword::unknown, ""},
    {"P A S S W O R D", keyword::unknown, ""},
    {"P\xC3\xA4ssword", keyword::unknown, ""},  // Pässword: no guessing past non-ASCII
    {"STOP\xC3\xB1", keyword::unknown, ""},     // a word byte glued on
    {"OPT", keyword::unknown, ""},              // half of a two-word phrase
    {"opt maybe", keyword::unknown, ""},
    {"CANCEL", keyword::unknown, ""},  // deliberately not an opt-out, see keywords.hpp
    {"\xE2\x98\xBA", keyword::unknown, ""},                // ☺
    {"\xFF\xFE\xC3", keyword::unknown, ""},                // invalid UTF-8
    {"\xE2\x80", keyword::unknown, ""},                    // truncated UTF-8 sequence
    {std::string_view("\0STOP", 5), keyword::stop, ""},    // a NUL is just a control byte
};

TEST_CASE("parse_keyword: table of SMS texts") {
  for (const keyword_row& row : keyword_rows) {
    CAPTURE(row.text);
    parsed_sms got = parse_keyword(row.text);
    CHECK(got.kw == row.kw);
    CHECK(got.rest == row.rest);
  }
}

TEST_CASE("parse_keyword: the whole table is large enough to mean something") {
  CHECK(std::size(keyword_rows) >= 30);
}

TEST_CASE("parse_keyword: every byte value alone and around a keyword is handled") {
  // No byte may crash, throw or read out of bounds (run under ASan/UBSan).
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    CAPTURE(b);
    CHECK_NOTHROW(parse_keyword(std::string(1, c)));
    CHECK_NOTHROW(parse_keyword(std::string("STOP") + c));
    CHECK_NOTHROW(parse_keyword(std::string(1, c) + "HELP" + std::string(3, c)));
  }
}

TEST_CASE("parse_keyword: a separator around a keyword never changes it") {
  for (int b = 0; b < 0x80; ++b) {
    const char c = static_cast<char>(b);
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (alnum) continue;
    CAPTURE(b);
    CHECK(parse_keyword(std::string(1, c) + "status" + c).kw == keyword::status);
  }
}

TEST_CASE("parse_keyword: rest keeps inner text as received") {
  parsed_sms got = parse_keyword("STATUS  ref KNEC-001 , second  ");
  CHECK(got.kw == keyword::status);
  CHECK(got.rest == "ref KNEC-001 , second");
}

TEST_CASE("parse_keyword: a long message is parsed by its first word only") {
  std::string text = "help " + std::string(2000, 'x');
  parsed_sms got = parse_keyword(text);
  CHECK(got.kw == keyword::help);
  CHECK(got.rest.size() == 2000);
}

TEST_CASE("to_string(keyword) names every enumerator") {
  CHECK(to_string(keyword::register_account) == "register_account");
  CHECK(to_string(keyword::reset_password) == "reset_password");
  CHECK(to_string(keyword::status) == "status");
  CHECK(to_string(keyword::help) == "help");
  CHECK(to_string(keyword::stop) == "stop");
  CHECK(to_string(keyword::start) == "start");
  CHECK(to_string(keyword::unknown) == "unknown");
}

}  // namespace
}  // namespace cp2::sms
