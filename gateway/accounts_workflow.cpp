#include "gateway/accounts_workflow.hpp"

#include "sms/async.hpp"

#include <boost/asio/thread_pool.hpp>

#include <optional>

namespace cp2::gateway {

using domain::account_service;
using sms::durable;
using sms::run_on;
using sms::run_write;
namespace asio = boost::asio;

namespace {

// Thrown inside a transaction to roll it back when the SMS id turns out to be known.
struct duplicate_delivery {};

}  // namespace

accounts_workflow::accounts_workflow(asio::thread_pool& db_pool, domain::write_queue& writes,
                                     asio::thread_pool& cpu_pool, domain::account_store& store,
                                     account_service& service,
                                     domain::password_hasher& hasher,
                                     domain::random_source& random,
                                     domain::application_service& applications,
                                     std::function<void()> outbox_changed)
    : db_pool_(db_pool), writes_(writes), cpu_pool_(cpu_pool), store_(store), service_(service),
      hasher_(hasher), random_(random), applications_(applications),
      outbox_changed_(std::move(outbox_changed)) {}

void accounts_workflow::prepare() { dummy_hash_ = hasher_.hash("not-a-real-password"); }

asio::awaitable<bool> accounts_workflow::has_account(domain::msisdn phone) {
  co_return co_await run_on(db_pool_, [&] { return service_.exists(phone); });
}

namespace {

// Hashes queued or running on the CPU pool at most, for a change with a deadline (USSD). A
// hash takes about 22 ms on the reference machine, on a pool of two threads, so 16 of them are
// under 0.2 s of work: a burst beyond that is answered "busy" at once instead of every request
// waiting longer. Without a deadline (SMS, portal) a change always waits its turn.
constexpr int max_hashes_queued = 16;

}  // namespace

void accounts_workflow::throw_if_late(domain::write_queue::deadline by) const {
  if (by == domain::write_queue::deadline::max()) return;
  if (std::chrono::steady_clock::now() >= by || hashes_queued_.load() >= max_hashes_queued)
    throw domain::write_shed();
}

asio::awaitable<domain::credentials> accounts_workflow::new_credentials() {
  ++hashes_queued_;
  struct leave {
    std::atomic<int>& n;
    ~leave() { --n; }
  } guard{hashes_queued_};
  co_return co_await run_on(cpu_pool_, [&] { return domain::make_credentials(random_, hasher_); });
}

asio::awaitable<account_service::create_result> accounts_workflow::create(
    domain::msisdn phone, domain::channel via, domain::write_queue::deadline by) {
  // Looking first saves a hash (tens of ms of CPU) for every request about an existing account.
  if (co_await has_account(phone)) co_return account_service::create_result::exists;
  throw_if_late(by);
  auto creds = co_await new_credentials();
  auto r = co_await run_write(writes_, [&] { return service_.create(phone, creds, via); }, by);
  if (r == account_service::create_result::created) outbox_changed_();
  co_return r;
}

asio::awaitable<account_service::reset_result> accounts_workflow::reset(
    domain::msisdn phone, domain::channel via, domain::write_queue::deadline by) {
  auto check = co_await run_write(writes_, [&] { return service_.check_reset(phone, via); }, by);
  if (check != account_service::reset_result::done) co_return check;
  throw_if_late(by);
  auto creds = co_await new_credentials();
  auto r = co_await run_write(writes_, [&] { return service_.reset(phone, creds, via); }, by);
  if (r == account_service::reset_result::done) outbox_changed_();
  co_return r;
}

asio::awaitable<bool> accounts_workflow::login(std::string username, std::string password,
                                               std::string& phone) {
  auto start = co_await run_on(db_pool_, [&] { return service_.begin_login(username); });
  // Unknown and locked accounts are verified against a throw-away hash, so the answer takes as
  // long as for a real one and says nothing about whether the account exists.
  const std::string& hash = start.phone && !start.locked ? start.hash : dummy_hash_;
  bool matches = co_await run_on(cpu_pool_, [&] { return hasher_.verify(hash, password); });
  bool ok = co_await run_write(writes_, [&] { return service_.finish_login(start, matches); });
  if (ok) phone = *start.phone;
  co_return ok;
}

asio::awaitable<sms_handling> accounts_workflow::handle_sms(inbound_sms in) {
  const auto parsed = sms::parse_keyword(in.text);
  const auto keyword = std::string(sms::to_string(parsed.kw));
  const auto& phone = in.from;
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  };
  // Runs `effect` and records the id in one transaction; false when the id was known.
  auto once = [&](auto effect) -> asio::awaitable<bool> {
    co_return co_await run_write(writes_, [&, effect]() mutable {
      try {
        store_.in_transaction([&] {
          if (!store_.remember_inbound(in.id, phone.digits(), keyword, now_ms()))
            throw duplicate_delivery{};
          effect();
        });
        return true;
      } catch (const duplicate_delivery&) {
        return false;
      }
    });
  };

  if (co_await run_on(db_pool_, [&] { return store_.inbound_seen(in.id); })) {
    // The first delivery's commit may not be on disk yet: answer the retry once it is.
    co_await durable(writes_);
    co_return sms_handling::duplicate;
  }

  bool fresh = true;
  switch (parsed.kw) {
    case sms::keyword::register_account: {
      if (co_await has_account(phone)) {
        fresh = co_await once([&] { service_.create(phone, {}, domain::channel::sms, in.link_id); });
        break;
      }
      auto creds = co_await new_credentials();
      fresh = co_await once([&] { service_.create(phone, creds, domain::channel::sms, in.link_id); });
      break;
    }
    case sms::keyword::reset_password: {
      // A refused reset (no account, over the limit) is answered and recorded at once; one
      // that may go ahead is recorded with the reset itself, after hashing.
      auto check = co_await run_write(writes_, [&] {
        std::optional<account_service::reset_result> r;
        try {
          store_.in_transaction([&] {
            r = service_.check_reset(phone, domain::channel::sms, in.link_id);
            if (*r != account_service::reset_result::done &&
                !store_.remember_inbound(in.id, phone.digits(), keyword, now_ms()))
              throw duplicate_delivery{};
          });
        } catch (const duplicate_delivery&) {
          r.reset();
        }
        return r;
      });
      if (!check) {
        fresh = false;
        break;
      }
      if (*check != account_service::reset_result::done) break;
      auto creds = co_await new_credentials();
      fresh = co_await once([&] { service_.reset(phone, creds, domain::channel::sms, in.link_id); });
      break;
    }
    case sms::keyword::stop:
      fresh = co_await once([&] { service_.set_opt_out(phone, true, in.link_id); });
      break;
    case sms::keyword::start:
      fresh = co_await once([&] { service_.set_opt_out(phone, false, in.link_id); });
      break;
    case sms::keyword::status:
      fresh = co_await once([&] { applications_.reply_status(phone, in.link_id); });
      break;
    case sms::keyword::help:
    case sms::keyword::unknown:
      fresh = co_await once([&] { service_.reply_help(phone, in.link_id); });
      break;
  }
  if (!fresh) co_return sms_handling::duplicate;
  outbox_changed_();
  co_return sms_handling::handled;
}

}  // namespace cp2::gateway
