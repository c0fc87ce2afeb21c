#include "db/statement_cache.hpp"

#include <utility>

namespace cp2::db {

statement_cache::lease::lease(lease&& other) noexcept
    : statement_(other.statement_), in_use_(std::exchange(other.in_use_, nullptr)),
      own_(std::move(other.own_)) {}

statement_cache::lease::~lease() {
  if (!in_use_) return;  // moved from, or a one-off (finalized by own_)
  // tryReset reports the last step's error again; that error was already thrown.
  statement_->tryReset();
  try {
    statement_->clearBindings();  // sqlite3_clear_bindings cannot fail
  } catch (...) {
  }
  *in_use_ = false;
}

statement_cache::lease statement_cache::use(const std::string& sql) {
  auto& e = entries_[sql];
  if (!e.statement) e.statement = std::make_unique<SQLite::Statement>(db_, sql);
  if (e.in_use) {
    auto own = std::make_unique<SQLite::Statement>(db_, sql);
    auto* s = own.get();
    return lease(s, nullptr, std::move(own));
  }
  e.in_use = true;
  return lease(e.statement.get(), &e.in_use, nullptr);
}

}  // namespace cp2::db
