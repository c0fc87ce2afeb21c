#include "domain/gsm7.hpp"
#include "domain/profile.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using cp2::domain::field_from_key;
using cp2::domain::field_key;
using cp2::domain::field_label;
using cp2::domain::field_prompt;
using cp2::domain::field_ref;
using cp2::domain::first_missing;
using cp2::domain::is_complete;
using cp2::domain::is_gsm7;
using cp2::domain::normalise_field;
using cp2::domain::profile;
using cp2::domain::profile_field;
using cp2::domain::profile_fields;

namespace {

// Code points of valid UTF-8.
std::size_t chars(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

profile complete_profile() {
  profile p;
  p.full_name = "Mary Wanjiku Kamau";
  p.national_id = "12345678";
  p.kra_pin = "A123456789Z";
  p.county = "Kisii";
  p.workstation = "Kisii School";
  return p;
}

}  // namespace

TEST_CASE("profile: accepted values are stored in their canonical form") {
  struct row { profile_field field; std::string input; std::string stored; };
  const row rows[] = {
      // full_name
      {profile_field::full_name, "JOHN  o'brien-mwangi", "John O'Brien-Mwangi"},
      {profile_field::full_name, "mary wanjiku kamau", "Mary Wanjiku Kamau"},
      {profile_field::full_name, "  Peter\tNG'ANG'A \r\n", "Peter Ng'ang'a"},
      {profile_field::full_name, "grace wang'ombe", "Grace Wang'ombe"},
      {profile_field::full_name, "Anne d\u2019souza", "Anne D'Souza"},  // typographic '
      {profile_field::full_name, "ochieng OTIENO", "Ochieng Otieno"},
      {profile_field::full_name, "Ali Bo", "Ali Bo"},
      {profile_field::full_name, "jane achieng-o'brien", "Jane Achieng-O'Brien"},
      {profile_field::full_name, std::string(30, 'a') + " " + std::string(29, 'b'),
       "A" + std::string(29, 'a') + " B" + std::string(28, 'b')},  // exactly 60
      // national_id
      {profile_field::national_id, "12345678", "12345678"},
      {profile_field::national_id, " 1234 5678 ", "12345678"},
      {profile_field::national_id, "123456", "123456"},
      {profile_field::national_id, "123456789", "123456789"},
      {profile_field::national_id, "0123456", "0123456"},
      // kra_pin
      {profile_field::kra_pin, "a123456789z", "A123456789Z"},
      {profile_field::kra_pin, "A123456789Z", "A123456789Z"},
      {profile_field::kra_pin, " A 123 456 789 q ", "A123456789Q"},
      // county
      {profile_field::county, "  Kisii ", "Kisii"},
      {profile_field::county, "Homa   Bay", "Homa Bay"},
      {profile_field::county, "Murang\u2019a", "Murang'a"},
      {profile_field::county, std::string(30, 'x'), std::string(30, 'x')},
      // workstation
      {profile_field::workstation, "  Kisii   School ", "Kisii School"},
      {profile_field::workstation, "ACK St. Mary's Girls, Nyeri", "ACK St. Mary's Girls, Nyeri"},
      {profile_field::workstation, "St Mary\u2019s", "St Mary's"},
      {profile_field::workstation, "Ol Kalou D.E.O", "Ol Kalou D.E.O"},
      {profile_field::workstation, "A1", "A1"},
      {profile_field::workstation, "\u00c9cole 2", "\u00c9cole 2"},  // É is GSM-7
      {profile_field::workstation, std::string(60, 'w'), std::string(60, 'w')},
      // tsc_number
      {profile_field::tsc_number, "123456", "123456"},
      {profile_field::tsc_number, " 123 456 ", "123456"},
      {profile_field::tsc_number, "0", ""},
      {profile_field::tsc_number, " 0 ", ""},
      {profile_field::tsc_number, "", ""},
      {profile_field::tsc_number, "   ", ""},
      {profile_field::tsc_number, "1234", "1234"},
      {profile_field::tsc_number, "1234567890", "1234567890"},
      {profile_field::tsc_number, "012345", "012345"},
  };
  for (const auto& r : rows) {
    CAPTURE(field_key(r.field));
    CAPTURE(r.input);
    const auto got = normalise_field(r.field, r.input);
    REQUIRE_MESSAGE(got.ok(), got.error().message);
    CHECK(*got == r.stored);
    // Canonical forms are fixed points: storing and re-reading changes nothing.
    const auto again = normalise_field(r.field, *got);
    REQUIRE(again.ok());
    CHECK(*again == r.stored);
  }
}

TEST_CASE("profile: refused values say why in a short GSM-7 message") {
  struct row { profile_field field; std::string input; std::string message; };
  const row rows[] = {
      // full_name
      {profile_field::full_name, "", "Enter your full name."},
      {profile_field::full_name, " \t ", "Enter your full name."},
      {profile_field::full_name, "John Mwangi 2", "Use letters only, at least two names."},
      {profile_field::full_name, "J0hn Mwangi", "Use letters only, at least two names."},
      {profile_field::full_name, "John. Mwangi", "Use letters only, at least two names."},
      {profile_field::full_name, "Zo\u00eb Mwangi", "Use letters only, at least two names."},
      {profile_field::full_name, "John", "Give at least two names in full, no initials."},
      {profile_field::full_name, "Mwangi-Kamau", "Give at least two names in full, no initials."},
      {profile_field::full_name, "J Mwangi", "Give at least two names in full, no initials."},
      {profile_field::full_name, "John K Mwangi", "Give at least two names in full, no initials."},
      {profile_field::full_name, "'John Mwangi", "Use ' and - only between letters."},
      {profile_field::full_name, "John Mwangi-", "Use ' and - only between letters."},
      {profile_field::full_name, "John O''Brien", "Use ' and - only between letters."},
      {profile_field::full_name, "John - Mwangi", "Use ' and - only between letters."},
      {profile_field::full_name, "Ann O'-Neil", "Use ' and - only between letters."},
      {profile_field::full_name, std::string(30, 'a') + " " + std::string(30, 'b'),
       "Name too long: at most 60 characters."},
      // national_id
      {profile_field::national_id, "", "Enter your national ID number."},
      {profile_field::national_id, "  ", "Enter your national ID number."},
      {profile_field::national_id, "1234-5678", "Use digits only for your ID number."},
      {profile_field::national_id, "ID12345678", "Use digits only for your ID number."},
      {profile_field::national_id, "12345", "An ID number has 6 to 9 digits."},
      {profile_field::national_id, "1234567890", "An ID number has 6 to 9 digits."},
      {profile_field::national_id, "00000000", "Check your ID number and try again."},
      // kra_pin
      {profile_field::kra_pin, "", "Enter your KRA PIN."},
      {profile_field::kra_pin, "P051234567Q", "Use your personal PIN, which starts with A."},
      {profile_field::kra_pin, "p051234567q", "Use your personal PIN, which starts with A."},
      {profile_field::kra_pin, "B123456789Z", "Enter A, 9 digits and a letter: A123456789Z."},
      {profile_field::kra_pin, "A12345678Z", "Enter A, 9 digits and a letter: A123456789Z."},
      {profile_field::kra_pin, "A1234567890Z", "Enter A, 9 digits and a letter: A123456789Z."},
      {profile_field::kra_pin, "A1234567890", "Enter A, 9 digits and a letter: A123456789Z."},
      {profile_field::kra_pin, "A123456789-", "Enter A, 9 digits and a letter: A123456789Z."},
      {profile_field::kra_pin, "A12345A789Z", "Enter A, 9 digits and a letter: A123456789Z."},
      {profile_field::kra_pin, "1123456789Z", "Enter A, 9 digits and a letter: A123456789Z."},
      // county
      {profile_field::county, "", "Choose your home county."},
      {profile_field::county, " \n", "Choose your home county."},
      {profile_field::county, std::string(31, 'x'), "County name too long: at most 30 characters."},
      // workstation
      {profile_field::workstation, "", "Enter your workstation."},
      {profile_field::workstation, "K", "Workstation: use 2 to 60 characters."},
      {profile_field::workstation, std::string(61, 'w'), "Workstation: use 2 to 60 characters."},
      {profile_field::workstation, "Kisii School \U0001F3EB",
       "Use plain letters, digits and punctuation only."},
      {profile_field::workstation, "Kisii `School`", "Use plain letters, digits and punctuation only."},
      {profile_field::workstation, "\xff\xfe", "Use plain letters, digits and punctuation only."},
      {profile_field::workstation, "12345", "Enter the name of your school or office."},
      {profile_field::workstation, "--", "Enter the name of your school or office."},
      // tsc_number
      {profile_field::tsc_number, "none", "Use digits only, or 0 if you have none."},
      {profile_field::tsc_number, "TSC/123456", "Use digits only, or 0 if you have none."},
      {profile_field::tsc_number, "123", "A TSC number has 4 to 10 digits."},
      {profile_field::tsc_number, "12345678901", "A TSC number has 4 to 10 digits."},
      {profile_field::tsc_number, "00", "A TSC number has 4 to 10 digits."},
      {profile_field::tsc_number, "0000", "Check your TSC number, or enter 0 for none."},
  };
  std::set<std::string> messages;
  for (const auto& r : rows) {
    CAPTURE(field_key(r.field));
    CAPTURE(r.input);
    const auto got = normalise_field(r.field, r.input);
    REQUIRE_MESSAGE(!got.ok(), *got);
    CHECK(got.error().message == r.message);
    messages.insert(got.error().message);
  }
  for (const auto& m : messages) {
    CAPTURE(m);
    CHECK(is_gsm7(m));
    CHECK(chars(m) <= 60);
  }
  CHECK(messages.size() == 21);  // every refusal message of normalise_field appears above
}

TEST_CASE("profile: a profile is complete once every field but the TSC number is given") {
  profile p = complete_profile();
  CHECK(is_complete(p));
  CHECK_FALSE(first_missing(p).has_value());
  p.tsc_number = "123456";
  CHECK(is_complete(p));

  for (const profile_field f : profile_fields()) {
    CAPTURE(field_key(f));
    profile q = complete_profile();
    field_ref(q, f).clear();
    if (f == profile_field::tsc_number) {
      CHECK(is_complete(q));
      CHECK_FALSE(first_missing(q).has_value());
    } else {
      CHECK_FALSE(is_complete(q));
      CHECK(first_missing(q) == f);
    }
  }
  CHECK_FALSE(is_complete(profile{}));
}

TEST_CASE("profile: first_missing follows the order the applicant is asked in") {
  const profile_field expected[] = {profile_field::full_name, profile_field::national_id,
                                    profile_field::kra_pin, profile_field::county,
                                    profile_field::workstation};
  profile p;
  for (const profile_field f : expected) {
    CAPTURE(field_key(f));
    REQUIRE(first_missing(p) == f);
    field_ref(p, f) = "given";
  }
  CHECK_FALSE(first_missing(p).has_value());
  CHECK(is_complete(p));

  // Filling a later field first does not move the question forward.
  profile later;
  later.workstation = "Kisii School";
  later.kra_pin = "A123456789Z";
  CHECK(first_missing(later) == profile_field::full_name);
  later.full_name = "Mary Kamau";
  CHECK(first_missing(later) == profile_field::national_id);
}

TEST_CASE("profile: fields are asked in order, TSC number last") {
  const auto& fields = profile_fields();
  CHECK(fields[0] == profile_field::full_name);
  CHECK(fields[1] == profile_field::national_id);
  CHECK(fields[2] == profile_field::kra_pin);
  CHECK(fields[3] == profile_field::county);
  CHECK(fields[4] == profile_field::workstation);
  CHECK(fields[5] == profile_field::tsc_number);
}

TEST_CASE("profile: keys are the API's JSON names and read back to their field") {
  CHECK(field_key(profile_field::full_name) == "full_name");
  CHECK(field_key(profile_field::national_id) == "national_id");
  CHECK(field_key(profile_field::kra_pin) == "kra_pin");
  CHECK(field_key(profile_field::county) == "county");
  CHECK(field_key(profile_field::workstation) == "workstation");
  CHECK(field_key(profile_field::tsc_number) == "tsc_number");
  std::set<std::string_view> keys;
  for (const profile_field f : profile_fields()) {
    CAPTURE(field_key(f));
    CHECK(field_from_key(field_key(f)) == f);
    keys.insert(field_key(f));
  }
  CHECK(keys.size() == 6);
  for (const std::string_view unknown : {"", "Full_Name", "full name", "phone", "kra_pin ", "tsc"}) {
    CAPTURE(unknown);
    CHECK_FALSE(field_from_key(unknown).has_value());
  }
}

TEST_CASE("profile: labels and prompts fit a USSD screen") {
  CHECK(field_label(profile_field::full_name) == "Full name");
  CHECK(field_label(profile_field::national_id) == "National ID");
  CHECK(field_label(profile_field::kra_pin) == "KRA PIN");
  CHECK(field_label(profile_field::county) == "Home county");
  CHECK(field_label(profile_field::workstation) == "Workstation");
  CHECK(field_label(profile_field::tsc_number) == "TSC number");
  std::set<std::string_view> labels;
  std::set<std::string_view> prompts;
  for (const profile_field f : profile_fields()) {
    CAPTURE(field_key(f));
    const auto label = field_label(f);
    const auto prompt = field_prompt(f);
    CHECK(is_gsm7(label));
    CHECK_FALSE(label.empty());
    CHECK(chars(label) <= 20);
    CHECK(is_gsm7(prompt));
    CHECK(chars(prompt) <= 120);
    CHECK(prompt.starts_with("Enter your "));
    CHECK(prompt.ends_with(":"));
    labels.insert(label);
    prompts.insert(prompt);
  }
  CHECK(labels.size() == 6);
  CHECK(prompts.size() == 6);
}

TEST_CASE("profile: field_ref reaches each member") {
  profile p;
  for (const profile_field f : profile_fields()) field_ref(p, f) = std::string(field_key(f));
  CHECK(p.full_name == "full_name");
  CHECK(p.national_id == "national_id");
  CHECK(p.kra_pin == "kra_pin");
  CHECK(p.county == "county");
  CHECK(p.workstation == "workstation");
  CHECK(p.tsc_number == "tsc_number");
  const profile& cp = p;
  for (const profile_field f : profile_fields()) CHECK(field_ref(cp, f) == field_key(f));
  CHECK(&field_ref(cp, profile_field::county) == &p.county);
}
