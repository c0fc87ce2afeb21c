#include "gateway/expiring_map.hpp"

#include <doctest/doctest.h>

using cp2::gateway::expiring_map;
using namespace std::chrono_literals;

TEST_CASE("expiring map: an entry lives ttl after it was last stored") {
  expiring_map<int> m(100ms, 10);
  auto t0 = expiring_map<int>::clock::now();
  m.put("a", 1, t0);
  m.put("b", 2, t0 + 50ms);
  REQUIRE(m.find("a", t0 + 99ms) != nullptr);
  CHECK(*m.find("a", t0 + 99ms) == 1);
  CHECK(m.find("a", t0 + 100ms) == nullptr);  // expired, and dropped
  CHECK(m.size() == 1);
  m.put("b", 3, t0 + 120ms);                  // stored again: lives on
  CHECK(m.find("b", t0 + 200ms) != nullptr);
  CHECK(*m.find("b", t0 + 200ms) == 3);
  CHECK(m.find("b", t0 + 220ms) == nullptr);
  CHECK(m.size() == 0);
}

TEST_CASE("expiring map: past max_entries the least recently stored goes first") {
  expiring_map<int> m(1h, 3);
  auto t0 = expiring_map<int>::clock::now();
  m.put("a", 1, t0);
  m.put("b", 2, t0);
  m.put("c", 3, t0);
  m.put("a", 4, t0);  // refreshed: now the newest
  m.put("d", 5, t0);  // one too many: b is the oldest
  CHECK(m.size() == 3);
  CHECK(m.find("b", t0) == nullptr);
  CHECK(*m.find("a", t0) == 4);
  CHECK(*m.find("c", t0) == 3);
  CHECK(*m.find("d", t0) == 5);
  m.erase("c");
  m.erase("missing");
  CHECK(m.size() == 2);
  for (int i = 0; i < 10'000; ++i) m.put("k" + std::to_string(i), i, t0);  // through rehashes
  CHECK(m.size() == 3);
  CHECK(*m.find("k9999", t0) == 9999);
}
