#include "domain/gsm7.hpp"

#include <doctest/doctest.h>

#include <string>

using cp2::domain::is_gsm7;
using cp2::domain::measure_sms;
using cp2::domain::sms_length;
using cp2::domain::to_gsm7_lossy;

namespace {

std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::string repeat(std::string_view piece, std::size_t times) {
  std::string s;
  for (std::size_t i = 0; i < times; ++i) s += piece;
  return s;
}

constexpr auto gsm7 = sms_length::encoding::gsm7;
constexpr auto ucs2 = sms_length::encoding::ucs2;
const std::string euro = "€";
const std::string cyrillic_de = "д";  // outside GSM-7, one UTF-16 unit
const std::string emoji = "😀";       // outside the BMP, two UTF-16 units

}  // namespace

TEST_CASE("gsm7: which characters are in the alphabet") {
  struct row { std::string text; bool gsm; };
  const row rows[] = {
      {"", true},
      {"Hello, world! 0712345678 #*", true},
      {"@$_£¥¤§¡¿", true},
      {"èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà", true},
      {"ΔΦΓΛΩΠΨΣΘΞ", true},
      {"^{}\\[~]|€", true},
      {"line\nnext\r", true},
      {"`", false},
      {"ç", false},  // only the capital Ç is in the table
      {"á", false},
      {"α", false},
      {"\t", false},
      {"\x7f", false},
      {"“quoted”", false},
      {emoji, false},
      {"\xff", false},              // never valid in UTF-8
      {"\xc3", false},              // truncated é
      {"\xc0\xaf", false},          // overlong '/'
      {"\xed\xa0\x80", false},      // encoded surrogate
      {"\xf4\x90\x80\x80", false},  // past U+10FFFF
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(is_gsm7(r.text) == r.gsm);
  }
}

TEST_CASE("gsm7: the alphabet has 127 basic and 9 extension characters") {
  int basic_or_extension = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    if (is_gsm7(utf8(cp))) ++basic_or_extension;
  }
  CHECK(basic_or_extension == 136);
}

TEST_CASE("gsm7: SMS length and segments") {
  struct row {
    std::string name;
    std::string text;
    sms_length::encoding enc;
    std::size_t units;
    std::size_t segments;
  };
  const row rows[] = {
      {"empty", "", gsm7, 0, 1},
      {"one", "a", gsm7, 1, 1},
      {"160 septets", repeat("a", 160), gsm7, 160, 1},
      {"161 septets", repeat("a", 161), gsm7, 161, 2},
      {"153*2 septets", repeat("a", 306), gsm7, 306, 2},
      {"153*2+1 septets", repeat("a", 307), gsm7, 307, 3},
      {"euro", euro, gsm7, 2, 1},
      {"extension chars", "^{}\\[~]|", gsm7, 16, 1},
      {"80 euros", repeat(euro, 80), gsm7, 160, 1},
      {"159 + euro", repeat("a", 159) + euro, gsm7, 161, 2},
      {"escape pair not split", repeat("a", 152) + euro + repeat("a", 152), gsm7, 306, 3},
      {"escape pair fits", repeat("a", 151) + euro + repeat("a", 153), gsm7, 306, 2},
      {"GSM accents", repeat("é", 160), gsm7, 160, 1},
      {"70 UCS-2", repeat(cyrillic_de, 70), ucs2, 70, 1},
      {"71 UCS-2", repeat(cyrillic_de, 71), ucs2, 71, 2},
      {"67*2 UCS-2", repeat(cyrillic_de, 134), ucs2, 134, 2},
      {"67*2+1 UCS-2", repeat(cyrillic_de, 135), ucs2, 135, 3},
      {"one stray char", repeat("a", 159) + "ç", ucs2, 160, 3},
      {"emoji", emoji, ucs2, 2, 1},
      {"35 emoji", repeat(emoji, 35), ucs2, 70, 1},
      {"36 emoji", repeat(emoji, 36), ucs2, 72, 2},
      {"surrogate pair not split", repeat(cyrillic_de, 66) + emoji + repeat(cyrillic_de, 66), ucs2,
       134, 3},
      {"invalid byte", "abc\xff", ucs2, 4, 1},
      {"truncated sequence", "\xe2\x82", ucs2, 2, 1},
      {"encoded surrogate", "\xed\xa0\x80", ucs2, 3, 1},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    const auto m = measure_sms(r.text);
    CHECK(m.enc == r.enc);
    CHECK(m.units == r.units);
    CHECK(m.segments == r.segments);
  }
}

TEST_CASE("gsm7: the lossy mapper") {
  struct row { std::string in; std::string out; };
  const row rows[] = {
      {"Plain text 0712345678.", "Plain text 0712345678."},
      {"Price: €5 {x} [y] ~z^ |\\", "Price: €5 {x} [y] ~z^ |\\"},
      {"Señor, café, Ñandú à São", "Señor, café, Ñandu à Sao"},
      {"“Hello” ‘there’ it’s", "\"Hello\" 'there' it's"},
      {"«Karibu»", "\"Karibu\""},
      {"9–5 — daily", "9-5 - daily"},
      {"wait…", "wait..."},
      {"A\u00a0B\u202fC\tD", "A B C D"},
      {"\ufeffHello\u200b!", "Hello!"},
      {"naïve Dvořák Łódź", "naive Dvorak Lodz"},
      {"ça Œuvre", "ca OEuvre"},
      {"e\u0301", "e"},
      {"`code`", "'code'"},
      {"Jambo 😀", "Jambo ?"},
      {"中文", "??"},
      {"αβ", "??"},
      {"bad\xff byte", "bad? byte"},
      {"\xed\xa0\x80", "???"},  // an encoded surrogate is three bad bytes
      {"\x01", "?"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    const auto out = to_gsm7_lossy(r.in);
    CHECK(out == r.out);
    CHECK(is_gsm7(out));
  }
}

TEST_CASE("gsm7: the lossy mapper always yields GSM-7") {
  std::string everything;
  for (char32_t cp = 0; cp < 0x3000; ++cp) {
    if (cp < 0xD800 || cp > 0xDFFF) everything += utf8(cp);
  }
  everything += "\xff\xfe\xc3";
  const auto out = to_gsm7_lossy(everything);
  CHECK(is_gsm7(out));
  CHECK(out.find("0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos);
}
