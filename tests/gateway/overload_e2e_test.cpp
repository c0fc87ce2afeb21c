// Overload shedding (issue #8): past ussd.max_in_flight, or when a step's change would start
// after ussd.answer_within, the phone gets a polite END at once and nothing is half-done.
// Another connection holding the database's write lock plays the overloaded database.

#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

using namespace cp2::test;
using namespace std::chrono_literals;

namespace {

http_reply ussd(unsigned short port, const std::string& session, const std::string& text) {
  return post_form(port, "/callbacks/ussd",
                   "sessionId=" + session + "&serviceCode=x&phoneNumber=0712000071&text=" + form_escape(text));
}

bool has(const std::string& body, const std::string& part) { return body.find(part) != std::string::npos; }

std::string metrics(unsigned short port) { return request("GET", port, "/metrics").body; }

// Holds the write lock of the gateway's database from another connection until released.
struct write_lock {
  SQLite::Database db;
  explicit write_lock(const std::filesystem::path& path) : db(path.string(), SQLite::OPEN_READWRITE) {
    db.exec("BEGIN IMMEDIATE");
  }
  void release() { db.exec("ROLLBACK"); }
};

}  // namespace

TEST_CASE("overload: a change still waiting at ussd.answer_within is dropped whole, and the retry works") {
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_USSD_ANSWER_WITHIN=300ms", "CP2_DB_BUSY_TIMEOUT=10s"}));
  REQUIRE(has(ussd(gw.port(), "S1", "").body, "1. Create account"));
  REQUIRE(has(ussd(gw.port(), "S1", "1").body, "Create a CP2 account"));

  write_lock lock(dir.path / "cp2.db");
  auto confirm = std::async(std::launch::async, [&] { return ussd(gw.port(), "S1", "1*1"); });
  std::this_thread::sleep_for(1s);  // the gateway's commit waits for the lock past 300 ms
  lock.release();
  auto shed = confirm.get();
  CHECK(shed.status == 200);
  CHECK(shed.body == "END The service is busy right now. Please dial again in a minute.");
  CHECK(has(metrics(gw.port()), R"(cp2_ussd_shed_total{reason="deadline"} 1)"));
  // Nothing was created: a new session still offers to create the account.
  CHECK(has(ussd(gw.port(), "S2", "").body, "1. Create account"));

  // The phone's retry of the same step is worked on afresh, not answered from the cache.
  auto retried = ussd(gw.port(), "S1", "1*1");
  CHECK(retried.body.rfind("END ", 0) == 0);
  CHECK(has(retried.body, "will arrive by SMS"));
  CHECK_FALSE(has(ussd(gw.port(), "S3", "").body, "1. Create account"));
}

TEST_CASE("overload: past ussd.max_in_flight a request is answered busy at once") {
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_USSD_MAX_IN_FLIGHT=1", "CP2_USSD_ANSWER_WITHIN=30s",
                                    "CP2_DB_BUSY_TIMEOUT=10s"}));
  REQUIRE(has(ussd(gw.port(), "S1", "1").body, "Create a CP2 account"));

  write_lock lock(dir.path / "cp2.db");
  auto confirm = std::async(std::launch::async, [&] { return ussd(gw.port(), "S1", "1*1"); });
  // Time for the first request to take the one place and get stuck on the database (its
  // password hash included).
  std::this_thread::sleep_for(700ms);
  auto started = std::chrono::steady_clock::now();
  auto other = ussd(gw.port(), "T1", "");
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(other.body == "END The service is busy right now. Please dial again in a minute.");
  CHECK(took < 500ms);  // not held behind the stuck request (which waits for the lock)
  CHECK(has(metrics(gw.port()), R"(cp2_ussd_shed_total{reason="in_flight"} 1)"));

  lock.release();
  CHECK(has(confirm.get().body, "will arrive by SMS"));
  // The place is free again.
  CHECK(ussd(gw.port(), "T1", "").body.rfind("CON ", 0) == 0);
}

TEST_CASE("overload: a burst of account creations sheds what the password hashing cannot take") {
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_USSD_ANSWER_WITHIN=30s", "CP2_LIMITS_CREDENTIAL_SMS_PER_MINUTE=1000"}));
  constexpr int n = 40;  // more than the 16 hashes allowed to queue
  auto phone = [](int i) { return "07120002" + std::to_string(10 + i); };
  auto step = [&](int i, const std::string& text) {
    return post_form(gw.port(), "/callbacks/ussd",
                     "sessionId=B" + std::to_string(i) + "&serviceCode=x&phoneNumber=" + phone(i) +
                         "&text=" + form_escape(text));
  };
  for (int i = 0; i < n; ++i) REQUIRE(has(step(i, "1").body, "Create a CP2 account"));
  std::vector<std::future<http_reply>> confirms;
  for (int i = 0; i < n; ++i) confirms.push_back(std::async(std::launch::async, [&, i] { return step(i, "1*1"); }));
  int created = 0, busy = 0;
  std::vector<int> shed;
  for (int i = 0; i < n; ++i) {
    auto body = confirms[i].get().body;
    if (has(body, "will arrive by SMS")) ++created;
    else if (body == "END The service is busy right now. Please dial again in a minute.") shed.push_back(i), ++busy;
  }
  CHECK(created + busy == n);
  CHECK(created >= 16);
  CHECK(busy >= 1);
  // A shed creation left nothing behind: that phone can still create its account.
  REQUIRE_FALSE(shed.empty());
  auto again = post_form(gw.port(), "/callbacks/ussd",
                         "sessionId=C1&serviceCode=x&phoneNumber=" + phone(shed.front()) + "&text=");
  CHECK(has(again.body, "1. Create account"));
}
