#include "domain/outbox.hpp"

#include <algorithm>

namespace cp2::domain {

unix_ms retry_delay(int attempts, double jitter, unix_ms base, unix_ms cap) {
  unix_ms d = base;
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  return static_cast<unix_ms>(static_cast<double>(d) * std::clamp(jitter, 0.5, 1.5));
}

std::string redact_password(std::string_view body) {
  constexpr std::string_view marker = "Password: ";
  std::string out(body);
  auto at = out.find(marker);
  if (at == std::string::npos) return out;
  auto start = at + marker.size();
  auto end = out.find(' ', start);
  if (end == std::string::npos) end = out.size();
  out.replace(start, end - start, "********");
  return out;
}

}  // namespace cp2::domain
