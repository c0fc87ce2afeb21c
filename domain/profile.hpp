#pragma once
// The applicant profile (SPEC §4.4): what an applicant gives before applying, field by field,
// over USSD (My profile) or the portal API (SPEC §6). Each value is checked and put in one
// canonical form here, so the menu, the API and the store agree on what a valid value is.
//
// Rules applied by normalise_field. "Whitespace" is ASCII space, tab, CR, LF, VT and FF;
// "trim" removes it at both ends, "collapse" turns each inner run into one space. A typographic
// apostrophe (U+2018, U+2019, as phone keyboards type it) is read as '.
// - full_name: trim, collapse. ASCII letters, with ' and - allowed only between two letters
//   (no digits or other marks). At least two names (space-separated), each of at least two
//   letters; at most 60 characters. Stored in Title Case: the first letter of each name and
//   each letter after a hyphen upper case, the rest lower case; a letter after an apostrophe
//   is upper case only when the apostrophe follows a single initial letter ("O'Brien",
//   "D'Souza") and lower case otherwise, as in Kenyan names ("Ng'ang'a", "Wang'ombe").
//   "JOHN  o'brien-mwangi" -> "John O'Brien-Mwangi".
// - national_id: all whitespace removed; 6 to 9 digits, not all zeros. Stored as the digits,
//   leading zeros kept as typed (an old ID may carry them; dropping them could change it).
// - kra_pin: all whitespace removed, upper-cased; 'A' (a personal PIN: companies' P PINs are
//   refused with their own message), 9 digits, one letter. "a123456789z" -> "A123456789Z".
// - county: trim, collapse; 1 to 30 characters. Whether it is one of the 47 counties is checked
//   by the gateway against the reference list (SPEC §6); the menu picks it from that list.
// - workstation: trim, collapse; 2 to 60 characters, GSM-7 only (is_gsm7), at least one ASCII
//   letter. Stored as typed otherwise (school names carry their own capitals: "ACK St. Mary's").
// - tsc_number: optional. Empty or "0" (after trimming) means none and is stored as "".
//   Otherwise all whitespace removed; 4 to 10 digits, not all zeros; leading zeros kept.
// Lengths count characters (code points), not bytes. Error messages are GSM-7, at most 60
// characters, and name no internal detail: fit for a USSD screen or an API error.

#include "domain/result.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace cp2::domain {

/// One item of the profile, in the order an applicant is asked for them.
enum class profile_field { full_name, national_id, kra_pin, county, workstation, tsc_number };

/// The fields in the order an applicant is asked for them (tsc_number last: optional).
const std::array<profile_field, 6>& profile_fields();

/// The field's JSON name in the portal API (SPEC §6), e.g. "national_id".
std::string_view field_key(profile_field f);

/// A short English label for a phone screen, e.g. "KRA PIN".
std::string_view field_label(profile_field f);

/// The USSD prompt asking for the field (GSM-7, at most 120 characters), e.g.
/// "Enter your KRA PIN, e.g. A123456789Z:". The county's is only used in API error text: the
/// menu has the applicant choose a county from a list.
std::string_view field_prompt(profile_field f);

/// The field whose JSON name is exactly `key`, if any (case-sensitive).
std::optional<profile_field> field_from_key(std::string_view key);

/// An applicant's profile, each value in its canonical form (see normalise_field).
struct profile {
  std::string full_name;    ///< Title Case, e.g. "Mary Wanjiku Kamau"; empty = not given
  std::string national_id;  ///< digits; empty = not given
  std::string kra_pin;      ///< e.g. "A123456789Z"; empty = not given
  std::string county;       ///< one of the reference list's names; empty = not given
  std::string workstation;  ///< the current school or office; empty = not given
  std::string tsc_number;   ///< digits; empty = none or not given (optional)

  /// Profiles compare field by field.
  friend bool operator==(const profile&, const profile&) = default;
};

/// The member of `p` holding field `f`.
std::string& field_ref(profile& p, profile_field f);
/// The member of `p` holding field `f`.
const std::string& field_ref(const profile& p, profile_field f);

/// Required fields (all but tsc_number) are non-empty.
bool is_complete(const profile& p);

/// The first required field that is empty, in profile_fields() order, if any.
std::optional<profile_field> first_missing(const profile& p);

/// Why a typed value was refused: a short message (GSM-7, at most 60 characters) for the
/// applicant's screen or the API's 422 answer, e.g. "Use letters only, at least two names.".
/// A type of its own because result<T, E> needs T and E to differ.
struct field_error {
  std::string message;  ///< the text to show
};

/// Validates and normalises one value typed by an applicant (or sent by the portal), by the
/// rules at the top of this file. On success the canonical form to store.
result<std::string, field_error> normalise_field(profile_field f, std::string_view input);

}  // namespace cp2::domain
