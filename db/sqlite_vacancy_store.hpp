#pragma once
// Vacancies: the import's upsert, the catalog's source, counties, and the operators' listing.

#include "db/statement_cache.hpp"
#include "domain/clock.hpp"
#include "domain/vacancy.hpp"

#include <SQLiteCpp/Database.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cp2::db {

/// What an import did (SPEC 6: `imported` counts new codes, `updated` existing ones).
struct import_counts {
  int imported = 0;
  int updated = 0;
};

/// Filters of GET /api/v1/vacancies; empty strings match anything.
struct vacancy_filter {
  std::string exam, activity, venue, role, county, subcounty;
  std::optional<bool> open;  ///< only open (true) or only not open (false)
  std::string after;         ///< cursor: codes after this one
  int limit = 100;
};

/// One vacancy as operators see it.
struct vacancy_listing {
  domain::vacancy v;
  bool open = false;
  int applications = 0;  ///< submitted and approved
  int approved = 0;
};

/// The vacancies table and the county reference list.
/// Thread safety: one thread at a time (the database thread).
class sqlite_vacancy_store {
public:
  /// Uses `db`, which must outlive the store and be migrated.
  explicit sqlite_vacancy_store(SQLite::Database& db) : db_(db), stmts_(db) {}

  /// Inserts or replaces every vacancy by code, in one transaction.
  import_counts upsert(const std::vector<domain::vacancy>& all, domain::unix_ms now);
  /// A vacancy by code.
  std::optional<domain::vacancy> find(const std::string& code);
  /// A vacancy by code with its approved applications (those whose code is `code` as given),
  /// in one statement.
  std::optional<std::pair<domain::vacancy, int>> find_with_approved(const std::string& code);
  /// Every vacancy (the catalog filters them).
  std::vector<domain::vacancy> all();
  /// Approved applications per vacancy code.
  std::map<std::string, int> approved_counts();
  /// The counties and their sub-counties, in the reference order.
  std::vector<domain::county_entry> counties();
  /// A page of vacancies by code order, with counts, open as of `now`.
  std::vector<vacancy_listing> list(const vacancy_filter& f, domain::unix_ms now);

private:
  SQLite::Database& db_;
  statement_cache stmts_;  // prepared once, reused
};

}  // namespace cp2::db
