#pragma once
// Opening the gateway's SQLite database: identity checks, pragmas and migrations.

#include <SQLiteCpp/Database.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace cp2::db {

/// The database cannot be used: not a CP2 database, migrated by a newer binary, unreadable.
/// what() is one line for the operator.
class database_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The value of PRAGMA application_id in every CP2 database ("CP2G").
inline constexpr int application_id = 0x43503247;

/// Opens (creating when missing) the database at `path` (":memory:" for tests), checks that it
/// is a CP2 database no newer than this binary, and only then turns on WAL, foreign keys and
/// the busy timeout and applies pending migrations. A file that fails the checks is left
/// exactly as it was. Throws database_error.
/// Thread safety: the returned connection must be used by one thread at a time.
std::unique_ptr<SQLite::Database> open_database(const std::string& path,
                                                std::chrono::milliseconds busy_timeout);

/// A second connection to the database at `path`, which open_database has already opened and
/// migrated, for reads only (`PRAGMA query_only`): in WAL mode it reads beside the writer and
/// never waits for the writer's commits to reach the disk. Not for ":memory:", which would be
/// another, empty database. Throws database_error.
/// Thread safety: the returned connection must be used by one thread at a time.
std::unique_ptr<SQLite::Database> open_reader(const std::string& path,
                                              std::chrono::milliseconds busy_timeout);

/// The schema version this binary migrates to.
int latest_schema_version();

/// The schema version of an open database (PRAGMA user_version).
int schema_version(SQLite::Database& db);

}  // namespace cp2::db
