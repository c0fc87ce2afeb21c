#include "db/statement_cache.hpp"

#include <doctest/doctest.h>

using namespace cp2;

namespace {
struct cache_fixture {
  SQLite::Database db{":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE};
  db::statement_cache cache{db};
  cache_fixture() {
    db.exec("CREATE TABLE t (v INTEGER)");
    db.exec("INSERT INTO t VALUES (1), (2), (3)");
  }
};
}  // namespace

TEST_CASE("statement cache: one prepared statement per SQL text, reused") {
  cache_fixture f;
  SQLite::Statement* first = nullptr;
  {
    auto q = f.cache.use("SELECT v FROM t WHERE v >= ? ORDER BY v");
    first = &*q;
  }
  auto again = f.cache.use("SELECT v FROM t WHERE v >= ? ORDER BY v");
  CHECK(&*again == first);
  auto other = f.cache.use("SELECT count(*) FROM t");
  CHECK(&*other != first);
}

TEST_CASE("statement cache: a lease ends with the statement reset and its bindings cleared") {
  cache_fixture f;
  {
    auto q = f.cache.use("SELECT v FROM t WHERE v >= ? ORDER BY v");
    q->bind(1, 2);
    REQUIRE(q->executeStep());
    CHECK(q->getColumn(0).getInt() == 2);  // left in the middle of its rows
  }
  auto q = f.cache.use("SELECT v FROM t WHERE v >= ? ORDER BY v");
  CHECK_FALSE(q->executeStep());  // the old binding is gone: v >= NULL matches nothing
  q->reset();
  q->bind(1, 1);
  REQUIRE(q->executeStep());
  CHECK(q->getColumn(0).getInt() == 1);  // from the first row again
}

TEST_CASE("statement cache: the same SQL used while it is lent gets a statement of its own") {
  cache_fixture f;
  const std::string sql = "SELECT v FROM t WHERE v >= ? ORDER BY v";
  auto outer = f.cache.use(sql);
  outer->bind(1, 1);
  REQUIRE(outer->executeStep());
  {
    auto inner = f.cache.use(sql);
    CHECK(&*inner != &*outer);
    inner->bind(1, 3);
    REQUIRE(inner->executeStep());
    CHECK(inner->getColumn(0).getInt() == 3);
  }
  // The outer iteration goes on undisturbed.
  REQUIRE(outer->executeStep());
  CHECK(outer->getColumn(0).getInt() == 2);
}
