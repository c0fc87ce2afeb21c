// Accounts end to end (issue #3): the real gateway on loopback sends credentials through a fake
// Africa's Talking on loopback; the test reads them from the SMS and logs in with them.

#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <thread>

using namespace cp2::test;

namespace {

const std::string token = "test-admin-token";
const std::string bearer = "Authorization: Bearer " + token;
const std::string json_type = "Content-Type: application/json";

// A gateway using the fake aggregator, with the API on.
struct e2e {
  scratch_dir dir;
  fake_aggregator aggregator;
  test_gateway gw;
  explicit e2e(std::vector<std::string> env = {})
      : gw(test_config(dir, with_defaults(aggregator, std::move(env)))) {}

  static std::vector<std::string> with_defaults(fake_aggregator& a, std::vector<std::string> env) {
    env.insert(env.begin(), {"CP2_PROVIDER_KIND=africastalking", "CP2_PROVIDER_BASE_URL=" + a.base_url(),
                             "CP2_PROVIDER_USERNAME=sandbox", "CP2_PROVIDER_API_KEY=test-api-key",
                             "CP2_ADMIN_TOKEN=" + token});
    return env;
  }

  http_reply ussd(const std::string& session, const std::string& phone, const std::string& text) {
    return post_form(gw.port(), "/callbacks/ussd",
                     "sessionId=" + session + "&serviceCode=%2A384%2A22262%23&phoneNumber=" +
                         form_escape(phone) + "&networkCode=63902&text=" + form_escape(text));
  }
  http_reply sms(const std::string& id, const std::string& from, const std::string& text,
                 const std::string& link = "") {
    return post_form(gw.port(), "/callbacks/sms",
                     "from=" + form_escape(from) + "&to=22262&text=" + form_escape(text) +
                         "&date=2026-12-04+10%3A00%3A00&id=" + id + "&linkId=" + link +
                         "&networkCode=63902");
  }
  http_reply login(const std::string& username, const std::string& password) {
    return request("POST", gw.port(), "/api/v1/auth/login",
                   R"({"username":")" + username + R"(","password":")" + password + R"("})",
                   {bearer, json_type});
  }
  // The n-th SMS the aggregator received (1-based), waiting for it.
  recorded_sms nth_sms(std::size_t n) {
    REQUIRE(aggregator.wait_for(n, std::chrono::seconds(10)));
    return aggregator.received()[n - 1];
  }
};

std::string field(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re(name + ": ([A-Za-z0-9]+)");
  REQUIRE(std::regex_search(body, m, re));
  return m[1];
}

}  // namespace

TEST_CASE("USSD create account: credentials by SMS, login with them, reset, old password fails") {
  e2e t;
  auto r = t.ussd("S1", "+254712345678", "");
  CHECK(r.status == 200);
  CHECK(r.body.rfind("CON ", 0) == 0);
  CHECK(r.body.find("1. Create account") != std::string::npos);
  CHECK(t.ussd("S1", "+254712345678", "1").body.find("Create a CP2 account for 0712345678") != std::string::npos);
  r = t.ussd("S1", "+254712345678", "1*1");
  CHECK(r.body.rfind("END ", 0) == 0);
  CHECK(r.body.find("will arrive by SMS") != std::string::npos);

  auto sms = t.nth_sms(1);
  CHECK(sms.to == "+254712345678");
  CHECK(sms.from == "22262");
  CHECK(sms.username == "sandbox");
  CHECK(sms.api_key == "test-api-key");
  auto username = field(sms.message, "Username");
  auto password = field(sms.message, "Password");
  CHECK(username == "254712345678");

  auto ok = t.login(username, password);
  CHECK(ok.status == 200);
  CHECK(ok.body.find(R"("username":"254712345678")") != std::string::npos);
  CHECK(t.login(username, password + "x").status == 401);

  // Reset over USSD in a new session: the menu now offers it instead of Create account.
  r = t.ussd("S2", "0712345678", "");
  CHECK(r.body.find("Reset password") != std::string::npos);
  CHECK(r.body.find("Create account") == std::string::npos);
  t.ussd("S2", "0712345678", "4");
  CHECK(t.ussd("S2", "0712345678", "4*1").body.find("new CP2 password will arrive") != std::string::npos);
  auto second = t.nth_sms(2);
  auto new_password = field(second.message, "Password");
  CHECK(new_password != password);
  CHECK(t.login(username, password).status == 401);
  CHECK(t.login(username, new_password).status == 200);
}

TEST_CASE("a repeated USSD request gets the same answer and creates nothing twice") {
  e2e t;
  t.ussd("S1", "+254712345678", "");
  t.ussd("S1", "+254712345678", "1");
  auto first = t.ussd("S1", "+254712345678", "1*1");
  auto again = t.ussd("S1", "+254712345678", "1*1");
  CHECK(first.body == again.body);
  CHECK(first.body.find("will arrive by SMS") != std::string::npos);
  t.nth_sms(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(t.aggregator.received().size() == 1);
}

TEST_CASE("SMS keywords: REGISTER, duplicate delivery, PASSWORD, limit told once, HELP, STOP") {
  e2e t({"CP2_LIMITS_PASSWORD_RESETS_PER_HOUR=2"});
  CHECK(t.sms("m1", "+254722000001", "register", "L1").status == 200);
  auto creds = t.nth_sms(1);
  CHECK(creds.link_id == "L1");
  CHECK(creds.to == "+254722000001");
  auto password = field(creds.message, "Password");
  CHECK(t.login("254722000001", password).status == 200);

  // The same id again: handled once.
  CHECK(t.sms("m1", "+254722000001", "register", "L1").body == "duplicate\n");
  // JOIN from the same number: told how to reset, not given a second account.
  t.sms("m2", "0722000001", " Join ", "L2");
  CHECK(t.nth_sms(2).message.find("SMS PASSWORD to 22262") != std::string::npos);

  t.sms("m3", "254722000001", "PASSWORD", "L3");
  auto reset = t.nth_sms(3);
  CHECK(reset.link_id == "L3");
  CHECK(t.login("254722000001", password).status == 401);
  CHECK(t.login("254722000001", field(reset.message, "Password")).status == 200);
  t.sms("m4", "254722000001", "password.", "L4");
  t.nth_sms(4);
  // Over the limit of 2 an hour: told once, then silence.
  t.sms("m5", "254722000001", "Password", "L5");
  CHECK(t.nth_sms(5).message.find("limit of new passwords (2 an hour, 10 a day)") != std::string::npos);
  t.sms("m6", "254722000001", "PASSWORD", "L6");
  t.sms("m7", "254722000001", "help me", "L7");
  auto help = t.nth_sms(6);
  CHECK(help.message.find("REGISTER") != std::string::npos);
  CHECK(help.link_id == "L7");

  t.sms("m8", "254733000002", "STOP", "L8");
  CHECK(t.nth_sms(7).message.find("no more notifications") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(t.aggregator.received().size() == 7);
}

TEST_CASE("SMS callback errors: missing fields are 400, a foreign number is acknowledged") {
  e2e t;
  CHECK(post_form(t.gw.port(), "/callbacks/sms", "from=%2B254712345678&text=HELP").status == 400);
  auto r = t.sms("x1", "+14155550100", "REGISTER");
  CHECK(r.status == 200);
  CHECK(r.body.find("ignored") != std::string::npos);
}

TEST_CASE("USSD callback errors: missing fields are 400; a bad phone or service code is an END") {
  e2e t({"CP2_USSD_SERVICE_CODES=*384*22262#"});
  CHECK(post_form(t.gw.port(), "/callbacks/ussd", "sessionId=S&phoneNumber=0712345678&text=").status == 400);
  auto r = post_form(t.gw.port(), "/callbacks/ussd",
                     "sessionId=S&serviceCode=%2A999%23&phoneNumber=0712345678&text=");
  CHECK(r.status == 200);
  CHECK(r.body.rfind("END ", 0) == 0);
  r = t.ussd("S", "+447700900000", "");
  CHECK(r.body.rfind("END ", 0) == 0);
  CHECK(r.body.find("Kenyan mobile numbers") != std::string::npos);
}

TEST_CASE("portal API: create, conflict, reset, bad input, token") {
  e2e t;
  auto body = R"({"phone":"0711000003"})";
  CHECK(request("POST", t.gw.port(), "/api/v1/accounts", body, {json_type}).status == 401);
  CHECK(request("POST", t.gw.port(), "/api/v1/accounts", body,
                {"Authorization: Bearer wrong", json_type}).status == 401);
  auto created = request("POST", t.gw.port(), "/api/v1/accounts", body, {bearer, json_type});
  CHECK(created.status == 201);
  CHECK(created.body.find(R"("username":"254711000003")") != std::string::npos);
  auto password = field(t.nth_sms(1).message, "Password");
  CHECK(request("POST", t.gw.port(), "/api/v1/accounts", body, {bearer, json_type}).status == 409);
  CHECK(t.login("0711000003", password).status == 200);

  auto bad = request("POST", t.gw.port(), "/api/v1/accounts", R"({"phone":"12345"})", {bearer, json_type});
  CHECK(bad.status == 422);
  CHECK(bad.body.find("phone") != std::string::npos);
  CHECK(request("POST", t.gw.port(), "/api/v1/accounts", "{not json", {bearer, json_type}).status == 400);
  CHECK(request("POST", t.gw.port(), "/api/v1/accounts", body, {bearer, "Content-Type: text/plain"}).status == 415);

  CHECK(request("POST", t.gw.port(), "/api/v1/accounts/254711000003/password-reset", "", {bearer}).status == 202);
  t.nth_sms(2);
  CHECK(request("POST", t.gw.port(), "/api/v1/accounts/254799000000/password-reset", "", {bearer}).status == 404);
  CHECK(request("POST", t.gw.port(), "/api/v1/accounts/abc/password-reset", "", {bearer}).status == 422);
}

TEST_CASE("login locks after five failures and answers 401 like a wrong password") {
  e2e t({"CP2_LIMITS_LOGIN_LOCK=2s"});
  request("POST", t.gw.port(), "/api/v1/accounts", R"({"phone":"0711000004"})", {bearer, json_type});
  auto password = field(t.nth_sms(1).message, "Password");
  for (int i = 0; i < 5; ++i) CHECK(t.login("254711000004", "wrong").status == 401);
  auto locked = t.login("254711000004", password);
  CHECK(locked.status == 401);
  CHECK(locked.body == t.login("254799999999", password).body);  // no hint the account exists
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CHECK(t.login("254711000004", password).status == 200);
}

TEST_CASE("the API is off without admin.token") {
  scratch_dir dir;
  test_gateway gw(test_config(dir));
  CHECK(request("POST", gw.port(), "/api/v1/accounts", R"({"phone":"0711000003"})",
                {"Authorization: Bearer ", json_type}).status == 404);
}
