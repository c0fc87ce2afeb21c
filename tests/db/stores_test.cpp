#include "db/database.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_outbox_store.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

using namespace cp2;
using namespace std::chrono_literals;
using domain::message_kind;

namespace {

struct db_fixture {
  std::unique_ptr<SQLite::Database> db = db::open_database(":memory:", 1s);
  db::sqlite_account_store accounts{*db};
  db::sqlite_outbox_store outbox{*db};

  void queue(const std::string& phone, const std::string& body, bool sensitive = false,
             domain::unix_ms now = 1000) {
    accounts.enqueue_sms({phone, body, sensitive, message_kind::reply, ""}, now);
  }
  std::string state_of(std::int64_t id) {
    SQLite::Statement q(*db, "SELECT state FROM outbox WHERE id = ?");
    q.bind(1, static_cast<std::int64_t>(id));
    REQUIRE(q.executeStep());
    return q.getColumn(0).getString();
  }
  std::string body_of(std::int64_t id) {
    SQLite::Statement q(*db, "SELECT body FROM outbox WHERE id = ?");
    q.bind(1, static_cast<std::int64_t>(id));
    REQUIRE(q.executeStep());
    return q.getColumn(0).getString();
  }
};

}  // namespace

TEST_CASE("accounts: insert, find, update password and login state") {
  db_fixture f;
  domain::account_record a{"254712345678", "254712345678", "hash1", 0, 0};
  f.accounts.insert_account(a, 1000);
  auto found = f.accounts.find_account("254712345678");
  REQUIRE(found);
  CHECK(found->password_hash == "hash1");
  f.accounts.update_login_state("254712345678", 3, 5000);
  CHECK(f.accounts.find_account("254712345678")->failed_logins == 3);
  f.accounts.update_password("254712345678", "hash2", 2000);
  found = f.accounts.find_account("254712345678");
  CHECK(found->password_hash == "hash2");
  CHECK(found->failed_logins == 0);
  CHECK(found->locked_until == 0);
  CHECK_FALSE(f.accounts.find_account("254700000000"));
  CHECK_THROWS(f.accounts.insert_account(a, 1000));  // the primary key holds
}

TEST_CASE("a failed transaction leaves neither the account nor its SMS behind") {
  db_fixture f;
  CHECK_THROWS(f.accounts.in_transaction([&] {
    f.accounts.insert_account({"254712345678", "254712345678", "h", 0, 0}, 1);
    f.queue("254712345678", "creds");
    throw std::runtime_error("crash between the writes");
  }));
  CHECK_FALSE(f.accounts.find_account("254712345678"));
  CHECK(f.db->execAndGet("SELECT count(*) FROM outbox").getInt() == 0);
}

TEST_CASE("events are counted within the window") {
  db_fixture f;
  f.accounts.add_event("254712345678", "password_reset", 100);
  f.accounts.add_event("254712345678", "password_reset", 200);
  f.accounts.add_event("254712345678", "other", 200);
  f.accounts.add_event("254799999999", "password_reset", 200);
  CHECK(f.accounts.count_events("254712345678", "password_reset", 0) == 2);
  CHECK(f.accounts.count_events("254712345678", "password_reset", 150) == 1);
  CHECK(f.accounts.count_events("254712345678", "password_reset", 201) == 0);
}

TEST_CASE("outbox: due rows are claimed oldest first, one at a time per recipient") {
  db_fixture f;
  f.queue("254711111111", "a1");
  f.queue("254722222222", "b1");
  f.queue("254711111111", "a2");
  auto first = f.outbox.claim_due(1000, 10);
  REQUIRE(first.size() == 2);
  CHECK(first[0].body == "a1");
  CHECK(first[1].body == "b1");
  CHECK(first[0].attempts == 1);
  // a2 waits while a1 is being sent, and while a1 waits for a retry.
  CHECK(f.outbox.claim_due(1000, 10).empty());
  f.outbox.mark_retry(first[0].id, 5000, "timeout", 1000);
  CHECK(f.outbox.claim_due(4000, 10).empty());
  auto again = f.outbox.claim_due(5000, 10);
  REQUIRE(again.size() == 1);
  CHECK(again[0].body == "a1");
  CHECK(again[0].attempts == 2);
  f.outbox.mark_accepted(again[0].id, "ATXid_1", "KES 0.8000", 5000);
  auto next = f.outbox.claim_due(5000, 10);
  REQUIRE(next.size() == 1);
  CHECK(next[0].body == "a2");
  // An accepted row is never claimed again.
  f.outbox.mark_accepted(next[0].id, "ATXid_2", "", 5000);
  f.outbox.mark_accepted(first[1].id, "ATXid_3", "", 5000);
  CHECK(f.outbox.claim_due(1'000'000, 10).empty());
  CHECK(f.state_of(again[0].id) == "accepted");
}

TEST_CASE("outbox: rows left sending by a crash are recovered and sent again") {
  db_fixture f;
  f.queue("254711111111", "a1");
  auto claimed = f.outbox.claim_due(1000, 10);
  REQUIRE(claimed.size() == 1);
  // Not yet stale while running:
  CHECK(f.outbox.recover_sending(2000, 500) == 0);
  // The process dies here. At the next start every 'sending' row is stale:
  CHECK(f.outbox.recover_sending(2000, 2000) == 1);
  auto again = f.outbox.claim_due(2000, 10);
  REQUIRE(again.size() == 1);
  CHECK(again[0].id == claimed[0].id);
  CHECK(again[0].attempts == 2);
}

TEST_CASE("outbox: passwords are redacted once accepted or failed for good") {
  db_fixture f;
  f.queue("254711111111", "KNEC CP2: your account is ready. Username: 254711111111 Password: Xy7kPq2mZr Keep them private.", true);
  f.queue("254722222222", "KNEC CP2: your password has been reset. Username: 254722222222 Password: Ab3dEf7hJk Keep them private.", true);
  f.queue("254733333333", "Not a secret", false);
  auto rows = f.outbox.claim_due(1000, 10);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].body.find("Xy7kPq2mZr") != std::string::npos);  // the sender needs it
  f.outbox.mark_retry(rows[0].id, 1000, "timeout", 1000);
  CHECK(f.body_of(rows[0].id).find("Xy7kPq2mZr") != std::string::npos);  // still to send
  rows = f.outbox.claim_due(1000, 10);
  f.outbox.mark_accepted(rows[0].id, "m1", "", 1000);
  CHECK(f.body_of(rows[0].id) ==
        "KNEC CP2: your account is ready. Username: 254711111111 Password: ******** Keep them private.");
  auto second = f.db->execAndGet("SELECT id FROM outbox WHERE phone = '254722222222'").getInt64();
  f.outbox.mark_failed(second, "invalid_number", 1000);
  CHECK(f.body_of(second).find("Ab3dEf7hJk") == std::string::npos);
  CHECK(f.state_of(second) == "failed");
  auto third = f.db->execAndGet("SELECT id FROM outbox WHERE phone = '254733333333'").getInt64();
  f.outbox.mark_failed(third, "x", 1000);
  CHECK(f.body_of(third) == "Not a secret");
}

TEST_CASE("outbox: after an outage, retries are pulled forward") {
  db_fixture f;
  f.queue("254711111111", "a");
  f.queue("254722222222", "b");
  auto rows = f.outbox.claim_due(1000, 10);
  f.outbox.mark_retry(rows[0].id, 600'000, "timeout", 1000);
  f.outbox.mark_retry(rows[1].id, 900'000, "timeout", 1000);
  CHECK(f.outbox.retry_now(5000) == 2);
  CHECK(f.outbox.claim_due(5000, 10).size() == 2);
}

TEST_CASE("outbox: after the clock went back, what is due later than a moment is due now") {
  db_fixture f;
  f.queue("254711111111", "new, queued at 10,000", false, 10'000);
  f.queue("254722222222", "retry at 12,000", false, 1000);
  f.queue("254733333333", "retry at 3,000", false, 1000);
  f.queue("254744444444", "sending", false, 1000);
  auto rows = f.outbox.claim_due(1000, 10);
  REQUIRE(rows.size() == 3);  // the first one is not due at 1,000
  f.outbox.mark_retry(rows[0].id, 12'000, "timeout", 1000);
  f.outbox.mark_retry(rows[1].id, 3000, "timeout", 1000);
  // The clock reads 2,000: rows due after 5,000 are due now, the rest keep their time.
  CHECK(f.outbox.make_due(2000, 5000) == 2);
  CHECK(f.outbox.next_due() == 2000);
  auto due = f.outbox.claim_due(2000, 10);
  CHECK(due.size() == 2);  // the new one and the retry at 12,000; the row sending stays so
  CHECK(f.state_of(rows[2].id) == "sending");
  CHECK(f.outbox.claim_due(2999, 10).empty());
  CHECK(f.outbox.claim_due(3000, 10).size() == 1);
}

TEST_CASE("outbox: next_due gives the earliest queued attempt") {
  db_fixture f;
  CHECK_FALSE(f.outbox.next_due());
  f.queue("254711111111", "a", false, 7000);
  f.queue("254722222222", "b", false, 3000);
  CHECK(*f.outbox.next_due() == 3000);
}

TEST_CASE("an incoming SMS id is remembered once; opt-outs come and go") {
  db_fixture f;
  CHECK(f.accounts.remember_inbound("ATXid_1", "254712345678", "register", 1));
  CHECK_FALSE(f.accounts.remember_inbound("ATXid_1", "254712345678", "register", 2));
  CHECK(f.accounts.remember_inbound("ATXid_2", "254712345678", "help", 3));
  CHECK_FALSE(f.accounts.opted_out("254712345678"));
  f.accounts.set_opted_out("254712345678", true, 5);
  f.accounts.set_opted_out("254712345678", true, 6);  // twice is fine
  CHECK(f.accounts.opted_out("254712345678"));
  f.accounts.set_opted_out("254712345678", false, 7);
  CHECK_FALSE(f.accounts.opted_out("254712345678"));
}

TEST_CASE("delivery reports move a message forward only") {
  db_fixture f;
  f.queue("254711111111", "a");
  auto rows = f.outbox.claim_due(1000, 1);
  f.outbox.mark_accepted(rows[0].id, "ATXid_9", "KES 0.8", 1000);
  using domain::delivery;
  CHECK(f.outbox.apply_delivery_report("ATXid_9", delivery::sent, "Buffered", "", 2000) ==
        domain::report_result::applied);
  CHECK(f.state_of(rows[0].id) == "sent");
  f.outbox.apply_delivery_report("ATXid_9", delivery::delivered, "Success", "", 3000);
  CHECK(f.state_of(rows[0].id) == "delivered");
  f.outbox.apply_delivery_report("ATXid_9", delivery::sent, "Sent", "", 4000);  // late, older
  f.outbox.apply_delivery_report("ATXid_9", delivery::failed, "Failed", "DeliveryFailure", 4000);
  CHECK(f.state_of(rows[0].id) == "delivered");
}

TEST_CASE("a failed delivery keeps its reason") {
  db_fixture f;
  f.queue("254711111111", "a");
  auto rows = f.outbox.claim_due(1000, 1);
  f.outbox.mark_accepted(rows[0].id, "ATXid_5", "", 1000);
  f.outbox.apply_delivery_report("ATXid_5", domain::delivery::failed, "AbsentSubscriber",
                                 "UserIsInactive", 2000);
  CHECK(f.state_of(rows[0].id) == "failed");
  CHECK(f.db->execAndGet("SELECT failure_reason FROM outbox").getString() == "UserIsInactive");
}

TEST_CASE("a report that arrives before the send's answer is kept and applied later") {
  db_fixture f;
  f.queue("254711111111", "a");
  auto rows = f.outbox.claim_due(1000, 1);
  CHECK(f.outbox.apply_delivery_report("ATXid_early", domain::delivery::delivered, "Success", "", 1500) ==
        domain::report_result::kept);
  CHECK(f.state_of(rows[0].id) == "sending");
  f.outbox.mark_accepted(rows[0].id, "ATXid_early", "", 2000);
  CHECK(f.state_of(rows[0].id) == "delivered");
  CHECK(f.db->execAndGet("SELECT applied FROM delivery_reports").getInt() == 1);
  // A report for an id that never comes stays kept, unapplied.
  CHECK(f.outbox.apply_delivery_report("nobody", domain::delivery::failed, "Failed", "", 3000) ==
        domain::report_result::kept);
}

TEST_CASE("migration 3 loads Kenya's 47 counties and their sub-counties") {
  db_fixture f;
  CHECK(f.db->execAndGet("SELECT count(*) FROM counties").getInt() == 47);
  CHECK(f.db->execAndGet("SELECT count(*) FROM subcounties").getInt() == 290);
  CHECK(f.db->execAndGet("SELECT count(*) FROM subcounties WHERE county = 'Nairobi'").getInt() == 17);
}

TEST_CASE("the database refuses a second active application, whatever the code above it does") {
  db_fixture f;
  f.db->exec("INSERT INTO accounts (phone, username, password_hash, created_at, password_changed_at) "
             "VALUES ('254712345678', '254712345678', 'h', 0, 0)");
  f.db->exec("INSERT INTO vacancies VALUES ('V1','KCSE','Marking','Marking centre','Examiner','Kisii',"
             "'Bobasi','S',2,'',0,10,0,0), ('V2','KCSE','Marking','Marking centre','Examiner',"
             "'Kisii','Bobasi','T',2,'',0,10,0,0)");
  auto add = [&](const char* ref, const char* vacancy, const char* status) {
    f.db->exec(std::string("INSERT INTO applications VALUES ('") + ref + "', '254712345678', '" +
               vacancy + "', 'KCSE', 'Marking', '" + status + "', 0, 0)");
  };
  add("R1", "V1", "submitted");
  CHECK_THROWS(add("R2", "V1", "submitted"));  // same vacancy
  CHECK_THROWS(add("R3", "V2", "approved"));   // same exam and activity
  add("R4", "V1", "withdrawn");                // inactive ones do not count
  f.db->exec("UPDATE applications SET status = 'withdrawn' WHERE ref = 'R1'");
  add("R5", "V2", "submitted");                // after withdrawing, another may be made
  CHECK(f.db->execAndGet("SELECT count(*) FROM applications").getInt() == 3);
  // Vacancy codes compare without case.
  CHECK_THROWS(f.db->exec("INSERT INTO vacancies VALUES ('v1','KCSE','Marking','M','E','Kisii',"
                          "'Bobasi','S',2,'',0,10,0,0)"));
}

TEST_CASE("outbox: claiming walks the queued rows in order and stops, whatever the backlog") {
  db_fixture f;
  f.accounts.in_transaction([&] {
    for (int i = 0; i < 5000; ++i) f.queue("2547" + std::to_string(10000000 + i), "m");
  });
  SQLite::Statement plan(*f.db, R"sql(EXPLAIN QUERY PLAN
SELECT id FROM outbox o INDEXED BY outbox_queued
WHERE state = 'queued' AND next_attempt_at <= 1 AND NOT EXISTS (SELECT 1 FROM outbox p
  WHERE p.phone = o.phone AND p.id < o.id AND p.state IN ('queued', 'sending'))
ORDER BY id LIMIT 32)sql");
  std::string steps;
  while (plan.executeStep()) steps += plan.getColumn(3).getString() + "\n";
  CAPTURE(steps);
  CHECK(steps.find("USING INDEX outbox_queued") != std::string::npos);
  CHECK(steps.find("TEMP B-TREE") == std::string::npos);  // no sort of the whole backlog
  auto rows = f.outbox.claim_due(1000, 32);
  REQUIRE(rows.size() == 32);
  CHECK(rows.front().id < rows.back().id);
}

TEST_CASE("outbox: lookups by state read the index of unfinished messages, never the history") {
  db_fixture f;
  // The statements as sqlite_outbox_store runs them, each with the index's condition named.
  const char* statements[] = {
      "SELECT min(next_attempt_at) FROM outbox WHERE state IN ('queued', 'sending') AND state = 'queued'",
      "SELECT count(*), min(created_at) FROM outbox WHERE state IN ('queued', 'sending')",
      "UPDATE outbox SET state = 'queued', next_attempt_at = 1, updated_at = 1 "
      "WHERE state IN ('queued', 'sending') AND state = 'sending' AND updated_at < 1",
      "UPDATE outbox SET next_attempt_at = 1 WHERE state IN ('queued', 'sending') "
      "AND state = 'queued' AND attempts > 0 AND next_attempt_at > 1",
  };
  for (const char* sql : statements) {
    SQLite::Statement plan(*f.db, std::string("EXPLAIN QUERY PLAN ") + sql);
    std::string steps;
    while (plan.executeStep()) steps += plan.getColumn(3).getString() + "\n";
    CAPTURE(sql);
    CAPTURE(steps);
    CHECK(steps.find("outbox_pending") != std::string::npos);
  }
  // Finished messages leave the index; what is queued or sending stays in it.
  f.queue("254711111111", "a");
  f.queue("254722222222", "b");
  auto rows = f.outbox.claim_due(1000, 2);
  REQUIRE(rows.size() == 2);
  f.outbox.mark_accepted(rows[0].id, "ATXid_1", "", 2000);
  f.queue("254733333333", "c");
  CHECK(f.db->execAndGet("SELECT count(*) FROM outbox INDEXED BY outbox_pending "
                         "WHERE state IN ('queued', 'sending')").getInt() == 2);
  CHECK(f.outbox.backlog().first == 2);
  CHECK(f.outbox.next_due() == 1000);
}

TEST_CASE("outbox: an unclaimed row is queued again as if never claimed, in its place") {
  db_fixture f;
  f.queue("254711111111", "a1");
  f.queue("254711111111", "a2");
  auto claimed = f.outbox.claim_due(1000, 10);
  REQUIRE(claimed.size() == 1);
  CHECK(f.state_of(claimed[0].id) == "sending");
  f.outbox.unclaim({claimed[0].id}, 1500);
  CHECK(f.state_of(claimed[0].id) == "queued");
  auto again = f.outbox.claim_due(2000, 10);
  REQUIRE(again.size() == 1);
  CHECK(again[0].body == "a1");     // a2 still waits behind it
  CHECK(again[0].attempts == 1);    // the unclaimed claim did not count as an attempt
  // A row no longer 'sending' (its outcome recorded) is left alone.
  f.outbox.mark_accepted(again[0].id, "ATXid_9", "", 2000);
  f.outbox.unclaim({again[0].id}, 2500);
  CHECK(f.state_of(again[0].id) == "accepted");
}

TEST_CASE("outbox: a claim inside an open transaction joins it, and the sync level is restored") {
  db_fixture f;
  f.queue("254711111111", "a1");
  auto level = [&] { return f.db->execAndGet("PRAGMA synchronous").getInt(); };
  const int before = level();
  CHECK(f.outbox.claim_due(1000, 10).size() == 1);
  CHECK(level() == before);
  f.queue("254722222222", "b1");
  f.accounts.in_transaction([&] { CHECK(f.outbox.claim_due(1000, 10).size() == 1); });
  CHECK(level() == before);
}

TEST_CASE("acceptances stored together: each row's id and cost, redaction, early reports; all or none") {
  db_fixture f;
  f.queue("254711111111", "CP2 account created. Password: Ab3xK9mPq2 Dial *123#", true);
  f.queue("254722222222", "plain");
  f.queue("254733333333", "no id");
  auto rows = f.outbox.claim_due(1000, 3);
  REQUIRE(rows.size() == 3);
  f.outbox.apply_delivery_report("ATXid_b", domain::delivery::delivered, "Success", "", 1500);
  f.outbox.mark_accepted({{rows[0].id, "ATXid_a", "KES 0.8"}, {rows[1].id, "ATXid_b", "KES 0.9"},
                          {rows[2].id, "", ""}},
                         2000);
  CHECK(f.state_of(rows[0].id) == "accepted");
  CHECK(f.body_of(rows[0].id).find("Ab3xK9mPq2") == std::string::npos);
  CHECK(f.state_of(rows[1].id) == "delivered");  // its early report applied
  CHECK(f.body_of(rows[1].id) == "plain");
  CHECK(f.state_of(rows[2].id) == "accepted");
  CHECK(f.db->execAndGet("SELECT group_concat(cost, '|') FROM (SELECT cost FROM outbox ORDER BY id)")
            .getString() == "KES 0.8|KES 0.9|");

  // A message id the provider gave twice breaks the unique constraint: nothing of the batch
  // is stored, the rows stay 'sending' and are queued again later.
  f.queue("254744444444", "d");
  f.queue("254755555555", "e");
  auto more = f.outbox.claim_due(3000, 2);
  REQUIRE(more.size() == 2);
  CHECK_THROWS(f.outbox.mark_accepted({{more[0].id, "ATXid_new", ""}, {more[1].id, "ATXid_a", ""}}, 4000));
  CHECK(f.state_of(more[0].id) == "sending");
  CHECK(f.state_of(more[1].id) == "sending");
}
