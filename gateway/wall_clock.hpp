#pragma once
// The real time, for the rules (domain::clock), from the system clock.

#include "domain/clock.hpp"

#include <chrono>

namespace cp2::gateway {

/// Milliseconds since the Unix epoch, as the system clock says now.
class wall_clock final : public domain::clock {
public:
  domain::unix_ms now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace cp2::gateway
