#include "gateway/router.hpp"

#include <doctest/doctest.h>

using namespace cp2::gateway;

namespace {
boost::asio::awaitable<http_response> nothing(http_request&) { co_return http_response{}; }
}  // namespace

TEST_CASE("routes match exact paths and {name} segments") {
  router r;
  r.add("POST", "/callbacks/ussd", nothing);
  r.add("GET", "/api/v1/accounts/{phone}/profile", nothing);
  r.add("PUT", "/api/v1/accounts/{phone}/profile", nothing);

  auto m = r.find("POST", "/callbacks/ussd");
  REQUIRE(m.found);
  CHECK(m.found->pattern == "/callbacks/ussd");

  m = r.find("PUT", "/api/v1/accounts/254712345678/profile");
  REQUIRE(m.found);
  CHECK(m.params.at("phone") == "254712345678");

  m = r.find("DELETE", "/api/v1/accounts/254712345678/profile");
  CHECK_FALSE(m.found);
  CHECK(m.path_known);
  CHECK(m.allow == "GET, PUT");

  for (const char* unknown : {"/callbacks/ussd/", "/callbacks", "/api/v1/accounts//profile",
                              "/api/v1/accounts/1/profile/x", "/", "/callbacks/ussdx"}) {
    CAPTURE(unknown);
    auto u = r.find("POST", unknown);
    CHECK_FALSE(u.found);
    CHECK_FALSE(u.path_known);
  }
}
