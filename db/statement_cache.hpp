#pragma once
// Prepared statements kept for reuse: preparing costs more than running most of our queries.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace cp2::db {

/// A store's prepared statements, by SQL text. A statement is lent out and, when the lease
/// ends, reset and its bindings cleared, so it holds no lock and leaks no value into its next
/// use. A statement already lent (a query run while iterating the same query) is prepared
/// afresh for the nested use.
/// Thread safety: as the connection: one thread at a time. Must not outlive the connection.
class statement_cache {
public:
  explicit statement_cache(SQLite::Database& db) : db_(db) {}
  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  /// A prepared statement for the time of one query.
  class lease {
  public:
    SQLite::Statement& operator*() const { return *statement_; }
    SQLite::Statement* operator->() const { return statement_; }
    lease(lease&& other) noexcept;
    lease& operator=(lease&&) = delete;
    ~lease();

  private:
    friend class statement_cache;
    lease(SQLite::Statement* s, bool* in_use, std::unique_ptr<SQLite::Statement> own)
        : statement_(s), in_use_(in_use), own_(std::move(own)) {}
    SQLite::Statement* statement_;
    bool* in_use_;                            // the cache's flag; null for a one-off
    std::unique_ptr<SQLite::Statement> own_;  // a one-off, finalized with the lease
  };

  /// The statement for `sql`, prepared on first use. Throws SQLite::Exception for bad SQL.
  lease use(const std::string& sql);

private:
  struct entry {
    std::unique_ptr<SQLite::Statement> statement;
    bool in_use = false;
  };
  SQLite::Database& db_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace cp2::db
