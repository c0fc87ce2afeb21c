#include "sms/africastalking_protocol.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cp2::sms {
// doctest 2.4 prints enums as numbers and skips StringMaker for them, but finds these overloads
// by argument-dependent lookup (the name is doctest's customisation point), so failures name
// the enumerator.
static doctest::String toString(send_failure f) {
  std::string_view name = to_string(f);
  return doctest::String(name.data(), static_cast<doctest::String::size_type>(name.size()));
}
static doctest::String toString(delivery_state s) {
  std::string_view name = to_string(s);
  return doctest::String(name.data(), static_cast<doctest::String::size_type>(name.size()));
}
}  // namespace cp2::sms

namespace cp2::sms {
namespace {

using form = std::vector<std::pair<std::string, std::string>>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes as a form parser on the provider's side would ('+' is a space), written separately
// from form_encode so that the two check each other. A malformed escape fails the test.
std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      REQUIRE(i + 2 < s.size());
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      REQUIRE(hi >= 0);
      REQUIRE(lo >= 0);
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

form parse_form(std::string_view body) {
  form fields;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    const std::size_t eq = pair.find('=');
    REQUIRE(eq != std::string_view::npos);
    fields.emplace_back(form_decode(pair.substr(0, eq)), form_decode(pair.substr(eq + 1)));
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
  }
  return fields;
}

std::vector<std::string> names_of(const form& f) {
  std::vector<std::string> names;
  for (const auto& [name, value] : f) names.push_back(name);
  return names;
}

std::string value_of(const form& f, std::string_view name) {
  int seen = 0;
  std::string value;
  for (const auto& [n, v] : f)
    if (n == name) {
      ++seen;
      value = v;
    }
  CHECK_MESSAGE(seen == 1, "field ", std::string(name), " appears ", seen, " times");
  return value;
}

const provider_credentials creds{"https://api.africastalking.com", "knec_cp2", "atsk_SECRETKEY123"};

// ---------------------------------------------------------------------------------------------
// Request building

TEST_CASE("form_encode: byte by byte") {
  struct row {
    std::string_view in;
    std::string_view out;
  };
  const row rows[] = {
      {"", ""},
      {"abcXYZ019-._~", "abcXYZ019-._~"},
      {" ", "%20"},
      {"+254712345678", "%2B254712345678"},
      {"a&b=c%d", "a%26b%3Dc%25d"},
      {"*#/?:", "%2A%23%2F%3F%3A"},
      {"\r\n", "%0D%0A"},
      {"\xC3\xA9", "%C3%A9"},           // é
      {"\xE2\x98\xBA", "%E2%98%BA"},    // ☺
      {"\xFF\xFE", "%FF%FE"},           // not UTF-8: encoded as bytes all the same
      {std::string_view("\0x", 2), "%00x"},
  };
  for (const row& r : rows) {
    CAPTURE(r.in);
    CHECK(form_encode(r.in) == r.out);
  }
}

TEST_CASE("form_encode: every byte value survives a round trip") {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string encoded = form_encode(all);
  CHECK(encoded.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%") ==
        std::string::npos);
  CHECK(form_decode(encoded) == all);
}

TEST_CASE("build_send_request: URL and headers and fields (courier's Plain Send)") {
  const outbound_message msg{"+254712345678", "Simple Message \xE2\x98\xBA", "22262", ""};
  const http_post post = build_send_request(creds, msg);

  CHECK(post.url == "https://api.africastalking.com/version1/messaging");
  const std::vector<std::pair<std::string, std::string>> expected_headers{
      {"apiKey", "atsk_SECRETKEY123"},
      {"Accept", "application/json"},
      {"Content-Type", "application/x-www-form-urlencoded"},
  };
  CHECK(post.headers == expected_headers);

  const form fields = parse_form(post.body);
  CHECK(names_of(fields) == std::vector<std::string>{"username", "to", "message", "from"});
  CHECK(value_of(fields, "username") == "knec_cp2");
  CHECK(value_of(fields, "to") == "+254712345678");
  CHECK(value_of(fields, "message") == "Simple Message \xE2\x98\xBA");
  CHECK(value_of(fields, "from") == "22262");

  // The '+' of the number must be escaped, or the provider reads a space.
  CHECK(post.body.find("to=%2B254712345678") != std::string::npos);
  CHECK(post.body.find("SECRETKEY") == std::string::npos);
}

TEST_CASE("build_send_request: linkId only when replying") {
  outbound_message msg{"+254712345678", "Hi", "22262", ""};
  SUBCASE("absent") {
    const form fields = parse_form(build_send_request(creds, msg).body);
    CHECK(std::count_if(fields.begin(), fields.end(),
                        [](const auto& f) { return f.first == "linkId"; }) == 0);
  }
  SUBCASE("present") {
    msg.link_id = "SampleLinkId123";
    const form fields = parse_form(build_send_request(creds, msg).body);
    CHECK(names_of(fields) ==
          std::vector<std::string>{"username", "to", "message", "from", "linkId"});
    CHECK(value_of(fields, "linkId") == "SampleLinkId123");
  }
}

TEST_CASE("build_send_request: an empty from is left out rather than sent empty") {
  const outbound_message msg{"+254712345678", "Hi", "", ""};
  const form fields = parse_form(build_send_request(creds, msg).body);
  CHECK(names_of(fields) == std::vector<std::string>{"username", "to", "message"});
}

TEST_CASE("build_send_request: a credential SMS with awkward characters arrives intact") {
  const std::string text =
      "KNEC CP2: Username: 254712345678\nPassword: aB3x9Qz2\r\nLogin & apply = 100% +ok "
      "\xE2\x98\xBA \xC3\xA9 \"quoted\" a/b?c#d";
  const outbound_message msg{"+254112345678", text, "22262", "link&id=1"};
  const http_post post = build_send_request(creds, msg);
  const form fields = parse_form(post.body);

  CHECK(value_of(fields, "message") == text);
  CHECK(value_of(fields, "to") == "+254112345678");
  CHECK(value_of(fields, "linkId") == "link&id=1");
  // Only the separators between the five fields are raw.
  CHECK(std::count(post.body.begin(), post.body.end(), '&') == 4);
  CHECK(std::count(post.body.begin(), post.body.end(), '=') == 5);
  CHECK(post.body.find_first_of(" \r\n+\"#?/") == std::string::npos);
}

TEST_CASE("build_send_request: base_url with or without trailing slashes") {
  const outbound_message msg{"+254712345678", "Hi", "22262", ""};
  struct row {
    std::string_view base;
    std::string_view url;
  };
  const row rows[] = {
      {"https://api.africastalking.com", "https://api.africastalking.com/version1/messaging"},
      {"https://api.africastalking.com/", "https://api.africastalking.com/version1/messaging"},
      {"https://api.africastalking.com//", "https://api.africastalking.com/version1/messaging"},
      {"https://api.sandbox.africastalking.com/",
       "https://api.sandbox.africastalking.com/version1/messaging"},
      {"http://127.0.0.1:18080", "http://127.0.0.1:18080/version1/messaging"},
      {"http://127.0.0.1:18080/fake/", "http://127.0.0.1:18080/fake/version1/messaging"},
  };
  for (const row& r : rows) {
    CAPTURE(r.base);
    provider_credentials c = creds;
    c.base_url = std::string(r.base);
    CHECK(build_send_request(c, msg).url == r.url);
  }
}

// ---------------------------------------------------------------------------------------------
// Response classification, in the shape of courier's outgoing test cases: a canned answer in,
// the classified outcome out.

struct response_row {
  std::string_view label;
  long http_status;
  std::string_view body;
  bool accepted;
  send_failure failure;
  bool retryable;
  bool alarm;
  int status_code;
  std::string_view message_id;
  std::string_view cost;
  std::string_view detail;  // expected exact detail; empty = not checked here
};

constexpr std::string_view sample_body =
    R"({"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{"statusCode":101,"number":"+254711XXXYYY","status":"Success","cost":"KES 0.8000","messageId":"ATPid_SampleTxnId123"}]}})";

// One recipient with the given code and status name, failed-recipient style.
#define AT_RECIPIENT(code, status, message_id, cost)                                          \
  R"({"SMSMessageData":{"Message":"Sent to 0/1 Total Cost: 0","Recipients":[{"statusCode":)" \
  #code R"(,"number":"+254711XXXYYY","status":")" status R"(","cost":")" cost            \
  R"(","messageId":")" message_id R"("}]}})"

using sf = send_failure;

const response_row response_rows[] = {
    // label, http, body, accepted, failure, retryable, alarm, statusCode, messageId, cost, detail
    {"Plain send: 201, statusCode 101", 201, sample_body, true, sf::none, false, false, 101,
     "ATPid_SampleTxnId123", "KES 0.8000", "HTTP 201: statusCode 101 Sent"},
    {"200 is as good as 201", 200, sample_body, true, sf::none, false, false, 101,
     "ATPid_SampleTxnId123", "KES 0.8000", ""},
    {"100 Processed", 201, AT_RECIPIENT(100, "Processed", "ATXid_1", "KES 0.8000"), true,
     sf::none, false, false, 100, "ATXid_1", "KES 0.8000", ""},
    {"102 Queued", 201, AT_RECIPIENT(102, "Queued", "ATXid_2", "KES 0.8000"), true, sf::none,
     false, false, 102, "ATXid_2", "KES 0.8000", ""},
    {"courier's shape: status Success, no statusCode", 200,
     R"({ "SMSMessageData": {"Recipients": [{"status": "Success", "messageId": "1002"}] } })",
     true, sf::none, false, false, 101, "1002", "",
     "HTTP 200: status Sent without statusCode"},
    {"accepted without messageId is still accepted", 201,
     R"({"SMSMessageData":{"Recipients":[{"statusCode":100,"status":"Success","cost":"TZS 44.0000"}]}})",
     true, sf::none, false, false, 100, "", "TZS 44.0000",
     "HTTP 201: statusCode 100 Processed, no messageId"},
    {"statusCode as a string", 201,
     R"({"SMSMessageData":{"Recipients":[{"statusCode":"101","messageId":"ATXid_3"}]}})", true,
     sf::none, false, false, 101, "ATXid_3", "", ""},
    {"statusCode as 101.0", 201,
     R"({"SMSMessageData":{"Recipients":[{"statusCode":101.0,"messageId":"ATXid_4"}]}})", true,
     sf::none, false, false, 101, "ATXid_4", "", ""},
    {"statusCode wins over a contradicting status", 201,
     R"({"SMSMessageData":{"Recipients":[{"statusCode":101,"status":"Failed","messageId":"ATXid_5"}]}})",
     true, sf::none, false, false, 101, "ATXid_5", "", ""},
    {"first of two recipients decides", 201,
     R"({"SMSMessageData":{"Recipients":[{"statusCode":101,"messageId":"A"},{"statusCode":403,"messageId":"None"}]}})",
     true, sf::none, false, false, 101, "A", "", ""},
    // Per-recipient failures (§5).
    {"401 RiskHold keeps its messageId for a later report", 201,
     AT_RECIPIENT(401, "RiskHold", "ATXid_held", "0"), false, sf::rejected, false, true, 401,
     "ATXid_held", "0", "HTTP 201: statusCode 401 RiskHold"},
    {"402 InvalidSenderId", 201, AT_RECIPIENT(402, "InvalidSenderId", "None", "0"), false,
     sf::config_invalid, false, true, 402, "", "0", ""},
    {"403 InvalidPhoneNumber, messageId None", 201,
     AT_RECIPIENT(403, "InvalidPhoneNumber", "None", "0"), false, sf::invalid_number, false, false,
     403, "", "0", "HTTP 201: statusCode 403 InvalidPhoneNumber"},
    {"404 UnsupportedNumberType", 201, AT_RECIPIENT(404, "UnsupportedNumberType", "None", "0"),
     false, sf::invalid_number, false, false, 404, "", "0", ""},
    {"405 InsufficientBalance", 201, AT_RECIPIENT(405, "InsufficientBalance", "None", "0"), false,
     sf::insufficient_balance, true, true, 405, "", "0", ""},
    {"406 UserInBlacklist", 201, AT_RECIPIENT(406, "UserInBlacklist", "None", "0"), false,
     sf::rejected, false, false, 406, "", "0", ""},
    {"407 CouldNotRoute", 201, AT_RECIPIENT(407, "CouldNotRoute", "None", "0"), false,
     sf::response_status, true, false, 407, "", "0", ""},
    {"409 DoNotDisturbRejection", 201, AT_RECIPIENT(409, "DoNotDisturbRejection", "None", "0"),
     false, sf::rejected, false, false, 409, "", "0", ""},
    {"500 InternalServerError", 201, AT_RECIPIENT(500, "InternalServerError", "None", "0"), false,
     sf::response_status, true, false, 500, "", "0", ""},
    {"501 GatewayError", 201, AT_RECIPIENT(501, "GatewayError", "None", "0"), false,
     sf::response_status, true, false, 501, "", "0", ""},
    {"502 RejectedByGateway", 201, AT_RECIPIENT(502, "RejectedByGateway", "None", "0"), false,
     sf::response_status, true, false, 502, "", "0", ""},
    {"unknown statusCode", 201, AT_RECIPIENT(999, "Whatever", "ATXid_6", "0"), false,
     sf::response_unparseable, true, true, 0, "", "", "HTTP 201: unknown statusCode 999"},
    {"failure by status name only", 201,
     R"({"SMSMessageData":{"Recipients":[{"status":"InvalidPhoneNumber","messageId":"None"}]}})",
     false, sf::invalid_number, false, false, 403, "", "", ""},
    // Whole-request refusals inside a 2xx.
    {"no recipients, Message InvalidSenderId", 201,
     R"({"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}})", false,
     sf::config_invalid, false, true, 402, "", "", "HTTP 201: no recipients, InvalidSenderId"},
    {"no recipients, Message InsufficientBalance", 201,
     R"({"SMSMessageData":{"Message":"InsufficientBalance","Recipients":[]}})", false,
     sf::insufficient_balance, true, true, 405, "", "", ""},
    {"no recipients, free-text Message", 201,
     R"({"SMSMessageData":{"Message":"Sent to 0/1 Total Cost: 0","Recipients":[]}})", false,
     sf::response_unparseable, true, true, 0, "", "", "HTTP 201: no recipients"},
    {"no recipients, Message Success is not an acceptance", 201,
     R"({"SMSMessageData":{"Message":"Success","Recipients":[]}})", false,
     sf::response_unparseable, true, true, 0, "", "", ""},
    // Unreadable 2xx: the provider may have taken it; retry and raise an alarm.
    {"2xx, not JSON", 201, "Internal error, please try again", false, sf::response_unparseable,
     true, true, 0, "", "", "HTTP 201: body is not JSON"},
    {"2xx, empty body", 200, "", false, sf::response_unparseable, true, true, 0, "", "",
     "HTTP 200: empty body"},
    {"2xx, truncated JSON", 201, R"({"SMSMessageData":{"Recipients":[{"statusCode":101,)", false,
     sf::response_unparseable, true, true, 0, "", "", ""},
    {"2xx, empty object", 201, "{}", false, sf::response_unparseable, true, true, 0, "", "",
     "HTTP 201: no SMSMessageData.Recipients"},
    {"2xx, JSON array", 201, "[]", false, sf::response_unparseable, true, true, 0, "", "", ""},
    {"2xx, Recipients not an array", 201, R"({"SMSMessageData":{"Recipients":{}}})", false,
     sf::response_unparseable, true, true, 0, "", "", ""},
    {"2xx, recipient not an object", 201, R"({"SMSMessageData":{"Recipients":[42]}})", false,
     sf::response_unparseable, true, true, 0, "", "", ""},
    {"2xx, recipient without status", 201,
     R"({"SMSMessageData":{"Recipients":[{"messageId":"ATXid_7"}]}})", false,
     sf::response_unparseable, true, true, 0, "", "", ""},
    {"2xx, statusCode out of range", 201,
     R"({"SMSMessageData":{"Recipients":[{"statusCode":18446744073709551615}]}})", false,
     sf::response_unparseable, true, true, 0, "", "", ""},
    // HTTP-level answers.
    {"HTTP 401 bad credentials", 401, "The supplied authentication is invalid", false,
     sf::bad_credentials, true, true, 0, "", "", "HTTP 401"},
    {"HTTP 403", 403, "Forbidden", false, sf::bad_credentials, true, true, 0, "", "", ""},
    {"HTTP 400 missing field", 400, "Request is missing required form field 'to'", false,
     sf::config_invalid, false, true, 0, "", "", "HTTP 400"},
    {"HTTP 404 wrong base_url", 404, "<html>Not Found</html>", false, sf::config_invalid, false,
     true, 0, "", "", ""},
    {"HTTP 301 redirect", 301, "", false, sf::config_invalid, false, true, 0, "", "", ""},
    {"HTTP 408", 408, "", false, sf::timeout, true, false, 0, "", "", ""},
    {"HTTP 429 throttled", 429, R"({ "error": "failed" })", false, sf::throttled, true, false, 0,
     "", "", "HTTP 429"},
    {"HTTP 500", 500, "<html>oops</html>", false, sf::response_status, true, false, 0, "", "",
     "HTTP 500"},
    {"HTTP 502", 502, "", false, sf::response_status, true, false, 0, "", "", ""},
    {"HTTP 503 with a 2xx-looking body", 503, sample_body, false, sf::response_status, true,
     false, 0, "", "", ""},
    {"HTTP 0: no answer", 0, "", false, sf::connection_failed, true, false, 0, "", "",
     "HTTP 0: not a final HTTP status"},
    {"HTTP 100", 100, "", false, sf::connection_failed, true, false, 0, "", "", ""},
    {"HTTP 600", 600, "", false, sf::connection_failed, true, false, 0, "", "", ""},
    {"HTTP -1", -1, "", false, sf::connection_failed, true, false, 0, "", "", ""},
};

#undef AT_RECIPIENT

TEST_CASE("classify_response: canned answers") {
  for (const response_row& row : response_rows) {
    CAPTURE(row.label);
    const send_outcome got = classify_response(row.http_status, row.body);
    CHECK(got.accepted == row.accepted);
    CHECK(got.failure == row.failure);
    CHECK(got.retryable == row.retryable);
    CHECK(got.alarm == row.alarm);
    CHECK(got.status_code == row.status_code);
    CHECK(got.message_id == row.message_id);
    CHECK(got.cost == row.cost);
    if (!row.detail.empty()) CHECK(got.detail == row.detail);
  }
}

TEST_CASE("classify_response: invariants over every canned answer") {
  CHECK(std::size(response_rows) >= 40);
  for (const response_row& row : response_rows) {
    CAPTURE(row.label);
    const send_outcome got = classify_response(row.http_status, row.body);
    CHECK(got.retryable == is_retryable(got.failure));
    CHECK(got.accepted == (got.failure == send_failure::none));
    CHECK_FALSE(got.detail.empty());
    // The phone number in the bodies never reaches the log line.
    CHECK(got.detail.find("+254") == std::string::npos);
    CHECK(got.detail.find("254711") == std::string::npos);
  }
}

TEST_CASE("classify_response: detail never echoes the body") {
  const std::string_view secret = "Password: Zx81Qa";
  const std::string bodies[] = {
      std::string("Invalid message: ") + std::string(secret),
      R"({"SMSMessageData":{"Message":")" + std::string(secret) + R"(","Recipients":[]}})",
      R"({"SMSMessageData":{"Recipients":[{"status":")" + std::string(secret) + R"("}]}})",
      R"({"SMSMessageData":{"Recipients":[{"statusCode":403,"status":")" + std::string(secret) +
          R"(","messageId":"None"}]}})",
  };
  for (long http : {200L, 201L, 400L, 401L, 500L}) {
    for (const std::string& body : bodies) {
      CAPTURE(http);
      CAPTURE(body);
      const send_outcome got = classify_response(http, body);
      CHECK(got.detail.find("Zx81Qa") == std::string::npos);
      CHECK_FALSE(got.accepted);
    }
  }
}

TEST_CASE("classify_response: hostile bodies do not crash") {
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  const std::string bodies[] = {
      deep,
      std::string("\xFF\xFE\x00{", 4),
      R"({"SMSMessageData":null})",
      R"({"SMSMessageData":{"Recipients":[{"statusCode":-101}]}})",
      R"({"SMSMessageData":{"Recipients":[{"statusCode":1e308}]}})",
      R"({"SMSMessageData":{"Recipients":[{"statusCode":"1x1"}]}})",
      R"({"SMSMessageData":{"Recipients":[{"statusCode":101,"messageId":{"a":1},"cost":[1]}]}})",
  };
  for (const std::string& body : bodies) {
    CAPTURE(body.size());
    send_outcome got;
    CHECK_NOTHROW(got = classify_response(201, body));
    CHECK(got.retryable == is_retryable(got.failure));
  }
  // A messageId or cost of the wrong type is dropped, the acceptance stands.
  const send_outcome odd = classify_response(201, bodies[6]);
  CHECK(odd.accepted);
  CHECK(odd.message_id.empty());
  CHECK(odd.cost.empty());
}

// ---------------------------------------------------------------------------------------------
// Transport errors and the closed set

TEST_CASE("classify_transport_error") {
  SUBCASE("timeout") {
    const send_outcome got = classify_transport_error(
        send_failure::timeout, "Operation timed out after 30001 milliseconds");
    CHECK_FALSE(got.accepted);
    CHECK(got.failure == send_failure::timeout);
    CHECK(got.retryable);
    CHECK_FALSE(got.alarm);
    CHECK(got.detail == "timeout: Operation timed out after 30001 milliseconds");
  }
  SUBCASE("connection failed") {
    const send_outcome got = classify_transport_error(
        send_failure::connection_failed, "Could not resolve host: api.africastalking.com");
    CHECK(got.failure == send_failure::connection_failed);
    CHECK(got.retryable);
  }
  SUBCASE("none means connection_failed") {
    const send_outcome got = classify_transport_error(send_failure::none, "");
    CHECK(got.failure == send_failure::connection_failed);
    CHECK(got.retryable);
    CHECK_FALSE(got.accepted);
  }
  SUBCASE("the client may say config_invalid (malformed URL)") {
    const send_outcome got =
        classify_transport_error(send_failure::config_invalid, "URL using bad/illegal format");
    CHECK(got.failure == send_failure::config_invalid);
    CHECK_FALSE(got.retryable);
    CHECK(got.alarm);
  }
  SUBCASE("detail is cut and made printable") {
    const std::string noisy = "line1\nline2\r\x01\xC3\xA9" + std::string(500, 'x');
    const send_outcome got = classify_transport_error(send_failure::connection_failed, noisy);
    CHECK(got.detail.rfind("connection_failed: line1?line2???", 0) == 0);
    CHECK(got.detail.size() == std::string_view("connection_failed: ").size() + 160);
    CHECK(got.detail.find_first_of("\r\n\x01") == std::string::npos);
  }
}

TEST_CASE("is_retryable and to_string over the closed set") {
  struct row {
    send_failure f;
    std::string_view name;
    bool retryable;
  };
  const row rows[] = {
      {send_failure::none, "none", false},
      {send_failure::connection_failed, "connection_failed", true},
      {send_failure::timeout, "timeout", true},
      {send_failure::throttled, "throttled", true},
      {send_failure::response_status, "response_status", true},
      {send_failure::response_unparseable, "response_unparseable", true},
      {send_failure::bad_credentials, "bad_credentials", true},
      {send_failure::insufficient_balance, "insufficient_balance", true},
      {send_failure::invalid_number, "invalid_number", false},
      {send_failure::rejected, "rejected", false},
      {send_failure::config_invalid, "config_invalid", false},
  };
  std::set<std::string_view> names;
  for (const row& r : rows) {
    CAPTURE(r.name);
    CHECK(is_retryable(r.f) == r.retryable);
    CHECK(to_string(r.f) == r.name);
    names.insert(to_string(r.f));
  }
  CHECK(names.size() == std::size(rows));
}

// ---------------------------------------------------------------------------------------------
// Delivery reports (§3.3), as courier's status tests

TEST_CASE("map_dlr_status") {
  struct row {
    std::string_view status;
    delivery_state state;
  };
  const row rows[] = {
      {"Sent", delivery_state::sent},
      {"Submitted", delivery_state::sent},
      {"Buffered", delivery_state::sent},
      {"Success", delivery_state::delivered},
      {"Rejected", delivery_state::failed},
      {"Failed", delivery_state::failed},
      {"Expired", delivery_state::failed},
      {"AbsentSubscriber", delivery_state::failed},
      {"success", delivery_state::delivered},
      {"FAILED", delivery_state::failed},
      {" Buffered\r\n", delivery_state::sent},
      {"", delivery_state::unknown},
      {"Borked", delivery_state::unknown},
      {"Delivered", delivery_state::unknown},
      {"Queued", delivery_state::unknown},
      {"Success!", delivery_state::unknown},
      {"\xFF\xFE", delivery_state::unknown},
  };
  for (const row& r : rows) {
    CAPTURE(r.status);
    CHECK(map_dlr_status(r.status) == r.state);
  }
  CHECK(to_string(delivery_state::sent) == "sent");
  CHECK(to_string(delivery_state::delivered) == "delivered");
  CHECK(to_string(delivery_state::failed) == "failed");
  CHECK(to_string(delivery_state::unknown) == "unknown");
}

}  // namespace
}  // namespace cp2::sms
