// Operators end to end (issue #6): applications listed and exported, approved and rejected,
// applicants told by SMS unless they sent STOP, filled vacancies leave the menus.

#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/test_gateway.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <doctest/doctest.h>

#include <regex>
#include <thread>

using namespace cp2::test;

namespace {

const std::string token = "ops-token";
const std::string bearer = "Authorization: Bearer " + token;
const std::string json_type = "Content-Type: application/json";

struct ops {
  scratch_dir dir;
  fake_aggregator aggregator;
  test_gateway gw;
  ops()
      : gw(test_config(dir, {"CP2_PROVIDER_KIND=africastalking",
                             "CP2_PROVIDER_BASE_URL=" + aggregator.base_url(),
                             "CP2_PROVIDER_USERNAME=sandbox", "CP2_PROVIDER_API_KEY=k",
                             "CP2_ADMIN_TOKEN=" + token})) {
    auto csv = std::string("code,exam,activity,venue,role,county,subcounty,station,slots,description,opens_at,closes_at\n") +
               "ONE,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Kisii School,1,,2020-01-01,2090-01-01\n"
               "TWO,KCPE,Marking,Marking centre,Examiner,Kisii,Bobasi,Kisii School,5,,2020-01-01,2090-01-01\n";
    REQUIRE(api("POST", "/api/v1/vacancies", csv, "Content-Type: text/csv").status == 200);
  }
  http_reply api(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& type = json_type, std::vector<std::string> extra = {}) {
    extra.push_back(bearer);
    extra.push_back(type);
    return request(method, gw.port(), target, body, extra);
  }
  // An applicant who applied to `code` by USSD; returns the reference.
  std::string applied(const std::string& phone, const std::string& path) {
    REQUIRE(api("POST", "/api/v1/accounts", R"({"phone":")" + phone + R"("})").status == 201);
    REQUIRE(api("PUT", "/api/v1/accounts/" + phone + "/profile",
                R"({"full_name":"Jane Moraa","national_id":"12345678","kra_pin":"A123456789Z",)"
                R"("county":"Kisii","workstation":"Kisii School"})").status == 200);
    auto r = post_form(gw.port(), "/callbacks/ussd",
                       "sessionId=s" + phone + "&serviceCode=x&phoneNumber=" + phone + "&text=" + form_escape(path));
    std::smatch m;
    REQUIRE(std::regex_search(r.body, m, std::regex("(CP2-[A-Z0-9]{6})")));
    return m[1];
  }
  std::vector<std::string> sms_to(const std::string& international) {
    std::vector<std::string> out;
    for (const auto& r : aggregator.received())
      if (r.to == international && !r.message_id.empty()) out.push_back(r.message);
    return out;
  }
};

}  // namespace

TEST_CASE("approve and reject: the applicant is told, unless they sent STOP; a full vacancy closes") {
  ops t;
  // KCSE > Marking > Marking centre > Examiner > Kisii > Bobasi > Kisii School (ONE, 1 slot)
  auto ref1 = t.applied("0712000011", "1*2*1*1*1*1*1*1*1");
  auto ref2 = t.applied("0712000012", "1*2*1*1*1*1*1*1*1");
  REQUIRE(t.aggregator.wait_for(4, std::chrono::seconds(10)));  // 2 credentials + 2 confirmations

  auto listed = t.api("GET", "/api/v1/applications?vacancy=ONE");
  CHECK(listed.body.find(ref1) != std::string::npos);
  CHECK(listed.body.find(ref2) != std::string::npos);
  CHECK(listed.body.find(R"("status":"submitted")") != std::string::npos);

  // The second applicant opts out of notifications.
  post_form(t.gw.port(), "/callbacks/sms", "from=0712000012&to=22262&text=STOP&id=stop1");
  REQUIRE(t.aggregator.wait_for(5, std::chrono::seconds(10)));

  auto approved = t.api("PATCH", "/api/v1/applications/" + ref1, R"({"status":"approved"})");
  CHECK(approved.status == 200);
  CHECK(approved.body.find(R"("status":"approved")") != std::string::npos);
  CHECK(t.api("PATCH", "/api/v1/applications/" + ref2, R"({"status":"approved"})").status == 409);  // 1 slot
  CHECK(t.api("PATCH", "/api/v1/applications/" + ref2, R"({"status":"rejected"})").status == 200);
  CHECK(t.api("PATCH", "/api/v1/applications/CP2-NOPE99", R"({"status":"rejected"})").status == 404);
  CHECK(t.api("PATCH", "/api/v1/applications/" + ref1, R"({"status":"withdrawn"})").status == 422);

  REQUIRE(t.aggregator.wait_for(6, std::chrono::seconds(10)));
  auto first = t.sms_to("+254712000011");
  CHECK(first.back().find(ref1 + " (KCSE Examiner, Kisii School) is approved") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto second = t.sms_to("+254712000012");
  CHECK(second.back().find("no more notifications") != std::string::npos);  // nothing after STOP

  // ONE is full: it leaves the menus and the API says it is not open.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the catalog rebuilds in the background
  auto menu = post_form(t.gw.port(), "/callbacks/ussd", "sessionId=new&serviceCode=x&phoneNumber=0712000013&text=2");
  auto vacancies = t.api("GET", "/api/v1/vacancies?open=false");
  CHECK(vacancies.body.find(R"("code":"ONE")") != std::string::npos);
  auto exams = post_form(t.gw.port(), "/callbacks/ussd",
                         "sessionId=new2&serviceCode=x&phoneNumber=0712000011&text=1");
  CHECK(exams.body.find("KCSE") == std::string::npos);
  CHECK(exams.body.find("KCPE") != std::string::npos);
  (void)menu;
}

TEST_CASE("the CSV export streams every application with the applicant's profile") {
  ops t;
  auto ref = t.applied("0712000021", "1*2*1*1*1*1*1*1*1");
  {
    // 2,500 more, written straight into the database (hashing 2,500 passwords would take minutes).
    SQLite::Database db((t.dir.path / "cp2.db").string(), SQLite::OPEN_READWRITE);
    db.setBusyTimeout(5000);
    SQLite::Transaction tx(db);
    SQLite::Statement acc(db, "INSERT INTO accounts VALUES (?, ?, 'x', 0, 0, 0, 0)");
    SQLite::Statement app(db, "INSERT INTO applications VALUES (?, ?, 'TWO', 'KCPE', 'Marking', 'submitted', 0, 0)");
    for (int i = 0; i < 2500; ++i) {
      auto phone = std::to_string(254720000000LL + i);
      acc.bind(1, phone);
      acc.bind(2, phone);
      acc.exec();
      acc.reset();
      app.bind(1, "CP2-T" + std::to_string(100000 + i));
      app.bind(2, phone);
      app.exec();
      app.reset();
    }
    tx.commit();
  }
  auto csv = t.api("GET", "/api/v1/applications", "", "Accept: text/csv");
  CHECK(csv.status == 200);
  CHECK(csv.headers["transfer-encoding"] == "chunked");
  CHECK(csv.headers["content-type"].rfind("text/csv", 0) == 0);
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 2502);  // header + 2,501
  CHECK(csv.body.rfind("ref,phone,vacancy,status,created_at,exam,activity,role,venue,station,county,"
                       "subcounty,full_name,national_id,kra_pin,home_county,workstation,tsc_number\r\n", 0) == 0);
  CHECK(csv.body.find(ref + ",254712000021,ONE,submitted,") != std::string::npos);
  CHECK(csv.body.find("Jane Moraa,12345678,A123456789Z,Kisii,Kisii School") != std::string::npos);

  auto filtered = t.api("GET", "/api/v1/applications?vacancy=ONE", "", "Accept: text/csv");
  CHECK(std::count(filtered.body.begin(), filtered.body.end(), '\n') == 2);

  // JSON pages with a cursor.
  auto page = t.api("GET", "/api/v1/applications?limit=1000");
  std::smatch m;
  REQUIRE(std::regex_search(page.body, m, std::regex(R"re("next":"(CP2-[A-Z0-9]+)")re")));
  auto next = t.api("GET", "/api/v1/applications?limit=1000&cursor=" + std::string(m[1]));
  CHECK(next.status == 200);
  CHECK(next.body.find(m[1]) == std::string::npos);
  CHECK(t.api("GET", "/api/v1/applications?limit=5000").status == 400);
  CHECK(t.api("GET", "/api/v1/applications?status=lost").status == 400);
}
