// Test data for the USSD load test (issue #8):
//   bench_seed vacancies [--count 10000] [--first 0] --out FILE.csv
//     (the importer takes 20,000 rows a file: --first 20000 and so on for more)
//     writes a vacancy CSV that `cp2-gateway import-vacancies` accepts: every county and
//     sub-county of data/kenya-counties.csv, three examinations with their activities, venues
//     and roles, every vacancy open now (opened 60 days ago, closing in two years);
//   bench_seed accounts [--count 1000000] --db PATH [--phone-base 254710000000]
//     inserts that many accounts, each with a complete profile, straight into a gateway
//     database (created and migrated by db::open_database when missing), in large transactions.
// Phone numbers are phone-base, phone-base + 1, ...: keep them away from bench_loadgen's
// --phone-base for new applicants. Every account shares one argon2id hash string: nobody logs
// in with these accounts, they only browse and apply.

#include "db/database.hpp"
#include "db/reference_data.hpp"
#include "domain/vacancy.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cp2;
using steady = std::chrono::steady_clock;

struct seed_options {
  std::string what;  // "vacancies" or "accounts"
  long long count = 0;
  long long first = 0;  // vacancies: the first row's number, so several files add up
  std::string out;
  std::string db_path;
  long long phone_base = 254'710'000'000;
  long long batch = 100'000;
};

void usage() {
  std::fprintf(stderr,
               "usage: bench_seed vacancies [--count N=10000] [--first 0] --out FILE.csv\n"
               "       bench_seed accounts [--count N=1000000] --db PATH "
               "[--phone-base 254710000000] [--batch 100000]\n");
}

bool parse_number(const char* text, long long lo, long long hi, long long& out) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool parse_options(int argc, char** argv, seed_options& o) {
  if (argc < 2) return false;
  o.what = argv[1];
  if (o.what != "vacancies" && o.what != "accounts") return false;
  o.count = o.what == "vacancies" ? 10'000 : 1'000'000;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    const char* value = argv[i + 1];
    bool ok = true;
    if (arg == "--count") ok = parse_number(value, 1, 100'000'000, o.count);
    else if (arg == "--phone-base") ok = parse_number(value, 254'100'000'000, 254'799'999'999, o.phone_base);
    else if (arg == "--first") ok = parse_number(value, 0, 100'000'000, o.first);
    else if (arg == "--batch") ok = parse_number(value, 1, 10'000'000, o.batch);
    else if (arg == "--out") o.out = value;
    else if (arg == "--db") o.db_path = value;
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "bench_seed: bad option %s %s\n", argv[i], value);
      return false;
    }
  }
  if (argc % 2 != 0) return false;  // an option without its value
  if (o.what == "vacancies") {
    if (o.count <= static_cast<long long>(domain::max_vacancy_rows)) return !o.out.empty();
    std::fprintf(stderr, "bench_seed: the importer takes at most %zu rows\n", domain::max_vacancy_rows);
    return false;
  }
  // Every number must be a Kenyan mobile one and stay in the base's 2547... or 2541... block.
  const long long block = o.phone_base / 100'000'000;
  if ((block != 2547 && block != 2541) || o.phone_base + o.count > (block + 1) * 100'000'000) {
    std::fprintf(stderr, "bench_seed: --phone-base + --count must stay within 2547... or 2541...\n");
    return false;
  }
  return !o.db_path.empty();
}

// --- vacancies ----------------------------------------------------------------------------

// One line of the menu above the county: exam, activity, venue and role.
struct post_kind {
  const char* exam;
  const char* activity;
  const char* venue;
  const char* role;
};

// What KNEC recruits for, three examinations alike: 24 kinds of post.
std::vector<post_kind> post_kinds() {
  struct work {
    const char* activity;
    const char* venue;
    std::vector<const char*> roles;
  };
  const std::array<work, 3> works = {{
      {"Supervision and Invigilation", "Examination centre", {"Centre Manager", "Supervisor", "Invigilator"}},
      {"Marking", "Marking centre", {"Examiner", "Chief Examiner", "Data Clerk"}},
      {"Distribution", "Distribution centre", {"Container Custodian", "Clerk"}},
  }};
  std::vector<post_kind> out;
  for (const char* exam : {"KCSE", "KCPE", "KPSEA"})
    for (const auto& w : works)
      for (const char* role : w.roles) out.push_back({exam, w.activity, w.venue, role});
  return out;
}

// Every (county, sub-county) pair of the reference list compiled into the gateway.
std::vector<std::pair<std::string, std::string>> places() {
  auto lookup = domain::static_county_lookup::from_csv(db::kenya_counties_csv());
  if (!lookup) throw std::runtime_error("the compiled-in county list does not parse");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : lookup->counties())
    for (const auto& s : c.subcounties) out.emplace_back(c.name, s);
  return out;
}

// `days` from today as an ISO date, East Africa Time midnight (the importer's default zone).
std::string date_from_today(int days) {
  using namespace std::chrono;
  const auto day = floor<std::chrono::days>(system_clock::now() + hours(3)) + std::chrono::days(days);
  const year_month_day ymd{day};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

int write_vacancies(const seed_options& o) {
  const auto kinds = post_kinds();
  const auto all_places = places();
  const std::string opens = date_from_today(-60) + "T08:00";
  const std::string closes = date_from_today(730) + "T17:00";
  static constexpr std::array<const char*, 4> station_kinds = {"Secondary School", "Boys High School",
                                                               "Girls High School", "Primary School"};
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "bench_seed: cannot write %s\n", o.out.c_str());
    return 1;
  }
  out << "code,exam,activity,venue,role,county,subcounty,station,slots,description,opens_at,closes_at\n";
  // Row i walks the places first, so every sub-county has vacancies before any has two of a kind.
  for (long long i = o.first; i < o.first + o.count; ++i) {
    const auto n = static_cast<std::size_t>(i);
    const auto& [county, subcounty] = all_places[n % all_places.size()];
    const auto& k = kinds[(n / all_places.size() + n) % kinds.size()];
    const std::string station =
        fmt::format("{} {} {}", subcounty, station_kinds[(n / 7) % station_kinds.size()], 1 + n % 9);
    // The description has a comma, so the CSV quoting of the importer is exercised too.
    out << fmt::format("LG-{:06},{},{},{},{},{},{},{},{},\"{} at {}, {}. Report with your national ID.\",{},{}\n",
                       i + 1, k.exam, k.activity, k.venue, k.role, county, subcounty, station,
                       1 + n % 40, k.role, station, county, opens, closes);
  }
  out.close();
  if (!out) {
    std::fprintf(stderr, "bench_seed: writing %s failed\n", o.out.c_str());
    return 1;
  }
  std::printf("bench_seed: %lld vacancies in %zu sub-counties of 47 counties, open %s to %s, in %s\n",
              o.count, all_places.size(), opens.c_str(), closes.c_str(), o.out.c_str());
  return 0;
}

// --- accounts -----------------------------------------------------------------------------

// A libsodium argon2id string (crypto_pwhash_str's format); it matches no password anyone knows.
const std::string fixed_hash =
    "$argon2id$v=19$m=65536,t=2,p=1$Y3AyLWJlbmNoLXNlZWQhIQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

// A complete profile for account number n, valid by domain/profile's rules.
struct seeded_profile {
  std::string full_name, national_id, kra_pin, county, workstation, tsc_number;
};

seeded_profile profile_of(long long n, const std::vector<std::pair<std::string, std::string>>& where) {
  static constexpr std::array<const char*, 8> first = {"Jane", "Peter", "Mary", "John",
                                                       "Grace", "David", "Faith", "Joseph"};
  static constexpr std::array<const char*, 8> last = {"Moraa", "Otieno", "Wanjiku", "Kiprono",
                                                      "Achieng", "Mwangi", "Nyaboke", "Kamau"};
  const auto i = static_cast<std::size_t>(n);
  const auto& [county, subcounty] = where[i % where.size()];
  seeded_profile p;
  p.full_name = fmt::format("{} {}", first[i % first.size()], last[(i / first.size()) % last.size()]);
  p.national_id = fmt::format("{}", 20'000'000 + n % 70'000'000);
  p.kra_pin = fmt::format("A{:09}{}", n % 1'000'000'000, static_cast<char>('A' + n % 26));
  p.county = county;
  p.workstation = subcounty + " Secondary School";
  p.tsc_number = n % 3 == 0 ? std::string() : fmt::format("{}", 100'000 + n % 900'000);
  return p;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Inserts accounts [from, to) and their profiles in one transaction.
void insert_batch(SQLite::Database& db, SQLite::Statement& account, SQLite::Statement& profile,
                  const seed_options& o, long long from, long long to,
                  const std::vector<std::pair<std::string, std::string>>& where) {
  const std::int64_t now = now_ms();
  SQLite::Transaction tx(db);
  for (long long n = from; n < to; ++n) {
    const std::string phone = std::to_string(o.phone_base + n);
    account.bind(1, phone);
    account.bind(2, phone);
    account.bindNoCopy(3, fixed_hash);
    account.bind(4, now);
    account.bind(5, now);
    account.exec();
    account.reset();
    const auto p = profile_of(n, where);
    profile.bind(1, phone);
    profile.bind(2, p.full_name);
    profile.bind(3, p.national_id);
    profile.bind(4, p.kra_pin);
    profile.bind(5, p.county);
    profile.bind(6, p.workstation);
    profile.bind(7, p.tsc_number);
    profile.bind(8, now);
    profile.exec();
    profile.reset();
  }
  tx.commit();
}

int insert_accounts(const seed_options& o) {
  const auto started = steady::now();
  auto db = db::open_database(o.db_path, std::chrono::milliseconds(5000));
  // Seeding only: a crash half-way leaves a database to throw away, so no fsync per commit.
  // These settings last for this connection only; the gateway sets its own when it opens.
  db->exec("PRAGMA synchronous = OFF");
  db->exec("PRAGMA cache_size = -262144");
  SQLite::Statement account(*db,
                            "INSERT INTO accounts (phone, username, password_hash, created_at, "
                            "password_changed_at) VALUES (?, ?, ?, ?, ?)");
  SQLite::Statement profile(*db,
                            "INSERT INTO profiles (phone, full_name, national_id, kra_pin, county, "
                            "workstation, tsc_number, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const auto where = places();
  for (long long from = 0; from < o.count; from += o.batch)
    insert_batch(*db, account, profile, o, from, std::min(o.count, from + o.batch), where);
  db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const double seconds = std::chrono::duration<double>(steady::now() - started).count();
  std::printf("bench_seed: %lld accounts with complete profiles (%lld to %lld) in %s in %.1f s\n",
              o.count, o.phone_base, o.phone_base + o.count - 1, o.db_path.c_str(), seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  seed_options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  try {
    return o.what == "vacancies" ? write_vacancies(o) : insert_accounts(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_seed: %s\n", e.what());
    return 1;
  }
}
