// The database writer under load (issue #8, "Durable writes"): how many applications per
// second become durable, on a real database file with the gateway's pragmas (WAL,
// synchronous = FULL), in three phases of one run:
//   1. one commit per application: C clients each await
//      run_on(db_pool, [&] { return service.apply(phone, code); }), as the gateway did before
//      group commit; every apply's in_transaction commits, so every application is one fsync;
//   2. group commit: the same applications through db::group_commit (run_write), wired as
//      gateway/app.cpp does (batches posted to a one-thread pool);
//   3. raw SQLite loop, the machine's limit: the same rows (the application and the outbox row
//      of its confirmation SMS) inserted with prepared statements, 10,000 per transaction.
// Phases 1 and 2 run the real domain::application_service::apply on the real SQLite stores
// with the real clock. Their clients are coroutines on one io_context thread, as the gateway's
// handlers are: each submits its next application when the previous one is durable and it has
// been resumed. The machine has two cores: the database thread takes one, the clients the
// other, and the client thread's CPU is printed to show it is not what limits the rate.
// Run: build/release/bench/bench_writer [--applications N=20000] [--clients C=64]
//        [--db-dir DIR=/tmp] [--keep]
// Prints a table, the ratios and one JSON line. Exits 1 when a phase did not store exactly N
// applications (each `submitted`, each with its confirmation SMS queued), 2 on bad options.
// A missed target is reported, not an error.

#include "bench/figures.hpp"
#include "db/database.hpp"
#include "db/group_commit.hpp"
#include "db/wal_checkpointer.hpp"
#include "db/wal_syncer.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_application_store.hpp"
#include "db/sqlite_vacancy_store.hpp"
#include "domain/applications.hpp"
#include "gateway/sodium_crypto.hpp"
#include "gateway/wall_clock.hpp"
#include "sms/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace cp2;
using steady = std::chrono::steady_clock;
using bench::load_average;
using bench::ms_between;
using bench::percentiles;
using bench::percentiles_of;
using bench::seconds_between;
using gateway::wall_clock;

// --- command line -------------------------------------------------------------------------

struct bench_options {
  std::size_t applications = 20'000;
  std::size_t clients = 64;
  std::string db_dir = "/tmp";
  bool keep = false;
  bool sync_in_place = false;  // group commit without the WAL syncer and checkpointer: the COMMIT does both
};

void usage() {
  std::fprintf(stderr,
               "usage: bench_writer [--applications N=20000] [--clients C=64] [--db-dir DIR=/tmp] "
               "[--keep] [--sync-in-place]\n");
}

bool parse_count(const char* text, std::size_t hi, std::size_t& out) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || static_cast<unsigned long long>(v) > hi) return false;
  out = static_cast<std::size_t>(v);
  return true;
}

bool parse_options(int argc, char** argv, bench_options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--keep") {
      o.keep = true;
      continue;
    }
    if (arg == "--sync-in-place") {
      o.sync_in_place = true;
      continue;
    }
    if (arg == "--help" || arg == "-h" || i + 1 >= argc) return false;
    const char* value = argv[++i];
    bool ok = true;
    // Each phase's phones are a block of 1,000,000 numbers.
    if (arg == "--applications") ok = parse_count(value, 1'000'000, o.applications);
    else if (arg == "--clients") ok = parse_count(value, 10'000, o.clients);
    else if (arg == "--db-dir") o.db_dir = value;
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "bench_writer: bad option %s %s\n", argv[i - 1], value);
      return false;
    }
  }
  return true;
}

// --- figures ------------------------------------------------------------------------------

// CPU time of the calling thread: a thread near 100% of the wall time is a phase's bottleneck;
// a database thread well below it is waiting for the disk.
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// On tmpfs an fsync costs nothing and the comparison means nothing.
bool on_tmpfs(const std::string& dir) {
  struct statfs fs_info {};
  constexpr long tmpfs_magic = 0x01021994;
  return ::statfs(dir.c_str(), &fs_info) == 0 && static_cast<long>(fs_info.f_type) == tmpfs_magic;
}

// --- the database thread ------------------------------------------------------------------

// Runs f on the one database thread and waits for its result: every use of the connection
// goes through there once the pool exists, as in the gateway.
template <class F>
std::invoke_result_t<F&> on_db_thread(asio::thread_pool& pool, F f) {
  auto task = std::make_shared<std::packaged_task<std::invoke_result_t<F&>()>>(std::move(f));
  auto result = task->get_future();
  asio::post(pool, [task] { (*task)(); });
  return result.get();
}

// Counts the transactions committed on a connection: SQLite calls the hook once per COMMIT
// (a savepoint's RELEASE inside a transaction is not one).
class commit_counter {
public:
  explicit commit_counter(SQLite::Database& db) : db_(db) {
    ::sqlite3_commit_hook(db_.getHandle(), &on_commit, this);
  }
  ~commit_counter() { ::sqlite3_commit_hook(db_.getHandle(), nullptr, nullptr); }
  commit_counter(const commit_counter&) = delete;
  commit_counter& operator=(const commit_counter&) = delete;

  std::uint64_t count() const { return count_.load(); }

private:
  static int on_commit(void* self) {
    ++static_cast<commit_counter*>(self)->count_;
    return 0;  // let the commit go ahead
  }

  SQLite::Database& db_;
  std::atomic<std::uint64_t> count_{0};
};

// --- seed data ----------------------------------------------------------------------------

constexpr std::string_view shortcode = "22262";
constexpr std::size_t vacancy_count = 1'000;
constexpr domain::unix_ms day_ms = 24 * 3600 * 1000;

// Phase p's applicant i: canonical 2547... digits, a block of a million numbers per phase.
std::string phone_of(int phase, std::size_t i) {
  return std::to_string(254'710'000'000LL + phase * 1'000'000LL + static_cast<long long>(i));
}

// Open vacancies in real sub-counties (the reference list the migration loaded), three
// examinations and three activities, so that the catalog looks like the gateway's.
std::vector<domain::vacancy> make_vacancies(SQLite::Database& db, domain::unix_ms now) {
  std::vector<std::pair<std::string, std::string>> places;
  for (const auto& c : db::sqlite_vacancy_store(db).counties())
    for (const auto& s : c.subcounties) places.emplace_back(c.name, s);
  static constexpr std::array<const char*, 3> exams = {"KCSE", "KCPE", "KPSEA"};
  struct work {
    const char* activity;
    const char* venue;
    const char* role;
  };
  static constexpr std::array<work, 3> works = {{
      {"Supervision and Invigilation", "Examination centre", "Invigilator"},
      {"Marking", "Marking centre", "Examiner"},
      {"Distribution", "Distribution centre", "Container Custodian"},
  }};
  std::vector<domain::vacancy> out;
  for (std::size_t i = 0; i < vacancy_count; ++i) {
    const auto& [county, subcounty] = places[i % places.size()];
    const auto& w = works[(i / exams.size()) % works.size()];
    domain::vacancy v;
    char code[32];
    std::snprintf(code, sizeof code, "WB-%04zu", i + 1);
    v.code = code;
    v.exam = exams[i % exams.size()];
    v.activity = w.activity;
    v.venue = w.venue;
    v.role = w.role;
    v.county = county;
    v.subcounty = subcounty;
    v.station = subcounty + " Secondary School";
    v.slots = 50;
    v.opens_at = now - day_ms;
    v.closes_at = now + 365 * day_ms;
    out.push_back(std::move(v));
  }
  return out;
}

// A complete profile by domain/profile's rules, for applicant i.
domain::profile profile_of(std::size_t i, const std::string& county) {
  static constexpr std::array<const char*, 4> first = {"Jane", "Peter", "Mary", "John"};
  static constexpr std::array<const char*, 4> last = {"Moraa", "Otieno", "Wanjiku", "Kiprono"};
  domain::profile p;
  p.full_name = std::string(first[i % first.size()]) + " " + last[(i / first.size()) % last.size()];
  p.national_id = std::to_string(20'000'000 + i);
  char pin[32];
  std::snprintf(pin, sizeof pin, "A%09zu%c", i, static_cast<char>('A' + i % 26));
  p.kra_pin = pin;
  p.county = county;
  p.workstation = county + " Secondary School";
  return p;
}

// Every phase's applicants: an account and a complete profile each, through the stores, in
// one transaction.
void seed_applicants(SQLite::Database& db, const std::vector<domain::vacancy>& vacancies,
                     std::size_t per_phase, domain::unix_ms now) {
  db::sqlite_account_store accounts(db);
  db::sqlite_application_store profiles(db);
  // Nobody logs in: a fixed argon2id string that matches no known password.
  const std::string hash =
      "$argon2id$v=19$m=65536,t=2,p=1$Y3AyLWJlbmNoLXdyaXRlciEh$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  accounts.in_transaction([&] {
    for (int phase = 1; phase <= 3; ++phase)
      for (std::size_t i = 0; i < per_phase; ++i) {
        const auto phone = phone_of(phase, i);
        accounts.insert_account({phone, phone, hash, 0, 0}, now);
        profiles.save_profile(phone, profile_of(i, vacancies[i % vacancies.size()].county), now);
      }
  });
}

// One application to make: applicant i of a phase to vacancy i mod 1,000, so no applicant
// applies twice or for an exam and activity they already applied for.
struct job {
  domain::msisdn phone;
  std::string code;
};

std::vector<job> jobs_for(int phase, std::size_t n, const std::vector<domain::vacancy>& vacancies) {
  std::vector<job> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({domain::parse_msisdn(phone_of(phase, i)).value(), vacancies[i % vacancies.size()].code});
  return out;
}

// --- phases -------------------------------------------------------------------------------

struct phase_result {
  double seconds = 0;
  double per_second = 0;
  percentiles latency_ms;  // submit to durable
  std::uint64_t commits = 0;
  double mean_batch = 0;       // units per commit (group commit only)
  percentiles batch_units;     // per batch (group commit only)
  double client_cpu_pct = 0;   // the clients' io_context thread (phases 1, 2)
  double db_cpu_pct = 0;       // the database thread
  std::vector<std::string> problems;
};

// What every phase shares: the connection, its one thread, the service over the real stores.
struct rig {
  SQLite::Database& db;
  const std::string& path;  // the database file, for the WAL syncer
  asio::thread_pool& db_pool;
  commit_counter& commits;
  domain::application_service& service;
};

// Checks on the database thread that phase p stored exactly n applications, all submitted,
// and queued exactly n confirmation SMS.
void verify_rows(rig& r, int phase, std::size_t n, phase_result& out) {
  const auto first = phone_of(phase, 0), last = phone_of(phase, n - 1);
  auto count = [&](const char* sql) {
    SQLite::Statement q(r.db, sql);
    q.bind(1, first);
    q.bind(2, last);
    q.executeStep();
    return static_cast<std::size_t>(q.getColumn(0).getInt64());
  };
  const auto [apps, submitted, sms] = on_db_thread(r.db_pool, [&] {
    return std::array<std::size_t, 3>{
        count("SELECT count(*) FROM applications WHERE phone BETWEEN ? AND ?"),
        count("SELECT count(*) FROM applications WHERE phone BETWEEN ? AND ? AND status = 'submitted'"),
        count("SELECT count(*) FROM outbox WHERE phone BETWEEN ? AND ? AND kind = 'reply'")};
  });
  if (apps != n || submitted != n || sms != n)
    out.problems.push_back(std::to_string(apps) + " application rows (" + std::to_string(submitted) +
                           " submitted) and " + std::to_string(sms) + " outbox rows, expected " +
                           std::to_string(n) + " of each");
}

// Starts each phase with an empty WAL, so that no phase pays for another's checkpoint.
void checkpoint(rig& r) {
  on_db_thread(r.db_pool, [&] { r.db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); });
}

const char* describe(domain::apply_outcome::kind k) {
  using kind = domain::apply_outcome::kind;
  switch (k) {
    case kind::submitted: return "submitted";
    case kind::already_applied: return "already_applied";
    case kind::conflict: return "conflict";
    case kind::closed: return "closed";
    case kind::filled: return "filled";
    case kind::no_vacancy: return "no_vacancy";
    case kind::no_account: return "no_account";
    case kind::incomplete_profile: return "incomplete_profile";
  }
  return "?";
}

// One client: takes the next job, awaits its durable outcome, and goes on until none is left.
// All clients run on one thread, so `next` needs no lock.
template <class Apply>
asio::awaitable<void> client(const std::vector<job>& jobs, std::size_t& next,
                             std::vector<double>& latency_ms, phase_result& out, Apply& apply) {
  while (next < jobs.size()) {
    const std::size_t i = next++;
    const auto submitted = steady::now();
    const domain::apply_outcome outcome = co_await apply(jobs[i]);
    latency_ms[i] = ms_between(submitted, steady::now());
    if (outcome.result != domain::apply_outcome::kind::submitted)
      out.problems.push_back(jobs[i].phone.digits() + ": " + describe(outcome.result));
  }
}

// Phases 1 and 2: `clients` coroutines on one io_context thread (this one) apply every job
// through `apply`, which returns an awaitable of the outcome once it is durable.
template <class Apply>
phase_result run_clients(rig& r, const std::vector<job>& jobs, std::size_t clients, Apply apply) {
  phase_result out;
  std::vector<double> latency(jobs.size());
  std::size_t next = 0;
  asio::io_context ioc;
  for (std::size_t c = 0; c < clients; ++c)
    asio::co_spawn(ioc, client(jobs, next, latency, out, apply), [&out](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        out.problems.push_back(std::string("a client failed: ") + ex.what());
      } catch (...) {
        out.problems.push_back("a client failed");
      }
    });
  const std::uint64_t commits0 = r.commits.count();
  const double db_cpu0 = on_db_thread(r.db_pool, thread_cpu_seconds);
  const double cpu0 = thread_cpu_seconds();
  const auto started = steady::now();
  ioc.run();
  const auto finished = steady::now();
  const double cpu = thread_cpu_seconds() - cpu0;
  const double db_cpu = on_db_thread(r.db_pool, thread_cpu_seconds) - db_cpu0;
  out.seconds = seconds_between(started, finished);
  out.per_second = static_cast<double>(jobs.size()) / out.seconds;
  out.latency_ms = percentiles_of(std::move(latency));
  out.commits = r.commits.count() - commits0;
  out.client_cpu_pct = 100 * cpu / out.seconds;
  out.db_cpu_pct = 100 * db_cpu / out.seconds;
  return out;
}

// Phase 1: each apply is its own transaction on the database thread.
phase_result run_one_per_commit(rig& r, const std::vector<job>& jobs, std::size_t clients) {
  return run_clients(r, jobs, clients, [&r](const job& j) {
    return sms::run_on(r.db_pool, [&r, &j] { return r.service.apply(j.phone, j.code); });
  });
}

// Phase 2: each apply is a unit of the group commit writer, posted to the database thread as
// gateway/app.cpp does. The poster also records each batch's size, which the writer's counters
// give only as a mean.
phase_result run_group_commit(rig& r, const std::vector<job>& jobs, std::size_t clients, bool sync_in_place) {
  std::mutex sizes_mu;
  std::vector<double> sizes;
  // The gateway syncs the writer's commits and checkpoints on threads of their own
  // (db/wal_syncer.hpp, db/wal_checkpointer.hpp); --sync-in-place leaves both to the commit.
  std::optional<db::wal_syncer> syncer;
  std::optional<db::wal_checkpointer> checkpointer;
  if (!sync_in_place) {
    syncer.emplace(r.path);
    checkpointer.emplace(r.db, r.path);
  }
  std::unique_ptr<db::group_commit> writer;
  writer = std::make_unique<db::group_commit>(
      r.db,
      [&](std::function<void()> batch) {
        asio::post(r.db_pool, [&, batch = std::move(batch)] {
          const auto before = writer->stats().units.load();
          batch();
          const auto units = writer->stats().units.load() - before;
          std::lock_guard lock(sizes_mu);
          if (units > 0) sizes.push_back(static_cast<double>(units));
        });
      },
      512, syncer ? &*syncer : nullptr);
  // run_clients ends with a task on the database thread, so every batch task has run (and
  // recorded its size) when it returns: the pool runs its tasks in order.
  phase_result out = run_clients(r, jobs, clients, [&r, &writer](const job& j) {
    return sms::run_write(*writer, [&r, &j] { return r.service.apply(j.phone, j.code); });
  });
  if (syncer) syncer->stop();  // every unit has been answered; its last callbacks have returned
  checkpointer.reset();  // back to SQLite's own checkpoints for the next phase
  const auto& stats = writer->stats();
  out.mean_batch = stats.commits ? static_cast<double>(stats.units) / static_cast<double>(stats.commits) : 0;
  std::lock_guard lock(sizes_mu);
  out.batch_units = percentiles_of(sizes);
  if (stats.failed != 0 || stats.shed != 0)
    out.problems.push_back(std::to_string(stats.failed.load()) + " units failed, " +
                           std::to_string(stats.shed.load()) + " shed");
  return out;
}

// Phase 3's rows, made before the clock starts: what apply would write for applicant i.
struct raw_row {
  std::string ref, phone, code, exam, activity, sms_body;
};

std::vector<raw_row> raw_rows(int phase, std::size_t n, const std::vector<domain::vacancy>& vacancies) {
  // References "CP2-0" and five characters: '0' is not in make_reference's alphabet, so these
  // never collide with the service's.
  static constexpr std::string_view digits = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::vector<raw_row> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& v = vacancies[i % vacancies.size()];
    domain::application a;
    a.ref = "CP2-0";
    for (std::size_t k = 0, rest = i; k < 5; ++k, rest /= digits.size()) a.ref += digits[rest % digits.size()];
    a.exam = v.exam;
    a.role = v.role;
    a.station = v.station;
    out.push_back({a.ref, phone_of(phase, i), v.code, v.exam, v.activity,
                   domain::confirmation_text(a, shortcode)});
  }
  return out;
}

constexpr std::size_t raw_rows_per_transaction = 10'000;

// Phase 3, on the database thread: the rows insert_application and enqueue_sms write, with
// prepared statements, raw_rows_per_transaction to a commit. A row's latency runs from its
// insert to its transaction's commit.
phase_result run_raw(rig& r, const std::vector<raw_row>& rows, const domain::clock& clock) {
  phase_result out;
  std::vector<double> latency(rows.size());
  const std::uint64_t commits0 = r.commits.count();
  const auto started = steady::now();
  const double db_cpu = on_db_thread(r.db_pool, [&] {
    const double cpu0 = thread_cpu_seconds();
    SQLite::Statement app(r.db,
                          "INSERT INTO applications (ref, phone, vacancy, exam, activity, status, "
                          "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'submitted', ?, ?)");
    SQLite::Statement sms(r.db,
                          "INSERT INTO outbox (phone, body, sensitive, kind, link_id, state, "
                          "next_attempt_at, created_at, updated_at) "
                          "VALUES (?, ?, 0, 'reply', '', 'queued', ?, ?, ?)");
    std::vector<steady::time_point> inserted(rows.size());
    for (std::size_t from = 0; from < rows.size(); from += raw_rows_per_transaction) {
      const std::size_t to = std::min(rows.size(), from + raw_rows_per_transaction);
      SQLite::Transaction tx(r.db, SQLite::TransactionBehavior::IMMEDIATE);
      for (std::size_t i = from; i < to; ++i) {
        inserted[i] = steady::now();
        const auto& row = rows[i];
        const std::int64_t now = clock.now();
        app.bindNoCopy(1, row.ref);
        app.bindNoCopy(2, row.phone);
        app.bindNoCopy(3, row.code);
        app.bindNoCopy(4, row.exam);
        app.bindNoCopy(5, row.activity);
        app.bind(6, now);
        app.bind(7, now);
        app.exec();
        app.reset();
        sms.bindNoCopy(1, row.phone);
        sms.bindNoCopy(2, row.sms_body);
        sms.bind(3, now);
        sms.bind(4, now);
        sms.bind(5, now);
        sms.exec();
        sms.reset();
      }
      tx.commit();
      const auto durable = steady::now();
      for (std::size_t i = from; i < to; ++i) latency[i] = ms_between(inserted[i], durable);
    }
    return thread_cpu_seconds() - cpu0;
  });
  out.seconds = seconds_between(started, steady::now());
  out.per_second = static_cast<double>(rows.size()) / out.seconds;
  out.db_cpu_pct = 100 * db_cpu / out.seconds;
  out.latency_ms = percentiles_of(std::move(latency));
  out.commits = r.commits.count() - commits0;
  return out;
}

// --- report -------------------------------------------------------------------------------

void print_row(const char* name, const phase_result& p, const char* batch) {
  std::printf("%-30s %10.0f %9.2f %9.2f %9.2f %9llu %8s %9.0f%% %7.0f%%\n", name, p.per_second,
              p.latency_ms.p50, p.latency_ms.p99, p.latency_ms.max,
              static_cast<unsigned long long>(p.commits), batch, p.client_cpu_pct, p.db_cpu_pct);
}

// What one application costs the database thread in CPU: group commit cannot go faster than
// this allows, however few commits it makes.
double cpu_us_per_application(const phase_result& p) {
  return 1e6 * p.db_cpu_pct / 100 / p.per_second;
}

std::string json_of(const phase_result& p) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"apps_per_s\":%.0f,\"seconds\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
                "\"max_ms\":%.3f,\"commits\":%llu,\"mean_batch\":%.2f,\"client_cpu_pct\":%.1f,"
                "\"db_cpu_pct\":%.1f,\"db_cpu_us_per_app\":%.1f,\"verified\":%s}",
                p.per_second, p.seconds, p.latency_ms.p50, p.latency_ms.p99, p.latency_ms.max,
                static_cast<unsigned long long>(p.commits), p.mean_batch, p.client_cpu_pct,
                p.db_cpu_pct, cpu_us_per_application(p), p.problems.empty() ? "true" : "false");
  return buf;
}

// Prints at most a few of a phase's problems: with a broken setup every application fails.
bool report_problems(const char* name, const phase_result& p) {
  for (std::size_t i = 0; i < std::min<std::size_t>(p.problems.size(), 5); ++i)
    std::fprintf(stderr, "bench_writer: %s: %s\n", name, p.problems[i].c_str());
  if (p.problems.size() > 5)
    std::fprintf(stderr, "bench_writer: %s: ... and %zu more\n", name, p.problems.size() - 5);
  return p.problems.empty();
}

struct results {
  phase_result one, group, raw;
};

results run_phases(SQLite::Database& db, const std::string& path, const bench_options& o) {
  wall_clock clock;
  gateway::sodium_random random;
  db::sqlite_application_store store(db);
  domain::application_service service(store, clock, random, std::string(shortcode));
  commit_counter commits(db);

  const auto vacancies = make_vacancies(db, clock.now());
  db::sqlite_vacancy_store(db).upsert(vacancies, clock.now());
  seed_applicants(db, vacancies, o.applications, clock.now());
  const auto raw = raw_rows(3, o.applications, vacancies);
  std::printf("seeded %zu open vacancies and %zu applicants with complete profiles\n",
              vacancies.size(), 3 * o.applications);
  std::fflush(stdout);

  asio::thread_pool db_pool{1};
  rig r{db, path, db_pool, commits, service};
  results out;
  checkpoint(r);
  out.one = run_one_per_commit(r, jobs_for(1, o.applications, vacancies), o.clients);
  verify_rows(r, 1, o.applications, out.one);
  checkpoint(r);
  out.group = run_group_commit(r, jobs_for(2, o.applications, vacancies), o.clients, o.sync_in_place);
  verify_rows(r, 2, o.applications, out.group);
  checkpoint(r);
  out.raw = run_raw(r, raw, clock);
  verify_rows(r, 3, o.applications, out.raw);
  db_pool.join();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bench_options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  const std::string path =
      (fs::path(o.db_dir) / ("cp2-bench-writer-" + std::to_string(::getpid()) + ".db")).string();
  if (fs::exists(path)) {
    std::fprintf(stderr, "bench_writer: %s exists\n", path.c_str());
    return 2;
  }
  const double load_before = load_average();
  results r;
  std::string journal, synchronous;
  int rc = 0;
  try {
    gateway::init_sodium();
    auto db = db::open_database(path, std::chrono::milliseconds(5000));
    journal = db->execAndGet("PRAGMA journal_mode").getString();
    synchronous = db->execAndGet("PRAGMA synchronous").getString();  // 2 = FULL
    std::printf("bench_writer: %zu applications per phase, %zu clients (coroutines on one "
                "io_context thread), %u cores, load %.2f\n"
                "db %s (journal_mode %s, synchronous %s)%s\n",
                o.applications, o.clients, std::thread::hardware_concurrency(), load_before,
                path.c_str(), journal.c_str(), synchronous == "2" ? "FULL" : synchronous.c_str(),
                on_tmpfs(o.db_dir) ? "\nWARNING: tmpfs: fsync costs nothing here" : "");
    std::fflush(stdout);
    r = run_phases(*db, path, o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_writer: %s\n", e.what());
    rc = 1;
  }
  if (!o.keep)
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      fs::remove(path + suffix, ec);
    }
  if (rc != 0) return rc;

  const double group_over_one = r.group.per_second / r.one.per_second;
  const double group_over_raw = r.group.per_second / r.raw.per_second;
  const bool target_met = group_over_one >= 10;
  char batch[32];
  std::snprintf(batch, sizeof batch, "%.1f", r.group.mean_batch);

  std::printf("\n%-30s %10s %9s %9s %9s %9s %8s %10s %8s\n", "", "apps/s", "p50 ms", "p99 ms",
              "max ms", "commits", "batch", "clients", "db");
  print_row("one commit per application", r.one, "1");
  print_row(o.sync_in_place ? "group commit (sync in place)" : "group commit (WAL syncer)", r.group, batch);
  std::snprintf(batch, sizeof batch, "%zu", raw_rows_per_transaction);
  print_row("raw SQLite loop", r.raw, batch);
  std::printf("(latency: submit to durable; clients/db: CPU of the client thread and the database "
              "thread, %% of the phase's wall time)\n");
  std::printf("database thread CPU per application: %.0f us one per commit, %.0f us group commit, "
              "%.0f us raw\n",
              cpu_us_per_application(r.one), cpu_us_per_application(r.group),
              cpu_us_per_application(r.raw));
  std::printf("\ngroup commit batches: p50 %.0f, p99 %.0f, max %.0f units\n", r.group.batch_units.p50,
              r.group.batch_units.p99, r.group.batch_units.max);
  std::printf("group / one-per-commit = %.1fx (target >= 10x: %s)\n", group_over_one,
              target_met ? "met" : "MISSED");
  std::printf("group / raw = %.1f%%\n", 100 * group_over_raw);
  const bool one_ok = report_problems("one commit per application", r.one);
  const bool group_ok = report_problems("group commit", r.group);
  const bool raw_ok = report_problems("raw SQLite loop", r.raw);
  const bool ok = one_ok && group_ok && raw_ok;
  std::printf("checks: %s\n", ok ? "each phase stored exactly N submitted applications and N SMS"
                                 : "FAILED");
  if (o.keep) std::printf("kept %s\n", path.c_str());

  std::printf("\n{\"bench\":\"writer\",\"applications\":%zu,\"clients\":%zu,\"cores\":%u,"
              "\"load_before\":%.2f,\"load_after\":%.2f,\"journal_mode\":\"%s\",\"synchronous\":\"%s\","
              "\"one_per_commit\":%s,\"group_commit\":%s,\"raw\":%s,\"group_batch_p50\":%.0f,"
              "\"group_batch_max\":%.0f,\"group_over_one\":%.2f,\"group_over_raw\":%.3f,"
              "\"target_10x_met\":%s,\"wal_syncer\":%s,\"verified\":%s}\n",
              o.applications, o.clients, std::thread::hardware_concurrency(), load_before,
              load_average(), journal.c_str(), synchronous.c_str(), json_of(r.one).c_str(),
              json_of(r.group).c_str(), json_of(r.raw).c_str(), r.group.batch_units.p50,
              r.group.batch_units.max, group_over_one, group_over_raw, target_met ? "true" : "false",
              o.sync_in_place ? "false" : "true", ok ? "true" : "false");
  return ok ? 0 : 1;
}
