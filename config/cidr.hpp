#pragma once
// IPv4 and IPv6 address ranges, for callbacks.allow_from.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cp2::config {

/// An address range such as 196.201.214.0/24 or ::1/128. IPv4 is kept as an IPv4-mapped
/// IPv6 address so one comparison serves both families.
struct cidr {
  std::array<std::uint8_t, 16> address{};
  int prefix = 0;  ///< bits of `address` that must match (0-128)

  /// True when `ip` (an address in text, IPv4 or IPv6, possibly IPv4-mapped) lies in the range.
  bool contains(std::string_view ip) const;
};

/// Parses "a.b.c.d/n", "a.b.c.d" (a /32), "x::y/n" or "x::y" (a /128); nullopt when malformed.
std::optional<cidr> parse_cidr(std::string_view text);

/// Parses one address to its 16-byte form (IPv4 as IPv4-mapped); nullopt when malformed.
std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view text);

}  // namespace cp2::config
