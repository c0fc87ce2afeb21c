#pragma once
// The outbox (SPEC 5, 7): every outbound SMS is stored before it is sent, sent at least once,
// never again once the provider accepted it, in order per recipient.

#include "domain/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

namespace cp2::domain {

/// One message as the sender sees it.
struct outbox_row {
  std::int64_t id = 0;
  std::string phone;  ///< canonical digits
  std::string body;
  bool sensitive = false;
  std::string kind;
  std::string link_id;
  int attempts = 0;  ///< including the one being made now
  unix_ms created_at = 0;
};

/// The provider's acceptance of one row, to be stored.
struct acceptance {
  std::int64_t id = 0;
  std::string message_id;  ///< the provider's id; empty when it gave none
  std::string cost;
};

/// What a delivery report says became of a message (SPEC 3.3).
enum class delivery { sent, delivered, failed };

/// What became of a delivery report.
enum class report_result {
  applied,  ///< the message's state was updated (or was already final)
  kept,     ///< no message has that id yet: kept and applied when the send's answer is stored
};

/// Where the outbox lives.
/// Thread safety: one thread at a time (the database thread).
class outbox_store {
public:
  virtual ~outbox_store() = default;
  /// Rows 'sending' since before `older_than` go back to 'queued': at start (every such row
  /// was left by a process that died) and while running (a row whose outcome could not be
  /// recorded); returns how many.
  virtual int recover_sending(unix_ms now, unix_ms older_than) = 0;
  /// Queued rows that already failed once are due now: the provider works again.
  virtual int retry_now(unix_ms now) = 0;
  /// Queued rows whose next attempt is later than `later_than` are due at `now`: the wall
  /// clock went back, and no message is to wait for it to catch up. Returns how many.
  virtual int make_due(unix_ms now, unix_ms later_than) = 0;
  /// Marks up to `limit` due rows 'sending' and returns them, oldest first. A row is due when
  /// it is queued, its next attempt time has come, and no older row to the same phone is
  /// still queued or sending. The claim itself need not be durable: recover_sending at start
  /// returns what a crash left 'sending' to the queue.
  virtual std::vector<outbox_row> claim_due(unix_ms now, int limit) = 0;
  /// Returns claimed rows that were never sent to the queue, as if never claimed.
  virtual void unclaim(const std::vector<std::int64_t>& ids, unix_ms now) = 0;
  /// The provider accepted these rows: never sent again. Sensitive bodies are redacted. All
  /// are stored or, when it throws, none.
  virtual void mark_accepted(const std::vector<acceptance>& rows, unix_ms now) = 0;
  /// One row accepted.
  void mark_accepted(std::int64_t id, const std::string& message_id, const std::string& cost,
                     unix_ms now) {
    mark_accepted(std::vector<acceptance>{{id, message_id, cost}}, now);
  }
  /// A temporary failure: back to 'queued' until `next_attempt`.
  virtual void mark_retry(std::int64_t id, unix_ms next_attempt, const std::string& error,
                          unix_ms now) = 0;
  /// A permanent failure or too old: 'failed'. A sensitive body is redacted.
  virtual void mark_failed(std::int64_t id, const std::string& error, unix_ms now) = 0;
  /// How many messages are not yet accepted or failed, and when the oldest of them was made.
  virtual std::pair<int, std::optional<unix_ms>> backlog() = 0;
  /// The earliest next attempt among queued rows, if any.
  virtual std::optional<unix_ms> next_due() = 0;
  /// Records a delivery report for the message the provider calls `message_id`. States only
  /// move forward: accepted → sent → delivered or failed; a final state is kept.
  virtual report_result apply_delivery_report(const std::string& message_id, delivery state,
                                              const std::string& status,
                                              const std::string& failure_reason, unix_ms now) = 0;
};

/// The delay before attempt number `attempts + 1`: `base` doubling to at most `cap`, times
/// `jitter` (expected in [0.8, 1.2]) so a backlog does not retry in lock-step.
unix_ms retry_delay(int attempts, double jitter, unix_ms base = 2'000, unix_ms cap = 600'000);

/// The longest delay retry_delay gives with this `cap`, whatever the attempt and the jitter: a
/// queued message due later than this from now was scheduled by a clock that has gone back.
unix_ms longest_retry_delay(unix_ms cap);

/// `body` with the password of a credential SMS replaced by asterisks; other text unchanged.
std::string redact_password(std::string_view body);

}  // namespace cp2::domain
