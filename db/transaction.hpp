#pragma once
// One transaction for a unit of work, joining the one already open on the connection.

#include "db/statement_cache.hpp"

#include <SQLiteCpp/Database.h>

#include <functional>

namespace cp2::db {

/// Runs `fn` in an IMMEDIATE transaction, committed when fn returns and rolled back when it
/// throws; when the connection is already inside a transaction, fn joins it.
/// IMMEDIATE takes the write lock at the start, so a read-then-write inside cannot fail half-way
/// with SQLITE_BUSY when another process writes. Inside an open transaction fn runs in a
/// savepoint, so its changes are undone when it throws and the outer transaction goes on.
void in_transaction(SQLite::Database& db, const std::function<void()>& fn);

/// The same, with the transaction's statements (BEGIN, SAVEPOINT...) prepared once in `stmts`,
/// a cache on `db`: for work run thousands of times a second, such as applying in the writer.
void in_transaction(SQLite::Database& db, statement_cache& stmts, const std::function<void()>& fn);

}  // namespace cp2::db
