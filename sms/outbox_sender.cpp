#include "sms/outbox_sender.hpp"

#include "sms/async.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <utility>

namespace cp2::sms {

namespace asio = boost::asio;

struct outbox_sender::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, asio::thread_pool& db, domain::write_queue& w,
       domain::outbox_store& s, provider& p, const domain::clock& c, sender_options o)
      : strand(asio::make_strand(io)), db_pool(db), writes(w), store(s), prov(p), clock(c), opts(o),
        wake(strand), stop_timer(strand), jitter_rng(std::random_device{}()) {}

  asio::strand<asio::io_context::executor_type> strand;
  asio::thread_pool& db_pool;
  domain::write_queue& writes;
  domain::outbox_store& store;
  provider& prov;
  const domain::clock& clock;
  sender_options opts;
  asio::steady_timer wake;
  asio::steady_timer stop_timer;
  std::mt19937 jitter_rng;
  sender_stats counters;

  // Only touched on the strand.
  std::deque<domain::outbox_row> ready;  // claimed, waiting for a free slot and a token
  int in_flight = 0;  // sent, the provider's answer awaited
  int recording = 0;  // answered, the outcome not yet stored
  // Acceptances waiting to be stored, and whether store_accepted is running: the answers that
  // arrive while one batch is being written go together in the next, so a busy sender makes
  // one write (one savepoint, one hop back to the strand) per batch rather than per message.
  std::vector<domain::acceptance> to_store;
  bool storing = false;
  bool stopping = false;
  std::atomic<bool> loop_done{false};  // read by healthy() from other threads
  bool woken = false;  // a wake-up came while the loop was not waiting
  bool last_error_logged = false;
  bool failing = false;  // sends have failed since the last acceptance
  std::atomic<bool> healthy{true};  // the last database step of the loop worked
  std::chrono::steady_clock::time_point next_stale_check = std::chrono::steady_clock::now();
  std::optional<domain::unix_ms> last_seen;  // the wall clock at the loop's last pass
  // A step back of the wall clock larger than this is taken for a jump, not jitter.
  static constexpr domain::unix_ms clock_step_ms = 1'000;
  // Longer than any send can take (the provider timeout is 15 s by default).
  static constexpr domain::unix_ms stale_after_ms = 120'000;
  std::function<void()> on_stopped;
  std::set<send_failure> alarmed;  // alarms already logged since the last acceptance
  double tokens = 0;
  std::chrono::steady_clock::time_point refilled = std::chrono::steady_clock::now();

  // The throttle: a token per send, per_second of them a second. At most a twentieth of a
  // second's worth is saved up while idle, so no one-second window carries more than
  // per_second × 1.05 (a full second's worth saved would allow twice the rate right after a
  // quiet spell or an outage).
  void refill() {
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - refilled).count();
    refilled = now;
    const double burst = std::max(1.0, opts.per_second / 20.0);
    tokens = std::min(burst, tokens + secs * opts.per_second);
  }

  // Sends ready rows while a slot and a token are free. Called by the loop and by each
  // completion, so a freed slot is refilled at once, without waiting for the database thread.
  void pump() {
    refill();
    while (!stopping && !ready.empty() && in_flight < opts.max_in_flight && tokens >= 1) {
      tokens -= 1;
      auto row = std::move(ready.front());
      ready.pop_front();
      dispatch(std::move(row));
    }
  }

  // How many more rows to claim: up to eight times the slots, sent and ready together, and
  // never more than a second's worth at the throttle, so that no claimed row waits long.
  // Nothing while twice the slots' worth is still ready, so that claims come in batches, not
  // one per completion, and the next claim is back before the ready rows run out even when it
  // waits behind a commit on the database thread (docs/performance.md).
  int wanted() const {
    if (static_cast<int>(ready.size()) > 2 * opts.max_in_flight) return 0;
    int ahead = 8 * opts.max_in_flight - in_flight - static_cast<int>(ready.size());
    return std::min(ahead, std::max(1, opts.per_second) - static_cast<int>(ready.size()));
  }

  void maybe_finish_stop() {
    if (stopping && loop_done && in_flight == 0 && recording == 0 && on_stopped) {
      stop_timer.cancel();
      std::exchange(on_stopped, nullptr)();
    }
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    // At start every 'sending' row was left by a process that died. And a queued message is
    // never due further ahead than its longest retry delay: one that is was scheduled before
    // the wall clock went back while the gateway was stopped.
    const domain::unix_ms furthest_retry = domain::longest_retry_delay(opts.retry_cap.count());
    auto [recovered, pulled] = co_await run_write(writes, [this, furthest_retry] {
      auto now = clock.now();
      return std::pair{store.recover_sending(now, now + 1),
                       store.make_due(now, now + furthest_retry)};
    });
    if (recovered > 0) spdlog::warn("outbox: {} messages left sending by the last run are queued again", recovered);
    if (pulled > 0)
      spdlog::warn("outbox: {} queued messages were due later than any retry (the clock went back "
                   "while stopped); they are due now", pulled);
    // Each pass claims and dispatches what is due, then sleeps until there may be more. A
    // failing pass (the database) is logged once and retried every second: it never ends the
    // loop, so delivery resumes when the fault clears.
    while (!stopping) {
      bool failed = false;
      std::chrono::milliseconds wait = opts.idle_poll;
      bool more_now = false;
      try {
        // The wall clock went back (an NTP step, an operator's fix): what was due by the old
        // time, and what waits for a retry, is due now rather than when the clock catches up.
        const auto seen = clock.now();
        if (last_seen && seen + clock_step_ms < *last_seen) {
          const auto back = *last_seen - seen;
          int due = co_await run_write(writes, [this, seen] { return store.make_due(seen, seen); });
          spdlog::warn("outbox: the wall clock went back {} ms; {} queued messages are due now", back, due);
        }
        last_seen = seen;
        pump();
        int budget = wanted();
        if (budget > 0) {
          auto now = clock.now();
          // Not through the writer: a claim does not wait for the disk (see claim_due).
          auto rows = co_await run_on(db_pool, [this, now, budget] { return store.claim_due(now, budget); });
          // A claimed row may come from a commit that is not yet on disk (db::wal_syncer):
          // nothing is sent that a power cut could take back. Should the sync fail, the rows
          // stay 'sending' and go back to the queue after stale_after.
          co_await durable(writes);
          healthy = true;
          std::size_t claimed = rows.size();
          for (auto& row : rows) ready.push_back(std::move(row));
          pump();
          more_now = claimed == static_cast<std::size_t>(budget);
        }
        if (!more_now && std::chrono::steady_clock::now() >= next_stale_check) {
          // A row whose outcome could not be recorded stays 'sending'; after stale_after it
          // goes back to the queue instead of holding back its phone's later messages.
          next_stale_check = std::chrono::steady_clock::now() + std::chrono::seconds(30);
          auto stale = co_await run_write(writes, [this] {
            auto now = clock.now();
            return store.recover_sending(now, now - stale_after_ms);
          });
          if (stale > 0) spdlog::warn("outbox: {} messages stuck sending are queued again", stale);
        }
        if (!more_now) {
          if (budget <= 0 || !ready.empty()) {
            // Full, or out of tokens: a completion wakes us; tokens come back at per_second.
            wait = std::chrono::milliseconds(std::max(1, 1000 / std::max(1, opts.per_second)));
          } else if (auto next = co_await run_on(db_pool, [this] { return store.next_due(); }); next) {
            auto until = *next - clock.now();
            // Due now but not claimed means blocked behind an older message to the same
            // phone: its completion will wake us.
            if (until > 0) wait = std::min(wait, std::chrono::milliseconds(until));
          }
        }
        last_error_logged = false;
      } catch (const std::exception& e) {
        // A database error must not stop delivery for good: log once, wait, try again.
        failed = true;
        healthy = false;
        if (!std::exchange(last_error_logged, true))
          spdlog::error("outbox: delivery loop failed, retrying every second: {}", e.what());
      }
      if (failed) wait = std::chrono::seconds(1);  // co_await is not allowed inside a handler
      else if (more_now || std::exchange(woken, false)) continue;
      wake.expires_after(wait);
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
      woken = false;
    }
    if (!ready.empty()) {
      // Claimed but never sent: back to the queue for the next run, attempts unchanged.
      std::vector<std::int64_t> ids;
      for (const auto& r : ready) ids.push_back(r.id);
      ready.clear();
      try {
        co_await run_write(writes, [&] { store.unclaim(ids, clock.now()); });
      } catch (const std::exception& e) {
        spdlog::warn("outbox: {} claimed messages not returned to the queue ({}); the next start "
                     "queues them again", ids.size(), e.what());
      }
    }
    loop_done = true;
    maybe_finish_stop();
  }

  void dispatch(domain::outbox_row row) {
    ++in_flight;
    provider_message m{row.id, "+" + row.phone, row.body, row.link_id, row.sensitive};
    auto self = shared_from_this();
    prov.send(m, [self, row = std::move(row)](send_outcome o) mutable {
      asio::dispatch(self->strand, [self, row = std::move(row), o = std::move(o)]() mutable {
        self->answered(std::move(row), std::move(o));
      });
    });
  }

  // The provider has answered: its slot is free for the next send while the outcome is
  // stored. The row stays 'sending' until then, so no later message to the same phone is
  // claimed before it is recorded.
  void answered(domain::outbox_row row, send_outcome o) {
    --in_flight;
    ++recording;
    pump();
    woken = true;
    wake.cancel();
    if (o.accepted) {
      alarmed.clear();
      ++counters.accepted;
      if (opts.on_outcome) opts.on_outcome(o, "accepted");
      to_store.push_back({row.id, std::move(o.message_id), std::move(o.cost)});
      if (!std::exchange(storing, true)) spawn(store_accepted());
      return;
    }
    spawn(complete_failed(std::move(row), std::move(o)));
  }

  void spawn(asio::awaitable<void> work) {
    asio::co_spawn(strand, std::move(work), [self = shared_from_this()](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        // The rows stay 'sending' and are queued again after stale_after or at the next start.
        spdlog::error("outbox: recording a send outcome failed: {}", ex.what());
      }
    });
  }

  // Stores acceptances in batches until none is waiting. A batch that cannot be stored stays
  // 'sending' (queued again after stale_after or at the next start, and sent again: at least
  // once) and does not stop the next batch.
  asio::awaitable<void> store_accepted() {
    auto self = shared_from_this();
    while (!to_store.empty()) {
      auto batch = std::exchange(to_store, {});
      struct done_guard {
        impl& s;
        std::size_t n;
        ~done_guard() {
          s.recording -= static_cast<int>(n);
          s.maybe_finish_stop();
        }
      } guard{*this, batch.size()};
      auto now = clock.now();
      bool stored = false;
      try {
        co_await run_write(writes, [&] { store.mark_accepted(batch, now); });
        stored = true;
      } catch (const std::exception& e) {
        spdlog::error("outbox: storing {} acceptances failed; they are sent again later: {}",
                      batch.size(), e.what());
      }
      if (stored && std::exchange(failing, false)) {
        // The provider works again: what waits for a retry goes now, at the throttle's pace.
        try {
          int pulled = co_await run_write(writes, [&] { return store.retry_now(now); });
          if (pulled > 0) spdlog::info("outbox: provider answering again; {} waiting messages retried now", pulled);
        } catch (const std::exception& e) {
          spdlog::error("outbox: retrying waiting messages now failed; they wait for their time: {}", e.what());
        }
      }
    }
    storing = false;
  }

  asio::awaitable<void> complete_failed(domain::outbox_row row, send_outcome o) {
    auto self = shared_from_this();
    struct done_guard {
      impl& s;
      ~done_guard() {
        --s.recording;
        s.maybe_finish_stop();
      }
    } guard{*this};
    auto now = clock.now();
    failing = true;
    std::string name(to_string(o.failure));
    std::string reason = o.detail.rfind(name, 0) == 0 ? o.detail : fmt::format("{}: {}", name, o.detail);
    if (o.alarm && alarmed.insert(o.failure).second) {
      ++counters.alarms;
      if (opts.on_alarm) opts.on_alarm();
      spdlog::error("outbox: ALARM provider {} answered {}; messages are {} until it is fixed",
                    prov.name(), reason, o.retryable ? "kept and retried" : "failing");
    }
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    auto next = now + domain::retry_delay(row.attempts, jitter(jitter_rng), opts.retry_base.count(),
                                          opts.retry_cap.count());
    bool expired = next > row.created_at + opts.max_age.count();
    if (o.retryable && !expired) {
      ++counters.retried;
      if (opts.on_outcome) opts.on_outcome(o, "retried");
      co_await run_write(writes, [&] { store.mark_retry(row.id, next, reason, now); });
      co_return;
    }
    ++counters.failed;
    if (opts.on_outcome) opts.on_outcome(o, "failed");
    if (expired && o.retryable) {
      ++counters.alarms;
      if (opts.on_alarm) opts.on_alarm();
      spdlog::error("outbox: ALARM message {} to {} failed after {} attempts over {} h: {}", row.id,
                    row.phone, row.attempts, opts.max_age.count() / 3'600'000, reason);
    } else {
      spdlog::warn("outbox: message {} to {} failed for good: {}", row.id, row.phone, reason);
    }
    co_await run_write(writes, [&] { store.mark_failed(row.id, reason, now); });
  }
};

outbox_sender::outbox_sender(asio::io_context& ioc, asio::thread_pool& db_pool,
                             domain::write_queue& writes, domain::outbox_store& store, provider& p,
                             const domain::clock& clock, sender_options options)
    : impl_(std::make_shared<impl>(ioc, db_pool, writes, store, p, clock, options)) {}

outbox_sender::~outbox_sender() = default;

void outbox_sender::start() {
  auto self = impl_;
  asio::co_spawn(self->strand, self->run(), [self](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::critical("outbox: the sender stopped: {}", ex.what());
    }
    self->loop_done = true;
    self->maybe_finish_stop();
  });
}

void outbox_sender::notify() {
  auto self = impl_;
  asio::post(self->strand, [self] {
    self->woken = true;
    self->wake.cancel();
  });
}

void outbox_sender::stop(std::function<void()> done) {
  auto self = impl_;
  asio::post(self->strand, [self, done = std::move(done)]() mutable {
    self->stopping = true;
    self->on_stopped = std::move(done);
    self->wake.cancel();
    if (self->in_flight > 0) {
      self->stop_timer.expires_after(self->opts.stop_wait);
      self->stop_timer.async_wait([self](boost::system::error_code ec) {
        if (!ec) self->prov.stop();
      });
    }
    self->maybe_finish_stop();
  });
}

const sender_stats& outbox_sender::stats() const { return impl_->counters; }

bool outbox_sender::healthy() const { return impl_->healthy && !impl_->loop_done; }

}  // namespace cp2::sms
