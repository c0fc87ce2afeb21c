#pragma once
// Time as the rules see it: injected, so tests choose the moment.

#include <cstdint>

namespace cp2::domain {

/// Milliseconds since the Unix epoch (UTC).
using unix_ms = std::int64_t;

/// Where the rules read the current time.
class clock {
public:
  virtual ~clock() = default;
  /// The current time.
  virtual unix_ms now() const = 0;
};

/// A clock that stands still until told otherwise: for tests.
class manual_clock final : public clock {
public:
  /// Starts at `start`.
  explicit manual_clock(unix_ms start = 1'767'225'600'000) : now_(start) {}  // 2026-01-01
  unix_ms now() const override { return now_; }
  /// Moves the time forward by `ms`.
  void advance(unix_ms ms) { now_ += ms; }
  /// Sets the time.
  void set(unix_ms t) { now_ = t; }

private:
  unix_ms now_;
};

}  // namespace cp2::domain
