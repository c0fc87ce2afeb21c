// The USSD `text` replay (ussd/engine.cpp, ussd/screen.cpp): the inputs of a session joined by
// '*', as the aggregator sends them, replayed for four callers against a small fixed catalog.
// Properties: every screen shown has at most 182 characters, all GSM-7; an action's argument is
// one the caller may act on (a vacancy in the catalog, their own withdrawable application, a
// canonical profile value); every END screen after an action fits too; the engine with its
// screen cache (kept across inputs) answers exactly as one that builds every screen.

#include "check.hpp"
#include "domain/gsm7.hpp"
#include "tests/support/menu_vacancies.hpp"
#include "ussd/engine.hpp"
#include "ussd/screen.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace cp2;
using namespace cp2::ussd;
using domain::unix_ms;

namespace {

constexpr unix_ms day = testing::day_ms;
constexpr unix_ms now = testing::menus_now;
using testing::centre_vacancy;

const std::vector<std::string> county_names = {
    "Mombasa", "Kwale", "Kilifi", "Tana River", "Lamu", "Taita Taveta", "Garissa", "Wajir",
    "Mandera", "Marsabit", "Isiolo", "Meru", "Tharaka Nithi", "Embu", "Kitui", "Machakos",
    "Makueni", "Nyandarua", "Nyeri", "Kirinyaga", "Murang'a", "Kiambu", "Turkana", "West Pokot",
    "Samburu", "Trans Nzoia", "Uasin Gishu", "Elgeyo Marakwet", "Nandi", "Baringo", "Laikipia",
    "Nakuru", "Narok", "Kajiado", "Kericho", "Bomet", "Kakamega", "Vihiga", "Bungoma", "Busia",
    "Siaya", "Kisumu", "Homa Bay", "Migori", "Kisii", "Nyamira", "Nairobi"};

// As the importer lets them through: GSM-7 text up to each column's limit, accents included.
std::shared_ptr<const domain::catalog> make_catalog() {
  const std::string long_description =
      "Invigilate KCSE candidates at the centre for the whole examination period. Report by "
      "7:00 am with your national ID and TSC number. Élèves: the centre is next to the "
      "Sainte Thérèse parish. Bring a pen.";
  std::vector<domain::vacancy> all = {
      centre_vacancy("V1", "KCSE", "Supervision and Invigilation", "Invigilator", "Kisii", "Bobasi",
                     "Kisii School", "Supervise the KCSE papers at the centre."),
      centre_vacancy("V2", "KCSE", "Supervision and Invigilation", "Invigilator", "Kisii", "Bobasi",
                     "Sainte Thérèse Girls Secondary School, Nyamache Ward, Bobasi",
                     long_description),
      centre_vacancy("V3", "KCSE", "Marking", "Examiner", "Nairobi", "Westlands",
                     "Moi Forces Academy", ""),
      centre_vacancy("V4", "KCPE", "Supervision and Invigilation", "Clerk", "Nakuru", "Naivasha",
                     "Naivasha Primary", "Count and pack the scripts."),
      centre_vacancy("V5", "KPSEA", "Marking", "Examiner", "Kisii", "Bobasi", "Old School",
                     "Closed.", now - 60 * day, now - day),
  };
  for (int i = 0; i < 12; ++i) {
    // Enough stations under one path for the list to need "98. More".
    all.push_back(centre_vacancy("M" + std::to_string(i), "KCSE", "Marking", "Examiner",
                                 "Nairobi", "Westlands",
                                 "Nairobi School Marking Centre Hall " + std::to_string(i),
                                 "Mark the KCSE papers."));
  }
  return std::make_shared<domain::catalog>(all, std::map<std::string, int>{}, now);
}

domain::application app(std::string ref, domain::application_status status, unix_ms closes) {
  domain::application a;
  a.ref = std::move(ref);
  a.phone = "254712345678";
  a.vacancy_code = "V1";
  a.status = status;
  a.created_at = now - 2 * day;
  a.exam = "KCSE";
  a.activity = "Supervision and Invigilation";
  a.role = "Invigilator";
  a.station = "Sainte Thérèse Girls Secondary School, Nyamache Ward, Bobasi";
  a.closes_at = closes;
  return a;
}

// The callers each input is replayed for: a newcomer, a member with an empty profile (the
// guided questions) and members with a complete profile, with and without applications.
const std::vector<session_facts>& callers() {
  static const std::vector<session_facts> all = [] {
    const auto catalog = make_catalog();
    session_facts newcomer;
    newcomer.phone_local = "0712345678";
    newcomer.vacancies = catalog;
    newcomer.now = now;

    session_facts empty_profile = newcomer;
    empty_profile.has_account = true;

    session_facts complete = empty_profile;
    complete.profile.full_name = "Jane Moraa Nyaboke";
    complete.profile.national_id = "12345678";
    complete.profile.kra_pin = "A123456789Z";
    complete.profile.county = "Kisii";
    complete.profile.workstation = "ACK St. Mary's Secondary School, Nyaribari Chache";
    complete.profile.tsc_number = "123456";

    session_facts with_apps = complete;
    with_apps.applications = {
        app("CP2-ABC234", domain::application_status::submitted, now + 10 * day),
        app("CP2-DEF567", domain::application_status::withdrawn, now + 10 * day),
        app("CP2-GHJ892", domain::application_status::approved, now - day),
    };
    return std::vector<session_facts>{newcomer, empty_profile, complete, with_apps};
  }();
  return all;
}

const engine& menus() {
  static const engine e{[] {
    engine_options o;
    o.counties = county_names;
    return o;
  }()};
  return e;
}

// The same menus without the screen cache: every screen built at every step.
const engine& uncached_menus() {
  static const engine e{[] {
    engine_options o;
    o.counties = county_names;
    o.menu_cache_bytes = 0;
    return o;
  }()};
  return e;
}

void check_screen(const reply& r) {
  CP2_FUZZ_CHECK(!r.text.empty());
  CP2_FUZZ_CHECK(r.text.size() <= max_screen_chars);
  CP2_FUZZ_CHECK(domain::is_gsm7(r.text));
  CP2_FUZZ_CHECK(!r.where.empty());
}

void check_action(const session_facts& facts, const reply& r) {
  switch (r.to_perform) {
    case action::none:
      return;
    case action::create_account:
      CP2_FUZZ_CHECK(!facts.has_account);
      break;
    case action::reset_password:
      CP2_FUZZ_CHECK(facts.has_account);
      break;
    case action::save_profile_field:
      CP2_FUZZ_CHECK(facts.has_account);
      if (r.field == domain::profile_field::county) {
        CP2_FUZZ_CHECK(std::find(county_names.begin(), county_names.end(), r.value) !=
                       county_names.end());
      } else {
        const auto canonical = domain::normalise_field(r.field, r.value);
        CP2_FUZZ_CHECK(canonical && canonical.value() == r.value);
      }
      return;  // a screen follows, not an outcome
    case action::apply:
      // The profile may have been completed earlier in the same session.
      CP2_FUZZ_CHECK(facts.has_account);
      CP2_FUZZ_CHECK(facts.vacancies->find(r.value) != nullptr);
      break;
    case action::withdraw: {
      const auto a = std::find_if(facts.applications.begin(), facts.applications.end(),
                                  [&](const domain::application& x) { return x.ref == r.value; });
      CP2_FUZZ_CHECK(a != facts.applications.end());
      CP2_FUZZ_CHECK(domain::is_active(a->status) && facts.now < a->closes_at);
      break;
    }
  }
  // Every way the action can go has an END screen that fits (`failed` is the last kind).
  for (int kind = 0; kind <= static_cast<int>(action_result::kind::failed); ++kind) {
    action_result result;
    result.result = static_cast<action_result::kind>(kind);
    result.app = app("CP2-XYZ789", domain::application_status::submitted, now + day);
    const reply end = menus().outcome_screen(r, result);
    CP2_FUZZ_CHECK(end.end);
    check_screen(end);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const session_facts& facts : callers()) {
    const reply r = menus().step(facts, text);
    const reply built = uncached_menus().step(facts, text);
    CP2_FUZZ_CHECK(r.end == built.end && r.text == built.text && r.where == built.where);
    CP2_FUZZ_CHECK(r.to_perform == built.to_perform && r.value == built.value && r.field == built.field);
    if (r.end && r.to_perform != action::none) {
      // The gateway performs the action first, then shows outcome_screen().
      CP2_FUZZ_CHECK(r.text.empty());
    } else {
      check_screen(r);
    }
    check_action(facts, r);
  }
  return 0;
}
