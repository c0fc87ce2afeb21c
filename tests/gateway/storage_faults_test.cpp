// Storage faults, duplicate and out-of-order callbacks, and time crossing vacancy deadlines
// (issue #9), against the real gateway in process.
//
// The database faults come from a SQLite VFS of the test's own (`fault_vfs`), registered as the
// default VFS before the gateway opens its database, that passes everything through to the
// real one and, when told to, refuses writes to the files of one folder as a full disk
// (SQLITE_FULL for a write past the end of a file, as the unix VFS reports ENOSPC) or a file
// system gone read-only (SQLITE_IOERR_WRITE, as it reports EROFS; opening for writing falls
// back to read-only, as it does). No hook in the gateway is needed, and the fault clears at once.

#include "db/database.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_application_store.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "domain/applications.hpp"
#include "domain/catalog.hpp"
#include "domain/clock.hpp"
#include "domain/msisdn.hpp"
#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/moving_clock.hpp"
#include "tests/support/test_gateway.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <future>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace cp2;
using namespace cp2::test;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------------------------
// A fault-injecting SQLite VFS.

enum class storage_fault { none, full, read_only };

// The state the VFS callbacks read. One fault_vfs at a time.
struct vfs_state {
  sqlite3_vfs* real = nullptr;
  sqlite3_vfs shim{};
  std::mutex mu;       // guards folder
  std::string folder;  // files under it are subject to the fault
  std::atomic<storage_fault> fault{storage_fault::none};
  std::atomic<long> refused{0};
};
vfs_state vfs;

// Our sqlite3_file: a header, then the real VFS's file.
struct shim_file {
  sqlite3_file base;
  bool watched;
};
constexpr int header_size = (sizeof(shim_file) + 15) & ~15;

sqlite3_file* inner(sqlite3_file* f) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + header_size);
}
bool watched(sqlite3_file* f) { return reinterpret_cast<shim_file*>(f)->watched; }

int x_close(sqlite3_file* f) {
  auto* r = inner(f);
  return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}
int x_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  auto* r = inner(f);
  return r->pMethods->xRead(r, buf, amount, offset);
}
int x_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  auto* r = inner(f);
  if (watched(f)) {
    switch (vfs.fault.load()) {
      case storage_fault::none: break;
      case storage_fault::full: {
        // A full disk refuses what would grow a file; space already allocated is reused.
        sqlite3_int64 size = 0;
        if (r->pMethods->xFileSize(r, &size) != SQLITE_OK || offset + amount > size) {
          ++vfs.refused;
          return SQLITE_FULL;
        }
        break;
      }
      case storage_fault::read_only:
        ++vfs.refused;
        return SQLITE_IOERR_WRITE;
    }
  }
  return r->pMethods->xWrite(r, buf, amount, offset);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (watched(f) && vfs.fault.load() == storage_fault::read_only) {
    ++vfs.refused;
    return SQLITE_IOERR_TRUNCATE;
  }
  auto* r = inner(f);
  return r->pMethods->xTruncate(r, size);
}
int x_sync(sqlite3_file* f, int flags) {
  auto* r = inner(f);
  return r->pMethods->xSync(r, flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  auto* r = inner(f);
  return r->pMethods->xFileSize(r, size);
}
int x_lock(sqlite3_file* f, int level) {
  auto* r = inner(f);
  return r->pMethods->xLock(r, level);
}
int x_unlock(sqlite3_file* f, int level) {
  auto* r = inner(f);
  return r->pMethods->xUnlock(r, level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  auto* r = inner(f);
  return r->pMethods->xCheckReservedLock(r, out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  if (op == SQLITE_FCNTL_SIZE_HINT && watched(f) && vfs.fault.load() != storage_fault::none) {
    ++vfs.refused;
    return vfs.fault.load() == storage_fault::full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  }
  auto* r = inner(f);
  return r->pMethods->xFileControl(r, op, arg);
}
int x_sector_size(sqlite3_file* f) {
  auto* r = inner(f);
  return r->pMethods->xSectorSize(r);
}
int x_device_characteristics(sqlite3_file* f) {
  auto* r = inner(f);
  return r->pMethods->xDeviceCharacteristics(r);
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  auto* r = inner(f);
  return r->pMethods->iVersion >= 2 ? r->pMethods->xShmMap(r, region, size, extend, out) : SQLITE_IOERR;
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  auto* r = inner(f);
  return r->pMethods->iVersion >= 2 ? r->pMethods->xShmLock(r, offset, n, flags) : SQLITE_IOERR;
}
void x_shm_barrier(sqlite3_file* f) {
  auto* r = inner(f);
  if (r->pMethods->iVersion >= 2) r->pMethods->xShmBarrier(r);
}
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  auto* r = inner(f);
  return r->pMethods->iVersion >= 2 ? r->pMethods->xShmUnmap(r, delete_flag) : SQLITE_OK;
}
int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  auto* r = inner(f);
  if (r->pMethods->iVersion >= 3) return r->pMethods->xFetch(r, offset, amount, out);
  *out = nullptr;
  return SQLITE_OK;
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  auto* r = inner(f);
  return r->pMethods->iVersion >= 3 ? r->pMethods->xUnfetch(r, offset, p) : SQLITE_OK;
}

const sqlite3_io_methods shim_methods = {
    3,          x_close,     x_read,        x_write,     x_truncate,   x_sync,
    x_file_size, x_lock,     x_unlock,      x_check_reserved_lock,     x_file_control,
    x_sector_size, x_device_characteristics, x_shm_map, x_shm_lock,   x_shm_barrier,
    x_shm_unmap, x_fetch,    x_unfetch,
};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* s = reinterpret_cast<shim_file*>(f);
  {
    std::lock_guard lock(vfs.mu);
    s->watched = name && !vfs.folder.empty() && std::strncmp(name, vfs.folder.c_str(), vfs.folder.size()) == 0;
  }
  // A read-only file system: opening for writing fails with EROFS, and the unix VFS then opens
  // the file read-only (the connection is read-only from then on).
  bool demoted = false;
  if (s->watched && vfs.fault.load() == storage_fault::read_only && (flags & SQLITE_OPEN_READWRITE)) {
    flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
    demoted = true;
  }
  auto* r = inner(f);
  int rc = vfs.real->xOpen(vfs.real, name, r, flags, out_flags);
  s->base.pMethods = r->pMethods ? &shim_methods : nullptr;
  if (demoted && rc == SQLITE_OK && out_flags)
    *out_flags = (*out_flags & ~SQLITE_OPEN_READWRITE) | SQLITE_OPEN_READONLY;
  return rc;
}
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  if (vfs.fault.load() == storage_fault::read_only) {
    std::lock_guard lock(vfs.mu);
    if (name && !vfs.folder.empty() && std::strncmp(name, vfs.folder.c_str(), vfs.folder.size()) == 0) {
      ++vfs.refused;
      return SQLITE_IOERR_DELETE;
    }
  }
  return vfs.real->xDelete(vfs.real, name, sync_dir);
}

/// While it lives, SQLite's default VFS passes through the real one and applies `set()`'s fault
/// to the files under `folder`. Create it before the gateway and destroy it after.
class fault_vfs {
public:
  explicit fault_vfs(const std::filesystem::path& folder) {
    REQUIRE(sqlite3_initialize() == SQLITE_OK);
    vfs.real = sqlite3_vfs_find(nullptr);
    REQUIRE(vfs.real != nullptr);
    vfs.shim = *vfs.real;  // what is not overridden goes straight to the real VFS's functions
    vfs.shim.szOsFile = header_size + vfs.real->szOsFile;
    vfs.shim.zName = "cp2-fault-test";
    vfs.shim.pNext = nullptr;
    vfs.shim.xOpen = x_open;
    vfs.shim.xDelete = x_delete;
    {
      std::lock_guard lock(vfs.mu);
      vfs.folder = folder.string() + "/";
    }
    vfs.fault = storage_fault::none;
    vfs.refused = 0;
    REQUIRE(sqlite3_vfs_register(&vfs.shim, 1) == SQLITE_OK);
  }
  ~fault_vfs() {
    vfs.fault = storage_fault::none;
    sqlite3_vfs_unregister(&vfs.shim);
    sqlite3_vfs_register(vfs.real, 1);
  }
  fault_vfs(const fault_vfs&) = delete;
  fault_vfs& operator=(const fault_vfs&) = delete;

  void set(storage_fault f) { vfs.fault = f; }
  /// Writes refused so far: proves the fault was really met.
  long refused() const { return vfs.refused.load(); }
};

// ---------------------------------------------------------------------------------------------
// A gateway on the fault VFS with the fake aggregator and the API on.

const std::string token = "faults-test-token";
const std::string bearer = "Authorization: Bearer " + token;
const std::string json_type = "Content-Type: application/json";
const std::string csv_type = "Content-Type: text/csv";
const std::string csv_header =
    "code,exam,activity,venue,role,county,subcounty,station,slots,description,opens_at,closes_at\n";

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

struct rig {
  scratch_dir dir;
  fault_vfs disk{dir.path};
  fake_aggregator aggregator;
  test_gateway gw;
  explicit rig(std::vector<std::string> env = {}, const domain::clock* clock = nullptr)
      : gw(test_config(dir, with_defaults(aggregator, std::move(env))), {}, clock) {}

  static std::vector<std::string> with_defaults(fake_aggregator& a, std::vector<std::string> env) {
    env.insert(env.begin(), {"CP2_PROVIDER_KIND=africastalking", "CP2_PROVIDER_BASE_URL=" + a.base_url(),
                             "CP2_PROVIDER_USERNAME=sandbox", "CP2_PROVIDER_API_KEY=k",
                             "CP2_PROVIDER_TIMEOUT=2s", "CP2_SMS_RETRY_BASE=100ms",
                             "CP2_SMS_RETRY_CAP=500ms", "CP2_ADMIN_TOKEN=" + token});
    return env;
  }

  http_reply api(const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& type = json_type) {
    return request(method, gw.port(), target, body, {bearer, type});
  }
  http_reply ussd(const std::string& session, const std::string& phone, const std::string& text) {
    return post_form(gw.port(), "/callbacks/ussd",
                     "sessionId=" + session + "&serviceCode=%2A384%2A22262%23&phoneNumber=" +
                         form_escape(phone) + "&networkCode=63902&text=" + form_escape(text));
  }
  http_reply sms(const std::string& id, const std::string& from, const std::string& text) {
    return post_form(gw.port(), "/callbacks/sms",
                     "from=" + form_escape(from) + "&to=22262&text=" + form_escape(text) + "&id=" + id +
                         "&linkId=L-" + id + "&networkCode=63902");
  }
  http_reply dlr(const std::string& id, const std::string& status, const std::string& reason = "") {
    return post_form(gw.port(), "/callbacks/dlr",
                     "id=" + id + "&status=" + status + "&phoneNumber=%2B254712000001&networkCode=63902" +
                         "&failureReason=" + reason + "&retryCount=0");
  }
  long readyz() { return request("GET", gw.port(), "/readyz", "", {}, 5000).status; }

  // An account with a complete profile, through the portal API.
  void applicant(const std::string& phone) {
    REQUIRE(api("POST", "/api/v1/accounts", R"({"phone":")" + phone + R"("})").status == 201);
    auto r = api("PUT", "/api/v1/accounts/" + phone + "/profile",
                 R"({"full_name":"jane moraa","national_id":"12345678","kra_pin":"a123456789z",)"
                 R"("county":"kisii","workstation":"Kisii School"})");
    REQUIRE(r.status == 200);
    REQUIRE(r.body.find(R"("complete":true)") != std::string::npos);
  }

  // A value from the gateway's database through a connection of our own.
  std::string db_text(const std::string& sql) {
    SQLite::Database db((dir.path / "cp2.db").string(), SQLite::OPEN_READONLY);
    db.setBusyTimeout(2000);
    auto v = db.execAndGet(sql);
    return v.isNull() ? "" : v.getString();
  }
  long db_count(const std::string& sql) { return std::stol(db_text(sql)); }

  // Messages the fake accepted for this number ("+2547…").
  std::vector<std::string> accepted_to(const std::string& international) {
    std::vector<std::string> out;
    for (const auto& m : aggregator.received())
      if (m.to == international && !m.message_id.empty()) out.push_back(m.message);
    return out;
  }
};

// The number of the menu line whose label starts with `label`, or -1.
int pick(const std::string& screen, const std::string& label) {
  static const std::regex line(R"((?:^|\n)(\d+)\. ([^\n]*))");
  for (auto it = std::sregex_iterator(screen.begin(), screen.end(), line); it != std::sregex_iterator(); ++it)
    if ((*it)[2].str().rfind(label, 0) == 0) return std::stoi((*it)[1].str());
  return -1;
}

// Walks a session by labels from the main menu; returns the `text` reached, or "" (and fails
// the test) when a label is missing. `last` receives the last screen.
std::string walk(rig& t, const std::string& session, const std::string& phone,
                 const std::vector<std::string>& labels, std::string* last = nullptr) {
  std::string text;
  for (const auto& label : labels) {
    auto r = t.ussd(session, phone, text);
    int n = pick(r.body, label);
    if (n < 0) {
      FAIL_CHECK("no \"" << label << "\" on the screen at \"" << text << "\": " << r.body);
      return "";
    }
    if (!text.empty()) text += '*';
    text += std::to_string(n);
  }
  if (last) *last = t.ussd(session, phone, text).body;
  return text;
}

const std::vector<std::string> to_kisii_school = {"Vacancies", "KCSE", "Marking", "Marking centre",
                                                  "Examiner",  "Kisii", "Bobasi", "Kisii School"};

bool is_apology(const http_reply& r) {
  return r.status == 200 && r.body.rfind("END ", 0) == 0 && r.body.find("Sorry") != std::string::npos;
}

std::string reference_in(const std::string& screen) {
  std::smatch m;
  static const std::regex ref("reference is (CP2-[A-Z0-9]{6})");
  return std::regex_search(screen, m, ref) ? m[1].str() : "";
}

// ---------------------------------------------------------------------------------------------
// The scenario for both storage faults.

void storage_fault_scenario(storage_fault fault) {
  rig t;
  REQUIRE(t.api("POST", "/api/v1/vacancies",
                csv_header + "K1,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Kisii School,5,,"
                             "2020-01-01T08:00,2090-01-01T17:00\n",
                csv_type).status == 200);
  t.applicant("0712000001");
  // Its credential SMS accepted by the provider: a message a delivery report can be about.
  REQUIRE(wait_until([&] { return t.db_text("SELECT state FROM outbox WHERE phone = '254712000001'") == "accepted"; }));
  const auto message_id = t.db_text("SELECT provider_message_id FROM outbox WHERE phone = '254712000001'");
  // The path to Apply is walked before the fault (reads only), and the session's facts kept.
  std::string detail;
  const auto apply_text = walk(t, "A1", "0712000001", to_kisii_school, &detail) + "*1";
  REQUIRE(detail.find("Apply") != std::string::npos);
  REQUIRE(t.readyz() == 200);

  t.disk.set(fault);
  const long refused_before = t.disk.refused();

  // USSD: an action that must write answers END with an apology, never an HTTP error.
  CHECK(t.ussd("C1", "0712000002", "").body.rfind("CON ", 0) == 0);  // reading still works
  auto create = t.ussd("C1", "0712000002", "1*1");
  CHECK_MESSAGE(is_apology(create), create.status << " " << create.body);
  auto apply = t.ussd("A1", "0712000001", apply_text);
  CHECK_MESSAGE(is_apology(apply), apply.status << " " << apply.body);
  // (/readyz during the fault: readyz_under_fault below.)
  // Callbacks that could not be stored: 5xx, so that the aggregator delivers them again.
  auto sms = t.sms("fault-sms-1", "0712000003", "HELP");
  CHECK_MESSAGE(sms.status >= 500, sms.status << " " << sms.body);
  auto dlr = t.dlr(message_id, "Success");
  CHECK_MESSAGE(dlr.status >= 500, dlr.status << " " << dlr.body);
  auto early = t.dlr("ATXid_not_yet_known", "Success");
  CHECK_MESSAGE(early.status >= 500, early.status << " " << early.body);
  // Alive throughout, and the fault was really met.
  CHECK(request("GET", t.gw.port(), "/healthz").status == 200);
  CHECK(t.disk.refused() > refused_before);

  t.disk.set(storage_fault::none);

  // Service returns: ready again, and every retry is handled once.
  CHECK(wait_until([&] { return t.readyz() == 200; }));
  auto sms_again = t.sms("fault-sms-1", "0712000003", "HELP");
  CHECK(sms_again.status == 200);
  CHECK(sms_again.body == "ok\n");
  CHECK(t.sms("fault-sms-1", "0712000003", "HELP").body == "duplicate\n");
  CHECK(t.dlr(message_id, "Success").status == 200);
  CHECK(t.db_text("SELECT state FROM outbox WHERE provider_message_id = '" + message_id + "'") == "delivered");
  // The aggregator's retry of the failed USSD request (same session, same text) is acted on now.
  auto create_again = t.ussd("C1", "0712000002", "1*1");
  CHECK_MESSAGE(create_again.body.find("will arrive by SMS") != std::string::npos, create_again.body);
  auto apply_again = t.ussd("A1", "0712000001", apply_text);
  CHECK_MESSAGE(!reference_in(apply_again.body).empty(), apply_again.body);
  // And a whole new session completes.
  t.applicant("0712000004");
  const auto new_apply = walk(t, "A2", "0712000004", to_kisii_school) + "*1";
  auto applied = t.ussd("A2", "0712000004", new_apply);
  CHECK_MESSAGE(!reference_in(applied.body).empty(), applied.body);

  // Nothing twice: one HELP reply, one credential SMS for the new account, one application each.
  CHECK(wait_until([&] { return t.accepted_to("+254712000003").size() == 1 && t.accepted_to("+254712000002").size() == 1; }));
  std::this_thread::sleep_for(300ms);
  CHECK(t.accepted_to("+254712000003").size() == 1);
  CHECK(t.accepted_to("+254712000002").size() == 1);
  CHECK(t.db_count("SELECT count(*) FROM applications") == 2);
  CHECK(t.db_text("PRAGMA integrity_check") == "ok");
}

// /readyz while writes fail, after a write has failed (so that a readiness that remembers the
// last write's outcome passes too), and once the fault clears.
void readyz_under_fault(storage_fault fault) {
  rig t;
  REQUIRE(t.readyz() == 200);
  t.disk.set(fault);
  CHECK(t.sms("ready-1", "0712000005", "HELP").status >= 500);
  CHECK(t.readyz() == 503);
  t.disk.set(storage_fault::none);
  CHECK(wait_until([&] { return t.readyz() == 200; }));
}

}  // namespace

TEST_CASE("database full: USSD apologises, SMS and DLR callbacks get 5xx, then all recovers") {
  storage_fault_scenario(storage_fault::full);
}

TEST_CASE("database read-only: USSD apologises, SMS and DLR callbacks get 5xx, then all recovers") {
  storage_fault_scenario(storage_fault::read_only);
}

// /readyz once only took the write lock and rolled back, which writes nothing, and answered 200
// on a full or read-only disk; it now commits a real (tiny) change.
TEST_CASE("database full: /readyz answers 503 while writes fail") {
  readyz_under_fault(storage_fault::full);
}

TEST_CASE("database read-only: /readyz answers 503 while writes fail") {
  readyz_under_fault(storage_fault::read_only);
}

TEST_CASE("a gateway started on a read-only database refuses to start, in one line") {
  scratch_dir dir;
  fault_vfs disk(dir.path);
  { test_gateway first(test_config(dir)); }  // creates and migrates the database
  disk.set(storage_fault::read_only);
  std::string what;
  try {
    test_gateway gw(test_config(dir));
    // Started after all: then it must not claim to be ready.
    CHECK(request("GET", gw.port(), "/readyz").status == 503);
  } catch (const std::exception& e) {
    what = e.what();
  }
  if (!what.empty()) {
    MESSAGE("refused to start: " << what);
    CHECK(what.find('\n') == std::string::npos);
    CHECK(what.find("cp2.db") != std::string::npos);
  }
  disk.set(storage_fault::none);
  test_gateway after(test_config(dir));
  CHECK(request("GET", after.port(), "/readyz").status == 200);
}

// ---------------------------------------------------------------------------------------------
// Duplicate, replayed and out-of-order callbacks. Already covered elsewhere: a USSD request
// repeated after its answer (accounts_e2e_test), an SMS id delivered twice in a row
// (accounts_e2e_test), a DLR before the send's answer and one for an unknown id
// (outbox_e2e_test). These add the concurrent and out-of-order cases.

TEST_CASE("a USSD request repeated while its first is still being answered: one answer, one account") {
  rig t;
  REQUIRE(t.ussd("D1", "0712000011", "").status == 200);
  REQUIRE(t.ussd("D1", "0712000011", "1").status == 200);
  // Creating an account hashes a password (tens of ms): the repeats arrive while it runs.
  std::vector<std::future<http_reply>> replies;
  for (int i = 0; i < 4; ++i)
    replies.push_back(std::async(std::launch::async, [&] { return t.ussd("D1", "0712000011", "1*1"); }));
  std::vector<std::string> bodies;
  for (auto& r : replies) bodies.push_back(r.get().body);
  for (const auto& b : bodies) CHECK(b == bodies.front());
  CHECK(bodies.front().find("will arrive by SMS") != std::string::npos);
  CHECK(t.db_count("SELECT count(*) FROM accounts WHERE phone = '254712000011'") == 1);
  REQUIRE(t.aggregator.wait_for(1, 10s));
  std::this_thread::sleep_for(300ms);
  CHECK(t.accepted_to("+254712000011").size() == 1);
}

TEST_CASE("USSD steps replayed out of order get their own first answers and change nothing") {
  rig t;
  auto main_menu = t.ussd("R1", "0712000012", "");
  auto confirm = t.ussd("R1", "0712000012", "1");
  auto created = t.ussd("R1", "0712000012", "1*1");
  REQUIRE(created.body.find("will arrive by SMS") != std::string::npos);
  // The aggregator replays earlier steps after the last one: each gets its first answer (the
  // main menu still offers to create an account, as it did then), and nothing is done again.
  CHECK(t.ussd("R1", "0712000012", "1").body == confirm.body);
  CHECK(t.ussd("R1", "0712000012", "").body == main_menu.body);
  CHECK(t.ussd("R1", "0712000012", "1*1").body == created.body);
  REQUIRE(t.aggregator.wait_for(1, 10s));
  std::this_thread::sleep_for(300ms);
  CHECK(t.accepted_to("+254712000012").size() == 1);
  CHECK(t.db_count("SELECT count(*) FROM accounts WHERE phone = '254712000012'") == 1);
}

TEST_CASE("the same SMS id delivered several times at once is handled once") {
  rig t;
  std::vector<std::future<http_reply>> replies;
  for (int i = 0; i < 6; ++i)
    replies.push_back(std::async(std::launch::async, [&] { return t.sms("same-id-1", "0712000013", "HELP"); }));
  int ok = 0, duplicate = 0;
  for (auto& f : replies) {
    auto r = f.get();
    CHECK(r.status == 200);
    ok += r.body == "ok\n";
    duplicate += r.body == "duplicate\n";
  }
  CHECK(ok == 1);
  CHECK(duplicate == 5);
  REQUIRE(t.aggregator.wait_for(1, 10s));
  std::this_thread::sleep_for(300ms);
  CHECK(t.accepted_to("+254712000013").size() == 1);
  CHECK(t.db_count("SELECT count(*) FROM inbound_sms WHERE id = 'same-id-1'") == 1);
}

TEST_CASE("delivery reports repeated and out of order, before and after the send's answer, only move forward") {
  rig t;
  // After the acceptance is stored: repeated, then older ones.
  t.sms("o1", "0712000014", "HELP");
  REQUIRE(wait_until([&] { return t.db_text("SELECT state FROM outbox WHERE phone = '254712000014'") == "accepted"; }));
  auto id = t.db_text("SELECT provider_message_id FROM outbox WHERE phone = '254712000014'");
  CHECK(t.dlr(id, "Success").status == 200);
  CHECK(t.dlr(id, "Success").status == 200);
  CHECK(t.dlr(id, "Buffered").status == 200);
  CHECK(t.dlr(id, "Sent").status == 200);
  CHECK(t.db_text("SELECT state FROM outbox WHERE phone = '254712000014'") == "delivered");

  // Before it: two early reports in the wrong order, the newer first.
  t.aggregator.set_delay(600ms);  // under the 2 s provider timeout
  t.sms("o2", "0712000015", "HELP");
  REQUIRE(t.aggregator.wait_for_attempts(2, 10s));
  const auto next_id = "ATXid_" + std::to_string(2);
  CHECK(t.dlr(next_id, "Success").status == 200);
  CHECK(t.dlr(next_id, "Buffered").status == 200);
  CHECK(t.dlr(next_id, "Success").status == 200);
  REQUIRE(wait_until([&] {
    auto s = t.db_text("SELECT state FROM outbox WHERE phone = '254712000015'");
    return s != "queued" && s != "sending";
  }));
  CHECK(t.db_text("SELECT state FROM outbox WHERE phone = '254712000015'") == "delivered");
  CHECK(t.db_text("SELECT provider_message_id FROM outbox WHERE phone = '254712000015'") == next_id);
}

// ---------------------------------------------------------------------------------------------
// Time and vacancy deadlines.

std::string iso_utc(std::int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The wall clock crosses a closing and an opening time while sessions are open. The gateway
// reads the real clock (no clock can be injected into gateway::app), so time passes for real.
TEST_CASE("a vacancy closing while a session is open is refused at Apply, one opening appears on time") {
  rig t;
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const auto change = now_s + 4;  // both happen then
  REQUIRE(t.api("POST", "/api/v1/vacancies",
                csv_header +
                    "T1,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Kisii School,5,,2020-01-01T08:00," +
                    iso_utc(change) + "\n" +
                    "T2,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Nyabururu Girls,5,," + iso_utc(change) +
                    ",2090-01-01T17:00\n",
                csv_type).status == 200);
  t.applicant("0712000021");
  std::string list;
  auto to_list = walk(t, "T-1", "0712000021",
                      {"Vacancies", "KCSE", "Marking", "Marking centre", "Examiner", "Kisii", "Bobasi"}, &list);
  CHECK(list.find("Kisii School") != std::string::npos);
  CHECK(list.find("Nyabururu Girls") == std::string::npos);
  auto detail_text = to_list + "*" + std::to_string(pick(list, "Kisii School"));
  REQUIRE(t.ussd("T-1", "0712000021", detail_text).body.find("Apply") != std::string::npos);
  REQUIRE(std::chrono::system_clock::now() < std::chrono::system_clock::time_point(std::chrono::seconds(change)));

  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::seconds(change)) + 700ms);
  // The session began before the close; its Apply comes after: refused, nothing stored.
  auto late = t.ussd("T-1", "0712000021", detail_text + "*1");
  CHECK(late.body.rfind("END ", 0) == 0);
  CHECK_MESSAGE(late.body.find("not open") != std::string::npos, late.body);
  CHECK(t.db_count("SELECT count(*) FROM applications") == 0);
  // A new session sees the catalog of now: the closed one gone, the opened one there.
  std::string now_list;
  auto new_list = walk(t, "T-2", "0712000021",
                       {"Vacancies", "KCSE", "Marking", "Marking centre", "Examiner", "Kisii", "Bobasi"}, &now_list);
  CHECK(now_list.find("Kisii School") == std::string::npos);
  REQUIRE(now_list.find("Nyabururu Girls") != std::string::npos);
  auto applied = t.ussd("T-2", "0712000021", new_list + "*" + std::to_string(pick(now_list, "Nyabururu Girls")) + "*1");
  CHECK_MESSAGE(!reference_in(applied.body).empty(), applied.body);
}

// The rules with a clock that jumps back and forth across a vacancy's opening and closing
// (NTP stepping the clock, an operator fixing it): what is open follows the clock's now, in
// the catalog the menus read and in the apply and withdraw transactions on SQLite.
TEST_CASE("clock jumps back and forth across opening and closing: apply, withdraw and the catalog follow now") {
  struct counting_random final : domain::random_source {
    std::uint32_t n = 0;
    std::uint32_t uniform(std::uint32_t upper) override { return (n = n * 1103515245u + 12345u) % upper; }
  } random;
  const domain::unix_ms t0 = 1'767'225'600'000;  // 2026-01-01T00:00Z
  const domain::unix_ms hour = 3'600'000;
  domain::manual_clock clock(t0);
  auto db = db::open_database(":memory:", 1s);
  db::sqlite_vacancy_store vacancies(*db);
  db::sqlite_account_store accounts(*db);
  db::sqlite_application_store store(*db);
  domain::vacancy v{"J1", "KCSE", "Marking", "Marking centre", "Examiner", "Kisii", "Bobasi", "Kisii School",
                    5, "", t0 + hour, t0 + 2 * hour};
  vacancies.upsert({v}, t0);
  const domain::profile complete{"Jane Moraa", "12345678", "A123456789Z", "Kisii", "Kisii School", ""};
  for (const char* phone : {"254712000031", "254712000032"}) {
    accounts.insert_account({phone, phone, "hash", 0, 0}, t0);
    store.save_profile(phone, complete, t0);
  }
  const auto a = *domain::parse_msisdn("0712000031");
  const auto b = *domain::parse_msisdn("0712000032");
  domain::application_service service(store, clock, random, "22262");
  auto catalog_now = [&] { return domain::catalog(vacancies.all(), vacancies.approved_counts(), clock.now()); };
  using kind = domain::apply_outcome::kind;

  // Before opening.
  CHECK(service.apply(a, "J1").result == kind::closed);
  CHECK(catalog_now().find("J1") == nullptr);
  CHECK(catalog_now().next_change() == t0 + hour);
  // Forward into the window: open.
  clock.set(t0 + hour);
  CHECK(catalog_now().find("J1") != nullptr);
  auto first = service.apply(a, "J1");
  REQUIRE(first.result == kind::submitted);
  // Back before opening: closed for a new applicant, and the catalog drops it; the applicant
  // who applied keeps the same reference.
  clock.set(t0 + hour - 1);
  CHECK(service.apply(b, "J1").result == kind::closed);
  CHECK(catalog_now().find("J1") == nullptr);
  auto again = service.apply(a, "J1");
  CHECK(again.result == kind::already_applied);
  CHECK(again.app.ref == first.app.ref);
  // Forward past closing (the closing moment itself is closed): no applying, no withdrawing.
  clock.set(t0 + 2 * hour);
  CHECK(service.apply(b, "J1").result == kind::closed);
  CHECK(service.withdraw(a, first.app.ref) == domain::withdraw_result::closed);
  CHECK(catalog_now().find("J1") == nullptr);
  CHECK(!catalog_now().next_change());
  // Back into the window: open again, by the clock alone.
  clock.set(t0 + 2 * hour - 1);
  CHECK(catalog_now().find("J1") != nullptr);
  CHECK(service.withdraw(a, first.app.ref) == domain::withdraw_result::withdrawn);
  CHECK(service.apply(b, "J1").result == kind::submitted);
  CHECK(db->execAndGet("SELECT count(*) FROM applications WHERE status = 'submitted'").getInt() == 1);
}

// The running gateway on a clock the test moves in jumps (NTP stepping it, an operator fixing
// it): the menus follow the clock on the next request, and Apply is judged by the clock's now
// even in a session that began before the jump.
TEST_CASE("the running gateway follows its clock jumping across a vacancy's opening and closing") {
  const std::int64_t t0 = 1'800'000'000;  // seconds: 2027-01-15
  testing::moving_clock clock(t0 * 1000);  // outlives the gateway
  rig t({}, &clock);
  REQUIRE(t.api("POST", "/api/v1/vacancies",
                csv_header + "J1,KCSE,Marking,Marking centre,Examiner,Kisii,Bobasi,Kisii School,5,," +
                    iso_utc(t0 + 3600) + "," + iso_utc(t0 + 7200) + "\n",
                csv_type).status == 200);
  t.applicant("0712000041");
  t.applicant("0712000042");
  // Before the opening: nothing to apply for.
  auto vacancies_screen = [&](const std::string& session, const std::string& phone) {
    auto menu = t.ussd(session, phone, "").body;
    return t.ussd(session, phone, std::to_string(pick(menu, "Vacancies"))).body;
  };
  CHECK(vacancies_screen("J-0", "0712000041").find("KCSE") == std::string::npos);

  // Forward past the opening: the first request notices, the next sessions see it open.
  clock.set((t0 + 5400) * 1000);
  vacancies_screen("J-1", "0712000041");
  REQUIRE(wait_until([&] {
    return vacancies_screen("J-" + std::to_string(std::rand()), "0712000041").find("KCSE") != std::string::npos;
  }));
  std::string detail;
  auto to_detail = walk(t, "J-2", "0712000041", to_kisii_school, &detail);
  REQUIRE(detail.find("Apply") != std::string::npos);
  auto applied = t.ussd("J-2", "0712000041", to_detail + "*1");
  CHECK_MESSAGE(!reference_in(applied.body).empty(), applied.body);

  // A session that reached Apply while open, and the clock stepped back before the opening:
  // refused, nothing stored.
  auto other = walk(t, "J-3", "0712000042", to_kisii_school, &detail);
  REQUIRE(detail.find("Apply") != std::string::npos);
  clock.set((t0 + 1800) * 1000);
  auto early = t.ussd("J-3", "0712000042", other + "*1");
  CHECK_MESSAGE(early.body.find("not open") != std::string::npos, early.body);
  CHECK(t.db_count("SELECT count(*) FROM applications WHERE phone = '254712000042'") == 0);
  REQUIRE(wait_until([&] {
    return vacancies_screen("J-" + std::to_string(std::rand()), "0712000042").find("KCSE") == std::string::npos;
  }));

  // Forward past the closing: still refused, and gone from the menus.
  clock.set((t0 + 9000) * 1000);
  auto late = t.ussd("J-3", "0712000042", other + "*1");
  CHECK_MESSAGE(late.body.find("not open") != std::string::npos, late.body);
  CHECK(wait_until([&] {
    return vacancies_screen("J-" + std::to_string(std::rand()), "0712000042").find("KCSE") == std::string::npos;
  }));
  CHECK(t.db_count("SELECT count(*) FROM applications") == 1);
}
