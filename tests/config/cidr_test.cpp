#include "config/cidr.hpp"

#include <doctest/doctest.h>

using cp2::config::parse_cidr;

TEST_CASE("CIDR ranges match IPv4, IPv6 and IPv4-mapped addresses") {
  struct row {
    const char* range;
    const char* ip;
    bool inside;
  };
  const row rows[] = {
      {"196.201.214.0/24", "196.201.214.200", true},
      {"196.201.214.0/24", "196.201.215.1", false},
      {"196.201.214.0/24", "::ffff:196.201.214.9", true},
      {"127.0.0.1/32", "127.0.0.1", true},
      {"127.0.0.1", "127.0.0.2", false},
      {"0.0.0.0/0", "8.8.8.8", true},
      {"::1", "::1", true},
      {"::1/128", "127.0.0.1", false},
      {"2001:db8::/32", "2001:db8:1::5", true},
      {"2001:db8::/32", "2001:db9::5", false},
      {"10.0.0.0/8", "not-an-ip", false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.range);
    CAPTURE(r.ip);
    auto c = parse_cidr(r.range);
    REQUIRE(c);
    CHECK(c->contains(r.ip) == r.inside);
  }
}

TEST_CASE("malformed ranges are refused") {
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0/8", "::1/129", "1.2.3.4/", "1.2.3.4/x",
                          "example.com/24", "1.2.3.4/-1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_cidr(bad));
  }
}
