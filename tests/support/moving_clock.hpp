#pragma once
// A wall clock that a test moves (forward, back, in jumps) while the code under test reads it
// from its own threads.

#include "domain/clock.hpp"

#include <atomic>

namespace cp2::testing {

/// domain::manual_clock, safe to set from one thread while others read it.
class moving_clock final : public domain::clock {
public:
  explicit moving_clock(domain::unix_ms start) : now_(start) {}
  domain::unix_ms now() const override { return now_.load(); }
  void set(domain::unix_ms t) { now_.store(t); }

private:
  std::atomic<domain::unix_ms> now_;
};

}  // namespace cp2::testing
