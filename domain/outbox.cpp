#include "domain/outbox.hpp"

#include <algorithm>

namespace cp2::domain {

namespace {
constexpr double least_jitter = 0.5, most_jitter = 1.5;  // what retry_delay accepts of `jitter`
}  // namespace

unix_ms retry_delay(int attempts, double jitter, unix_ms base, unix_ms cap) {
  unix_ms d = base;
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  return static_cast<unix_ms>(static_cast<double>(d) * std::clamp(jitter, least_jitter, most_jitter));
}

unix_ms longest_retry_delay(unix_ms cap) {
  return static_cast<unix_ms>(static_cast<double>(cap) * most_jitter);
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
