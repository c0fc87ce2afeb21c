#pragma once
// Vacancies for the menus' tests and the USSD fuzzer: at an examination centre, with three
// posts, open around one fixed moment unless told otherwise.

#include "domain/clock.hpp"
#include "domain/vacancy.hpp"

#include <string>
#include <utility>

namespace cp2::testing {

inline constexpr domain::unix_ms day_ms = 86'400'000;
/// The moment the menus' tests and the fuzzer run at: 2026-11-29.
inline constexpr domain::unix_ms menus_now = 1'796'000'000'000;

/// A vacancy at an examination centre, 3 posts, open from a day before menus_now for 30 days
/// unless `opens` and `closes` say otherwise.
inline domain::vacancy centre_vacancy(std::string code, std::string exam, std::string activity,
                                      std::string role, std::string county, std::string subcounty,
                                      std::string station, std::string description,
                                      domain::unix_ms opens = menus_now - day_ms,
                                      domain::unix_ms closes = menus_now + 30 * day_ms) {
  domain::vacancy v;
  v.code = std::move(code);
  v.exam = std::move(exam);
  v.activity = std::move(activity);
  v.venue = "Examination centre";
  v.role = std::move(role);
  v.county = std::move(county);
  v.subcounty = std::move(subcounty);
  v.station = std::move(station);
  v.slots = 3;
  v.description = std::move(description);
  v.opens_at = opens;
  v.closes_at = closes;
  return v;
}

}  // namespace cp2::testing
