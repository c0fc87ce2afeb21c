// The group commit writer, driven by hand: the test plays the database thread, running the
// batches the writer posts when it chooses, so what shares a commit is deterministic.

#include "db/group_commit.hpp"
#include "db/transaction.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace cp2;
using namespace std::chrono_literals;

namespace {

struct writer_fixture {
  SQLite::Database db{":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE};
  std::deque<std::function<void()>> posted;  // what the writer handed the "database thread"
  db::group_commit writer{db, [this](std::function<void()> task) { posted.push_back(std::move(task)); }, 3};
  std::vector<std::string> outcomes;  // "ok" or the error, in the order `done` was called

  writer_fixture() {
    db.exec("CREATE TABLE t (v TEXT NOT NULL UNIQUE)");
    // A deferred foreign key fails only at COMMIT: the way to make a whole batch fail.
    db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
    db.exec("CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)");
    db.exec("PRAGMA foreign_keys = ON");
  }

  void insert(const std::string& v, db::group_commit::deadline by = db::group_commit::deadline::max()) {
    writer.submit(
        [this, v] {
          SQLite::Statement q(db, "INSERT INTO t (v) VALUES (?)");
          q.bind(1, v);
          q.exec();
        },
        [this](std::exception_ptr e) { outcomes.push_back(describe(e)); }, by);
  }

  static std::string describe(std::exception_ptr e) {
    if (!e) return "ok";
    try {
      std::rethrow_exception(e);
    } catch (const domain::write_shed&) {
      return "shed";
    } catch (const std::exception& ex) {
      return std::string("error: ") + ex.what();
    }
  }

  // Runs the next posted task, as the database thread would.
  void run_next() {
    REQUIRE_FALSE(posted.empty());
    auto task = std::move(posted.front());
    posted.pop_front();
    task();
  }

  std::vector<std::string> rows() {
    std::vector<std::string> out;
    SQLite::Statement q(db, "SELECT v FROM t ORDER BY rowid");
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
  }
};

}  // namespace

TEST_CASE("group commit: units queued together share one commit, done only after it") {
  writer_fixture f;
  f.insert("a");
  f.insert("b");
  CHECK(f.posted.size() == 1);  // one batch scheduled for both
  CHECK(f.outcomes.empty());
  f.run_next();
  CHECK(f.outcomes == std::vector<std::string>{"ok", "ok"});
  CHECK(f.rows() == std::vector<std::string>{"a", "b"});
  CHECK(f.writer.stats().commits == 1);
  CHECK(f.writer.stats().units == 2);
  CHECK(f.posted.empty());
  CHECK(sqlite3_get_autocommit(f.db.getHandle()) != 0);  // nothing left open
}

TEST_CASE("group commit: a unit that throws is undone alone") {
  writer_fixture f;
  f.insert("a");
  f.insert("a");  // violates UNIQUE
  f.insert("c");
  f.run_next();
  REQUIRE(f.outcomes.size() == 3);
  CHECK(f.outcomes[0] == "ok");
  CHECK(f.outcomes[1].find("UNIQUE") != std::string::npos);
  CHECK(f.outcomes[2] == "ok");
  CHECK(f.rows() == std::vector<std::string>{"a", "c"});
  CHECK(f.writer.stats().failed == 1);
}

TEST_CASE("group commit: a failed commit undoes and fails every unit of the batch") {
  writer_fixture f;
  f.insert("a");
  f.writer.submit([&] { f.db.exec("INSERT INTO child (p) VALUES (42)"); },  // no parent 42
                  [&](std::exception_ptr e) { f.outcomes.push_back(writer_fixture::describe(e)); });
  f.run_next();
  REQUIRE(f.outcomes.size() == 2);
  CHECK(f.outcomes[0].find("FOREIGN KEY") != std::string::npos);
  CHECK(f.outcomes[1].find("FOREIGN KEY") != std::string::npos);
  CHECK(f.rows().empty());
  CHECK(sqlite3_get_autocommit(f.db.getHandle()) != 0);
  // The writer keeps working afterwards.
  f.insert("b");
  f.run_next();
  CHECK(f.outcomes.back() == "ok");
  CHECK(f.rows() == std::vector<std::string>{"b"});
}

TEST_CASE("group commit: a unit still waiting at its deadline is not run") {
  writer_fixture f;
  f.insert("late", std::chrono::steady_clock::now() - 1ms);
  f.insert("on time", std::chrono::steady_clock::now() + 1h);
  f.run_next();
  CHECK(f.outcomes == std::vector<std::string>{"shed", "ok"});
  CHECK(f.rows() == std::vector<std::string>{"on time"});
  CHECK(f.writer.stats().shed == 1);
  CHECK(f.writer.stats().failed == 0);
}

TEST_CASE("group commit: batches are capped, keep the order, and what arrives meanwhile follows") {
  writer_fixture f;  // max_batch 3
  for (auto v : {"1", "2", "3", "4", "5"}) f.insert(v);
  CHECK(f.writer.waiting() == 5);
  f.run_next();  // 1..3; schedules the rest
  CHECK(f.outcomes.size() == 3);
  CHECK(f.writer.waiting() == 2);
  REQUIRE(f.posted.size() == 1);
  f.insert("6");  // already scheduled: no second post
  CHECK(f.posted.size() == 1);
  f.run_next();
  CHECK(f.outcomes.size() == 6);
  CHECK(f.rows() == std::vector<std::string>{"1", "2", "3", "4", "5", "6"});
  CHECK(f.writer.stats().commits == 2);
  CHECK(f.posted.empty());
}

namespace {

// db::in_transaction with its statements prepared and finalized each time in one subcase, and
// prepared once in `stmts` in the other: a test that uses it runs both ways.
std::function<void(const std::function<void()>&)> in_transaction_both_ways(SQLite::Database& db,
                                                                          db::statement_cache& stmts) {
  bool cached = false;
  SUBCASE("statements prepared each time") {}
  SUBCASE("statements prepared once") { cached = true; }
  return [&db, &stmts, cached](const std::function<void()>& fn) {
    if (cached) db::in_transaction(db, stmts, fn);
    else db::in_transaction(db, fn);
  };
}

}  // namespace

TEST_CASE("group commit: in_transaction inside a unit undoes only itself when it throws") {
  writer_fixture f;
  db::statement_cache stmts(f.db);
  auto nested = in_transaction_both_ways(f.db, stmts);
  std::optional<std::string> caught;
  f.writer.submit(
      [&] {
        f.db.exec("INSERT INTO t (v) VALUES ('kept')");
        try {
          nested([&] {
            f.db.exec("INSERT INTO t (v) VALUES ('undone')");
            throw std::runtime_error("changed my mind");
          });
        } catch (const std::runtime_error& e) {
          caught = e.what();
        }
        nested([&] { f.db.exec("INSERT INTO t (v) VALUES ('released')"); });
      },
      [&](std::exception_ptr e) { f.outcomes.push_back(writer_fixture::describe(e)); });
  f.run_next();
  CHECK(caught == "changed my mind");
  CHECK(f.outcomes == std::vector<std::string>{"ok"});
  CHECK(f.rows() == std::vector<std::string>{"kept", "released"});
}

TEST_CASE("in_transaction on its own: committed when fn returns, rolled back when it throws") {
  writer_fixture f;
  db::statement_cache stmts(f.db);
  auto tx = in_transaction_both_ways(f.db, stmts);
  tx([&] { f.db.exec("INSERT INTO t (v) VALUES ('a')"); });
  CHECK_THROWS_AS(tx([&] {
                    f.db.exec("INSERT INTO t (v) VALUES ('b')");
                    throw std::runtime_error("no");
                  }),
                  std::runtime_error);
  CHECK(sqlite3_get_autocommit(f.db.getHandle()) != 0);  // nothing left open
  tx([&] { f.db.exec("INSERT INTO t (v) VALUES ('c')"); });
  CHECK(f.rows() == std::vector<std::string>{"a", "c"});
}
