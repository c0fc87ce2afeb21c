// The outbox end to end (issue #4): the real gateway sends through a fake Africa's Talking on
// loopback that accepts, fails, hangs or drops. Nothing is lost, nothing accepted is sent again.

#include "sms/outbox_sender.hpp"
#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using namespace cp2::test;
using namespace std::chrono_literals;

namespace {

const std::string token = "outbox-test-token";

std::vector<std::string> provider_env(fake_aggregator& a, std::vector<std::string> extra = {}) {
  std::vector<std::string> env = {"CP2_PROVIDER_KIND=africastalking",
                                  "CP2_PROVIDER_BASE_URL=" + a.base_url(),
                                  "CP2_PROVIDER_USERNAME=sandbox", "CP2_PROVIDER_API_KEY=k",
                                  "CP2_PROVIDER_TIMEOUT=400ms", "CP2_SMS_RETRY_BASE=100ms",
                                  "CP2_ADMIN_TOKEN=" + token};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

http_reply sms_in(unsigned short port, const std::string& id, const std::string& from,
                  const std::string& text) {
  return post_form(port, "/callbacks/sms",
                   "from=" + form_escape(from) + "&to=22262&text=" + form_escape(text) + "&id=" + id);
}

// A value from the gateway's database, read through a connection of our own (WAL allows it).
std::string db_text(const scratch_dir& dir, const std::string& sql) {
  SQLite::Database db((dir.path / "cp2.db").string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(2000);
  auto v = db.execAndGet(sql);
  return v.isNull() ? "" : v.getString();
}

std::size_t accepted_count(const fake_aggregator& a) {
  std::size_t n = 0;
  for (const auto& r : a.received()) n += !r.message_id.empty();
  return n;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 8s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

}  // namespace

TEST_CASE("temporary provider errors are retried with backoff until accepted, once") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake)));
  fake.set_behaviour_for(2, fake_behaviour::http_500);
  auto started = std::chrono::steady_clock::now();
  REQUIRE(sms_in(gw.port(), "m1", "0712000001", "HELP").status == 200);
  REQUIRE(wait_until([&] { return accepted_count(fake) == 1; }));
  auto took = std::chrono::steady_clock::now() - started;
  // Two retries: about 100 ms and 200 ms later (+-20%), so at least 240 ms in all.
  CHECK(took >= 240ms);
  CHECK(fake.attempts() == 3);
  // The fake answers before the gateway has recorded the answer: wait for the database too.
  REQUIRE(wait_until([&] { return db_text(dir, "SELECT state FROM outbox") == "accepted"; }));
  CHECK(db_text(dir, "SELECT attempts FROM outbox") == "3");
  CHECK(db_text(dir, "SELECT provider_message_id FROM outbox") == fake.received().back().message_id);
  std::this_thread::sleep_for(300ms);
  CHECK(fake.attempts() == 3);  // never sent again once accepted
  CHECK(gw.app().outbox_stats().retried == 2);
}

TEST_CASE("a hang past the timeout and a dropped connection are retried") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake)));
  SUBCASE("hang") { fake.set_behaviour_for(1, fake_behaviour::hang); }
  SUBCASE("drop") { fake.set_behaviour_for(1, fake_behaviour::drop); }
  SUBCASE("garbage answer") { fake.set_behaviour_for(1, fake_behaviour::garbage); }
  sms_in(gw.port(), "m1", "0712000001", "HELP");
  REQUIRE(wait_until([&] { return db_text(dir, "SELECT state FROM outbox") == "accepted"; }));
  CHECK(std::stoi(db_text(dir, "SELECT attempts FROM outbox")) >= 2);
}

TEST_CASE("a permanent refusal fails the message at once, and its password is redacted") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake)));
  fake.set_behaviour(fake_behaviour::provider_code, 403);  // InvalidPhoneNumber
  sms_in(gw.port(), "m1", "0712000001", "REGISTER");
  REQUIRE(wait_until([&] { return db_text(dir, "SELECT state FROM outbox") == "failed"; }));
  std::this_thread::sleep_for(300ms);
  CHECK(fake.attempts() == 1);
  auto body = db_text(dir, "SELECT body FROM outbox");
  CHECK(body.find("Password: ********") != std::string::npos);
  CHECK(db_text(dir, "SELECT last_error FROM outbox").find("invalid_number") != std::string::npos);
}

TEST_CASE("an accepted credential SMS is redacted in the database") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake)));
  sms_in(gw.port(), "m1", "0712000001", "REGISTER");
  REQUIRE(wait_until([&] { return accepted_count(fake) == 1; }));
  REQUIRE(wait_until([&] { return db_text(dir, "SELECT state FROM outbox") == "accepted"; }));
  auto sent = fake.received()[0].message;
  auto password = sent.substr(sent.find("Password: ") + 10, 10);
  CHECK(db_text(dir, "SELECT body FROM outbox").find(password) == std::string::npos);
  CHECK(db_text(dir, "SELECT body FROM outbox").find("Password: ********") != std::string::npos);
}

TEST_CASE("bad credentials keep messages and raise one alarm, not one per message") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake)));
  fake.set_behaviour(fake_behaviour::bad_credentials);
  for (int i = 0; i < 3; ++i) sms_in(gw.port(), "m" + std::to_string(i), "071200000" + std::to_string(i), "HELP");
  REQUIRE(fake.wait_for_attempts(6, 8s));
  CHECK(gw.app().outbox_stats().alarms == 1);
  fake.set_behaviour(fake_behaviour::accept);
  REQUIRE(wait_until([&] { return accepted_count(fake) == 3; }));
  CHECK(wait_until([&] { return db_text(dir, "SELECT count(*) FROM outbox WHERE state = 'accepted'") == "3"; }));
}

TEST_CASE("messages to one phone keep their order through a failure") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake)));
  fake.set_behaviour_for(1, fake_behaviour::http_500);
  sms_in(gw.port(), "m1", "0712000001", "HELP");
  sms_in(gw.port(), "m2", "0712000001", "STOP");
  REQUIRE(wait_until([&] { return accepted_count(fake) == 2; }));
  std::vector<std::string> accepted;
  for (const auto& r : fake.received())
    if (!r.message_id.empty()) accepted.push_back(r.message);
  CHECK(accepted[0].find("REGISTER for an account") != std::string::npos);
  CHECK(accepted[1].find("no more notifications") != std::string::npos);
}

TEST_CASE("a message queued during an outage is delivered after a restart, once") {
  fake_aggregator fake;
  scratch_dir dir;
  fake.set_behaviour(fake_behaviour::http_500);
  {
    test_gateway gw(test_config(dir, provider_env(fake)));
    sms_in(gw.port(), "m1", "0712000001", "HELP");
    REQUIRE(fake.wait_for_attempts(2, 8s));
  }  // stopped mid-outage
  CHECK(db_text(dir, "SELECT state FROM outbox") == "queued");
  fake.set_behaviour(fake_behaviour::accept);
  {
    test_gateway gw(test_config(dir, provider_env(fake)));
    REQUIRE(wait_until([&] { return db_text(dir, "SELECT state FROM outbox") == "accepted"; }));
  }
  // And a third start sends nothing again.
  {
    test_gateway gw(test_config(dir, provider_env(fake)));
    std::this_thread::sleep_for(300ms);
  }
  CHECK(accepted_count(fake) == 1);
  CHECK(db_text(dir, "SELECT state FROM outbox") == "accepted");
}

TEST_CASE("a message still failing after sms.max_age is failed with an alarm") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake, {"CP2_SMS_MAX_AGE=700ms"})));
  fake.set_behaviour(fake_behaviour::http_500);
  sms_in(gw.port(), "m1", "0712000001", "HELP");
  REQUIRE(wait_until([&] { return db_text(dir, "SELECT state FROM outbox") == "failed"; }));
  CHECK(gw.app().outbox_stats().alarms >= 1);
  CHECK(fake.attempts() >= 2);
}

TEST_CASE("delivery reports: delivered, failed with a reason, unknown ids, and early reports") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, provider_env(fake)));
  auto dlr = [&](const std::string& id, const std::string& status, const std::string& reason = "") {
    return post_form(gw.port(), "/callbacks/dlr",
                     "id=" + id + "&status=" + status + "&phoneNumber=%2B254712000001" +
                         "&networkCode=63902&failureReason=" + reason + "&retryCount=0");
  };
  sms_in(gw.port(), "m1", "0712000001", "HELP");
  REQUIRE(wait_until([&] { return db_text(dir, "SELECT state FROM outbox") == "accepted"; }));
  auto id = db_text(dir, "SELECT provider_message_id FROM outbox");
  CHECK(dlr(id, "Buffered").status == 200);
  CHECK(db_text(dir, "SELECT state FROM outbox") == "sent");
  CHECK(dlr(id, "Success").status == 200);
  CHECK(db_text(dir, "SELECT state FROM outbox") == "delivered");

  CHECK(dlr("ATXid_nobody", "Failed", "UserDoesNotExist").status == 200);
  CHECK(dlr(id, "Teleported").body.find("ignored") != std::string::npos);
  CHECK(post_form(gw.port(), "/callbacks/dlr", "status=Success").status == 400);

  // A report that overtakes the provider's answer to the send.
  fake.set_delay(250ms);  // under the 400 ms provider timeout
  sms_in(gw.port(), "m2", "0712000002", "HELP");
  REQUIRE(fake.wait_for_attempts(2, 8s));
  auto next_id = "ATXid_" + std::to_string(2);
  CHECK(dlr(next_id, "Failed", "UserIsInactive").status == 200);
  REQUIRE(wait_until([&] {
    return db_text(dir, "SELECT state FROM outbox WHERE phone = '254712000002'") == "failed";
  }));
  CHECK(db_text(dir, "SELECT failure_reason FROM outbox WHERE phone = '254712000002'") == "UserIsInactive");
}
