#pragma once
// Log set-up: one line per event on standard error, as JSON lines or plain text.

#include <string>

namespace cp2::gateway {

/// Sends the default logger to standard error at `level` (trace … error), formatted as
/// `format`: "json" ({"time":…,"level":…,"msg":…} per line) or "text".
void setup_logging(const std::string& level, const std::string& format = "json");

/// `s` escaped for the inside of a JSON string.
std::string json_escape(std::string_view s);

}  // namespace cp2::gateway
