#include "domain/applications.hpp"
#include "domain/password.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace {

// Hands out the given values in turn and records the bounds asked for.
class scripted_random : public cp2::domain::random_source {
public:
  explicit scripted_random(std::vector<std::uint32_t> values) : values_(std::move(values)) {}
  std::uint32_t uniform(std::uint32_t upper) override {
    bounds.push_back(upper);
    auto v = values_.at(next_++ % values_.size());
    REQUIRE(v < upper);
    return v;
  }
  std::vector<std::uint32_t> bounds;

private:
  std::vector<std::uint32_t> values_;
  std::size_t next_ = 0;
};

}  // namespace

TEST_CASE("application reference: six characters from one draw of 30 bits, lowest bits first") {
  // Characters 0, 1, 2, 31, 30, 24 of ABCDEFGHJKLMNPQRSTUVWXYZ23456789.
  std::uint32_t bits = 0u | 1u << 5 | 2u << 10 | 31u << 15 | 30u << 20 | 24u << 25;
  scripted_random random({bits});
  CHECK(cp2::domain::make_reference(random) == "CP2-ABC982");
  CHECK(random.bounds == std::vector<std::uint32_t>{1u << 30});
}

TEST_CASE("application reference: every character can appear in every position") {
  // An LCG's values below 2^30 walk the whole range; 4,000 draws reach each of the 32
  // characters in each of the 6 positions.
  struct lcg : cp2::domain::random_source {
    std::uint32_t x = 12345;
    std::uint32_t uniform(std::uint32_t upper) override { return (x = x * 1664525u + 1013904223u) % upper; }
  } random;
  std::vector<std::set<char>> seen(6);
  for (int i = 0; i < 4000; ++i) {
    auto ref = cp2::domain::make_reference(random);
    REQUIRE(ref.size() == 10);
    REQUIRE(ref.substr(0, 4) == "CP2-");
    for (int p = 0; p < 6; ++p) seen[p].insert(ref[4 + p]);
  }
  for (int p = 0; p < 6; ++p) {
    CAPTURE(p);
    CHECK(seen[p].size() == 32);
    CHECK(seen[p].count('I') == 0);
    CHECK(seen[p].count('O') == 0);
    CHECK(seen[p].count('0') == 0);
    CHECK(seen[p].count('1') == 0);
  }
}
