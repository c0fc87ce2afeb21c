#include "db/wal_syncer.hpp"

#include "db/database.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

namespace cp2::db {

namespace {

std::string system_error_text(int error) { return std::error_code(error, std::generic_category()).message(); }

std::exception_ptr stopped_error() {
  return std::make_exception_ptr(database_error("the WAL syncer has stopped; the commit's durability is unknown"));
}

}  // namespace

wal_syncer::wal_syncer(std::string database_path, sync_function sync, failure_report on_failure)
    : wal_path_(std::move(database_path) + "-wal"), sync_(std::move(sync)), on_failure_(std::move(on_failure)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cp2-wal-sync");
    run();
  });
}

wal_syncer::~wal_syncer() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void wal_syncer::stop() {
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

void wal_syncer::committed(callback done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      waiting_.push_back(waiter{++commits_, std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(stopped_error());
}

void wal_syncer::after_durable(callback fn) {
  std::exception_ptr now;
  {
    std::lock_guard lock(mu_);
    if (durable_ < commits_) {
      if (!stopping_) {
        waiting_.push_back(waiter{commits_, std::move(fn)});
        wake_.notify_one();
        return;
      }
      now = stopped_error();
    }
  }
  fn(now);
}

bool wal_syncer::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

std::uint64_t wal_syncer::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

void wal_syncer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return !waiting_.empty() || stopping_; });
    // Stopping still syncs what was queued: those commits are made and their units wait.
    if (waiting_.empty()) return;
    auto batch = std::exchange(waiting_, {});
    // Every commit announced so far has been written; the sync below covers them all.
    auto target = commits_;
    lock.unlock();
    std::exception_ptr error;
    try {
      if (sync_) sync_();
      else sync_wal();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    ++syncs_;
    // A failed sync settles its commits too (their units are told of the failure): later
    // waiters must not wait for them for ever.
    durable_ = std::max(durable_, target);
    const bool first_failure = error && !std::exchange(failed_, true);
    lock.unlock();
    if (first_failure && on_failure_) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        on_failure_(e.what());
      } catch (...) {
        on_failure_("unknown error");
      }
    }
    for (auto& w : batch) {
      try {
        w.fn(error);
      } catch (...) {
        // A callback that throws must not stop the syncing of everyone else's commits.
      }
    }
    lock.lock();
  }
}

void wal_syncer::sync_wal() {
  if (fd_ >= 0) {
    // SQLite keeps the same WAL file while a connection is open; should it ever be replaced,
    // sync the file that is there now.
    struct stat open_file {}, at_path {};
    if (::fstat(fd_, &open_file) != 0 || ::stat(wal_path_.c_str(), &at_path) != 0 ||
        open_file.st_ino != at_path.st_ino || open_file.st_dev != at_path.st_dev) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  if (fd_ < 0) {
    int fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw database_error(fmt::format("{}: cannot open to sync it: {}", wal_path_, system_error_text(errno)));
    // The WAL file may be new since SQLite last synced the folder: make its name durable too.
    auto slash = wal_path_.rfind('/');
    std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : wal_path_.substr(0, slash);
    int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || ::fsync(dir) != 0) {
      int e = errno;
      if (dir >= 0) ::close(dir);
      ::close(fd);
      throw database_error(fmt::format("{}: cannot sync the folder: {}", folder, system_error_text(e)));
    }
    ::close(dir);
    fd_ = fd;
  }
  if (::fdatasync(fd_) != 0)
    throw database_error(fmt::format("{}: fdatasync failed: {}", wal_path_, system_error_text(errno)));
}

}  // namespace cp2::db
