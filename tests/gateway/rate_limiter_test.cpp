#include "gateway/rate_limiter.hpp"

#include <doctest/doctest.h>

using cp2::gateway::rate_limiter;
using namespace std::chrono_literals;

TEST_CASE("a fixed window: the limit, one logged refusal, then a fresh window") {
  rate_limiter limiter(3, 60s);
  auto t0 = rate_limiter::clock::now();
  for (int i = 0; i < 3; ++i) CHECK(limiter.hit("254712345678", t0) == rate_limiter::verdict::allowed);
  CHECK(limiter.over("254712345678", t0));
  CHECK(limiter.hit("254712345678", t0 + 1s) == rate_limiter::verdict::refused_first);
  CHECK(limiter.hit("254712345678", t0 + 2s) == rate_limiter::verdict::refused);
  CHECK(limiter.hit("254799999999", t0 + 2s) == rate_limiter::verdict::allowed);  // keys apart
  CHECK(limiter.hit("254712345678", t0 + 61s) == rate_limiter::verdict::allowed);
  CHECK_FALSE(limiter.over("254712345678", t0 + 61s));
}
