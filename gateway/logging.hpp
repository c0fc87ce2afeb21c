#pragma once
// Log set-up: one line per event on standard error.

#include <string>

namespace cp2::gateway {

/// Sends the default logger to standard error at `level` (trace … error).
void setup_logging(const std::string& level);

}  // namespace cp2::gateway
