#include "db/sqlite_outbox_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace cp2::db {

int sqlite_outbox_store::recover_sending(domain::unix_ms now) {
  SQLite::Statement q(db_, "UPDATE outbox SET state = 'queued', updated_at = ? WHERE state = 'sending'");
  q.bind(1, static_cast<std::int64_t>(now));
  return q.exec();
}

std::vector<domain::outbox_row> sqlite_outbox_store::claim_due(domain::unix_ms now, int limit) {
  std::vector<domain::outbox_row> rows;
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement q(db_, R"sql(
SELECT id, phone, body, sensitive, kind, link_id, attempts, created_at FROM outbox o
WHERE state = 'queued' AND next_attempt_at <= ?
  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.phone = o.phone AND p.id < o.id
                  AND p.state IN ('queued', 'sending'))
ORDER BY id LIMIT ?)sql");
  q.bind(1, static_cast<std::int64_t>(now));
  q.bind(2, limit);
  while (q.executeStep()) {
    domain::outbox_row r;
    r.id = q.getColumn(0).getInt64();
    r.phone = q.getColumn(1).getString();
    r.body = q.getColumn(2).getString();
    r.sensitive = q.getColumn(3).getInt() != 0;
    r.kind = q.getColumn(4).getString();
    r.link_id = q.getColumn(5).getString();
    r.attempts = q.getColumn(6).getInt() + 1;
    r.created_at = q.getColumn(7).getInt64();
    rows.push_back(std::move(r));
  }
  SQLite::Statement mark(db_,
                         "UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                         "updated_at = ? WHERE id = ?");
  for (const auto& r : rows) {
    mark.bind(1, static_cast<std::int64_t>(now));
    mark.bind(2, static_cast<std::int64_t>(r.id));
    mark.exec();
    mark.reset();
  }
  tx.commit();
  return rows;
}

void sqlite_outbox_store::redact_if_sensitive(std::int64_t id) {
  SQLite::Statement q(db_, "SELECT body FROM outbox WHERE id = ? AND sensitive = 1");
  q.bind(1, static_cast<std::int64_t>(id));
  if (!q.executeStep()) return;
  SQLite::Statement u(db_, "UPDATE outbox SET body = ? WHERE id = ?");
  u.bind(1, domain::redact_password(q.getColumn(0).getString()));
  u.bind(2, static_cast<std::int64_t>(id));
  u.exec();
}

void sqlite_outbox_store::mark_accepted(std::int64_t id, const std::string& message_id,
                                        const std::string& cost, domain::unix_ms now) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement q(db_,
                      "UPDATE outbox SET state = 'accepted', provider_message_id = NULLIF(?, ''), "
                      "cost = ?, last_error = '', updated_at = ? WHERE id = ?");
  q.bind(1, message_id);
  q.bind(2, cost);
  q.bind(3, static_cast<std::int64_t>(now));
  q.bind(4, static_cast<std::int64_t>(id));
  q.exec();
  redact_if_sensitive(id);
  tx.commit();
}

void sqlite_outbox_store::mark_retry(std::int64_t id, domain::unix_ms next_attempt,
                                     const std::string& error, domain::unix_ms now) {
  SQLite::Statement q(db_,
                      "UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = ?, "
                      "updated_at = ? WHERE id = ? AND state = 'sending'");
  q.bind(1, static_cast<std::int64_t>(next_attempt));
  q.bind(2, error);
  q.bind(3, static_cast<std::int64_t>(now));
  q.bind(4, static_cast<std::int64_t>(id));
  q.exec();
}

void sqlite_outbox_store::mark_failed(std::int64_t id, const std::string& error, domain::unix_ms now) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement q(db_,
                      "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ?");
  q.bind(1, error);
  q.bind(2, static_cast<std::int64_t>(now));
  q.bind(3, static_cast<std::int64_t>(id));
  q.exec();
  redact_if_sensitive(id);
  tx.commit();
}

std::optional<domain::unix_ms> sqlite_outbox_store::next_due() {
  SQLite::Statement q(db_, "SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'");
  q.executeStep();
  if (q.getColumn(0).isNull()) return std::nullopt;
  return q.getColumn(0).getInt64();
}

}  // namespace cp2::db
