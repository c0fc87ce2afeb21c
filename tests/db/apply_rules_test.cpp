// SPEC §4.5's rules for applying (with §7's slots), on the real SQLite stores: every outcome,
// and which one wins when several apply. The writer reads what it needs for them in as few
// statements as it can (docs/performance.md); these cases hold whatever those statements are.

#include "db/database.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_application_store.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "domain/applications.hpp"
#include "domain/clock.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

using namespace cp2;
using namespace std::chrono_literals;
using kind = domain::apply_outcome::kind;

namespace {

constexpr domain::unix_ms t0 = 1'767'225'600'000;  // 2026-01-01T00:00Z
constexpr domain::unix_ms hour = 3'600'000;

// Draws from a list the test sets, then from a fixed sequence: references are chosen by the
// test where it matters.
struct scripted_random final : domain::random_source {
  std::vector<std::uint32_t> draws;
  std::size_t next = 0;
  std::uint32_t state = 1;
  std::uint32_t uniform(std::uint32_t upper) override {
    if (next < draws.size()) return draws[next++] % upper;
    state = state * 1103515245u + 12345u;
    return state % upper;
  }
};

struct rules_fixture {
  std::unique_ptr<SQLite::Database> db = db::open_database(":memory:", 1s);
  db::sqlite_vacancy_store vacancies{*db};
  db::sqlite_account_store accounts{*db};
  db::sqlite_application_store store{*db};
  domain::manual_clock clock{t0};
  scripted_random random;
  domain::application_service service{store, clock, random, "22262"};

  const domain::profile complete{"Jane Moraa", "12345678", "A123456789Z", "Kisii", "Kisii School", ""};

  rules_fixture() {
    // Open from t0 for a day; two of them share an exam and activity.
    vacancies.upsert({vacancy("M1", "KCSE", "Marking", 2), vacancy("M2", "KCSE", "Marking", 2),
                      vacancy("S1", "KCSE", "Supervision", 1), vacancy("P1", "KCPE", "Marking", 1)},
                     t0);
  }
  static domain::vacancy vacancy(const char* code, const char* exam, const char* activity, int slots) {
    return {code, exam, activity, "Marking centre", "Examiner", "Kisii", "Bobasi", "Kisii School",
            slots, "", t0, t0 + 24 * hour};
  }
  domain::msisdn applicant(const char* local, bool with_profile = true) {
    const auto phone = *domain::parse_msisdn(local);
    accounts.insert_account({phone.digits(), phone.digits(), "hash", 0, 0}, t0);
    if (with_profile) store.save_profile(phone.digits(), complete, t0);
    return phone;
  }
  std::int64_t count(const std::string& sql) { return db->execAndGet(sql).getInt64(); }
  // Application rows and outbox rows, of everyone.
  std::pair<std::int64_t, std::int64_t> stored() {
    return {count("SELECT count(*) FROM applications"), count("SELECT count(*) FROM outbox")};
  }
  void set_status(const std::string& ref, const char* status) {
    SQLite::Statement q(*db, "UPDATE applications SET status = ? WHERE ref = ?");
    q.bind(1, status);
    q.bind(2, ref);
    REQUIRE(q.exec() == 1);
  }
};

}  // namespace

TEST_CASE("apply: a new application is stored with its confirmation SMS, in one transaction") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  f.clock.set(t0 + hour);
  const auto out = f.service.apply(a, "M1");
  REQUIRE(out.result == kind::submitted);
  CHECK(out.app.ref.rfind("CP2-", 0) == 0);
  CHECK(out.app.ref.size() == 10);
  CHECK(out.app.phone == "254712000001");
  CHECK(out.app.vacancy_code == "M1");
  CHECK(out.app.status == domain::application_status::submitted);
  CHECK(out.app.created_at == t0 + hour);
  CHECK(out.app.exam == "KCSE");
  CHECK(out.app.activity == "Marking");
  CHECK(out.app.role == "Examiner");
  CHECK(out.app.station == "Kisii School");
  CHECK(out.app.closes_at == t0 + 24 * hour);
  // As stored, field for field.
  const auto stored = f.store.find_by_ref(out.app.ref);
  REQUIRE(stored);
  CHECK(stored->phone == out.app.phone);
  CHECK(stored->vacancy_code == "M1");
  CHECK(stored->created_at == t0 + hour);
  SQLite::Statement sms(*f.db, "SELECT count(*) FROM outbox WHERE phone = ? AND kind = 'reply' AND instr(body, ?) > 0");
  sms.bind(1, out.app.phone);
  sms.bind(2, out.app.ref);
  REQUIRE(sms.executeStep());
  CHECK(sms.getColumn(0).getInt() == 1);
}

TEST_CASE("apply: no account, then an incomplete profile, then an unknown code") {
  rules_fixture f;
  // No account at all: said before anything about the vacancy, even an unknown one.
  const auto nobody = *domain::parse_msisdn("0712000009");
  CHECK(f.service.apply(nobody, "M1").result == kind::no_account);
  CHECK(f.service.apply(nobody, "NOPE").result == kind::no_account);
  // An account without a profile, then with one that lacks a field.
  const auto a = f.applicant("0712000001", false);
  CHECK(f.service.apply(a, "M1").result == kind::incomplete_profile);
  auto partial = f.complete;
  partial.kra_pin.clear();
  f.store.save_profile(a.digits(), partial, t0);
  CHECK(f.service.apply(a, "NOPE").result == kind::incomplete_profile);
  // The TSC number is optional.
  f.store.save_profile(a.digits(), f.complete, t0);
  CHECK(f.service.apply(a, "NOPE").result == kind::no_vacancy);
  CHECK(f.stored() == std::pair<std::int64_t, std::int64_t>{0, 0});
}

TEST_CASE("apply: applying again gives the same reference, even once the vacancy has closed or filled") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  const auto first = f.service.apply(a, "S1");
  REQUIRE(first.result == kind::submitted);
  auto again = f.service.apply(a, "S1");
  CHECK(again.result == kind::already_applied);
  CHECK(again.app.ref == first.app.ref);
  // The only slot approved (to this very application): still the same answer, not "filled".
  f.set_status(first.app.ref, "approved");
  again = f.service.apply(a, "S1");
  CHECK(again.result == kind::already_applied);
  CHECK(again.app.status == domain::application_status::approved);
  // Closed: still the same answer, not "closed".
  f.clock.set(t0 + 24 * hour);
  CHECK(f.service.apply(a, "S1").result == kind::already_applied);
  CHECK(f.stored() == std::pair<std::int64_t, std::int64_t>{1, 1});
}

TEST_CASE("apply: closed before opening and from the closing moment on") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  f.clock.set(t0 - 1);
  CHECK(f.service.apply(a, "M1").result == kind::closed);
  f.clock.set(t0 + 24 * hour);
  CHECK(f.service.apply(a, "M1").result == kind::closed);
  f.clock.set(t0 + 24 * hour - 1);
  CHECK(f.service.apply(a, "M1").result == kind::submitted);
}

TEST_CASE("apply: closed is said before filled, filled before a conflict") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  const auto b = f.applicant("0712000002");
  // b holds the one slot of S1 (KCSE Supervision), approved.
  const auto held = f.service.apply(b, "S1");
  REQUIRE(held.result == kind::submitted);
  f.set_status(held.app.ref, "approved");
  CHECK(f.service.apply(a, "S1").result == kind::filled);
  // a holds KCSE Marking through M1; M2 is the same exam and activity.
  const auto mine = f.service.apply(a, "M1");
  REQUIRE(mine.result == kind::submitted);
  auto conflict = f.service.apply(a, "M2");
  CHECK(conflict.result == kind::conflict);
  CHECK(conflict.app.ref == mine.app.ref);
  CHECK(conflict.app.vacancy_code == "M1");
  // M2 filled as well: filled comes first.
  const auto c = f.applicant("0712000003");
  const auto d = f.applicant("0712000004");
  for (const auto& who : {c, d}) {
    const auto got = f.service.apply(who, "M2");
    REQUIRE(got.result == kind::submitted);
    f.set_status(got.app.ref, "approved");
  }
  CHECK(f.service.apply(a, "M2").result == kind::filled);
  // And closed before both.
  f.clock.set(t0 + 24 * hour);
  CHECK(f.service.apply(a, "M2").result == kind::closed);
  // Only approvals fill a vacancy: submitted ones do not.
  f.clock.set(t0 + hour);
  const auto e = f.applicant("0712000005");
  CHECK(f.service.apply(e, "M1").result == kind::submitted);
}

TEST_CASE("apply: the same exam with another activity, or another exam, is no conflict") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  CHECK(f.service.apply(a, "M1").result == kind::submitted);
  CHECK(f.service.apply(a, "S1").result == kind::submitted);  // KCSE Supervision
  CHECK(f.service.apply(a, "P1").result == kind::submitted);  // KCPE Marking
  CHECK(f.count("SELECT count(*) FROM applications WHERE phone = '254712000001'") == 3);
  // Another applicant's application is no conflict either.
  const auto b = f.applicant("0712000002");
  CHECK(f.service.apply(b, "M2").result == kind::submitted);
}

TEST_CASE("apply: withdrawn and rejected applications block nothing") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  const auto first = f.service.apply(a, "M1");
  REQUIRE(first.result == kind::submitted);
  REQUIRE(f.service.withdraw(a, first.app.ref) == domain::withdraw_result::withdrawn);
  // The same vacancy again: a new application with a new reference.
  f.random.draws = {12345};
  const auto second = f.service.apply(a, "M1");
  REQUIRE(second.result == kind::submitted);
  CHECK(second.app.ref != first.app.ref);
  // Rejected: another vacancy of the same exam and activity may be applied for.
  f.set_status(second.app.ref, "rejected");
  CHECK(f.service.apply(a, "M2").result == kind::submitted);
  CHECK(f.count("SELECT count(*) FROM applications WHERE phone = '254712000001'") == 3);
}

TEST_CASE("apply: a reference already taken is drawn again") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  const auto b = f.applicant("0712000002");
  f.random.draws = {777};
  const auto first = f.service.apply(a, "M1");
  REQUIRE(first.result == kind::submitted);
  // b's first two draws give a's reference; the third is free.
  f.random.draws = {777, 777, 778};
  f.random.next = 0;
  const auto second = f.service.apply(b, "M1");
  REQUIRE(second.result == kind::submitted);
  CHECK(second.app.ref != first.app.ref);
  CHECK(f.random.next == 3);
  CHECK(f.stored() == std::pair<std::int64_t, std::int64_t>{2, 2});
}

TEST_CASE("apply: inside a batch's transaction, a refused application leaves the batch's others") {
  rules_fixture f;
  const auto a = f.applicant("0712000001");
  const auto b = f.applicant("0712000002");
  f.random.draws = {1, 2};
  f.store.in_transaction([&] {
    CHECK(f.service.apply(a, "M1").result == kind::submitted);
    CHECK(f.service.apply(a, "M2").result == kind::conflict);
    CHECK(f.service.apply(b, "M2").result == kind::submitted);
  });
  CHECK(f.stored() == std::pair<std::int64_t, std::int64_t>{2, 2});
}
