#include "gateway/backup.hpp"

#include "db/database.hpp"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace cp2::gateway {

namespace fs = std::filesystem;

namespace {

class backup_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Removes `path` and the journal files SQLite may have left beside it.
void remove_with_journals(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path + suffix, ec);
}

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

// Copies every page of `src` into `dest` in one step: one read transaction, one moment.
void copy_pages(SQLite::Database& dest, SQLite::Database& src, std::chrono::milliseconds patience) {
  SQLite::Backup backup(dest, src);
  auto deadline = std::chrono::steady_clock::now() + patience;
  while (true) {
    int rc = backup.executeStep(-1);
    if (rc == SQLITE_DONE) return;
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != SQLITE_OK)
      throw backup_error(fmt::format("backup step failed (SQLite code {})", rc));
    if (std::chrono::steady_clock::now() > deadline)
      throw backup_error("the database stayed locked; try again");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// `count_sql` is a constant "SELECT count(*) FROM <table>": table names cannot be bound, and
// no SQL here is ever built from a value.
std::string count_rows(SQLite::Database& db, const char* table, const char* count_sql) {
  if (!db.tableExists(table)) return "-";
  return std::to_string(db.execAndGet(count_sql).getInt64());
}

// A renamed file survives a power cut only once its folder is on disk too.
void sync_folder(const std::string& file) {
  auto folder = fs::path(file).parent_path();
  int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

int backup_command(const config::config& cfg, const std::string& file) {
  const std::string& source = cfg.db.path;
  if (file.empty()) {
    fmt::print(stderr, "cp2-gateway: backup needs a file name\n");
    return 1;
  }
  if (exists(file)) {
    fmt::print(stderr, "cp2-gateway: backup: {} already exists; not overwriting it (choose another name)\n", file);
    return 1;
  }
  if (source == ":memory:" || !exists(source)) {
    fmt::print(stderr, "cp2-gateway: backup: no database at {} (db.path)\n", source);
    return 1;
  }
  const std::string part = file + ".part";
  try {
    SQLite::Database src(source, SQLite::OPEN_READONLY);
    src.setBusyTimeout(static_cast<int>(cfg.db.busy_timeout.count()));
    if (src.execAndGet("PRAGMA application_id").getInt() != db::application_id)
      throw backup_error(fmt::format("{} is not a CP2 gateway database", source));

    // A .part is only ever ours, left by a backup that was stopped half way.
    remove_with_journals(part);
    std::string integrity, accounts, applications, outbox;
    {
      SQLite::Database dest(part, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      copy_pages(dest, src, std::max(cfg.db.busy_timeout, std::chrono::milliseconds(1000)));
      integrity = dest.execAndGet("PRAGMA integrity_check").getString();
      if (integrity != "ok") throw backup_error("the copy fails PRAGMA integrity_check: " + integrity);
      accounts = count_rows(dest, "accounts", "SELECT count(*) FROM accounts");
      applications = count_rows(dest, "applications", "SELECT count(*) FROM applications");
      outbox = count_rows(dest, "outbox", "SELECT count(*) FROM outbox");
      // The copy carries the source's WAL mode; one file at rest is easier to move and keep.
      // The gateway turns WAL back on when it opens a restored copy.
      dest.exec("PRAGMA journal_mode = DELETE");
    }
    if (exists(file)) throw backup_error(file + " appeared while the backup ran; not overwriting it");
    fs::rename(part, file);
    sync_folder(file);
    fmt::print("{} -> {}: {} bytes, integrity ok; accounts {}, applications {}, outbox {}\n",
               source, file, fs::file_size(file), accounts, applications, outbox);
    return 0;
  } catch (const std::exception& e) {
    remove_with_journals(part);
    fmt::print(stderr, "cp2-gateway: backup of {} failed: {}\n", source, e.what());
    return 1;
  }
}

}  // namespace cp2::gateway
