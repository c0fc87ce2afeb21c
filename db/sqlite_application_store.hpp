#pragma once
// domain::application_store on SQLite: profiles, applications and what they need of vacancies.

#include "db/statement_cache.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "domain/applications.hpp"

#include <SQLiteCpp/Database.h>

namespace cp2::db {

/// Filters of GET /api/v1/applications; empty strings match anything.
struct application_filter {
  std::string vacancy, status, county, exam, activity;
  std::string after;  ///< cursor: references after this one
  int limit = 100;
};

/// An application as operators see it: with the vacancy's place and the applicant's profile.
struct application_listing {
  domain::application app;
  std::string venue, county, subcounty;
  domain::profile profile;
};

/// Profiles and applications.
/// Thread safety: one thread at a time (the database thread).
class sqlite_application_store final : public domain::application_store {
public:
  /// Uses `db`, which must outlive the store and be migrated.
  explicit sqlite_application_store(SQLite::Database& db)
      : db_(db), stmts_(db), vacancies_(db), accounts_(db) {}

  void in_transaction(const std::function<void()>& fn) override;
  /// Runs `fn`'s reads in one read transaction, so that they see one moment of the database
  /// even on a connection of their own, beside the writer.
  void in_read_transaction(const std::function<void()>& fn);
  bool has_account(const std::string& phone) override;
  domain::profile find_profile(const std::string& phone) override;
  void save_profile(const std::string& phone, const domain::profile& p, domain::unix_ms now) override;
  std::optional<domain::vacancy> find_vacancy(const std::string& code) override;
  int approved_count(const std::string& code) override;
  /// Three statements: the account with its profile, the vacancy with its approved count, the
  /// applicant's active applications. Without an account, only the first.
  domain::apply_facts read_for_apply(const std::string& phone, const std::string& code) override;
  std::optional<domain::application> find_by_ref(const std::string& ref) override;
  bool insert_application(const domain::application& a) override;
  void update_status(const std::string& ref, domain::application_status s,
                     domain::unix_ms now) override;
  std::vector<domain::application> list_for(const std::string& phone) override;
  void enqueue_sms(const domain::outbound_sms& sms, domain::unix_ms now) override;
  bool opted_out(const std::string& phone) override;

  /// A page of applications by reference order, for operators.
  std::vector<application_listing> list_all(const application_filter& f);

private:
  std::vector<domain::application> query(const std::string& where,
                                         const std::vector<std::string>& args, int limit);
  SQLite::Database& db_;
  statement_cache stmts_;  // prepared once, reused
  sqlite_vacancy_store vacancies_;  // for find_vacancy
  sqlite_account_store accounts_;   // for the outbox and opt-outs
};

}  // namespace cp2::db
