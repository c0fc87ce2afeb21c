#pragma once
// The schema's history: each migration runs once, in order, in its own transaction.

#include <span>

namespace SQLite {
class Database;
}

namespace cp2::db {

/// One step of the schema. `version` counts from 1 and never changes once released.
struct migration {
  int version;
  const char* name;
  const char* sql;
  /// Data the SQL cannot express (reference lists), run after `sql` in the same transaction.
  void (*load)(SQLite::Database&) = nullptr;
};

/// Every migration, in order; the last one's version is the latest schema version.
std::span<const migration> migrations();

}  // namespace cp2::db
