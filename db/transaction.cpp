#include "db/transaction.hpp"

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

namespace cp2::db {

void in_transaction(SQLite::Database& db, const std::function<void()>& fn) {
  if (sqlite3_get_autocommit(db.getHandle()) == 0) {
    fn();
    return;
  }
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  fn();
  tx.commit();
}

}  // namespace cp2::db
