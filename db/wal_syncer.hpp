#pragma once
// Syncing a WAL database's commits on a thread of their own, so that the database thread runs
// the next batch while the last one reaches the disk.

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cp2::db {

/// Makes the commits of one WAL database durable with fdatasync(2) on the WAL file.
///
/// db::group_commit commits a batch with `synchronous = NORMAL` (its pages are written to the
/// WAL, not synced) and calls committed() at once; the batch's units are told they are done
/// only when a sync that started after that commit has returned. Syncs take every commit made
/// before they start, so one fsync serves all the batches that queued behind it, while the
/// database thread is already running the next.
///
/// This gives the durability of `synchronous = FULL` to every acknowledgement: a unit is
/// answered after its commit is on disk. What it does not give: other connections and later
/// reads on the database thread see a commit as soon as it is made, up to one sync (about a
/// millisecond) before it is durable. Anything that acts on what it read, outside the user's
/// own request, waits with after_durable() first (the outbox sender does, before sending).
///
/// A failed sync fails every unit and waiter it was for, and failed() stays true from then on:
/// group_commit goes back to syncing in place, inside SQLite's commit, where a failure undoes
/// the commit it belongs to.
///
/// Thread safety: every member may be called from any thread. Callbacks run on the syncer's
/// thread and must not block.
class wal_syncer {
public:
  using callback = std::function<void(std::exception_ptr)>;
  /// Makes everything written to the WAL so far durable; throws on failure. For tests.
  using sync_function = std::function<void()>;

  /// Told once, on the syncer's thread, of the first sync that fails (its error's text).
  using failure_report = std::function<void(const std::string&)>;

  /// `database_path` is the database file; its WAL is database_path + "-wal".
  explicit wal_syncer(std::string database_path, sync_function sync = {}, failure_report on_failure = {});
  /// Runs what is queued (one more sync), then stops.
  ~wal_syncer();
  wal_syncer(const wal_syncer&) = delete;
  wal_syncer& operator=(const wal_syncer&) = delete;

  /// A commit has just been made: `done` runs once it is durable (nullptr) or with the error.
  void committed(callback done);
  /// `fn` runs once every commit made so far is durable: at once when none is waiting.
  void after_durable(callback fn);
  /// A sync has failed since start.
  bool failed() const;
  /// Syncs made so far (each may serve several commits).
  std::uint64_t syncs() const;
  /// Runs what is queued, then stops the thread; later calls' callbacks run at once with an
  /// error. Idempotent.
  void stop();

private:
  struct waiter {
    std::uint64_t commit;  // made durable by the first sync that starts after this commit
    callback fn;
  };

  void run();
  void sync_wal();

  std::string wal_path_;
  sync_function sync_;
  failure_report on_failure_;
  int fd_ = -1;  // the WAL file, opened on the first sync; only on the syncer's thread
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<waiter> waiting_;    // guarded by mu_
  std::uint64_t commits_ = 0;      // guarded by mu_: commits announced
  std::uint64_t durable_ = 0;      // guarded by mu_: commits known to be on disk
  std::uint64_t syncs_ = 0;        // guarded by mu_
  bool failed_ = false;            // guarded by mu_
  bool stopping_ = false;          // guarded by mu_
  std::once_flag joined_;
  std::thread thread_;
};

}  // namespace cp2::db
