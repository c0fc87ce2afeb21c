#include "config/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace cp2::config {

std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view text) {
  std::string s(text);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&v4.s_addr);
    for (int i = 0; i < 4; ++i) out[12 + i] = b[i];
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    for (int i = 0; i < 16; ++i) out[i] = v6.s6_addr[i];
    return out;
  }
  return std::nullopt;
}

std::optional<cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto addr = parse_ip(text.substr(0, slash));
  if (!addr) return std::nullopt;
  bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  int max_bits = v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    auto num = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), bits);
    if (num.empty() || ec != std::errc{} || p != num.data() + num.size() || bits < 0 ||
        bits > max_bits)
      return std::nullopt;
  }
  cidr c;
  c.address = *addr;
  c.prefix = v4 ? bits + 96 : bits;
  return c;
}

bool cidr::contains(std::string_view ip) const {
  auto a = parse_ip(ip);
  if (!a) return false;
  int bits = prefix;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if (((*a)[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

}  // namespace cp2::config
