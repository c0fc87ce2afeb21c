// Vacancies and applications end to end (issue #5): operators load vacancies through the API,
// applicants apply by USSD, confirmations and STATUS come by SMS through a fake aggregator.

#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <doctest/doctest.h>

#include <future>
#include <regex>
#include <thread>

using namespace cp2::test;

namespace {

const std::string token = "journey-token";
const std::string bearer = "Authorization: Bearer " + token;
const std::string json_type = "Content-Type: application/json";
const std::string csv_type = "Content-Type: text/csv";

const std::string header = "code,exam,activity,venue,role,county,subcounty,station,slots,description,opens_at,closes_at\n";
// Open from 2020 to 2090: open whenever the test runs.
const std::string catalog_csv = header +
    "K1,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Kisii School,2,Mark KCSE English,2020-01-01T08:00,2090-01-01T17:00\n"
    "K2,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Nyabururu Girls,2,Mark KCSE Kiswahili,2020-01-01T08:00,2090-01-01T17:00\n"
    "K3,KCPE,Supervision and Invigilation,Examination centre,Invigilator,Nairobi,Westlands,Moi Forces Academy,5,,2020-01-01T08:00,2090-01-01T17:00\n"
    "K4,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Closed School,2,,2020-01-01T08:00,2021-01-01T17:00\n";

struct journey {
  scratch_dir dir;
  fake_aggregator aggregator;
  test_gateway gw;
  journey()
      : gw(test_config(dir, {"CP2_PROVIDER_KIND=africastalking",
                             "CP2_PROVIDER_BASE_URL=" + aggregator.base_url(),
                             "CP2_PROVIDER_USERNAME=sandbox", "CP2_PROVIDER_API_KEY=k",
                             "CP2_ADMIN_TOKEN=" + token})) {}

  http_reply api(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& type = json_type) {
    return request(method, gw.port(), target, body, {bearer, type});
  }
  http_reply ussd(const std::string& session, const std::string& phone, const std::string& text) {
    return post_form(gw.port(), "/callbacks/ussd",
                     "sessionId=" + session + "&serviceCode=%2A384%23&phoneNumber=" +
                         form_escape(phone) + "&text=" + form_escape(text));
  }
  // An account with a complete profile, through the portal API.
  void applicant(const std::string& phone) {
    REQUIRE(api("POST", "/api/v1/accounts", R"({"phone":")" + phone + R"("})").status == 201);
    auto r = api("PUT", "/api/v1/accounts/" + phone + "/profile",
                 R"({"full_name":"jane moraa","national_id":"12345678","kra_pin":"a123456789z",)"
                 R"("county":"kisii","workstation":"Kisii School"})");
    REQUIRE(r.status == 200);
    REQUIRE(r.body.find(R"("complete":true)") != std::string::npos);
  }
  std::vector<std::string> messages_to(const std::string& international) {
    std::vector<std::string> out;
    for (const auto& m : aggregator.received())
      if (m.to == international && !m.message_id.empty()) out.push_back(m.message);
    return out;
  }
};

// The KCSE > Marking > Marking centre > Examiner > Kisii > Bobasi path, then the n-th vacancy.
const std::string to_kisii_list = "1*2*1*1*1*1*1";

}  // namespace

TEST_CASE("operators load vacancies; applicants apply by USSD and hear back by SMS") {
  journey t;
  auto imported = t.api("POST", "/api/v1/vacancies", catalog_csv, csv_type);
  CHECK(imported.status == 200);
  CHECK(imported.body == R"({"imported":4,"updated":0})");
  CHECK(t.api("POST", "/api/v1/vacancies", catalog_csv, csv_type).body == R"({"imported":0,"updated":4})");
  t.applicant("0712000001");

  auto list = t.ussd("S1", "0712000001", to_kisii_list);
  CHECK(list.body.find("1. Kisii School (2 posts)\n2. Nyabururu Girls (2 posts)") != std::string::npos);
  CHECK(list.body.find("Closed School") == std::string::npos);
  auto detail = t.ussd("S1", "0712000001", to_kisii_list + "*1");
  CHECK(detail.body.find("Examiner at Kisii School, Bobasi") != std::string::npos);
  auto done = t.ussd("S1", "0712000001", to_kisii_list + "*1*1");
  std::smatch m;
  REQUIRE(std::regex_search(done.body, m, std::regex("reference is (CP2-[A-Z0-9]{6})")));
  const std::string ref = m[1];
  CHECK(done.body.rfind("END ", 0) == 0);

  REQUIRE(t.aggregator.wait_for(2, std::chrono::seconds(10)));  // credentials, confirmation
  auto sms = t.messages_to("+254712000001");
  REQUIRE(sms.size() == 2);
  CHECK(sms[1].find(ref) != std::string::npos);

  // The same vacancy again, in a new session: the same reference.
  auto again = t.ussd("S2", "0712000001", to_kisii_list + "*1*1");
  CHECK(again.body.find(ref) != std::string::npos);
  // Another vacancy of the same exam and activity: refused, naming the first.
  auto other = t.ussd("S3", "0712000001", to_kisii_list + "*2*1");
  CHECK(other.body.find("You already applied for KCSE Marking: " + ref) != std::string::npos);

  // STATUS by SMS.
  post_form(t.gw.port(), "/callbacks/sms", "from=%2B254712000001&to=22262&text=status&id=st1&linkId=L1");
  REQUIRE(t.aggregator.wait_for(3, std::chrono::seconds(10)));
  auto status = t.messages_to("+254712000001");
  REQUIRE(status.size() == 3);
  CHECK(status[2].find(ref + " KCSE Examiner, Kisii School: submitted") != std::string::npos);

  // My applications shows it; withdrawing frees the applicant to apply elsewhere.
  auto mine = t.ussd("S4", "0712000001", "2");
  CHECK(mine.body.find("1. " + ref + " KCSE Examiner: submitted") != std::string::npos);
  CHECK(t.ussd("S4", "0712000001", "2*1*1*1").body.find(ref + " has been withdrawn") != std::string::npos);
  auto second = t.ussd("S5", "0712000001", to_kisii_list + "*2*1");
  CHECK(second.body.find("Application received") != std::string::npos);

  // The operators' view: applications counted, open flags, cursor paging.
  auto page1 = t.api("GET", "/api/v1/vacancies?limit=2");
  CHECK(page1.status == 200);
  CHECK(page1.body.find(R"("code":"K1")") != std::string::npos);
  CHECK(page1.body.find(R"("next":"K2")") != std::string::npos);
  auto page2 = t.api("GET", "/api/v1/vacancies?limit=2&cursor=K2");
  CHECK(page2.body.find(R"("code":"K3")") != std::string::npos);
  CHECK(page2.body.find(R"("next":null)") != std::string::npos);
  CHECK(page2.body.find(R"("code":"K4","exam":"KCSE")") != std::string::npos);
  CHECK(page2.body.find(R"("open":false)") != std::string::npos);
  auto k2 = t.api("GET", "/api/v1/vacancies?county=kisii&open=true");
  CHECK(k2.body.find(R"("code":"K2")") != std::string::npos);
  CHECK(k2.body.find(R"("applications":1)") != std::string::npos);
  CHECK(k2.body.find("K4") == std::string::npos);
}

TEST_CASE("two applications at once for one exam and activity: exactly one wins") {
  journey t;
  REQUIRE(t.api("POST", "/api/v1/vacancies", catalog_csv, csv_type).status == 200);
  t.applicant("0712000002");
  auto a = std::async(std::launch::async, [&] { return t.ussd("A", "0712000002", to_kisii_list + "*1*1"); });
  auto b = std::async(std::launch::async, [&] { return t.ussd("B", "0712000002", to_kisii_list + "*2*1"); });
  auto ra = a.get(), rb = b.get();
  int received = (ra.body.find("Application received") != std::string::npos) +
                 (rb.body.find("Application received") != std::string::npos);
  int refused = (ra.body.find("You already applied") != std::string::npos) +
                (rb.body.find("You already applied") != std::string::npos);
  CHECK(received == 1);
  CHECK(refused == 1);
}

TEST_CASE("without a complete profile the applicant is asked for it; without an account, told how") {
  journey t;
  REQUIRE(t.api("POST", "/api/v1/vacancies", catalog_csv, csv_type).status == 200);
  CHECK(t.ussd("N", "0712000009", "2").body.find("You need a CP2 account") != std::string::npos);
  REQUIRE(t.api("POST", "/api/v1/accounts", R"({"phone":"0712000003"})").status == 201);
  auto gate = t.ussd("P", "0712000003", "1");
  CHECK(gate.body.find("complete your profile") != std::string::npos);
  auto bad = t.ussd("P", "0712000003", "1*1*J");
  CHECK(bad.body.find("Enter your full name") != std::string::npos);
  auto saved = t.ussd("P", "0712000003", "1*1*J*jane moraa");
  CHECK(saved.body.find("national ID") != std::string::npos);
  auto profile = t.api("GET", "/api/v1/accounts/0712000003/profile");
  CHECK(profile.body.find(R"("full_name":"Jane Moraa")") != std::string::npos);
  CHECK(profile.body.find(R"("complete":false)") != std::string::npos);
}

TEST_CASE("API checks: bad rows by number, bad profile fields by name, the county list") {
  journey t;
  auto bad = t.api("POST", "/api/v1/vacancies",
                   header +
                       "B1,KCSE,Marking,Marking centre,Examiner,Atlantis,Bobasi,X School,2,,2026-01-01,2026-02-01\n"
                       "B2,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,X School,0,,2026-01-01,2026-02-01\n"
                       "B3,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,X School,2,,2026-03-01,2026-02-01\n",
                   csv_type);
  CHECK(bad.status == 422);
  CHECK(bad.body.find(R"({"row":2,)") != std::string::npos);
  CHECK(bad.body.find(R"({"row":3,)") != std::string::npos);
  CHECK(bad.body.find(R"({"row":4,)") != std::string::npos);
  CHECK(t.api("GET", "/api/v1/vacancies").body == R"({"items":[],"next":null})");  // nothing imported

  REQUIRE(t.api("POST", "/api/v1/accounts", R"({"phone":"0712000004"})").status == 201);
  auto pin = t.api("PUT", "/api/v1/accounts/0712000004/profile", R"({"kra_pin":"123"})");
  CHECK(pin.status == 422);
  CHECK(pin.body.find("kra_pin:") != std::string::npos);
  auto county = t.api("PUT", "/api/v1/accounts/0712000004/profile", R"({"county":"Gotham"})");
  CHECK(county.status == 422);
  CHECK(county.body.find("county:") != std::string::npos);
  CHECK(t.api("PUT", "/api/v1/accounts/0712000004/profile", R"({"shoe_size":"9"})").status == 422);
  CHECK(t.api("GET", "/api/v1/accounts/0799999999/profile").status == 404);

  auto counties = t.api("GET", "/api/v1/counties");
  CHECK(counties.status == 200);
  CHECK(std::count(counties.body.begin(), counties.body.end(), '{') == 47);
  CHECK(counties.body.find(R"({"name":"Kisii","subcounties":[)") != std::string::npos);
}
