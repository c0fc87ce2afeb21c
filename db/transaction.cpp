#include "db/transaction.hpp"

#include <sqlite3.h>

#include <string>

namespace cp2::db {
namespace {

// Runs one of the transaction's fixed statements: prepared once when there is a cache,
// prepared and finalized each time without one.
void run(SQLite::Database& db, statement_cache* stmts, const std::string& sql) {
  if (stmts) stmts->use(sql)->exec();
  else db.exec(sql);
}

void in_transaction(SQLite::Database& db, statement_cache* stmts, const std::function<void()>& fn) {
  if (sqlite3_get_autocommit(db.getHandle()) == 0) {
    // Inside a transaction already (a group commit batch): a savepoint makes this unit undo
    // alone when fn throws, even when its caller catches the exception.
    run(db, stmts, "SAVEPOINT nested");
    try {
      fn();
    } catch (...) {
      run(db, stmts, "ROLLBACK TO nested");
      run(db, stmts, "RELEASE nested");
      throw;
    }
    run(db, stmts, "RELEASE nested");
    return;
  }
  run(db, stmts, "BEGIN IMMEDIATE");
  try {
    fn();
    run(db, stmts, "COMMIT");
  } catch (...) {
    // fn threw, or COMMIT failed and may have left the transaction open (SQLITE_BUSY does).
    if (sqlite3_get_autocommit(db.getHandle()) == 0) {
      try {
        run(db, stmts, "ROLLBACK");
      } catch (...) {
        // The error to report is the first one.
      }
    }
    throw;
  }
}

}  // namespace

void in_transaction(SQLite::Database& db, const std::function<void()>& fn) {
  in_transaction(db, nullptr, fn);
}

void in_transaction(SQLite::Database& db, statement_cache& stmts, const std::function<void()>& fn) {
  in_transaction(db, &stmts, fn);
}

}  // namespace cp2::db
