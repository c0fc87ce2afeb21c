#pragma once
// domain::outbox_store on SQLite.

#include "db/statement_cache.hpp"
#include "domain/outbox.hpp"

#include <SQLiteCpp/Database.h>

namespace cp2::db {

/// The outbox table.
/// Thread safety: one thread at a time (the database thread).
class sqlite_outbox_store final : public domain::outbox_store {
public:
  /// Uses `db`, which must outlive the store and be migrated.
  explicit sqlite_outbox_store(SQLite::Database& db) : db_(db), stmts_(db) {}

  int recover_sending(domain::unix_ms now, domain::unix_ms older_than) override;
  int retry_now(domain::unix_ms now) override;
  int make_due(domain::unix_ms now, domain::unix_ms later_than) override;
  std::vector<domain::outbox_row> claim_due(domain::unix_ms now, int limit) override;
  void unclaim(const std::vector<std::int64_t>& ids, domain::unix_ms now) override;
  using domain::outbox_store::mark_accepted;
  void mark_accepted(const std::vector<domain::acceptance>& rows, domain::unix_ms now) override;
  void mark_retry(std::int64_t id, domain::unix_ms next_attempt, const std::string& error,
                  domain::unix_ms now) override;
  void mark_failed(std::int64_t id, const std::string& error, domain::unix_ms now) override;
  std::optional<domain::unix_ms> next_due() override;
  std::pair<int, std::optional<domain::unix_ms>> backlog() override;
  domain::report_result apply_delivery_report(const std::string& message_id,
                                              domain::delivery state, const std::string& status,
                                              const std::string& failure_reason,
                                              domain::unix_ms now) override;

private:
  void redact_if_sensitive(std::int64_t id);
  bool update_delivery(const std::string& message_id, domain::delivery state,
                       const std::string& status, const std::string& failure_reason,
                       domain::unix_ms now);
  void apply_waiting_reports(const std::string& message_id, domain::unix_ms now);
  SQLite::Database& db_;
  statement_cache stmts_;  // prepared once, reused
};

}  // namespace cp2::db
