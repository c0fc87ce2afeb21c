#include "domain/gsm7.hpp"

namespace cp2::domain {

namespace {

// GSM 03.38 default table beyond ASCII; with LF, CR and printable ASCII less ` [ \ ] ^ { | } ~
// these make up its 127 characters (the 128th code is the escape to the extension table).
constexpr std::u32string_view basic_non_ascii = U"£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";
// The extension table's characters, each sent as escape + code. Its form feed is left out:
// it has no business on a screen and handsets render it inconsistently.
constexpr std::u32string_view extension = U"^{}\\[~]|€";

// Septets `cp` takes in GSM-7, or 0 when GSM-7 cannot carry it.
std::size_t septets(char32_t cp) {
  if (extension.find(cp) != std::u32string_view::npos) return 2;
  if (cp == '\n' || cp == '\r') return 1;
  if (cp >= 0x20 && cp < 0x7F) return cp == '`' ? 0 : 1;
  return basic_non_ascii.find(cp) != std::u32string_view::npos ? 1 : 0;
}

struct decoded {
  char32_t cp;
  std::size_t size;
  bool valid;
};

// Strict UTF-8 (RFC 3629): no overlong forms, surrogates or code points past U+10FFFF. A bad
// sequence consumes one byte so decoding resumes at the next, as a replacing decoder does.
decoded decode(std::string_view s, std::size_t i) {
  constexpr decoded bad{U'\uFFFD', 1, false};
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return {lead, 1, true};
  std::size_t size = 0;
  char32_t cp = 0;
  char32_t smallest = 0;
  if ((lead & 0xE0) == 0xC0) { size = 2; cp = lead & 0x1F; smallest = 0x80; }
  else if ((lead & 0xF0) == 0xE0) { size = 3; cp = lead & 0x0F; smallest = 0x800; }
  else if ((lead & 0xF8) == 0xF0) { size = 4; cp = lead & 0x07; smallest = 0x10000; }
  else return bad;
  if (s.size() - i < size) return bad;
  for (std::size_t k = 1; k < size; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return bad;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < smallest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return bad;
  return {cp, size, true};
}

struct fold {
  std::u32string_view from;
  std::string_view to;
};

// Only consulted for characters GSM-7 lacks, so a GSM letter listed here by mistake is harmless.
constexpr fold folds[] = {
    {U"‘’‚‛′´`", "'"}, {U"“”„‟″«»", "\""}, {U"‐‑‒–—―−", "-"}, {U"…", "..."},
    {U"\t\u00A0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A"
     U"\u202F\u205F\u3000", " "},
    {U"\u00AD\u200B\u200C\u200D\u2060\uFE0E\uFE0F\uFEFF", ""},
    {U"ÀÁÂÃĀĂĄ", "A"}, {U"áâãāăą", "a"}, {U"ĆĈĊČ", "C"}, {U"çćĉċč", "c"},
    {U"ÐĎĐ", "D"}, {U"ðďđ", "d"}, {U"ÈÊËĒĔĖĘĚ", "E"}, {U"êëēĕėęě", "e"},
    {U"ĜĞĠĢ", "G"}, {U"ĝğġģ", "g"}, {U"ĤĦ", "H"}, {U"ĥħ", "h"},
    {U"ÌÍÎÏĨĪĬĮİ", "I"}, {U"íîïĩīĭįı", "i"}, {U"Ĵ", "J"}, {U"ĵ", "j"}, {U"Ķ", "K"}, {U"ķ", "k"},
    {U"ĹĻĽĿŁ", "L"}, {U"ĺļľŀł", "l"}, {U"ŃŅŇ", "N"}, {U"ńņň", "n"},
    {U"ÒÓÔÕŌŎŐ", "O"}, {U"óôõōŏő", "o"}, {U"Œ", "OE"}, {U"œ", "oe"},
    {U"ŔŖŘ", "R"}, {U"ŕŗř", "r"}, {U"ŚŜŞŠ", "S"}, {U"śŝşšſ", "s"}, {U"ŢŤŦ", "T"}, {U"ţťŧ", "t"},
    {U"ÙÚÛŨŪŬŮŰŲ", "U"}, {U"úûũūŭůűų", "u"}, {U"Ŵ", "W"}, {U"ŵ", "w"},
    {U"ÝŶŸ", "Y"}, {U"ýÿŷ", "y"}, {U"ŹŻŽ", "Z"}, {U"źżž", "z"},
};

std::string_view replacement_for(char32_t cp) {
  // Combining accents (text typed as e + ◌́) leave the base letter behind.
  if (cp >= 0x0300 && cp <= 0x036F) return "";
  for (const auto& f : folds) {
    if (f.from.find(cp) != std::u32string_view::npos) return f.to;
  }
  return "?";
}

}  // namespace

bool is_gsm7(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size();) {
    const auto d = decode(utf8, i);
    if (!d.valid || septets(d.cp) == 0) return false;
    i += d.size;
  }
  return true;
}

sms_length measure_sms(std::string_view utf8) {
  const bool gsm = is_gsm7(utf8);
  const std::size_t single_limit = gsm ? 160 : 70;
  const std::size_t part_limit = gsm ? 153 : 67;
  std::size_t units = 0;
  std::size_t parts = 1;
  std::size_t fill = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto d = decode(utf8, i);
    i += d.size;
    const std::size_t u = gsm ? septets(d.cp) : (d.cp > 0xFFFF ? 2 : 1);
    // A 2-unit character that does not fit in this part starts the next one whole.
    if (fill + u > part_limit) {
      ++parts;
      fill = 0;
    }
    fill += u;
    units += u;
  }
  const auto enc = gsm ? sms_length::encoding::gsm7 : sms_length::encoding::ucs2;
  return {enc, units, units <= single_limit ? 1 : parts};
}

std::string to_gsm7_lossy(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    const auto d = decode(utf8, i);
    if (!d.valid) out += '?';
    else if (septets(d.cp) > 0) out += utf8.substr(i, d.size);
    else out += replacement_for(d.cp);
    i += d.size;
  }
  return out;
}

}  // namespace cp2::domain
