#include "db/database.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using cp2::db::database_error;
using cp2::db::open_database;
using namespace std::chrono_literals;

namespace {

// A scratch folder removed at the end of the test.
struct scratch {
  fs::path dir = fs::temp_directory_path() / ("cp2-db-test-" + std::to_string(::getpid()));
  scratch() { fs::remove_all(dir); fs::create_directories(dir); }
  ~scratch() { fs::remove_all(dir); }
  std::string file(const char* name) const { return (dir / name).string(); }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string open_error(const std::string& path) {
  try {
    open_database(path, 1s);
  } catch (const database_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a fresh database is created, marked as CP2 and migrated to the latest version") {
  scratch s;
  auto db = open_database(s.file("cp2.db"), 1s);
  CHECK(cp2::db::schema_version(*db) == cp2::db::latest_schema_version());
  CHECK(db->execAndGet("PRAGMA application_id").getInt() == cp2::db::application_id);
  CHECK(db->execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(db->execAndGet("PRAGMA foreign_keys").getInt() == 1);
  CHECK(db->tableExists("accounts"));
  CHECK(db->tableExists("outbox"));
}

TEST_CASE("opening an existing database again keeps its data and runs nothing twice") {
  scratch s;
  {
    auto db = open_database(s.file("cp2.db"), 1s);
    db->exec("INSERT INTO opt_outs (phone, since) VALUES ('254712345678', 1)");
  }
  auto db = open_database(s.file("cp2.db"), 1s);
  CHECK(db->execAndGet("SELECT count(*) FROM opt_outs").getInt() == 1);
  CHECK(cp2::db::schema_version(*db) == cp2::db::latest_schema_version());
}

TEST_CASE("an in-memory database migrates for tests") {
  auto db = open_database(":memory:", 1s);
  CHECK(db->tableExists("accounts"));
}

TEST_CASE("a file that is not a CP2 database is refused and left untouched") {
  scratch s;
  SUBCASE("a text file") {
    auto path = s.file("notes.txt");
    {
      std::ofstream out(path, std::ios::binary);
      for (int i = 0; i < 200; ++i) out << "this is not a database, line " << i << "\n";
    }
    auto before = read_all(path);
    auto err = open_error(path);
    CHECK(err.find("cannot open as a SQLite database") != std::string::npos);
    CHECK(read_all(path) == before);
  }
  SUBCASE("another application's SQLite database") {
    auto path = s.file("other.db");
    {
      SQLite::Database other(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      other.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
    }
    auto before = read_all(path);
    auto err = open_error(path);
    CHECK(err.find("not a CP2 gateway database") != std::string::npos);
    CHECK(read_all(path) == before);
    CHECK_FALSE(fs::exists(path + "-wal"));
  }
}

TEST_CASE("a database migrated by a newer binary is refused and left untouched") {
  scratch s;
  auto path = s.file("cp2.db");
  {
    auto db = open_database(path, 1s);
    db->exec("PRAGMA user_version = " + std::to_string(cp2::db::latest_schema_version() + 1));
  }
  auto err = open_error(path);
  CHECK(err.find("is newer than this binary") != std::string::npos);
  SQLite::Database check(path, SQLite::OPEN_READONLY);
  CHECK(check.execAndGet("PRAGMA user_version").getInt() == cp2::db::latest_schema_version() + 1);
}

TEST_CASE("the reader connection reads beside an open write, sees each commit, and writes nothing") {
  scratch s;
  const std::string path = s.file("cp2.db");
  auto writer = open_database(path, 1s);
  writer->exec("INSERT INTO opt_outs (phone, since) VALUES ('254711000001', 1)");
  auto reader = cp2::db::open_reader(path, 1s);
  auto count = [&] { return reader->execAndGet("SELECT count(*) FROM opt_outs").getInt(); };
  CHECK(count() == 1);

  // The writer holds its write lock with a change not yet committed, as during a batch and its
  // fsync: the reader reads (a reader locked out would throw SQLITE_BUSY after busy_timeout)
  // and does not see the change.
  writer->exec("BEGIN IMMEDIATE");
  writer->exec("INSERT INTO opt_outs (phone, since) VALUES ('254711000002', 1)");
  CHECK(count() == 1);
  writer->exec("COMMIT");
  CHECK(count() == 2);

  CHECK_THROWS_AS(reader->exec("DELETE FROM opt_outs"), SQLite::Exception);
  CHECK(count() == 2);
}
