#pragma once
// Delivers the outbox (SPEC 5, 7): claims due rows, sends them through the provider within an
// in-flight bound and a per-second throttle, and records each outcome: accepted, retry with
// backoff, or failed.

#include "domain/clock.hpp"
#include "domain/outbox.hpp"
#include "domain/write_queue.hpp"
#include "sms/provider.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace cp2::sms {

/// Limits of the sender.
struct sender_options {
  int max_in_flight = 32;  ///< sends awaiting the provider's answer
  int per_second = 50;     ///< sends started per second, so a backlog drains politely
  std::chrono::milliseconds max_age{24 * 3'600'000};  ///< then a retryable failure is final
  std::chrono::milliseconds retry_base{2'000};        ///< first retry delay, doubling...
  std::chrono::milliseconds retry_cap{600'000};       ///< ...up to this
  std::chrono::milliseconds idle_poll{1'000};         ///< look for due rows at least this often
  std::chrono::milliseconds stop_wait{5'000};         ///< on stop, wait this long for answers
  /// Called after each send attempt is recorded: the outcome and "accepted", "retried" or
  /// "failed"; and when an alarm is raised. For metrics; may be empty.
  std::function<void(const send_outcome&, std::string_view)> on_outcome;
  std::function<void()> on_alarm;
};

/// Counters since start, for logs, metrics and tests.
struct sender_stats {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> alarms{0};
};

/// The outbox's delivery loop.
/// Thread safety: runs on the io_context (its own strand) and touches the store only on
/// `db_pool` (reads) and through `writes` (claims and outcomes, which share commits with each
/// other and with the rest of the gateway). notify() and stop() may be called from any thread.
class outbox_sender {
public:
  outbox_sender(boost::asio::io_context& ioc, boost::asio::thread_pool& db_pool,
                domain::write_queue& writes, domain::outbox_store& store, provider& p, const domain::clock& clock,
                sender_options options);
  ~outbox_sender();
  outbox_sender(const outbox_sender&) = delete;
  outbox_sender& operator=(const outbox_sender&) = delete;

  /// Returns rows a previous process left 'sending' to the queue, then starts delivering.
  void start();
  /// New rows were queued: look now rather than at the next poll.
  void notify();
  /// Stops claiming rows; waits up to stop_wait for answers to sends in flight, then stops
  /// the provider. `done` is called on the io_context when nothing is in flight.
  void stop(std::function<void()> done);
  /// Counters.
  const sender_stats& stats() const;
  /// False while the delivery loop cannot reach the database (it keeps trying).
  bool healthy() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace cp2::sms
