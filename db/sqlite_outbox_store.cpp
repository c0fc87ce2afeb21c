#include "db/sqlite_outbox_store.hpp"

#include "db/transaction.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <tuple>

namespace cp2::db {

int sqlite_outbox_store::recover_sending(domain::unix_ms now, domain::unix_ms older_than) {
  auto q_lease = stmts_.use("UPDATE outbox SET state = 'queued', next_attempt_at = ?, updated_at = ? "
                            "WHERE state IN ('queued', 'sending') AND state = 'sending' AND updated_at < ?");
  auto& q = *q_lease;
  q.bind(1, static_cast<std::int64_t>(now));
  q.bind(2, static_cast<std::int64_t>(now));
  q.bind(3, static_cast<std::int64_t>(older_than));
  return q.exec();
}

int sqlite_outbox_store::retry_now(domain::unix_ms now) {
  auto q_lease = stmts_.use("UPDATE outbox SET next_attempt_at = ? WHERE state IN ('queued', 'sending') "
                            "AND state = 'queued' AND attempts > 0 AND next_attempt_at > ?");
  auto& q = *q_lease;
  q.bind(1, static_cast<std::int64_t>(now));
  q.bind(2, static_cast<std::int64_t>(now));
  return q.exec();
}

int sqlite_outbox_store::make_due(domain::unix_ms now, domain::unix_ms later_than) {
  auto q = stmts_.use("UPDATE outbox SET next_attempt_at = ? WHERE state IN ('queued', 'sending') "
                      "AND state = 'queued' AND next_attempt_at > ?");
  q->bind(1, static_cast<std::int64_t>(now));
  q->bind(2, static_cast<std::int64_t>(later_than));
  return q->exec();
}

namespace {

// Lowers the connection's sync level to NORMAL for one transaction of its own. In WAL mode its
// commit then skips the fsync and, should the power fail, may be lost, never corrupt: the next
// FULL commit syncs it with its own, and checkpoints still sync. Only for changes whose loss is
// harmless. Inside an open transaction (a batch) it changes nothing.
class unsynced_commit {
public:
  explicit unsynced_commit(SQLite::Database& db) : db_(db) {
    if (sqlite3_get_autocommit(db_.getHandle()) == 0) return;
    previous_ = db_.execAndGet("PRAGMA synchronous").getInt();
    db_.exec("PRAGMA synchronous = NORMAL");
  }
  ~unsynced_commit() {
    if (previous_ < 0) return;
    try {
      db_.exec(fmt::format("PRAGMA synchronous = {}", previous_));
    } catch (...) {
    }
  }
  unsynced_commit(const unsynced_commit&) = delete;
  unsynced_commit& operator=(const unsynced_commit&) = delete;

private:
  SQLite::Database& db_;
  int previous_ = -1;
};

}  // namespace

std::vector<domain::outbox_row> sqlite_outbox_store::claim_due(domain::unix_ms now, int limit) {
  std::vector<domain::outbox_row> rows;
  // A claim need not survive a crash: at start every 'sending' row is queued again. So the
  // sender's claims, which it waits for before sending, do not wait for the disk.
  unsynced_commit unsynced(db_);
  in_transaction(db_, stmts_, [&] {
    auto q_lease = stmts_.use(R"sql(
SELECT id, phone, body, sensitive, kind, link_id, attempts, created_at
FROM outbox o INDEXED BY outbox_queued
WHERE state = 'queued' AND next_attempt_at <= ?
  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.phone = o.phone AND p.id < o.id
                  AND p.state IN ('queued', 'sending'))
ORDER BY id LIMIT ?)sql");
    auto& q = *q_lease;
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
    auto mark_lease = stmts_.use("UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                                 "updated_at = ? WHERE id = ?");
    auto& mark = *mark_lease;
    for (const auto& r : rows) {
      mark.bind(1, static_cast<std::int64_t>(now));
      mark.bind(2, static_cast<std::int64_t>(r.id));
      mark.exec();
      mark.reset();
    }
  });
  return rows;
}

void sqlite_outbox_store::unclaim(const std::vector<std::int64_t>& ids, domain::unix_ms now) {
  in_transaction(db_, stmts_, [&] {
    auto q_lease = stmts_.use("UPDATE outbox SET state = 'queued', attempts = attempts - 1, updated_at = ? "
                              "WHERE id = ? AND state = 'sending'");
    auto& q = *q_lease;
    for (auto id : ids) {
      q.bind(1, static_cast<std::int64_t>(now));
      q.bind(2, static_cast<std::int64_t>(id));
      q.exec();
      q.reset();
    }
  });
}

void sqlite_outbox_store::redact_if_sensitive(std::int64_t id) {
  auto q_lease = stmts_.use("SELECT body FROM outbox WHERE id = ? AND sensitive = 1");
  auto& q = *q_lease;
  q.bind(1, static_cast<std::int64_t>(id));
  if (!q.executeStep()) return;
  auto u_lease = stmts_.use("UPDATE outbox SET body = ? WHERE id = ?");
  auto& u = *u_lease;
  u.bind(1, domain::redact_password(q.getColumn(0).getString()));
  u.bind(2, static_cast<std::int64_t>(id));
  u.exec();
}

void sqlite_outbox_store::mark_accepted(const std::vector<domain::acceptance>& rows,
                                        domain::unix_ms now) {
  if (rows.empty()) return;
  in_transaction(db_, stmts_, [&] {
    auto q_lease = stmts_.use("UPDATE outbox SET state = 'accepted', provider_message_id = NULLIF(?, ''), "
                              "cost = ?, last_error = '', updated_at = ? WHERE id = ?");
    auto& q = *q_lease;
    for (const auto& row : rows) {
      q.bind(1, row.message_id);
      q.bind(2, row.cost);
      q.bind(3, static_cast<std::int64_t>(now));
      q.bind(4, static_cast<std::int64_t>(row.id));
      q.exec();
      q.reset();
      redact_if_sensitive(row.id);
      if (!row.message_id.empty()) apply_waiting_reports(row.message_id, now);
    }
  });
}

void sqlite_outbox_store::mark_retry(std::int64_t id, domain::unix_ms next_attempt,
                                     const std::string& error, domain::unix_ms now) {
  auto q_lease = stmts_.use("UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = ?, "
                            "updated_at = ? WHERE id = ? AND state = 'sending'");
  auto& q = *q_lease;
  q.bind(1, static_cast<std::int64_t>(next_attempt));
  q.bind(2, error);
  q.bind(3, static_cast<std::int64_t>(now));
  q.bind(4, static_cast<std::int64_t>(id));
  q.exec();
}

void sqlite_outbox_store::mark_failed(std::int64_t id, const std::string& error, domain::unix_ms now) {
  in_transaction(db_, stmts_, [&] {
    auto q_lease = stmts_.use("UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ?");
    auto& q = *q_lease;
    q.bind(1, error);
    q.bind(2, static_cast<std::int64_t>(now));
    q.bind(3, static_cast<std::int64_t>(id));
    q.exec();
    redact_if_sensitive(id);
  });
}

std::pair<int, std::optional<domain::unix_ms>> sqlite_outbox_store::backlog() {
  auto q_lease = stmts_.use("SELECT count(*), min(created_at) FROM outbox WHERE state IN ('queued', 'sending')");
  auto& q = *q_lease;
  q.executeStep();
  std::optional<domain::unix_ms> oldest;
  if (!q.getColumn(1).isNull()) oldest = q.getColumn(1).getInt64();
  return {q.getColumn(0).getInt(), oldest};
}

std::optional<domain::unix_ms> sqlite_outbox_store::next_due() {
  auto q_lease = stmts_.use("SELECT min(next_attempt_at) FROM outbox "
                            "WHERE state IN ('queued', 'sending') AND state = 'queued'");
  auto& q = *q_lease;
  q.executeStep();
  if (q.getColumn(0).isNull()) return std::nullopt;
  return q.getColumn(0).getInt64();
}

namespace {

const char* state_name(domain::delivery d) {
  switch (d) {
    case domain::delivery::sent: return "sent";
    case domain::delivery::delivered: return "delivered";
    case domain::delivery::failed: return "failed";
  }
  return "sent";
}

}  // namespace

bool sqlite_outbox_store::update_delivery(const std::string& message_id, domain::delivery state,
                                          const std::string& status,
                                          const std::string& failure_reason, domain::unix_ms now) {
  auto find_lease = stmts_.use("SELECT id, state FROM outbox WHERE provider_message_id = ?");
  auto& find = *find_lease;
  find.bind(1, message_id);
  if (!find.executeStep()) return false;
  auto id = find.getColumn(0).getInt64();
  auto current = find.getColumn(1).getString();
  // Forward only: a late "Sent" never undoes "Success", and a final state stays.
  bool final_now = current == "delivered" || current == "failed";
  bool backwards = state == domain::delivery::sent && current == "sent";
  if (final_now || backwards) return true;
  auto u_lease = stmts_.use("UPDATE outbox SET state = ?, delivery_status = ?, failure_reason = ?, "
                            "updated_at = ? WHERE id = ?");
  auto& u = *u_lease;
  u.bind(1, state_name(state));
  u.bind(2, status);
  u.bind(3, failure_reason);
  u.bind(4, static_cast<std::int64_t>(now));
  u.bind(5, static_cast<std::int64_t>(id));
  u.exec();
  return true;
}

void sqlite_outbox_store::apply_waiting_reports(const std::string& message_id, domain::unix_ms now) {
  auto q_lease = stmts_.use("SELECT id, state, status, failure_reason FROM delivery_reports "
                            "WHERE provider_message_id = ? AND applied = 0 ORDER BY id");
  auto& q = *q_lease;
  q.bind(1, message_id);
  std::vector<std::tuple<std::int64_t, std::string, std::string, std::string>> waiting;
  while (q.executeStep())
    waiting.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                         q.getColumn(2).getString(), q.getColumn(3).getString());
  for (const auto& [report_id, state, status, reason] : waiting) {
    auto d = state == "delivered" ? domain::delivery::delivered
             : state == "failed"  ? domain::delivery::failed
                                  : domain::delivery::sent;
    update_delivery(message_id, d, status, reason, now);
    auto done_lease = stmts_.use("UPDATE delivery_reports SET applied = 1 WHERE id = ?");
    auto& done = *done_lease;
    done.bind(1, static_cast<std::int64_t>(report_id));
    done.exec();
  }
}

domain::report_result sqlite_outbox_store::apply_delivery_report(
    const std::string& message_id, domain::delivery state, const std::string& status,
    const std::string& failure_reason, domain::unix_ms now) {
  bool applied = false;
  in_transaction(db_, stmts_, [&] {
    applied = update_delivery(message_id, state, status, failure_reason, now);
    auto q_lease = stmts_.use("INSERT INTO delivery_reports (provider_message_id, state, status, "
                              "failure_reason, received_at, applied) VALUES (?, ?, ?, ?, ?, ?)");
    auto& q = *q_lease;
    q.bind(1, message_id);
    q.bind(2, state_name(state));
    q.bind(3, status);
    q.bind(4, failure_reason);
    q.bind(5, static_cast<std::int64_t>(now));
    q.bind(6, applied ? 1 : 0);
    q.exec();
  });
  return applied ? domain::report_result::applied : domain::report_result::kept;
}

}  // namespace cp2::db
