// The vacancy journeys as transcripts (issue #5): profile, vacancies, apply, my applications.

#include "domain/gsm7.hpp"
#include "tests/support/menu_vacancies.hpp"
#include "ussd/engine.hpp"
#include "ussd/screen.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <deque>
#include <set>

using namespace cp2;
using namespace cp2::ussd;
using domain::unix_ms;

namespace {

constexpr unix_ms day = testing::day_ms;
constexpr unix_ms now = testing::menus_now;

domain::vacancy vac(std::string code, std::string exam, std::string activity, std::string role,
                    std::string county, std::string subcounty, std::string station,
                    unix_ms opens = now - day, unix_ms closes = now + 30 * day) {
  return testing::centre_vacancy(std::move(code), std::move(exam), std::move(activity),
                                 std::move(role), std::move(county), std::move(subcounty),
                                 std::move(station), "Supervise the KCSE papers at the centre.",
                                 opens, closes);
}

std::shared_ptr<const domain::catalog> small_catalog() {
  std::vector<domain::vacancy> all = {
      vac("V1", "KCSE", "Supervision and Invigilation", "Invigilator", "Kisii", "Bobasi", "Kisii School"),
      vac("V2", "KCSE", "Supervision and Invigilation", "Invigilator", "Kisii", "Bobasi", "Nyabururu Girls"),
      vac("V3", "KCSE", "Marking", "Examiner", "Nairobi", "Westlands", "Moi Forces Academy"),
      vac("V4", "KCPE", "Supervision and Invigilation", "Clerk", "Nakuru", "Naivasha", "Naivasha Primary"),
      // Closed and not yet open: never offered.
      vac("V5", "KPSEA", "Marking", "Examiner", "Kisii", "Bobasi", "Old School", now - 60 * day, now - day),
      vac("V6", "KJSEA", "Marking", "Examiner", "Kisii", "Bobasi", "Future School", now + day, now + 60 * day),
  };
  return std::make_shared<domain::catalog>(all, std::map<std::string, int>{}, now);
}

domain::profile complete_profile() {
  domain::profile p;
  p.full_name = "Jane Moraa";
  p.national_id = "12345678";
  p.kra_pin = "A123456789Z";
  p.county = "Kisii";
  p.workstation = "Kisii School";
  return p;
}

std::vector<std::string> county_names() {
  std::vector<std::string> out;
  for (int i = 1; i <= 47; ++i) out.push_back(fmt::format("County Number {}", i));
  return out;
}

session_facts member(domain::profile p = complete_profile()) {
  session_facts f;
  f.has_account = true;
  f.phone_local = "0712345678";
  f.profile = std::move(p);
  f.vacancies = small_catalog();
  f.now = now;
  return f;
}

// One line of a transcript: input typed, a fragment the screen must show, whether it ends, and
// the action the input must ask for (none by default).
struct line {
  std::string input;
  std::string expect;
  bool ends = false;
  action act = action::none;
  std::string value = {};
};

const engine eng{engine_options{"22262", 3, 10, county_names()}};

void play(const session_facts& facts, const std::vector<line>& transcript,
          action_result result = {}) {
  std::string text;
  for (std::size_t i = 0; i < transcript.size(); ++i) {
    const line& l = transcript[i];
    if (i == 1) text = l.input;
    else if (i > 1) text += "*" + l.input;
    CAPTURE(text);
    auto r = eng.step(facts, text);
    CHECK(r.to_perform == l.act);
    if (l.act != action::none) CHECK(r.value == l.value);
    if (r.end && r.to_perform != action::none) r = eng.outcome_screen(r, result);
    CHECK_MESSAGE(r.text.find(l.expect) != std::string::npos, r.text);
    CHECK(r.end == l.ends);
  }
}

}  // namespace

TEST_CASE("apply with a complete profile: six levels, the vacancy, Apply, the reference") {
  domain::application made;
  made.ref = "CP2-ABC234";
  play(member(),
       {{"", "1. Vacancies"},
        {"1", "Choose the examination:\n1. KCPE\n2. KCSE"},
        {"2", "Choose the activity:\n1. Marking\n2. Supervision and Invigilation"},
        {"2", "Choose the venue:\n1. Examination centre"},
        {"1", "Choose the role:\n1. Invigilator"},
        {"1", "Choose the county:\n1. Kisii"},
        {"1", "Choose the sub-county:\n1. Bobasi"},
        {"1", "Choose a vacancy:\n1. Kisii School (3 posts)\n2. Nyabururu Girls (3 posts)"},
        {"2", "Apply by 30 Dec 2026, 3 posts. Invigilator at Nyabururu Girls, Bobasi. KCSE Supervision"},
        {"1", "Your reference is CP2-ABC234", true, action::apply, "V2"}},
       {action_result::kind::submitted, made});
}

TEST_CASE("a level name too long for the screen is shortened on it and still leads on") {
  // Menus are replayed from the main menu at each step, and a choice too long for any page is
  // shortened on screen: the path must keep the name as the catalog has it.
  const std::string role(150, 'R');
  auto facts = member();
  facts.vacancies = std::make_shared<domain::catalog>(
      std::vector<domain::vacancy>{vac("L1", "KCSE", "Marking", role, "Kisii", "Bobasi", "Kisii School")},
      std::map<std::string, int>{}, now);
  play(facts, {{"", "1. Vacancies"},
               {"1", "1. KCSE"},
               {"1", "1. Marking"},
               {"1", "1. Examination centre"},
               {"1", "1. RRRR"},
               {"1", "Choose the county:\n1. Kisii"},
               {"1", "Choose the sub-county:\n1. Bobasi"},
               {"1", "1. Kisii School (3 posts)"},
               {"1", "Apply by"},
               {"1", "Your reference", true, action::apply, "L1"}},
       {action_result::kind::submitted, {}});
  CHECK(eng.step(facts, "1*1*1*1*1").text.find(role) == std::string::npos);  // it was shortened
}

TEST_CASE("closed and not-yet-open vacancies are never offered") {
  auto r = eng.step(member(), "1");
  CHECK(r.text.find("KPSEA") == std::string::npos);
  CHECK(r.text.find("KJSEA") == std::string::npos);
}

TEST_CASE("apply outcomes are told plainly") {
  domain::application other;
  other.ref = "CP2-XYZ789";
  other.exam = "KCSE";
  other.activity = "Marking";
  other.station = "Moi Forces Academy";
  const std::string path[] = {"1", "2", "2", "1", "1", "1", "1", "1"};
  std::vector<line> base = {{"", "Vacancies"}};
  for (const auto& p : path) base.push_back({p, ""});
  auto with_last = [&](std::string expect, action_result r) {
    auto t = base;
    t.push_back({"1", std::move(expect), true, action::apply, "V1"});
    play(member(), t, r);
  };
  with_last("You already applied for KCSE Marking: CP2-XYZ789", {action_result::kind::conflict, other});
  with_last("already applied for this vacancy. Your reference is CP2-XYZ789",
            {action_result::kind::already_applied, other});
  with_last("not open for applications now", {action_result::kind::closed, {}});
  with_last("has been filled", {action_result::kind::filled, {}});
}

TEST_CASE("an incomplete profile is completed on the way, then the vacancies follow") {
  domain::profile partial;
  partial.full_name = "Jane Moraa";
  play(member(partial),
       {{"", "1. Vacancies"},
        {"1", "Before you apply, complete your profile"},
        {"1", "national ID"},
        {"12 345 678", "KRA PIN", false, action::save_profile_field, "12345678"},
        {"a123456789z", "Choose your home county:\n1. County Number 1", false,
         action::save_profile_field, "A123456789Z"},
        {"98", "98. More"},
        {"0", "1. County Number 1"},
        {"3", "workstation", false, action::save_profile_field, "County Number 3"},
        {"Kisii School", "Choose the examination:", false, action::save_profile_field, "Kisii School"},
        {"2", "Choose the activity:"}});
}

TEST_CASE("a bad answer re-asks the same question with a short notice and saves nothing") {
  domain::profile partial;
  partial.full_name = "Jane Moraa";
  auto r = eng.step(member(partial), "1*1*12ab");
  CHECK(r.to_perform == action::none);
  CHECK(r.text.find("national ID") != std::string::npos);
  CHECK(r.text.find('\n') > 0);
  auto notice = r.text.substr(0, r.text.find('\n'));
  CHECK(notice.size() <= 60);
  CHECK_FALSE(notice.empty());
}

TEST_CASE("my profile: the values shown, one changed, Saved") {
  play(member(),
       {{"", "3. My profile"},
        {"3", "Your profile. Choose one to change:\n1. Full name: Jane Moraa"},
        {"3", "KRA PIN"},
        {"a987654321b", "Saved.", false, action::save_profile_field, "A987654321B"},
        {"0", "3. My profile"}});
  // The changed value shows when the profile is shown again in the same session.
  auto r = eng.step(member(), "3*3*a987654321b");
  CHECK(r.text.find("KRA PIN: A987654321B") != std::string::npos);
  // The TSC number is optional: "I have none" clears it. It is on the profile's second page.
  auto page2 = eng.step(member(), "3*98");
  REQUIRE(page2.text.find(". TSC number: -") != std::string::npos);
  auto number = page2.text.substr(page2.text.find(". TSC number") - 1, 1);
  auto none = eng.step(member(), "3*98*" + number + "*1");
  CHECK(none.to_perform == action::save_profile_field);
  CHECK(none.field == domain::profile_field::tsc_number);
  CHECK(none.value.empty());
}

TEST_CASE("my applications: list, detail, withdraw while open; not after closing") {
  auto f = member();
  domain::application open_app;
  open_app.ref = "CP2-AAA222";
  open_app.exam = "KCSE";
  open_app.activity = "Marking";
  open_app.role = "Examiner";
  open_app.station = "Moi Forces Academy";
  open_app.closes_at = now + day;
  auto closed_app = open_app;
  closed_app.ref = "CP2-BBB333";
  closed_app.closes_at = now - day;
  f.applications = {open_app, closed_app};
  play(f, {{"", "2. My applications"},
           {"2", "1. CP2-AAA222 KCSE Examiner: submitted\n2. CP2-BBB333"},
           {"1", "Status: submitted.\n1. Withdraw"},
           {"1", "Withdraw application CP2-AAA222?"},
           {"1", "CP2-AAA222 has been withdrawn", true, action::withdraw, "CP2-AAA222"}},
       {action_result::kind::withdrawn, {}});
  auto detail = eng.step(f, "2*2");
  CHECK(detail.text.find("Withdraw") == std::string::npos);
  auto none = member();
  CHECK(eng.step(none, "2").text.find("no applications yet") != std::string::npos);
}

TEST_CASE("every screen of a large catalog fits 182 GSM-7 characters") {
  std::vector<domain::vacancy> all;
  const auto counties = county_names();
  int n = 0;
  for (const char* exam : {"KCSE", "KCPE", "KPSEA", "KJSEA"})
    for (const char* activity : {"Supervision and Invigilation", "Marking", "Script Distribution"})
      for (std::size_t c = 0; c < counties.size(); c += (exam[1] == 'C' ? 1 : 9))
        for (int s = 0; s < 3; ++s) {
          auto v = vac(fmt::format("V{}", ++n), exam, activity, "Centre Manager", counties[c],
                       fmt::format("Sub-county With A Long Name {}", s),
                       std::string(55, 'S') + fmt::format("{:05}", n));
          v.description = std::string(300, 'd');
          all.push_back(v);
        }
  auto f = member();
  f.vacancies = std::make_shared<domain::catalog>(all, std::map<std::string, int>{}, now);
  domain::application a;
  a.ref = "CP2-AAA222";
  a.exam = "KCSE";
  a.activity = "Supervision and Invigilation";
  a.role = "Centre Manager";
  a.station = std::string(60, 'S');
  a.closes_at = now + day;
  f.applications.assign(30, a);
  domain::profile partial;
  auto g = f;
  g.profile = partial;

  std::set<std::string> seen;
  std::size_t checked = 0;
  bool saw_detail = false, saw_more = false, saw_outcome = false, saw_prompt = false;
  for (const auto* facts : {&f, &g}) {
    std::deque<std::string> queue{""};
    while (!queue.empty() && checked < 20'000) {
      auto text = queue.front();
      queue.pop_front();
      auto r = eng.step(*facts, text);
      if (r.end && r.to_perform != action::none) r = eng.outcome_screen(r, {action_result::kind::conflict, a});
      if (!seen.insert(r.text).second) continue;
      ++checked;
      CAPTURE(text);
      CAPTURE(r.text);
      CHECK(r.text.size() <= max_screen_chars);
      CHECK(domain::is_gsm7(r.text));
      saw_detail |= r.text.find("Apply by") != std::string::npos;
      saw_more |= r.text.find("98. More") != std::string::npos;
      saw_outcome |= r.text.find("Withdraw it first") != std::string::npos;
      saw_prompt |= r.text.find("national ID") != std::string::npos;
      if (r.end) continue;
      for (const char* t : {"1", "2", "3", "4", "5", "6", "7", "98", "x", "0"})
        queue.push_back(text.empty() ? t : text + "*" + t);
      queue.push_back(text + "*Jane Moraa");
      queue.push_back(text + "*12345678");
      queue.push_back(text + "*A123456789Z");
    }
  }
  CHECK(checked > 100);
  CHECK(saw_detail);   // the walk reached the bottom of the catalog
  CHECK(saw_more);     // and long lists
  CHECK(saw_outcome);  // and an END after Apply
  CHECK(saw_prompt);   // and the profile questions
}
