// The outbox sender against a store that fails: acceptances are stored in batches, and a batch
// that cannot be stored must neither stop the batches after it nor lose its rows.

#include "db/database.hpp"
#include "db/group_commit.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_outbox_store.hpp"
#include "sms/outbox_sender.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/moving_clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace cp2;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// The real store, except that the first `failures` calls storing acceptances throw.
class failing_accepts_store final : public domain::outbox_store {
public:
  failing_accepts_store(domain::outbox_store& inner, int failures) : inner_(inner), left_(failures) {}
  int recover_sending(domain::unix_ms now, domain::unix_ms older_than) override {
    return inner_.recover_sending(now, older_than);
  }
  int retry_now(domain::unix_ms now) override { return inner_.retry_now(now); }
  int make_due(domain::unix_ms now, domain::unix_ms later_than) override { return inner_.make_due(now, later_than); }
  std::vector<domain::outbox_row> claim_due(domain::unix_ms now, int limit) override {
    return inner_.claim_due(now, limit);
  }
  void unclaim(const std::vector<std::int64_t>& ids, domain::unix_ms now) override { inner_.unclaim(ids, now); }
  using domain::outbox_store::mark_accepted;
  void mark_accepted(const std::vector<domain::acceptance>& rows, domain::unix_ms now) override {
    if (left_ > 0) {
      --left_;
      refused += static_cast<int>(rows.size());
      throw std::runtime_error("disk I/O error (injected)");
    }
    inner_.mark_accepted(rows, now);
  }
  std::atomic<int> refused{0};  // rows in the batches that threw
  void mark_retry(std::int64_t id, domain::unix_ms next, const std::string& e, domain::unix_ms now) override {
    inner_.mark_retry(id, next, e, now);
  }
  void mark_failed(std::int64_t id, const std::string& e, domain::unix_ms now) override {
    inner_.mark_failed(id, e, now);
  }
  std::pair<int, std::optional<domain::unix_ms>> backlog() override { return inner_.backlog(); }
  std::optional<domain::unix_ms> next_due() override { return inner_.next_due(); }
  domain::report_result apply_delivery_report(const std::string& id, domain::delivery d, const std::string& s,
                                              const std::string& r, domain::unix_ms now) override {
    return inner_.apply_delivery_report(id, d, s, r, now);
  }

private:
  domain::outbox_store& inner_;
  int left_;  // only touched on the database thread
};

// Accepts every message at once, with a new message id each time; counts sends per row.
class accepting_provider final : public sms::provider {
public:
  explicit accepting_provider(asio::io_context& ioc) : ioc_(ioc) {}
  std::string_view name() const override { return "test"; }
  void send(const sms::provider_message& m, std::function<void(sms::send_outcome)> done) override {
    std::string id;
    {
      std::lock_guard lock(mu_);
      ++sends_[m.outbox_id];
      id = "ATXid_" + std::to_string(++next_id_);
    }
    asio::post(ioc_, [done = std::move(done), id] {
      sms::send_outcome o;
      o.accepted = true;
      o.message_id = id;
      done(o);
    });
  }
  std::map<std::int64_t, int> sends() const {
    std::lock_guard lock(mu_);
    return sends_;
  }

private:
  asio::io_context& ioc_;
  mutable std::mutex mu_;
  std::map<std::int64_t, int> sends_;
  int next_id_ = 0;
};

// The gateway's writer, except that after_durable's callbacks are held until open() is called:
// commits that are made but not yet known to be durable.
class held_durability final : public domain::write_queue {
public:
  explicit held_durability(domain::write_queue& inner) : inner_(inner) {}
  void submit(std::function<void()> work, std::function<void(std::exception_ptr)> done, deadline by) override {
    inner_.submit(std::move(work), std::move(done), by);
  }
  void after_durable(std::function<void(std::exception_ptr)> fn) override {
    {
      std::lock_guard lock(mu_);
      if (!open_) {
        held_.push_back(std::move(fn));
        return;
      }
    }
    fn(nullptr);
  }
  void open() {
    std::vector<std::function<void(std::exception_ptr)>> held;
    {
      std::lock_guard lock(mu_);
      open_ = true;
      held.swap(held_);
    }
    for (auto& fn : held) fn(nullptr);
  }
  std::size_t held() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }

private:
  domain::write_queue& inner_;
  mutable std::mutex mu_;
  bool open_ = false;
  std::vector<std::function<void(std::exception_ptr)>> held_;
};

struct rig {
  domain::manual_clock clock;
  std::unique_ptr<SQLite::Database> db = db::open_database(":memory:", 1s);
  asio::io_context ioc{1};
  asio::thread_pool db_pool{1};
  db::group_commit writer{*db, [this](std::function<void()> f) { asio::post(db_pool, std::move(f)); }};
  db::sqlite_account_store accounts{*db};
  db::sqlite_outbox_store outbox{*db};
  failing_accepts_store store{outbox, 1};
  accepting_provider provider{ioc};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io;

  // The I/O thread runs until the rig goes.
  void start_io() {
    work.emplace(ioc.get_executor());
    io = std::thread([this] { ioc.run(); });
  }
  static sms::sender_options options() {
    sms::sender_options o;
    o.per_second = 1000;
    o.idle_poll = 20ms;
    return o;
  }

  ~rig() {
    work.reset();
    ioc.stop();
    if (io.joinable()) io.join();
    db_pool.join();
  }

  // Runs `f` on the database thread and returns its result.
  template <class F>
  auto on_db(F f) {
    std::packaged_task<std::invoke_result_t<F&>()> task(std::move(f));
    auto result = task.get_future();
    asio::post(db_pool, [&task] { task(); });
    return result.get();
  }
  void queue(int n, const std::string& first_phone_suffix) {
    on_db([&] {
      for (int i = 0; i < n; ++i)
        accounts.enqueue_sms({"2547110" + first_phone_suffix + std::to_string(i), "hello", false,
                              domain::message_kind::reply, ""},
                             clock.now());
      return 0;
    });
  }
  int count(const std::string& state) {
    return on_db([&] {
      SQLite::Statement q(*db, "SELECT count(*) FROM outbox WHERE state = ?");
      q.bind(1, state);
      q.executeStep();
      return q.getColumn(0).getInt();
    });
  }
  bool wait_for(const std::function<bool()>& done) { return testing::eventually(done); }
  void stop(sms::outbox_sender& s) {
    std::promise<void> stopped;
    s.stop([&] { stopped.set_value(); });
    REQUIRE(stopped.get_future().wait_for(5s) == std::future_status::ready);
  }
};

}  // namespace

TEST_CASE("outbox sender: a batch of acceptances that cannot be stored stops nothing and loses nothing") {
  rig r;
  r.start_io();
  const auto o = rig::options();
  auto sender = std::make_unique<sms::outbox_sender>(r.ioc, r.db_pool, r.writer, r.store, r.provider, r.clock, o);

  // The first batch's acceptances fail to be stored: those rows stay 'sending'.
  r.queue(5, "00");
  sender->start();
  REQUIRE(r.wait_for([&] { return r.provider.sends().size() == 5; }));
  REQUIRE(r.wait_for([&] { return sender->stats().accepted == 5 && r.store.refused > 0; }));
  const int stuck = r.store.refused;
  REQUIRE(r.wait_for([&] { return r.count("accepted") == 5 - stuck; }));
  CHECK(r.count("sending") == stuck);

  // Later acceptances are stored: the failed batch did not leave the sender unable to store.
  r.queue(3, "10");
  REQUIRE(r.wait_for([&] { return r.count("accepted") == 8 - stuck; }));
  CHECK(r.count("sending") == stuck);
  r.stop(*sender);

  // A new start queues what was left 'sending' again: sent a second time (at least once), then
  // stored; every other row was sent exactly once.
  sender = std::make_unique<sms::outbox_sender>(r.ioc, r.db_pool, r.writer, r.store, r.provider, r.clock, o);
  sender->start();
  REQUIRE(r.wait_for([&] { return r.count("accepted") == 8; }));
  r.stop(*sender);
  int twice = 0;
  for (const auto& [id, n] : r.provider.sends()) {
    CHECK(n <= 2);
    twice += n == 2;
  }
  CHECK(r.provider.sends().size() == 8);
  CHECK(twice == stuck);
}

TEST_CASE("outbox sender: sends nothing it claimed until the commits it read are durable") {
  rig r;
  r.start_io();
  const auto o = rig::options();
  held_durability writes(r.writer);
  auto sender = std::make_unique<sms::outbox_sender>(r.ioc, r.db_pool, writes, r.outbox, r.provider, r.clock, o);

  r.queue(4, "20");
  sender->start();
  // The rows are claimed; the sender waits for durability before sending any of them.
  REQUIRE(r.wait_for([&] { return writes.held() > 0; }));
  CHECK(r.count("sending") == 4);
  std::this_thread::sleep_for(50ms);
  CHECK(r.provider.sends().empty());

  writes.open();
  REQUIRE(r.wait_for([&] { return r.count("accepted") == 4; }));
  CHECK(r.provider.sends().size() == 4);
  r.stop(*sender);
}

namespace {

// Times out on each message's first send (a temporary failure, retried later) and accepts it
// after that; counts sends.
class fails_first_provider final : public sms::provider {
public:
  explicit fails_first_provider(asio::io_context& ioc) : ioc_(ioc) {}
  std::string_view name() const override { return "test"; }
  void send(const sms::provider_message& m, std::function<void(sms::send_outcome)> done) override {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      first = ++sends_ == 1;
    }
    asio::post(ioc_, [done = std::move(done), first] {
      sms::send_outcome o;
      if (first) {
        o.failure = sms::send_failure::timeout;
        o.retryable = true;
        o.detail = "timeout (test)";
      } else {
        o.accepted = true;
        o.message_id = "ATXid_clock";
      }
      done(o);
    });
    (void)m;
  }
  int sends() const {
    std::lock_guard lock(mu_);
    return sends_;
  }

private:
  asio::io_context& ioc_;
  mutable std::mutex mu_;
  int sends_ = 0;
};

constexpr domain::unix_ms clock_t0 = 1'767'225'600'000;  // 2026-01-01T00:00Z

// One message whose first send failed: queued again for a retry a minute later by the clock.
struct retry_waiting {
  rig r;
  testing::moving_clock clock{clock_t0};
  fails_first_provider provider{r.ioc};
  sms::sender_options o = [] {
    auto options = rig::options();
    options.retry_base = 60s;  // the first retry 48 to 72 s later, by the sender's jitter
    return options;
  }();
  std::unique_ptr<sms::outbox_sender> sender;

  retry_waiting() {
    r.start_io();
    start();
    r.on_db([&] {
      r.accounts.enqueue_sms({"254711000001", "hello", false, domain::message_kind::reply, ""}, clock.now());
      return 0;
    });
    REQUIRE(r.wait_for([&] { return provider.sends() == 1 && r.count("queued") == 1; }));
    // The clock stands still: the retry is not due, and not sent.
    std::this_thread::sleep_for(100ms);
    REQUIRE(provider.sends() == 1);
  }
  void start() {
    sender = std::make_unique<sms::outbox_sender>(r.ioc, r.db_pool, r.writer, r.outbox, provider, clock, o);
    sender->start();
  }
};

}  // namespace

TEST_CASE("outbox sender: when the wall clock goes back, a waiting message is sent without waiting for it") {
  retry_waiting w;
  // An hour back while the sender runs: without noticing, the retry would wait an hour.
  w.clock.set(clock_t0 - 3'600'000);
  REQUIRE(w.r.wait_for([&] { return w.r.count("accepted") == 1; }));
  CHECK(w.provider.sends() == 2);
  w.r.stop(*w.sender);
}

TEST_CASE("outbox sender: a clock that went back while the gateway was stopped holds back no message") {
  retry_waiting w;
  w.r.stop(*w.sender);
  w.clock.set(clock_t0 - 3'600'000);
  w.start();
  REQUIRE(w.r.wait_for([&] { return w.r.count("accepted") == 1; }));
  CHECK(w.provider.sends() == 2);
  w.r.stop(*w.sender);
}

TEST_CASE("outbox sender: a clock that stands still or goes forward keeps a retry's time") {
  retry_waiting w;
  w.clock.set(clock_t0 + 47'000);  // before the earliest the jitter allows
  std::this_thread::sleep_for(100ms);
  CHECK(w.provider.sends() == 1);
  w.clock.set(clock_t0 + 72'001);  // past the latest
  REQUIRE(w.r.wait_for([&] { return w.r.count("accepted") == 1; }));
  CHECK(w.provider.sends() == 2);
  w.r.stop(*w.sender);
}
