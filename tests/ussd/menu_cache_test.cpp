// The engine's cache of vacancy screens (ussd/engine.hpp): a cached screen must be exactly the
// screen the engine would build, for the catalog the session began with.

#include "tests/support/menu_vacancies.hpp"
#include "ussd/engine.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <random>
#include <thread>

using namespace cp2;
using namespace cp2::ussd;
using domain::unix_ms;

namespace {

constexpr unix_ms now = testing::menus_now;

domain::vacancy vac(std::string code, std::string exam, std::string activity, std::string role,
                    std::string subcounty, std::string station) {
  return testing::centre_vacancy(std::move(code), std::move(exam), std::move(activity),
                                 std::move(role), "Kisii", std::move(subcounty), std::move(station),
                                 "");
}

std::shared_ptr<const domain::catalog> catalog_of(std::vector<domain::vacancy> all,
                                                  unix_ms built_at = now) {
  return std::make_shared<domain::catalog>(std::move(all), std::map<std::string, int>{}, built_at);
}

// Enough vacancies for lists of several pages and names long enough to be cut on screen.
std::shared_ptr<const domain::catalog> wide_catalog() {
  std::vector<domain::vacancy> all;
  int n = 0;
  for (const char* exam : {"KCSE", "KCPE", "Kenya Certificate of Secondary Education Rural Centres"})
    for (const char* activity : {"Marking", "Supervision and Invigilation"})
      for (const char* role : {"Examiner", "Invigilator", "Clerk"})
        for (const char* sub : {"Bobasi", "Kitutu Chache South", "Nyaribari Masaba"})
          for (int station = 0; station < (sub[0] == 'B' ? 14 : 2); ++station, ++n)
            all.push_back(vac(fmt::format("W{}", n), exam, activity, role, sub,
                              fmt::format("St. Station Number {} Mixed Day and Boarding Secondary",
                                          station)));
  return catalog_of(std::move(all));
}

session_facts member(std::shared_ptr<const domain::catalog> vacancies) {
  session_facts f;
  f.has_account = true;
  f.phone_local = "0712345678";
  f.profile.full_name = "Jane Moraa";
  f.profile.national_id = "12345678";
  f.profile.kra_pin = "A123456789Z";
  f.profile.county = "Kisii";
  f.profile.workstation = "Kisii School";
  f.vacancies = std::move(vacancies);
  f.now = now;
  return f;
}

engine engine_with(std::size_t cache_bytes) {
  engine_options o;
  o.menu_cache_bytes = cache_bytes;
  return engine{o};
}

void check_same(const reply& got, const reply& want) {
  CHECK(got.end == want.end);
  CHECK(got.text == want.text);
  CHECK(got.to_perform == want.to_perform);
  CHECK(got.where == want.where);
  CHECK(got.value == want.value);
}

// The first line of the screen after the title: the first choice, e.g. "1. KCPE".
std::string first_choice(const reply& r) {
  const auto start = r.text.find("\n1. ");
  if (start == std::string::npos) return {};
  const auto end = r.text.find('\n', start + 1);
  return r.text.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
}

}  // namespace

TEST_CASE("the cached screens are the screens built, on every path and input") {
  const auto facts = member(wide_catalog());
  const engine built = engine_with(0);
  // A full cache, and one so small that it keeps almost nothing.
  const engine cached = engine_with(engine_options{}.menu_cache_bytes), tiny = engine_with(2'000);
  const std::vector<std::string> tokens = {"1", "2", "3", "4", "5", "98", "0", "00", "9", "x", ""};
  std::mt19937 rng(7);
  for (int session = 0; session < 400; ++session) {
    std::string text;
    for (int step = 0; step < 14; ++step) {
      CAPTURE(text);
      const reply want = built.step(facts, text);
      check_same(cached.step(facts, text), want);
      check_same(tiny.step(facts, text), want);
      if (want.end) break;
      // Mostly the first choices, so that sessions reach the lists and the vacancies.
      const auto& t = tokens[std::uniform_int_distribution<std::size_t>(0, tokens.size() - 1)(rng)];
      const std::string input = step < 8 && std::bernoulli_distribution(0.6)(rng) ? "1" : t;
      text += text.empty() ? input : "*" + input;
    }
  }
}

TEST_CASE("a newer catalog's sessions see its screens; older sessions keep their own") {
  const engine e = engine_with(engine_options{}.menu_cache_bytes);
  const auto older =
      member(catalog_of({vac("A1", "KCSE", "Marking", "Examiner", "Bobasi", "Kisii School")}, now));
  const auto newer =
      member(catalog_of({vac("B1", "KCPE", "Marking", "Examiner", "Bobasi", "Kisii School")}, now + 1));
  CHECK(first_choice(e.step(older, "1")) == "1. KCSE");
  CHECK(first_choice(e.step(newer, "1")) == "1. KCPE");
  // The older catalog is no longer the one cached, and is not served the newer one's screens.
  CHECK(first_choice(e.step(older, "1")) == "1. KCSE");
  CHECK(first_choice(e.step(newer, "1")) == "1. KCPE");
  // Down to the vacancy: each session its own catalog's.
  CHECK(e.step(older, "1*1*1*1*1*1*1*1").text.find("KCSE Marking") != std::string::npos);
  CHECK(e.step(newer, "1*1*1*1*1*1*1*1").text.find("KCPE Marking") != std::string::npos);
}

TEST_CASE("paths that read alike when joined are different screens") {
  // Exam "A" then activity "B:C", against exam "A:B" then activity "C": joined by ':' both
  // would read "A:B:C".
  const engine e = engine_with(engine_options{}.menu_cache_bytes);
  const auto facts = member(catalog_of({vac("P1", "A", "B:C", "Examiner", "Bobasi", "First School"),
                                        vac("P2", "A:B", "C", "Clerk", "Bobasi", "Second School")}));
  // Exams sorted: "A", "A:B". The role level after each path.
  CHECK(first_choice(e.step(facts, "1*1*1*1")) == "1. Examiner");
  CHECK(first_choice(e.step(facts, "1*2*1*1")) == "1. Clerk");
  CHECK(e.step(facts, "1*1*1*1*1*1*1*1").text.find("First School") != std::string::npos);
  CHECK(e.step(facts, "1*2*1*1*1*1*1*1").text.find("Second School") != std::string::npos);
}

TEST_CASE("threads sharing the cache while the catalog changes see their own catalog's screens") {
  const engine e = engine_with(engine_options{}.menu_cache_bytes);
  const engine built = engine_with(0);
  // The threads alternate between two catalogs, as sessions begun before and after a rebuild
  // do. Both are built at the same moment, so each keeps taking the cache from the other.
  const std::array<session_facts, 2> facts = {member(wide_catalog()), member(catalog_of(
      {vac("B1", "KCPE", "Marking", "Examiner", "Bobasi", "Kisii School")}, now))};
  const std::vector<std::string> texts = {"1", "1*1", "1*1*1*1", "1*1*1*1*1*1", "1*1*1*1*1*1*1",
                                          "1*1*1*1*1*1*1*98", "1*1*1*1*1*1*1*1", "1*2*2*1*2*1*1*1"};
  std::vector<std::array<reply, 2>> want;
  for (const auto& t : texts) want.push_back({built.step(facts[0], t), built.step(facts[1], t)});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3'000; ++i) {
        const auto which = static_cast<std::size_t>((i + t) % 2);
        const auto k = static_cast<std::size_t>(i) % texts.size();
        const reply r = e.step(facts[which], texts[k]);
        if (r.text != want[k][which].text || r.where != want[k][which].where) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
}
