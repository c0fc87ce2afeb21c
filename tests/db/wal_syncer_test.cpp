// The WAL syncer with the group commit writer: a batch's units are answered only once a sync
// that started after its commit has returned, the next batch runs meanwhile, and a failed sync
// fails what it was for and sends the writer back to syncing in place. The test plays the
// database thread, as in group_commit_test.cpp; the syncer's thread is real.

#include "db/database.hpp"
#include "db/group_commit.hpp"
#include "db/wal_syncer.hpp"
#include "tests/support/eventually.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace cp2;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A sync the test holds closed, counts, and can make fail.
struct test_sync {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  int calls = 0;
  int fail_next = 0;

  void operator()() {
    std::unique_lock lock(mu);
    ++calls;
    cv.wait(lock, [this] { return open; });
    if (fail_next > 0) {
      --fail_next;
      throw std::runtime_error("injected: the disk refused the sync");
    }
  }
  void set_open(bool o) {
    {
      std::lock_guard lock(mu);
      open = o;
    }
    cv.notify_all();
  }
  int count() {
    std::lock_guard lock(mu);
    return calls;
  }
};

struct syncer_fixture {
  fs::path dir = fs::temp_directory_path() / ("cp2-wal-syncer-test-" + std::to_string(::getpid()));
  std::string path = (dir / "cp2.db").string();
  std::unique_ptr<SQLite::Database> db;
  test_sync sync;
  std::unique_ptr<db::wal_syncer> syncer;
  std::deque<std::function<void()>> posted;
  std::unique_ptr<db::group_commit> writer;
  std::mutex mu;
  std::vector<std::string> outcomes;  // guarded by mu: "ok" or the error, as `done` was called

  std::vector<std::string> reports;  // guarded by mu: what on_failure was told

  explicit syncer_fixture(bool hooked = true) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    db = db::open_database(path, 1s);
    db->exec("CREATE TABLE t (v TEXT NOT NULL UNIQUE)");
    auto report = [this](const std::string& why) {
      std::lock_guard lock(mu);
      reports.push_back(why);
    };
    if (hooked) syncer = std::make_unique<db::wal_syncer>(path, [this] { sync(); }, report);
    else syncer = std::make_unique<db::wal_syncer>(path);
    writer = std::make_unique<db::group_commit>(
        *db, [this](std::function<void()> task) { posted.push_back(std::move(task)); }, 512, syncer.get());
  }
  ~syncer_fixture() {
    sync.set_open(true);
    syncer->stop();
    writer.reset();
    db.reset();
    fs::remove_all(dir);
  }

  void insert(const std::string& v) {
    writer->submit(
        [this, v] {
          SQLite::Statement q(*db, "INSERT INTO t (v) VALUES (?)");
          q.bind(1, v);
          q.exec();
        },
        [this](std::exception_ptr e) {
          std::lock_guard lock(mu);
          outcomes.push_back(testing::outcome(e));
        });
  }
  void run_next() {
    REQUIRE_FALSE(posted.empty());
    auto task = std::move(posted.front());
    posted.pop_front();
    task();
  }
  std::vector<std::string> answered() {
    std::lock_guard lock(mu);
    return outcomes;
  }
  int synchronous() { return db->execAndGet("PRAGMA synchronous").getInt(); }
};

}  // namespace

TEST_CASE("wal syncer: a batch is answered after its sync, while the next batch runs") {
  syncer_fixture f;
  f.sync.set_open(false);
  f.insert("a");
  f.run_next();
  // Committed and visible to another connection, but not yet answered: its sync is held.
  SQLite::Database other(f.path, SQLite::OPEN_READONLY);
  CHECK(other.execAndGet("SELECT count(*) FROM t WHERE v = 'a'").getInt() == 1);
  CHECK(f.answered().empty());
  // Changes made outside the writer still sync in their own commit.
  CHECK(f.synchronous() == 2);

  // The next batch runs while the first one's sync is held.
  f.insert("b");
  f.run_next();
  CHECK(other.execAndGet("SELECT count(*) FROM t").getInt() == 2);
  bool waited = false;
  f.syncer->after_durable([&](std::exception_ptr e) {
    std::lock_guard lock(f.mu);
    waited = e == nullptr;
  });
  CHECK(f.answered().empty());

  f.sync.set_open(true);
  REQUIRE(testing::eventually([&] { return f.answered().size() == 2; }));
  CHECK(f.answered() == std::vector<std::string>{"ok", "ok"});
  REQUIRE(testing::eventually([&] {
    std::lock_guard lock(f.mu);
    return waited;
  }));
  // One sync was held; "b" and the waiter were served by at most one more.
  CHECK(f.sync.count() >= 1);
  CHECK(f.sync.count() <= 2);
  CHECK_FALSE(f.syncer->failed());
}

TEST_CASE("wal syncer: nothing waiting means after_durable answers at once") {
  syncer_fixture f;
  bool called = false;
  f.syncer->after_durable([&](std::exception_ptr e) { called = e == nullptr; });
  CHECK(called);
  CHECK(f.sync.count() == 0);
}

TEST_CASE("wal syncer: a failed sync fails its units and waiters; later batches sync in place") {
  syncer_fixture f;
  f.sync.set_open(false);
  f.sync.fail_next = 1;
  f.insert("a");
  f.run_next();
  std::string waiter;
  f.syncer->after_durable([&](std::exception_ptr e) {
    std::lock_guard lock(f.mu);
    waiter = testing::outcome(e);
  });
  f.sync.set_open(true);
  REQUIRE(testing::eventually([&] { return f.answered().size() == 1; }));
  CHECK(f.answered().front() == "error: injected: the disk refused the sync");
  REQUIRE(testing::eventually([&] {
    std::lock_guard lock(f.mu);
    return !waiter.empty();
  }));
  CHECK(waiter == "error: injected: the disk refused the sync");
  CHECK(f.syncer->failed());
  {
    std::lock_guard lock(f.mu);
    CHECK(f.reports == std::vector<std::string>{"injected: the disk refused the sync"});
  }

  // From now on the commit syncs itself: answered as soon as the batch has run.
  int syncs = f.sync.count();
  f.insert("b");
  f.run_next();
  CHECK(f.answered().size() == 2);
  CHECK(f.answered().back() == "ok");
  CHECK(f.sync.count() == syncs);
  bool called = false;
  f.syncer->after_durable([&](std::exception_ptr e) { called = e == nullptr; });
  CHECK(called);
}

TEST_CASE("wal syncer: the real sync makes a batch durable and counts one sync") {
  syncer_fixture f(false);
  f.insert("a");
  f.insert("b");
  f.run_next();
  REQUIRE(testing::eventually([&] { return f.answered().size() == 2; }));
  CHECK(f.answered() == std::vector<std::string>{"ok", "ok"});
  CHECK(f.syncer->syncs() == 1);
  CHECK_FALSE(f.syncer->failed());
}

TEST_CASE("wal syncer: a WAL that cannot be opened fails the commit's units with the file's name") {
  db::wal_syncer syncer("/nonexistent-cp2-folder/cp2.db");
  std::string got;
  std::mutex mu;
  syncer.committed([&](std::exception_ptr e) {
    std::lock_guard lock(mu);
    got = testing::outcome(e);
  });
  syncer.stop();  // runs what is queued first
  std::lock_guard lock(mu);
  CHECK(got.find("/nonexistent-cp2-folder/cp2.db-wal: cannot open to sync it") != std::string::npos);
  CHECK(syncer.failed());
}

TEST_CASE("wal syncer: once stopped, a commit is answered at once with an error") {
  db::wal_syncer syncer("/nonexistent-cp2-folder/cp2.db");
  syncer.stop();
  std::string got;
  syncer.committed([&](std::exception_ptr e) { got = testing::outcome(e); });
  CHECK(got.find("has stopped") != std::string::npos);
}
