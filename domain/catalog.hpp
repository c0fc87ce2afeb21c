#pragma once
// The open vacancies as the USSD menus walk them (SPEC 4.5): exam → activity → venue → role →
// county → sub-county → vacancies. Built once from the database after each import and as
// vacancies open, close or fill; a menu step only reads it.

#include "domain/clock.hpp"
#include "domain/vacancy.hpp"

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cp2::domain {

/// How many levels a path through the menus has before the vacancies themselves.
inline constexpr std::size_t catalog_depth = 6;

/// A path of choices so far: exam, activity, venue, role, county, sub-county (a prefix).
using catalog_path = std::vector<std::string>;

/// An immutable index of the vacancies open at one moment.
/// Thread safety: const after construction; share it through std::shared_ptr<const catalog>.
class catalog {
public:
  /// Indexes the vacancies of `all` that are open at `now`: opened, not closed, and with fewer
  /// than `slots` approved applications (`approved` by code; absent means none).
  catalog(std::vector<vacancy> all, const std::map<std::string, int>& approved, unix_ms now);

  /// An empty catalog.
  catalog() = default;

  /// The choices at the level after `path` (sorted, each leading to an open vacancy). Empty
  /// when the path leads nowhere or is already full length.
  std::vector<std::string> choices(const catalog_path& path) const;

  /// The open vacancies at the end of a full path (six choices), sorted by station then code.
  std::vector<const vacancy*> vacancies(const catalog_path& path) const;

  /// An open vacancy by code.
  const vacancy* find(const std::string& code) const;

  /// How many vacancies are open.
  std::size_t size() const { return open_.size(); }

  /// The earliest moment after `now` at which a vacancy opens or closes (the catalog must be
  /// rebuilt then), if any.
  std::optional<unix_ms> next_change() const { return next_change_; }

  /// When it was built.
  unix_ms built_at() const { return built_at_; }

private:
  struct node {
    std::map<std::string, node> children;
    std::vector<std::size_t> items;  // indexes into open_, at full depth only
  };
  const node* walk(const catalog_path& path) const;

  std::vector<vacancy> open_;
  std::map<std::string, std::size_t> by_code_;
  node root_;
  std::optional<unix_ms> next_change_;
  unix_ms built_at_ = 0;
};

/// The six menu levels of a vacancy, in order.
std::array<std::string, catalog_depth> catalog_levels(const vacancy& v);

}  // namespace cp2::domain
