#include "db/transaction.hpp"

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

namespace cp2::db {

void in_transaction(SQLite::Database& db, const std::function<void()>& fn) {
  if (sqlite3_get_autocommit(db.getHandle()) == 0) {
    // Inside a transaction already (a group commit batch): a savepoint makes this unit undo
    // alone when fn throws, even when its caller catches the exception.
    db.exec("SAVEPOINT nested");
    try {
      fn();
    } catch (...) {
      db.exec("ROLLBACK TO nested");
      db.exec("RELEASE nested");
      throw;
    }
    db.exec("RELEASE nested");
    return;
  }
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  fn();
  tx.commit();
}

}  // namespace cp2::db
