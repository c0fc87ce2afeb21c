#include "db/database.hpp"
#include "db/migrations.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
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

// Migration 7 copies the outbox and the applications into new tables (other CHECKs, another
// index on the provider's message id). A database at version 6 with rows in every state comes
// through with each row as it was, and with the rules as they were.
TEST_CASE("migration 7 keeps every message and application, and their rules") {
  scratch s;
  const auto path = s.file("v6.db");
  // What the rows were, column for column, in id or reference order.
  auto dump = [](SQLite::Database& db, const char* sql) {
    SQLite::Statement q(db, sql);
    std::string out;
    while (q.executeStep()) {
      for (int c = 0; c < q.getColumnCount(); ++c) {
        out += q.getColumn(c).isNull() ? std::string("NULL") : q.getColumn(c).getString();
        out += '|';
      }
      out += '\n';
    }
    return out;
  };
  const char* outbox_rows = "SELECT * FROM outbox ORDER BY id";
  const char* application_rows = "SELECT * FROM applications ORDER BY ref";
  std::string outbox_before, applications_before;
  {
    SQLite::Database v6(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    v6.exec("PRAGMA foreign_keys = ON");
    for (const auto& m : cp2::db::migrations()) {
      if (m.version > 6) break;
      v6.exec(m.sql);
      if (m.load) m.load(v6);
    }
    v6.exec("PRAGMA user_version = 6");
    v6.exec("PRAGMA application_id = " + std::to_string(cp2::db::application_id));
    v6.exec(R"sql(
INSERT INTO accounts (phone, username, password_hash, created_at, password_changed_at)
  VALUES ('254712000001', '254712000001', 'h', 1, 1), ('254712000002', '254712000002', 'h', 1, 1);
INSERT INTO vacancies VALUES ('V1','KCSE','Marking','Marking centre','Examiner','Kisii','Bobasi','S',2,'',0,10,0,0),
  ('V2','KCSE','Marking','Marking centre','Examiner','Kisii','Bobasi','T',2,'',0,10,0,0);
INSERT INTO applications VALUES ('CP2-AAAAAA','254712000001','V1','KCSE','Marking','submitted',5,6),
  ('CP2-BBBBBB','254712000001','V2','KCSE','Marking','withdrawn',7,8),
  ('CP2-CCCCCC','254712000002','V2','KCSE','Marking','approved',9,9),
  ('CP2-DDDDDD','254712000002','V1','KCSE','Marking','rejected',3,4);
INSERT INTO outbox (phone, body, sensitive, kind, link_id, state, attempts, next_attempt_at, created_at,
                    updated_at, provider_message_id, cost, last_error, delivery_status, failure_reason)
  VALUES ('254712000001','one',1,'credentials','L1','queued',0,10,1,1,NULL,'','','',''),
         ('254712000001','two',0,'reply','','sending',1,11,2,3,NULL,'','timeout','',''),
         ('254712000002','three',0,'reply','','accepted',1,12,4,5,'ATXid_1','KES 0.80','','',''),
         ('254712000002','four',0,'notification','','delivered',1,13,6,7,'ATXid_2','KES 0.80','','Success',''),
         ('254712000002','five',0,'reply','','failed',5,14,8,9,NULL,'','rejected','Failed','UserInBlacklist');
)sql");
    outbox_before = dump(v6, outbox_rows);
    applications_before = dump(v6, application_rows);
  }
  auto db = open_database(path, 1s);
  CHECK(cp2::db::schema_version(*db) == 7);
  CHECK(dump(*db, outbox_rows) == outbox_before);
  CHECK(dump(*db, application_rows) == applications_before);
  CHECK(db->execAndGet("PRAGMA integrity_check").getString() == "ok");
  CHECK(db->execAndGet("SELECT count(*) FROM pragma_foreign_key_check").getInt() == 0);
  // The same rules as before.
  CHECK_THROWS(db->exec("UPDATE outbox SET state = 'lost' WHERE id = 1"));
  CHECK_THROWS(db->exec("UPDATE outbox SET provider_message_id = 'ATXid_1' WHERE id = 4"));
  db->exec("UPDATE outbox SET provider_message_id = NULL WHERE id = 4");  // many may have none
  CHECK_THROWS(db->exec("UPDATE applications SET status = 'lost' WHERE ref = 'CP2-DDDDDD'"));
  CHECK_THROWS(db->exec("INSERT INTO applications VALUES ('CP2-EEEEEE','254712000001','V1','KCSE','Marking',"
                        "'submitted',1,1)"));  // a second active application to V1
  CHECK_THROWS(db->exec("INSERT INTO applications VALUES ('CP2-EEEEEE','254712000009','V2','KCSE','Marking',"
                        "'withdrawn',1,1)"));  // no such account
  db->exec("UPDATE applications SET status = 'withdrawn' WHERE ref = 'CP2-AAAAAA'");
  db->exec("INSERT INTO applications VALUES ('CP2-EEEEEE','254712000001','V1','KCSE','Marking','submitted',1,1)");
  // Every index the queries name is there again.
  for (const char* index : {"outbox_by_phone", "outbox_queued", "outbox_pending", "outbox_by_provider_id",
                            "applications_one_per_vacancy", "applications_one_per_exam_activity",
                            "applications_by_vacancy", "applications_by_phone"}) {
    SQLite::Statement q(*db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?");
    q.bind(1, index);
    REQUIRE(q.executeStep());
    CHECK_MESSAGE(q.getColumn(0).getInt() == 1, index);
  }
}
