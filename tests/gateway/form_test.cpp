#include "gateway/form.hpp"

#include <doctest/doctest.h>

using cp2::gateway::parse_form;

TEST_CASE("form bodies as the aggregator sends them") {
  auto f = parse_form(
      "sessionId=ATUid_1&serviceCode=%2A384%2A22262%23&phoneNumber=%2B254712345678&text=1%2A2&"
      "networkCode=63902");
  REQUIRE(f);
  CHECK(f->at("sessionId") == "ATUid_1");
  CHECK(f->at("serviceCode") == "*384*22262#");
  CHECK(f->at("phoneNumber") == "+254712345678");
  CHECK(f->at("text") == "1*2");
}

TEST_CASE("plus is a space, empty values and empty pieces are fine") {
  auto f = parse_form("text=reset+password&empty=&&x=1");
  REQUIRE(f);
  CHECK(f->at("text") == "reset password");
  CHECK(f->at("empty").empty());
  CHECK(f->at("x") == "1");
  CHECK(parse_form("")->empty());
}

TEST_CASE("a repeated name keeps its first value") {
  auto f = parse_form("id=first&id=second");
  REQUIRE(f);
  CHECK(f->at("id") == "first");
}

TEST_CASE("malformed bodies are refused") {
  for (const char* bad : {"novalue", "a=%", "a=%2", "a=%zz", "=x", "a=1&b"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_form(bad));
  }
}

TEST_CASE("bytes pass through undecoded beyond the escapes") {
  auto f = parse_form("t=%00%FF%E2%82%AC");
  REQUIRE(f);
  CHECK(f->at("t") == std::string("\0\xff\xe2\x82\xac", 5));
}
