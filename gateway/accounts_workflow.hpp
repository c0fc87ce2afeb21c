#pragma once
// Account operations across executors: each one reads on the database thread, hashes on the
// CPU pool, and writes through the database thread's group commit, so an I/O thread never
// waits on either.

#include "domain/accounts.hpp"
#include "domain/applications.hpp"
#include "domain/write_queue.hpp"
#include "sms/keywords.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <string>

namespace boost::asio {
class thread_pool;
}

namespace cp2::gateway {

/// An incoming SMS as the workflow needs it.
struct inbound_sms {
  std::string id;
  domain::msisdn from;
  std::string text;
  std::string link_id;
};

/// What became of an incoming SMS.
enum class sms_handling { handled, duplicate };

/// The account operations of every channel (USSD, SMS, portal).
/// Thread safety: call from any coroutine; the store and service are only touched on
/// `db_pool` (reads) or by `writes` (changes, on the same thread), the hasher only on
/// `cpu_pool`.
class accounts_workflow {
public:
  accounts_workflow(boost::asio::thread_pool& db_pool, domain::write_queue& writes,
                    boost::asio::thread_pool& cpu_pool, domain::account_store& store, domain::account_service& service,
                    domain::password_hasher& hasher, domain::random_source& random,
                    domain::application_service& applications,
                    std::function<void()> outbox_changed);

  /// Hashes a throw-away password so that logins for unknown users cost as much as real ones.
  /// Call once before serving.
  void prepare();

  /// True when `phone` has an account.
  boost::asio::awaitable<bool> has_account(domain::msisdn phone);

  /// Creates an account (USSD or portal) and queues the credential SMS. Throws
  /// domain::write_shed, having changed nothing, when the change cannot start before `by`.
  boost::asio::awaitable<domain::account_service::create_result> create(
      domain::msisdn phone, domain::channel via,
      domain::write_queue::deadline by = domain::write_queue::deadline::max());

  /// Resets a password (USSD or portal) and queues the credential SMS. Throws
  /// domain::write_shed, having changed nothing, when the change cannot start before `by`.
  boost::asio::awaitable<domain::account_service::reset_result> reset(
      domain::msisdn phone, domain::channel via,
      domain::write_queue::deadline by = domain::write_queue::deadline::max());

  /// Checks a login; false for a wrong password, an unknown user or a locked account alike.
  /// On success `phone` is set to the account's number.
  boost::asio::awaitable<bool> login(std::string username, std::string password,
                                     std::string& phone);

  /// Handles one incoming SMS keyword (SPEC 3.2, 4.2, 4.3, 4.6); its effect and the record of
  /// its id are one transaction, so a repeated delivery is handled once.
  boost::asio::awaitable<sms_handling> handle_sms(inbound_sms sms);

private:
  // Throws domain::write_shed when a change due by `by` is already late, or when so many
  // passwords wait to be hashed that it would be.
  void throw_if_late(domain::write_queue::deadline by) const;
  // New credentials, hashed on the CPU pool; counted in hashes_queued_ meanwhile.
  boost::asio::awaitable<domain::credentials> new_credentials();

  boost::asio::thread_pool& db_pool_;
  domain::write_queue& writes_;
  boost::asio::thread_pool& cpu_pool_;
  domain::account_store& store_;
  domain::account_service& service_;
  domain::password_hasher& hasher_;
  domain::random_source& random_;
  domain::application_service& applications_;
  std::function<void()> outbox_changed_;
  std::string dummy_hash_;
  std::atomic<int> hashes_queued_{0};
};

}  // namespace cp2::gateway
