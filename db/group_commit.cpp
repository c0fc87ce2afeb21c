#include "db/group_commit.hpp"

#include <sqlite3.h>

#include <utility>
#include <vector>

namespace cp2::db {

group_commit::group_commit(SQLite::Database& db, poster post, std::size_t max_batch, wal_syncer* syncer)
    : db_(db), stmts_(db), post_(std::move(post)), max_batch_(max_batch == 0 ? 1 : max_batch), syncer_(syncer) {}

void group_commit::after_durable(std::function<void(std::exception_ptr)> fn) {
  if (syncer_) syncer_->after_durable(std::move(fn));
  else fn(nullptr);
}

void group_commit::submit(std::function<void()> work, std::function<void(std::exception_ptr)> done,
                          deadline by) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(unit{std::move(work), std::move(done), by, std::chrono::steady_clock::now()});
    if (std::exchange(scheduled_, true)) return;
  }
  post_([this] { run_batch(); });
}

std::size_t group_commit::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::chrono::steady_clock::duration group_commit::oldest_wait() const {
  std::lock_guard lock(mu_);
  if (queue_.empty()) return {};
  return std::chrono::steady_clock::now() - queue_.front().queued_at;
}

void group_commit::run(const std::string& sql) { stmts_.use(sql)->exec(); }

void group_commit::run_batch() {
  std::vector<unit> batch;
  {
    std::lock_guard lock(mu_);
    auto n = std::min(queue_.size(), max_batch_);
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    // Units that arrive from now on need another batch.
    scheduled_ = false;
  }
  if (batch.empty()) return;

  std::vector<std::exception_ptr> errors(batch.size());
  std::vector<bool> shed(batch.size(), false);
  std::exception_ptr whole;  // the transaction itself failed: every unit is undone
  // The syncer makes this commit durable after it is made; SQLite only writes it.
  bool deferred = syncer_ && !syncer_->failed();
  try {
    if (deferred) run("PRAGMA synchronous = NORMAL");
    run("BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      // Checked as the unit's turn comes: BEGIN may have waited for another process's lock.
      if (batch[i].by != deadline::max() && batch[i].by <= std::chrono::steady_clock::now()) {
        errors[i] = std::make_exception_ptr(domain::write_shed());
        shed[i] = true;
        ++stats_.shed;
        continue;
      }
      run("SAVEPOINT unit");
      try {
        batch[i].work();
        run("RELEASE unit");
      } catch (...) {
        errors[i] = std::current_exception();
        // Undoes this unit only; the ones before it in the batch stay.
        run("ROLLBACK TO unit");
        run("RELEASE unit");
      }
    }
    run("COMMIT");
  } catch (...) {
    whole = std::current_exception();
    // A failed COMMIT or a failed ROLLBACK TO may leave the transaction open.
    if (sqlite3_get_autocommit(db_.getHandle()) == 0) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
  if (deferred) {
    try {
      // Changes made outside the writer (imports, the sender's bookkeeping) sync in place.
      run("PRAGMA synchronous = FULL");
    } catch (...) {
      // Setting a pragma touches no file; should it fail all the same, the next batch sets
      // it again. This batch's commit stands and is synced below like any other.
    }
  }
  ++stats_.commits;
  stats_.units += batch.size();
  // A failed sync reaches every unit that ran: what it answered may rest on the lost commit.
  auto finish = [this, batch = std::move(batch), errors = std::move(errors), shed = std::move(shed),
                 whole](std::exception_ptr sync_error) mutable {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto e = shed[i] ? errors[i] : sync_error ? sync_error : errors[i] ? errors[i] : whole;
      if (e && !shed[i]) ++stats_.failed;
      batch[i].done(e);
    }
  };
  if (deferred && !whole) syncer_->committed(std::move(finish));
  else finish(nullptr);

  // What queued during this batch goes in the next one, after any reads posted meanwhile.
  bool again = false;
  {
    std::lock_guard lock(mu_);
    if (!queue_.empty() && !scheduled_) again = scheduled_ = true;
  }
  if (again) post_([this] { run_batch(); });
}

}  // namespace cp2::db
