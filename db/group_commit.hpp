#pragma once
// Group commit: the units of work that queue while one commit is being made durable are
// written together in the next transaction, so one fsync serves them all.

#include "db/statement_cache.hpp"
#include "db/wal_syncer.hpp"
#include "domain/write_queue.hpp"

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace cp2::db {

/// Counters since start, for metrics and the writer benchmark.
struct group_commit_stats {
  std::atomic<std::uint64_t> commits{0};  ///< transactions committed (or failed to)
  std::atomic<std::uint64_t> units{0};    ///< units of work run (done or undone)
  std::atomic<std::uint64_t> shed{0};     ///< units dropped at their deadline
  std::atomic<std::uint64_t> failed{0};   ///< units that threw or whose commit failed
};

/// The database thread's writer.
///
/// When work arrives and no batch is scheduled, a batch is posted to the database thread with
/// `post`. A batch takes everything queued (up to `max_batch` units), opens one IMMEDIATE
/// transaction, runs each unit inside its own SAVEPOINT (a unit that throws is rolled back
/// alone), commits, and only then calls each unit's `done`. While that commit waits for the
/// disk, new units queue and become the next batch: there is no timer and no added latency
/// when the gateway is quiet, and one fsync per batch when it is busy.
///
/// With a wal_syncer, a batch commits with `synchronous = NORMAL` and its units are told they
/// are done only when the syncer has made the commit durable, on its own thread; meanwhile the
/// next batch runs. The connection is back at FULL between batches, so changes made outside
/// the writer still sync in their own commit. Without one (or once a sync has failed), the
/// commit syncs in place.
///
/// Units that open their own transaction with db::in_transaction join the batch's. Other work
/// posted to the database thread (reads) runs between batches.
/// Thread safety: submit() from any thread; the connection is used only inside `post`ed tasks,
/// which must all run on the one database thread.
class group_commit final : public domain::write_queue {
public:
  using poster = std::function<void(std::function<void()>)>;

  group_commit(SQLite::Database& db, poster post, std::size_t max_batch = 512, wal_syncer* syncer = nullptr);

  void submit(std::function<void()> work, std::function<void(std::exception_ptr)> done,
              deadline by = deadline::max()) override;
  void after_durable(std::function<void(std::exception_ptr)> fn) override;

  /// Units waiting for a batch now.
  std::size_t waiting() const;
  /// How long the oldest waiting unit has waited, zero when none waits.
  std::chrono::steady_clock::duration oldest_wait() const;
  const group_commit_stats& stats() const { return stats_; }

private:
  struct unit {
    std::function<void()> work;
    std::function<void(std::exception_ptr)> done;
    deadline by;
    std::chrono::steady_clock::time_point queued_at;
  };

  void run_batch();
  // Runs one of the batch's fixed statements (BEGIN, SAVEPOINT...), prepared once.
  void run(const std::string& sql);

  SQLite::Database& db_;
  statement_cache stmts_;  // BEGIN, SAVEPOINT, COMMIT... prepared once, on the database thread
  poster post_;
  std::size_t max_batch_;
  wal_syncer* syncer_;
  mutable std::mutex mu_;
  std::deque<unit> queue_;  // guarded by mu_
  bool scheduled_ = false;  // guarded by mu_: a batch is posted and has not yet taken the queue
  group_commit_stats stats_;
};

}  // namespace cp2::db
