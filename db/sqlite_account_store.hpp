#pragma once
// domain::account_store on SQLite.

#include "db/statement_cache.hpp"
#include "domain/accounts.hpp"

#include <SQLiteCpp/Database.h>

namespace cp2::db {

/// Accounts, rate-limit events and the outbox in the gateway's database.
/// Thread safety: like the connection it wraps, one thread at a time (the database thread).
class sqlite_account_store final : public domain::account_store {
public:
  /// Uses `db`, which must outlive the store and be migrated.
  explicit sqlite_account_store(SQLite::Database& db) : db_(db), stmts_(db) {}

  void in_transaction(const std::function<void()>& fn) override;
  std::optional<domain::account_record> find_account(const std::string& phone) override;
  void insert_account(const domain::account_record& account, domain::unix_ms now) override;
  void update_password(const std::string& phone, const std::string& hash,
                       domain::unix_ms now) override;
  void update_login_state(const std::string& phone, int failed_logins,
                          domain::unix_ms locked_until) override;
  int count_events(const std::string& phone, std::string_view kind, domain::unix_ms since) override;
  void add_event(const std::string& phone, std::string_view kind, domain::unix_ms at) override;
  void enqueue_sms(const domain::outbound_sms& sms, domain::unix_ms now) override;
  bool inbound_seen(const std::string& id) override;
  bool remember_inbound(const std::string& id, const std::string& phone, std::string_view keyword,
                        domain::unix_ms now) override;
  void set_opted_out(const std::string& phone, bool opted_out, domain::unix_ms now) override;
  bool opted_out(const std::string& phone) override;

private:
  SQLite::Database& db_;
  statement_cache stmts_;  // prepared once, reused
};

}  // namespace cp2::db
