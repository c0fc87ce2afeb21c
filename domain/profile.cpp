#include "domain/profile.hpp"

#include "domain/gsm7.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace cp2::domain {

namespace {

constexpr std::size_t max_name_chars = 60;
constexpr std::size_t min_id_digits = 6;
constexpr std::size_t max_id_digits = 9;
constexpr std::size_t max_county_chars = 30;
constexpr std::size_t min_workstation_chars = 2;
constexpr std::size_t max_workstation_chars = 60;
constexpr std::size_t min_tsc_digits = 4;
constexpr std::size_t max_tsc_digits = 10;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_letter(char c) { return is_upper(c) || is_lower(c); }
char to_upper(char c) { return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }
bool all_zeros(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

// Code points, assuming valid UTF-8 (callers check GSM-7 first where it matters): every byte
// but a continuation byte starts one.
std::size_t char_count(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Phone keyboards and word processors turn ' into U+2018/U+2019, which GSM-7 lacks.
std::string fold_apostrophes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto rest = s.substr(i);
    if (rest.starts_with("\u2018") || rest.starts_with("\u2019")) {
      out += '\'';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Trimmed, with each inner run of whitespace turned into one space.
std::string collapse(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool gap = false;
  for (const char c : s) {
    if (is_space(c)) {
      gap = !out.empty();
    } else {
      if (gap) out += ' ';
      gap = false;
      out += c;
    }
  }
  return out;
}

std::string without_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (!is_space(c)) out += c;
  }
  return out;
}

using outcome = result<std::string, field_error>;

outcome refuse(std::string_view message) { return field_error{std::string(message)}; }

outcome normalise_full_name(std::string_view input) {
  std::string name = collapse(fold_apostrophes(input));
  if (name.empty()) return refuse("Enter your full name.");
  const bool known_characters = std::all_of(name.begin(), name.end(), [](char c) {
    return is_letter(c) || c == ' ' || c == '\'' || c == '-';
  });
  if (!known_characters) return refuse("Use letters only, at least two names.");

  std::size_t names = 0;
  std::size_t word_start = 0;
  while (word_start < name.size()) {
    const std::size_t end = std::min(name.find(' ', word_start), name.size());
    const std::string_view word = std::string_view(name).substr(word_start, end - word_start);
    std::size_t letters = 0;
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (is_letter(word[i])) {
        ++letters;
      } else if (i == 0 || i + 1 == word.size() || !is_letter(word[i - 1]) ||
                 !is_letter(word[i + 1])) {
        return refuse("Use ' and - only between letters.");
      }
    }
    if (letters < 2) return refuse("Give at least two names in full, no initials.");
    ++names;

    // Title Case. `part` is where the current hyphen-separated part began: a letter two after
    // it, behind an apostrophe, follows a single initial (O'Brien); later ones do not (Ng'ang'a).
    std::size_t part = word_start;
    for (std::size_t i = word_start; i < end; ++i) {
      char& c = name[i];
      if (c == '-') {
        part = i + 1;
      } else if (is_letter(c)) {
        const bool capital = i == part || (i == part + 2 && name[i - 1] == '\'');
        c = capital ? to_upper(c) : to_lower(c);
      }
    }
    word_start = end + 1;
  }
  if (names < 2) return refuse("Give at least two names in full, no initials.");
  if (name.size() > max_name_chars) return refuse("Name too long: at most 60 characters.");
  return name;
}

outcome normalise_national_id(std::string_view input) {
  const std::string id = without_spaces(input);
  if (id.empty()) return refuse("Enter your national ID number.");
  if (!all_digits(id)) return refuse("Use digits only for your ID number.");
  if (id.size() < min_id_digits || id.size() > max_id_digits) {
    return refuse("An ID number has 6 to 9 digits.");
  }
  if (all_zeros(id)) return refuse("Check your ID number and try again.");
  return id;
}

outcome normalise_kra_pin(std::string_view input) {
  std::string pin = without_spaces(input);
  if (pin.empty()) return refuse("Enter your KRA PIN.");
  std::transform(pin.begin(), pin.end(), pin.begin(), to_upper);
  const bool shape = pin.size() == 11 && is_upper(pin.front()) && is_upper(pin.back()) &&
                     all_digits(std::string_view(pin).substr(1, 9));
  // Companies' PINs start with P; an applicant is a person, whose PIN starts with A.
  if (shape && pin.front() == 'P') return refuse("Use your personal PIN, which starts with A.");
  if (!shape || pin.front() != 'A') return refuse("Enter A, 9 digits and a letter: A123456789Z.");
  return pin;
}

outcome normalise_county(std::string_view input) {
  std::string county = collapse(fold_apostrophes(input));
  if (county.empty()) return refuse("Choose your home county.");
  if (char_count(county) > max_county_chars) {
    return refuse("County name too long: at most 30 characters.");
  }
  return county;
}

outcome normalise_workstation(std::string_view input) {
  std::string station = collapse(fold_apostrophes(input));
  if (station.empty()) return refuse("Enter your workstation.");
  if (!is_gsm7(station)) return refuse("Use plain letters, digits and punctuation only.");
  const std::size_t chars = char_count(station);
  if (chars < min_workstation_chars || chars > max_workstation_chars) {
    return refuse("Workstation: use 2 to 60 characters.");
  }
  if (std::none_of(station.begin(), station.end(), is_letter)) {
    return refuse("Enter the name of your school or office.");
  }
  return station;
}

outcome normalise_tsc_number(std::string_view input) {
  const std::string number = without_spaces(input);
  if (number.empty() || number == "0") return std::string();
  if (!all_digits(number)) return refuse("Use digits only, or 0 if you have none.");
  if (number.size() < min_tsc_digits || number.size() > max_tsc_digits) {
    return refuse("A TSC number has 4 to 10 digits.");
  }
  if (all_zeros(number)) return refuse("Check your TSC number, or enter 0 for none.");
  return number;
}

template <class Profile>
auto& member(Profile& p, profile_field f) {
  switch (f) {
    case profile_field::full_name: return p.full_name;
    case profile_field::national_id: return p.national_id;
    case profile_field::kra_pin: return p.kra_pin;
    case profile_field::county: return p.county;
    case profile_field::workstation: return p.workstation;
    case profile_field::tsc_number: break;
  }
  return p.tsc_number;
}

}  // namespace

const std::array<profile_field, 6>& profile_fields() {
  static constexpr std::array<profile_field, 6> fields{
      profile_field::full_name, profile_field::national_id, profile_field::kra_pin,
      profile_field::county,    profile_field::workstation, profile_field::tsc_number,
  };
  return fields;
}

std::string_view field_key(profile_field f) {
  switch (f) {
    case profile_field::full_name: return "full_name";
    case profile_field::national_id: return "national_id";
    case profile_field::kra_pin: return "kra_pin";
    case profile_field::county: return "county";
    case profile_field::workstation: return "workstation";
    case profile_field::tsc_number: break;
  }
  return "tsc_number";
}

std::string_view field_label(profile_field f) {
  switch (f) {
    case profile_field::full_name: return "Full name";
    case profile_field::national_id: return "National ID";
    case profile_field::kra_pin: return "KRA PIN";
    case profile_field::county: return "Home county";
    case profile_field::workstation: return "Workstation";
    case profile_field::tsc_number: break;
  }
  return "TSC number";
}

std::string_view field_prompt(profile_field f) {
  switch (f) {
    case profile_field::full_name: return "Enter your full name as on your national ID:";
    case profile_field::national_id: return "Enter your national ID number:";
    case profile_field::kra_pin: return "Enter your KRA PIN, e.g. A123456789Z:";
    case profile_field::county: return "Enter your home county, e.g. Nakuru:";
    case profile_field::workstation:
      return "Enter your current workstation (school or office), e.g. Kisii School:";
    case profile_field::tsc_number: break;
  }
  return "Enter your TSC number, or 0 if you have none:";
}

std::optional<profile_field> field_from_key(std::string_view key) {
  for (const profile_field f : profile_fields()) {
    if (field_key(f) == key) return f;
  }
  return std::nullopt;
}

std::string& field_ref(profile& p, profile_field f) { return member(p, f); }

const std::string& field_ref(const profile& p, profile_field f) { return member(p, f); }

bool is_complete(const profile& p) { return !first_missing(p).has_value(); }

std::optional<profile_field> first_missing(const profile& p) {
  for (const profile_field f : profile_fields()) {
    if (f != profile_field::tsc_number && field_ref(p, f).empty()) return f;
  }
  return std::nullopt;
}

result<std::string, field_error> normalise_field(profile_field f, std::string_view input) {
  switch (f) {
    case profile_field::full_name: return normalise_full_name(input);
    case profile_field::national_id: return normalise_national_id(input);
    case profile_field::kra_pin: return normalise_kra_pin(input);
    case profile_field::county: return normalise_county(input);
    case profile_field::workstation: return normalise_workstation(input);
    case profile_field::tsc_number: break;
  }
  return normalise_tsc_number(input);
}

}  // namespace cp2::domain
