// The checkpointer: past `pages` in the WAL its own thread checkpoints, never the writer's
// commit; with the thread stopped the WAL grows until `fallback_pages`, where the writer
// checkpoints in place.

#include "db/database.hpp"
#include "db/wal_checkpointer.hpp"
#include "tests/support/eventually.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

using namespace cp2;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct checkpoint_fixture {
  fs::path dir = fs::temp_directory_path() / ("cp2-checkpointer-test-" + std::to_string(::getpid()));
  std::string path = (dir / "cp2.db").string();
  std::unique_ptr<SQLite::Database> db;

  checkpoint_fixture() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    db = db::open_database(path, 1s);
    db->exec("CREATE TABLE t (v BLOB NOT NULL)");
    // Checkpoints are the subject, not durability: no fsync per test commit.
    db->exec("PRAGMA synchronous = OFF");
  }
  ~checkpoint_fixture() {
    db.reset();
    fs::remove_all(dir);
  }
  // One commit that adds a page or so to the WAL.
  void commit_one() { db->exec("INSERT INTO t (v) VALUES (randomblob(3000))"); }
  std::uintmax_t wal_bytes() const { return fs::file_size(path + "-wal"); }
  int rows() { return db->execAndGet("SELECT count(*) FROM t").getInt(); }
};

}  // namespace

TEST_CASE("wal checkpointer: past `pages` its own thread checkpoints, not the writer") {
  checkpoint_fixture f;
  db::wal_checkpointer c(*f.db, f.path, 20, 100000);
  for (int i = 0; i < 20; ++i) f.commit_one();
  REQUIRE(testing::eventually([&] { return c.stats().done.load() >= 1; }));
  CHECK(c.stats().asked.load() >= 1);
  CHECK(c.stats().in_place.load() == 0);
  CHECK(c.stats().failed.load() == 0);

  // From then on the WAL starts over after each checkpoint instead of growing: 200 more
  // commits (three or four pages each) leave its file about the size it had. After each round
  // the test waits until the thread has served every ask: its last checkpoint began after the
  // round's last commit, so the WAL is all copied and the next commit starts it over. (Fixed
  // sleeps here failed now and then on a busy machine.)
  const auto caught_up = [&] {
    const auto& s = c.stats();
    return s.done.load() + s.busy.load() + s.failed.load() == s.asked.load();
  };
  REQUIRE(testing::eventually(caught_up));
  f.commit_one();
  const auto before = f.wal_bytes();
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 20; ++i) f.commit_one();
    CHECK(testing::eventually(caught_up));
  }
  CHECK(c.stats().in_place.load() == 0);
  CHECK(f.wal_bytes() < before + 100u * 4096u);
  CHECK(f.rows() == 221);
}

TEST_CASE("wal checkpointer: with its thread stopped the writer checkpoints at `fallback_pages`") {
  checkpoint_fixture f;
  db::wal_checkpointer c(*f.db, f.path, 10, 300);
  c.stop();
  // SQLite's own checkpoint at 1,000 pages is off, and no thread answers: the WAL grows...
  for (int i = 0; i < 50; ++i) f.commit_one();
  CHECK(c.stats().in_place.load() == 0);
  CHECK(f.wal_bytes() > 100u * 4096u);
  // ...until the fallback, where the commit checkpoints in place.
  for (int i = 0; i < 200 && c.stats().in_place.load() == 0; ++i) f.commit_one();
  CHECK(c.stats().in_place.load() >= 1);
  CHECK(c.stats().done.load() == 0);
}

TEST_CASE("wal checkpointer: once destroyed, SQLite checkpoints in the commit again") {
  checkpoint_fixture f;
  { db::wal_checkpointer c(*f.db, f.path, 10, 100000); }
  // Past 1,000 pages SQLite's automatic checkpoint runs and the WAL starts over.
  for (int i = 0; i < 1100; ++i) f.commit_one();
  CHECK(f.wal_bytes() < 1100u * 4096u);
  CHECK(f.rows() == 1100);
}
