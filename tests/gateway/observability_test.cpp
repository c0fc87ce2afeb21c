// Observability end to end (issue #6): /metrics scraped and parsed after real traffic, session
// events stored with the screen where they ended, and no secret in any log line.

#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

using namespace cp2::test;

namespace {

// Prometheus text to {"name{labels}": value}; fails the test on a line it cannot read.
std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?) ([^ ]+)$)");
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(line, m, sample), line);
    out[m[1]] = std::stod(m[3]);
  }
  return out;
}

const std::string token = "obs-token";

}  // namespace

TEST_CASE("GET /metrics counts requests, sessions, SMS and sends, and parses as Prometheus text") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_PROVIDER_KIND=africastalking", "CP2_PROVIDER_BASE_URL=" + fake.base_url(),
                                    "CP2_PROVIDER_USERNAME=u", "CP2_PROVIDER_API_KEY=k"}));
  post_form(gw.port(), "/callbacks/ussd", "sessionId=M1&serviceCode=x&phoneNumber=0712000031&text=");
  post_form(gw.port(), "/callbacks/ussd", "sessionId=M1&serviceCode=x&phoneNumber=0712000031&text=1");
  post_form(gw.port(), "/callbacks/ussd", "sessionId=M1&serviceCode=x&phoneNumber=0712000031&text=1%2A1");
  post_form(gw.port(), "/callbacks/sms", "from=0712000032&to=22262&text=help&id=h1");
  post_form(gw.port(), "/callbacks/ussd/events",
            "sessionId=M1&serviceCode=x&phoneNumber=%2B254712000031&networkCode=63902&date=2026-12-04&"
            "status=Success&input=1%2A1&lastAppResponse=END+x&durationInMillis=5400&hopsCount=3&cost=KES+0.5");
  REQUIRE(fake.wait_for(2, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  auto scrape = request("GET", gw.port(), "/metrics");
  CHECK(scrape.status == 200);
  CHECK(scrape.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  auto m = parse_metrics(scrape.body);
  CHECK(m[R"(cp2_http_requests_total{route="/callbacks/ussd",status="200"})"] == 3);
  CHECK(m[R"(cp2_http_request_duration_seconds_count{route="/callbacks/ussd"})"] == 3);
  CHECK(m["cp2_ussd_sessions_started_total"] == 1);
  CHECK(m[R"(cp2_ussd_sessions_ended_total{screen="created"})"] == 1);
  CHECK(m[R"(cp2_ussd_session_events_total{status="Success",screen="created"})"] == 1);
  CHECK(m[R"(cp2_sms_received_total{keyword="help"})"] == 1);
  CHECK(m[R"(cp2_sms_send_outcomes_total{outcome="accepted"})"] == 2);
  CHECK(m.count("cp2_outbox_depth") == 1);
  CHECK(m.count("cp2_outbox_oldest_age_seconds") == 1);
  CHECK(m.count("cp2_ussd_screen_cache_bytes") == 1);
  // The database is a file in WAL mode: the writer committed, the syncer synced, nothing failed.
  CHECK(m["cp2_database_commits_total"] >= 1);
  CHECK(m["cp2_database_changes_total"] >= m["cp2_database_commits_total"]);
  CHECK(m["cp2_database_wal_syncs_total"] >= 1);
  CHECK(m["cp2_database_wal_sync_failed"] == 0);
  CHECK(m.count("cp2_database_checkpoints_total") == 1);
  CHECK(m["cp2_database_checkpoints_in_writer_total"] == 0);
  CHECK(scrape.body.find("k\"") == std::string::npos);  // no API key anywhere

  SQLite::Database db((dir.path / "cp2.db").string(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT last_screen FROM ussd_events").getString() == "created");
  CHECK(db.execAndGet("SELECT duration_ms FROM ussd_events").getInt() == 5400);
  CHECK(db.execAndGet("SELECT phone FROM ussd_events").getString() == "254712000031");
}

TEST_CASE("no password, token or API key reaches a log line") {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  capture->set_level(spdlog::level::trace);
  spdlog::set_default_logger(capture);
  std::vector<std::string> secrets = {"obs-token", "provider-key-123", "cb-secret-9"};
  {
    fake_aggregator fake;
    scratch_dir dir;
    auto cfg = test_config(dir, {"CP2_PROVIDER_KIND=africastalking", "CP2_PROVIDER_BASE_URL=" + fake.base_url(),
                                 "CP2_PROVIDER_USERNAME=u", "CP2_PROVIDER_API_KEY=provider-key-123",
                                 "CP2_ADMIN_TOKEN=obs-token", "CP2_CALLBACKS_SECRET=cb-secret-9",
                                 "CP2_LOG_LEVEL=trace"});
    test_gateway gw(cfg);
    const std::string bearer = "Authorization: Bearer obs-token";
    request("POST", gw.port(), "/api/v1/accounts", R"({"phone":"0712000041"})", {bearer, "Content-Type: application/json"});
    post_form(gw.port(), "/callbacks/sms?key=cb-secret-9", "from=0712000041&to=22262&text=PASSWORD&id=p1");
    post_form(gw.port(), "/callbacks/sms?key=wrong", "from=0712000041&to=22262&text=PASSWORD&id=p2");
    REQUIRE(fake.wait_for(2, std::chrono::seconds(10)));
    std::regex pw("Password: ([A-Za-z0-9]+)");
    for (const auto& r : fake.received()) {
      std::smatch m;
      if (std::regex_search(r.message, m, pw)) secrets.push_back(m[1]);
    }
    for (std::size_t i = 3; i < secrets.size(); ++i)
      request("POST", gw.port(), "/api/v1/auth/login",
              R"({"username":"254712000041","password":")" + secrets[i] + R"("})",
              {bearer, "Content-Type: application/json"});
    gw.stop();
  }
  spdlog::set_default_logger(previous);
  auto logs = captured.str();
  REQUIRE(secrets.size() == 5);  // three configured secrets and two passwords
  CHECK(logs.find("http id=") != std::string::npos);  // the capture did capture
  for (const auto& secret : secrets) {
    CAPTURE(secret);
    CHECK(logs.find(secret) == std::string::npos);
  }
}
