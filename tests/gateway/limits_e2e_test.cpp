// Abuse limits end to end (issue #7): each answers the user clearly and is counted.

#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <thread>

using namespace cp2::test;

namespace {
const std::string token = "limits-token";
const std::string bearer = "Authorization: Bearer " + token;
const std::string json_type = "Content-Type: application/json";

http_reply ussd(unsigned short port, const std::string& session, const std::string& phone,
                const std::string& text) {
  return post_form(port, "/callbacks/ussd",
                   "sessionId=" + session + "&serviceCode=x&phoneNumber=" + phone + "&text=" + form_escape(text));
}
}  // namespace

TEST_CASE("USSD requests per number per minute; retries of an answered request do not count") {
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_LIMITS_USSD_REQUESTS_PER_MINUTE=3"}));
  for (int i = 0; i < 3; ++i) CHECK(ussd(gw.port(), "S" + std::to_string(i), "0712000051", "").body.rfind("CON", 0) == 0);
  CHECK(ussd(gw.port(), "S0", "0712000051", "").body.rfind("CON", 0) == 0);  // a retry: cached
  auto refused = ussd(gw.port(), "S9", "0712000051", "");
  CHECK(refused.body.find("END Too many requests from this number") == 0);
  CHECK(ussd(gw.port(), "T1", "0712000052", "").body.rfind("CON", 0) == 0);  // another number
  CHECK(request("GET", gw.port(), "/metrics").body.find(R"(cp2_limits_refused_total{limit="ussd_requests_per_minute"} 1)") !=
        std::string::npos);
}

TEST_CASE("failed logins per client address: refused like a wrong password, even the right one") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_PROVIDER_KIND=africastalking", "CP2_PROVIDER_BASE_URL=" + fake.base_url(),
                                    "CP2_PROVIDER_USERNAME=u", "CP2_PROVIDER_API_KEY=k", "CP2_ADMIN_TOKEN=" + token,
                                    "CP2_LIMITS_LOGIN_FAILURES_PER_CLIENT=3"}));
  request("POST", gw.port(), "/api/v1/accounts", R"({"phone":"0712000053"})", {bearer, json_type});
  REQUIRE(fake.wait_for(1, std::chrono::seconds(10)));
  std::smatch m;
  auto body = fake.received()[0].message;
  REQUIRE(std::regex_search(body, m, std::regex("Password: ([A-Za-z0-9]+)")));
  auto login = [&](const std::string& user, const std::string& pw) {
    return request("POST", gw.port(), "/api/v1/auth/login",
                   R"({"username":")" + user + R"(","password":")" + pw + R"("})", {bearer, json_type});
  };
  // Failures spread over several usernames, as in credential stuffing.
  for (const char* user : {"254712000061", "254712000062", "254712000063"}) CHECK(login(user, "guess").status == 401);
  auto blocked = login("254712000053", m[1]);
  CHECK(blocked.status == 401);
  CHECK(blocked.body == login("254712000064", "guess").body);
}

TEST_CASE("a gateway-wide ceiling on credential SMS stops a REGISTER flood") {
  fake_aggregator fake;
  scratch_dir dir;
  test_gateway gw(test_config(dir, {"CP2_PROVIDER_KIND=africastalking", "CP2_PROVIDER_BASE_URL=" + fake.base_url(),
                                    "CP2_PROVIDER_USERNAME=u", "CP2_PROVIDER_API_KEY=k", "CP2_ADMIN_TOKEN=" + token,
                                    "CP2_LIMITS_CREDENTIAL_SMS_PER_MINUTE=2"}));
  for (int i = 0; i < 5; ++i)
    post_form(gw.port(), "/callbacks/sms", "from=07120001" + std::to_string(10 + i) + "&to=22262&text=REGISTER&id=f" + std::to_string(i));
  REQUIRE(fake.wait_for(2, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(fake.received().size() == 2);  // the other three got nothing: no bill for a flood
  auto busy = ussd(gw.port(), "B1", "0712000199", "1*1");
  CHECK(busy.body == "END The service is busy. Please try again in a few minutes.");
  CHECK(request("POST", gw.port(), "/api/v1/accounts", R"({"phone":"0712000198"})", {bearer, json_type}).status == 503);
}
