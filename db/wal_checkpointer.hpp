#pragma once
// Checkpointing a WAL database on a thread and connection of its own, so that the writer's
// commits do not stop to copy pages into the database file and wait for its fsync.

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace cp2::db {

/// Counters since start, for tests and metrics.
struct checkpoint_stats {
  std::atomic<std::uint64_t> asked{0};     ///< times the thread was asked (the WAL reached `pages`)
  std::atomic<std::uint64_t> done{0};      ///< passive checkpoints the thread ran
  std::atomic<std::uint64_t> in_place{0};  ///< checkpoints the writer ran itself (past `fallback_pages`)
  std::atomic<std::uint64_t> failed{0};    ///< the thread's checkpoints that failed (other than busy)
  std::atomic<std::uint64_t> busy{0};      ///< the thread's checkpoints SQLite answered busy or locked
};

/// By default SQLite checkpoints inside the COMMIT that takes the WAL past 1,000 pages: that
/// commit copies the pages into the database file and fsyncs the WAL and the file, and every
/// request waiting for the writer waits with it. This takes over the writer connection's WAL
/// hook instead (which turns SQLite's own automatic checkpoints off): after a commit that leaves
/// `pages` or more in the WAL, the checkpointer's thread runs a PASSIVE checkpoint on its own
/// connection, beside the writer. Should it fall behind (a reader holding old pages, a slow
/// disk), the writer checkpoints in place, as SQLite would have, once the WAL holds
/// `fallback_pages`: the WAL cannot grow without bound.
///
/// A checkpoint syncs the WAL before copying from it and syncs the database file after, so it
/// never makes a page durable in the file before it is durable in the WAL.
///
/// Thread safety: construct and destroy on the thread that owns `writer` while it is idle; the
/// hook runs on that thread inside SQLite's commit. stop() may be called from any thread.
class wal_checkpointer {
public:
  wal_checkpointer(SQLite::Database& writer, const std::string& path, int pages = 1000,
                   int fallback_pages = 10000);
  /// Stops the thread and gives the writer back SQLite's automatic checkpoints.
  ~wal_checkpointer();
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  /// Stops the thread; from then on the writer checkpoints in place at `fallback_pages`.
  /// Idempotent.
  void stop();
  const checkpoint_stats& stats() const { return stats_; }

private:
  static int on_commit(void* self, sqlite3* db, const char* name, int frames);
  void run();

  SQLite::Database& writer_;
  std::unique_ptr<SQLite::Database> own_;  // used only on thread_
  int pages_;
  int fallback_pages_;
  checkpoint_stats stats_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::once_flag joined_;
  std::thread thread_;
};

}  // namespace cp2::db
