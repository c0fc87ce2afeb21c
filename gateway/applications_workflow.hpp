#pragma once
// Profiles, applications and vacancy imports across executors: reads run on the database
// thread, changes through its group commit; the catalog snapshot is read in place.

#include "db/sqlite_application_store.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "domain/applications.hpp"
#include "domain/write_queue.hpp"
#include "gateway/catalog_holder.hpp"
#include "gateway/expiring_map.hpp"
#include "ussd/engine.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <mutex>

namespace boost::asio {
class thread_pool;
}

namespace cp2::gateway {

/// The application operations of every channel (USSD, SMS, portal).
/// Thread safety: call from any coroutine; stores are only touched on `db_pool` (reads, and
/// imports, which are one big transaction of their own) or by `writes` (on the same thread),
/// and `read_store` only on `read_pool`.
class applications_workflow {
public:
  /// `read_pool` and `read_store` serve session_facts_for: a connection and thread of their own
  /// (app.cpp), or `db_pool` and `store` again.
  applications_workflow(boost::asio::thread_pool& db_pool, domain::write_queue& writes,
                        boost::asio::thread_pool& cpu_pool, db::sqlite_application_store& store,
                        domain::application_service& service, db::sqlite_vacancy_store& vacancies,
                        catalog_holder& catalog, const domain::clock& clock,
                        std::function<void()> outbox_changed, boost::asio::thread_pool& read_pool,
                        db::sqlite_application_store& read_store);

  /// The facts a USSD session sees for its whole life: account, profile, applications, the
  /// catalog, the time. Looked up once per session (see session_facts_cache), on `read_pool`,
  /// so that a session's first screen never waits behind the writer's batch and its fsync.
  boost::asio::awaitable<ussd::session_facts> session_facts_for(domain::msisdn phone);

  // The changes below throw domain::write_shed, having changed nothing, when they cannot start
  // before `by` (a USSD step's deadline).

  /// Stores one profile field.
  boost::asio::awaitable<void> save_field(
      domain::msisdn phone, domain::profile_field field, std::string value,
      domain::write_queue::deadline by = domain::write_queue::deadline::max());
  /// The whole profile.
  boost::asio::awaitable<domain::profile> profile(domain::msisdn phone);
  /// Replaces the whole profile; false when the phone has no account.
  boost::asio::awaitable<bool> put_profile(domain::msisdn phone, domain::profile p);

  /// Applies (SPEC 4.5); queues the confirmation SMS.
  boost::asio::awaitable<domain::apply_outcome> apply(
      domain::msisdn phone, std::string code,
      domain::write_queue::deadline by = domain::write_queue::deadline::max());
  /// Withdraws an application while its vacancy is open.
  boost::asio::awaitable<domain::withdraw_result> withdraw(
      domain::msisdn phone, std::string ref,
      domain::write_queue::deadline by = domain::write_queue::deadline::max());

  /// Upserts validated vacancies in one transaction and rebuilds the catalog.
  boost::asio::awaitable<db::import_counts> import(std::vector<domain::vacancy> vacancies);
  /// Checks a whole CSV file on the CPU pool (up to 8 MiB: not work for an I/O thread).
  boost::asio::awaitable<domain::result<std::vector<domain::vacancy>, std::vector<domain::import_row_error>>>
  check_csv(std::string text, const domain::county_lookup& counties);
  /// A page of vacancies for operators.
  boost::asio::awaitable<std::vector<db::vacancy_listing>> list_vacancies(db::vacancy_filter f);

  /// A page of applications for operators.
  boost::asio::awaitable<std::vector<db::application_listing>> list_applications(
      db::application_filter f);
  /// An operator's approval or rejection; the SMS is queued and a filled vacancy leaves the
  /// catalog.
  boost::asio::awaitable<domain::decision_outcome> decide(std::string ref,
                                                          domain::application_status to);

private:
  boost::asio::thread_pool& db_pool_;
  domain::write_queue& writes_;
  boost::asio::thread_pool& cpu_pool_;
  db::sqlite_application_store& store_;
  domain::application_service& service_;
  db::sqlite_vacancy_store& vacancies_;
  catalog_holder& catalog_;
  const domain::clock& clock_;
  std::function<void()> outbox_changed_;
  boost::asio::thread_pool& read_pool_;
  db::sqlite_application_store& read_store_;
};

/// The facts of each live USSD session, so that every replay of it sees the same ones. Kept
/// `ttl` after the session's last step, at most `max_sessions` of them (the oldest go first).
/// Thread safety: any thread.
class session_facts_cache {
public:
  session_facts_cache(std::chrono::milliseconds ttl, std::size_t max_sessions)
      : entries_(ttl, max_sessions) {}
  /// The facts stored for `session`, if any (and not expired).
  std::optional<ussd::session_facts> find(const std::string& session);
  /// Stores the facts of `session`.
  void put(const std::string& session, ussd::session_facts facts);
  /// Remembers the last screen shown in `session` (for drop-off figures).
  void note_screen(const std::string& session, const std::string& screen);
  /// The last screen shown in `session`, or "" when unknown.
  std::string last_screen(const std::string& session);

private:
  using clock = std::chrono::steady_clock;
  struct entry {
    ussd::session_facts facts;
    std::string last_screen;
  };
  std::mutex mu_;
  expiring_map<entry> entries_;
};

}  // namespace cp2::gateway
