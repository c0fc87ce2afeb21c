#include "db/sqlite_account_store.hpp"

#include "db/transaction.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace cp2::db {

void sqlite_account_store::in_transaction(const std::function<void()>& fn) {
  db::in_transaction(db_, stmts_, fn);
}

std::optional<domain::account_record> sqlite_account_store::find_account(const std::string& phone) {
  auto q_lease = stmts_.use("SELECT phone, username, password_hash, failed_logins, locked_until "
                            "FROM accounts WHERE phone = ?");
  auto& q = *q_lease;
  q.bind(1, phone);
  if (!q.executeStep()) return std::nullopt;
  domain::account_record a;
  a.phone = q.getColumn(0).getString();
  a.username = q.getColumn(1).getString();
  a.password_hash = q.getColumn(2).getString();
  a.failed_logins = q.getColumn(3).getInt();
  a.locked_until = q.getColumn(4).getInt64();
  return a;
}

void sqlite_account_store::insert_account(const domain::account_record& a, domain::unix_ms now) {
  auto q_lease = stmts_.use("INSERT INTO accounts (phone, username, password_hash, created_at, "
                            "password_changed_at, failed_logins, locked_until) VALUES (?, ?, ?, ?, ?, ?, ?)");
  auto& q = *q_lease;
  q.bind(1, a.phone);
  q.bind(2, a.username);
  q.bind(3, a.password_hash);
  q.bind(4, static_cast<std::int64_t>(now));
  q.bind(5, static_cast<std::int64_t>(now));
  q.bind(6, a.failed_logins);
  q.bind(7, static_cast<std::int64_t>(a.locked_until));
  q.exec();
}

void sqlite_account_store::update_password(const std::string& phone, const std::string& hash,
                                           domain::unix_ms now) {
  auto q_lease = stmts_.use("UPDATE accounts SET password_hash = ?, password_changed_at = ?, "
                            "failed_logins = 0, locked_until = 0 WHERE phone = ?");
  auto& q = *q_lease;
  q.bind(1, hash);
  q.bind(2, static_cast<std::int64_t>(now));
  q.bind(3, phone);
  q.exec();
}

void sqlite_account_store::update_login_state(const std::string& phone, int failed_logins,
                                              domain::unix_ms locked_until) {
  auto q_lease = stmts_.use("UPDATE accounts SET failed_logins = ?, locked_until = ? WHERE phone = ?");
  auto& q = *q_lease;
  q.bind(1, failed_logins);
  q.bind(2, static_cast<std::int64_t>(locked_until));
  q.bind(3, phone);
  q.exec();
}

int sqlite_account_store::count_events(const std::string& phone, std::string_view kind,
                                       domain::unix_ms since) {
  auto q_lease = stmts_.use("SELECT count(*) FROM limit_events WHERE phone = ? AND kind = ? AND at >= ?");
  auto& q = *q_lease;
  q.bind(1, phone);
  q.bind(2, std::string(kind));
  q.bind(3, static_cast<std::int64_t>(since));
  q.executeStep();
  return q.getColumn(0).getInt();
}

void sqlite_account_store::add_event(const std::string& phone, std::string_view kind,
                                     domain::unix_ms at) {
  auto q_lease = stmts_.use("INSERT INTO limit_events (phone, kind, at) VALUES (?, ?, ?)");
  auto& q = *q_lease;
  q.bind(1, phone);
  q.bind(2, std::string(kind));
  q.bind(3, static_cast<std::int64_t>(at));
  q.exec();
}

void sqlite_account_store::enqueue_sms(const domain::outbound_sms& sms, domain::unix_ms now) {
  auto q_lease = stmts_.use("INSERT INTO outbox (phone, body, sensitive, kind, link_id, state, "
                            "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)");
  auto& q = *q_lease;
  q.bind(1, sms.phone);
  q.bind(2, sms.body);
  q.bind(3, sms.sensitive ? 1 : 0);
  q.bind(4, std::string(domain::to_string(sms.kind)));
  q.bind(5, sms.link_id);
  q.bind(6, static_cast<std::int64_t>(now));
  q.bind(7, static_cast<std::int64_t>(now));
  q.bind(8, static_cast<std::int64_t>(now));
  q.exec();
}

bool sqlite_account_store::inbound_seen(const std::string& id) {
  auto q_lease = stmts_.use("SELECT 1 FROM inbound_sms WHERE id = ?");
  auto& q = *q_lease;
  q.bind(1, id);
  return q.executeStep();
}

bool sqlite_account_store::remember_inbound(const std::string& id, const std::string& phone,
                                            std::string_view keyword, domain::unix_ms now) {
  auto q_lease = stmts_.use("INSERT OR IGNORE INTO inbound_sms (id, phone, keyword, received_at) "
                            "VALUES (?, ?, ?, ?)");
  auto& q = *q_lease;
  q.bind(1, id);
  q.bind(2, phone);
  q.bind(3, std::string(keyword));
  q.bind(4, static_cast<std::int64_t>(now));
  return q.exec() == 1;
}

void sqlite_account_store::set_opted_out(const std::string& phone, bool opted_out,
                                         domain::unix_ms now) {
  if (opted_out) {
    auto q_lease = stmts_.use("INSERT OR IGNORE INTO opt_outs (phone, since) VALUES (?, ?)");
    auto& q = *q_lease;
    q.bind(1, phone);
    q.bind(2, static_cast<std::int64_t>(now));
    q.exec();
  } else {
    auto q_lease = stmts_.use("DELETE FROM opt_outs WHERE phone = ?");
    auto& q = *q_lease;
    q.bind(1, phone);
    q.exec();
  }
}

bool sqlite_account_store::opted_out(const std::string& phone) {
  auto q_lease = stmts_.use("SELECT 1 FROM opt_outs WHERE phone = ?");
  auto& q = *q_lease;
  q.bind(1, phone);
  return q.executeStep();
}

}  // namespace cp2::db
