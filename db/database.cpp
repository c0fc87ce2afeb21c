#include "db/database.hpp"

#include "db/migrations.hpp"

#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <mutex>

namespace cp2::db {

namespace {

// SQLite keeps allocation statistics by default, taking a process-wide mutex around every
// malloc and free it makes: a fifth of the database thread's time under load (see
// docs/performance.md). Nothing here reads them. This must run before SQLite initialises;
// when something in the process opened a database earlier, SQLite refuses and keeps them.
// The same holds for the statement journals: a SAVEPOINT inside a transaction (each unit of a
// group commit has one) copies every page it changes into a journal, which SQLite moves to a
// temporary file past 64 KiB. A batch of applications passes that at once, and every page then
// cost a write(2): a fifth of the database thread's time. Kept in memory, a unit's journal is
// emptied when the unit's savepoint is released, so it holds only that unit's pages.
void configure_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
  });
}

}  // namespace

int latest_schema_version() { return migrations().back().version; }

std::unique_ptr<SQLite::Database> open_reader(const std::string& path,
                                              std::chrono::milliseconds busy_timeout) {
  configure_sqlite();
  try {
    // Read-write so that it can take part in WAL's shared memory like the writer; query_only
    // makes any change through it an error.
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
    db->setBusyTimeout(static_cast<int>(busy_timeout.count()));
    db->exec("PRAGMA query_only = ON");
    return db;
  } catch (const SQLite::Exception& e) {
    throw database_error(fmt::format("{}: cannot open for reading: {}", path, e.what()));
  }
}

int schema_version(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

std::unique_ptr<SQLite::Database> open_database(const std::string& path,
                                                std::chrono::milliseconds busy_timeout) {
  std::unique_ptr<SQLite::Database> db;
  int app_id = 0, version = 0, objects = 0;
  configure_sqlite();
  try {
    // NOMUTEX: the connection is used by one thread at a time (database.hpp), so SQLite's
    // per-call connection mutex is only cost.
    db = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX);
    db->setBusyTimeout(static_cast<int>(busy_timeout.count()));
    // Reading these touches nothing; a file that is not SQLite fails here.
    app_id = db->execAndGet("PRAGMA application_id").getInt();
    version = db->execAndGet("PRAGMA user_version").getInt();
    objects = db->execAndGet("SELECT count(*) FROM sqlite_schema").getInt();
  } catch (const SQLite::Exception& e) {
    throw database_error(fmt::format("{}: cannot open as a SQLite database: {}", path, e.what()));
  }

  bool fresh = app_id == 0 && version == 0 && objects == 0;
  if (!fresh && app_id != application_id)
    throw database_error(fmt::format(
        "{}: not a CP2 gateway database (application_id {:#x}); it was left untouched", path,
        static_cast<unsigned>(app_id)));
  if (version > latest_schema_version())
    throw database_error(fmt::format(
        "{}: schema version {} is newer than this binary's {}; use a newer cp2-gateway", path,
        version, latest_schema_version()));

  try {
    if (path != ":memory:") db->exec("PRAGMA journal_mode = WAL");
    // FULL: a commit is on disk before we answer, so an acknowledged application survives a
    // power cut, not only a crash of the process.
    db->exec("PRAGMA synchronous = FULL");
    db->exec("PRAGMA foreign_keys = ON");
    for (const auto& m : migrations()) {
      if (m.version <= version) continue;
      SQLite::Transaction tx(*db);
      db->exec(m.sql);
      if (m.load) m.load(*db);
      db->exec(fmt::format("PRAGMA user_version = {}", m.version));
      if (m.version == 1) db->exec(fmt::format("PRAGMA application_id = {}", application_id));
      tx.commit();
    }
  } catch (const std::exception& e) {
    throw database_error(fmt::format("{}: migration failed: {}", path, e.what()));
  }
  return db;
}

}  // namespace cp2::db
