#include "db/wal_checkpointer.hpp"

#include <sqlite3.h>

#include <pthread.h>
#include <utility>

namespace cp2::db {

wal_checkpointer::wal_checkpointer(SQLite::Database& writer, const std::string& path, int pages,
                                   int fallback_pages)
    : writer_(writer),
      own_(std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX)),
      pages_(pages < 1 ? 1 : pages),
      fallback_pages_(fallback_pages < pages_ ? pages_ : fallback_pages) {
  // The checkpoint's own syncs (the WAL before, the file after) follow this connection's level.
  own_->exec("PRAGMA synchronous = FULL");
  // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer_.getHandle(), &wal_checkpointer::on_commit, this);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cp2-checkpoint");
    run();
  });
}

wal_checkpointer::~wal_checkpointer() {
  stop();
  // SQLite's default again: checkpoint inside the commit past 1,000 pages.
  sqlite3_wal_autocheckpoint(writer_.getHandle(), 1000);
}

void wal_checkpointer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  // Several callers at once: one joins, the others wait until it has.
  std::call_once(joined_, [this] {
    if (thread_.joinable()) thread_.join();
  });
}

int wal_checkpointer::on_commit(void* self, sqlite3* db, const char* name, int frames) {
  auto& c = *static_cast<wal_checkpointer*>(self);
  if (frames >= c.fallback_pages_) {
    // Behind: checkpoint here, as SQLite's own hook would. Busy means one is already running.
    ++c.stats_.in_place;
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (frames >= c.pages_) {
    bool ask = false;
    {
      std::lock_guard lock(c.mu_);
      if (!c.stopping_ && !c.wanted_) ask = c.wanted_ = true;
    }
    if (ask) {
      ++c.stats_.asked;
      c.wake_.notify_one();
    }
  }
  return SQLITE_OK;
}

void wal_checkpointer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return wanted_ || stopping_; });
    if (stopping_) return;
    // Taken: a commit made while this checkpoint runs asks again, and the pages it added are
    // checkpointed next, so that the WAL can start over at the next commit.
    wanted_ = false;
    lock.unlock();
    int rc = sqlite3_wal_checkpoint_v2(own_->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc == SQLITE_OK) ++stats_.done;
    else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ++stats_.busy;
    else ++stats_.failed;
    lock.lock();
  }
}

}  // namespace cp2::db
