// faults_kill_restart: kill -9 under load, repeatedly, against the real cp2-gateway binary
// (issue #9). Proves that every application whose reference a phone was shown, and every SMS
// callback acknowledged with 200, survives the kill; that the database passes
// PRAGMA integrity_check after each restart; and that every outbox row reaches the fake
// Africa's Talking provider, in order per recipient, with duplicates only in the documented
// at-least-once window. With --sigterm it also stops the gateway with SIGTERM under load and
// checks that no request in flight was cut off and that the exit code is 0.
//
// Usage: faults_kill_restart [--kills N] [--gateway PATH] [--threads N] [--applicants N]
//                            [--seed N] [--sigterm] [--dir DIR] [--keep]
// The gateway defaults to ../gateway/cp2-gateway next to this program in the build tree.
// Traffic goes to 127.0.0.1 only. Exit code 0 when every check passed, 1 otherwise, 2 on bad
// usage or when the gateway cannot be started.

#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using cp2::test::http_reply;

namespace {

using steady = std::chrono::steady_clock;

struct options {
  int kills = 20;
  int threads = 4;
  int applicants = 0;  // 0: ten per kill, between 20 and 200 (accounts take ~0.1 s each to hash)
  unsigned seed = std::random_device{}();
  bool sigterm = false;
  bool keep = false;
  fs::path gateway;
  fs::path dir;
};

const std::string token = "faults-token";

// One exam and activity per path, so that each applicant can apply once on each path.
struct vacancy_path {
  std::vector<std::string> labels;  // exam, activity, venue, role, county, sub-county, station
};
const std::vector<vacancy_path> paths = {
    {{"KCSE", "Marking", "Marking centre", "Examiner", "Kisii", "Bobasi", "Kisii School"}},
    {{"KCPE", "Supervision and Invigilation", "Examination centre", "Invigilator", "Nairobi",
      "Westlands", "Moi Forces Academy"}},
    {{"KCSE", "Supervision and Invigilation", "Examination centre", "Invigilator", "Nairobi",
      "Westlands", "Starehe Boys Centre"}},
    {{"KPSEA", "Supervision and Invigilation", "Examination centre", "Invigilator", "Nairobi",
      "Westlands", "Kilimani Primary"}},
    {{"KCPE", "Marking", "Marking centre", "Examiner", "Kisii", "Bobasi", "Nyabururu Girls"}},
};

std::string catalog_csv() {
  std::string csv =
      "code,exam,activity,venue,role,county,subcounty,station,slots,description,opens_at,closes_at\n";
  int n = 0;
  for (const auto& p : paths) {
    csv += 'F';
    csv += std::to_string(++n);
    for (const auto& l : p.labels) csv += "," + l;
    csv += ",5,Fault suite vacancy,2020-01-01T08:00,2090-01-01T17:00\n";
  }
  return csv;
}

std::string applicant_phone(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+254711%06d", i);
  return buf;
}

std::string help_phone(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+254722%06d", i);
  return buf;
}

// The last nine digits: "+254711000001", "0711000001" and "254711000001" are one phone.
std::string phone_key(const std::string& phone) {
  std::string digits;
  for (char c : phone)
    if (c >= '0' && c <= '9') digits += c;
  return digits.size() > 9 ? digits.substr(digits.size() - 9) : digits;
}

unsigned short free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("faults: bind");
    std::exit(2);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// ---------------------------------------------------------------------------------------------
// The gateway as a child process.

class gateway_process {
public:
  gateway_process(fs::path binary, fs::path dir, std::vector<std::string> env, unsigned short port)
      : binary_(std::move(binary)), dir_(std::move(dir)), env_(std::move(env)), port_(port) {}
  ~gateway_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  /// Starts `cp2-gateway serve` and waits (at most 20 s) until /healthz answers 200.
  bool start() {
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      // Only async-signal-safe calls from here to execve.
      int log = ::open((dir_ / "gateway.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
      }
      if (::chdir(dir_.c_str()) != 0) ::_exit(126);
      std::vector<char*> argv = {const_cast<char*>(binary_.c_str()), const_cast<char*>("serve"), nullptr};
      std::vector<char*> envp;
      for (auto& e : env_) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(binary_.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    auto deadline = steady::now() + 20s;
    while (steady::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        std::fprintf(stderr, "faults: the gateway exited during start (status %d); see %s\n", status,
                     (dir_ / "gateway.log").c_str());
        pid_ = -1;
        return false;
      }
      if (cp2::test::request("GET", port_, "/healthz", "", {}, 500).status == 200) return true;
      std::this_thread::sleep_for(20ms);
    }
    std::fprintf(stderr, "faults: /healthz did not answer within 20 s\n");
    return false;
  }

  /// SIGKILL and reap.
  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  /// Sends `sig` without waiting.
  void signal(int sig) { ::kill(pid_, sig); }

  /// Waits at most `timeout` for the process to end; its wait status, or nullopt (then killed).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    kill9();
    return std::nullopt;
  }

  unsigned short port() const { return port_; }
  /// Whether a started process has not been reaped yet.
  bool running() const { return pid_ > 0; }

private:
  fs::path binary_, dir_;
  std::vector<std::string> env_;
  unsigned short port_;
  pid_t pid_ = -1;
};

// ---------------------------------------------------------------------------------------------
// Load: USSD apply journeys and SMS HELP callbacks from a few threads.

struct figures {
  std::atomic<long> requests_sent{0}, requests_answered{0}, requests_refused{0}, requests_cut{0},
      journeys_started{0}, unexpected_screens{0}, sms_sent{0};
};

// The (applicant, path) journeys still to make. A journey that did not get a reference on its
// screen goes back, so the next session of that applicant shows either a new reference or,
// when the cut-off request had committed, "You already applied … reference is …".
class task_pool {
public:
  explicit task_pool(std::vector<std::pair<int, int>> tasks) : tasks_(std::move(tasks)) {}
  std::optional<std::pair<int, int>> take() {
    std::lock_guard lock(m_);
    if (tasks_.empty()) return std::nullopt;
    auto t = tasks_.back();
    tasks_.pop_back();
    return t;
  }
  void give_back(std::pair<int, int> t) {
    std::lock_guard lock(m_);
    tasks_.insert(tasks_.begin(), t);
  }

private:
  std::mutex m_;
  std::vector<std::pair<int, int>> tasks_;
};

struct acknowledged {
  std::mutex m;
  std::map<std::string, std::string> refs;  // reference → phone
  std::map<std::string, std::string> sms;   // callback id → phone
  int shown_in_round = 0;
};

class load {
public:
  load(unsigned short port, figures& f, acknowledged& ack, task_pool& tasks, std::atomic<int>& next_help,
       unsigned seed, int round)
      : port_(port), f_(f), ack_(ack), tasks_(tasks), next_help_(next_help), seed_(seed), round_(round) {}

  /// Print the first few requests cut off (for SIGTERM, where none may be).
  void report_cuts() { report_cuts_ = true; }
  void start(int threads) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this, t] { run(t); });
  }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  ~load() {
    if (!threads_.empty()) stop();
  }

private:
  // One request; counts it and classifies a failure.
  http_reply send(const std::string& target, const std::string& body) {
    ++f_.requests_sent;
    auto r = cp2::test::post_form(port_, target, body);
    if (r.status != 0) ++f_.requests_answered;
    else if (r.error.find("connect") != std::string::npos && r.error.find("Couldn't") != std::string::npos) {
      ++f_.requests_refused;  // never reached the gateway
      std::this_thread::sleep_for(5ms);  // the gateway is down: do not spin
    } else if (++f_.requests_cut <= 3 && report_cuts_) {  // sent, no complete answer
      std::fprintf(stderr, "faults: %s cut off: %s\n", target.c_str(), r.error.c_str());
    }
    return r;
  }

  http_reply ussd(const std::string& session, const std::string& phone, const std::string& text) {
    return send("/callbacks/ussd", "sessionId=" + session + "&serviceCode=%2A384%23&phoneNumber=" +
                                       cp2::test::form_escape(phone) + "&text=" + cp2::test::form_escape(text));
  }

  // The number of the choice whose label starts with `label`, or -1.
  static int pick(const std::string& screen, const std::string& label) {
    static const std::regex line(R"((?:^|\n)(\d+)\. ([^\n]*))");
    for (auto it = std::sregex_iterator(screen.begin(), screen.end(), line); it != std::sregex_iterator(); ++it)
      if ((*it)[2].str().rfind(label, 0) == 0) return std::stoi((*it)[1].str());
    return -1;
  }

  // True when a reference was shown.
  bool journey(int applicant, int path, const std::string& session) {
    ++f_.journeys_started;
    const auto phone = applicant_phone(applicant);
    std::vector<std::string> labels = {"Vacancies"};
    labels.insert(labels.end(), paths[path].labels.begin(), paths[path].labels.end());
    labels.push_back("Apply");
    std::string text;
    for (const auto& label : labels) {
      auto r = ussd(session, phone, text);
      if (r.status != 200 || stop_) return false;
      int choice = pick(r.body, label);
      if (choice < 0) {
        if (++f_.unexpected_screens <= 5)
          std::fprintf(stderr, "faults: no \"%s\" on the screen for %s at \"%s\": %s\n", label.c_str(),
                       phone.c_str(), text.c_str(), r.body.c_str());
        return false;
      }
      if (!text.empty()) text += '*';
      text += std::to_string(choice);
    }
    auto r = ussd(session, phone, text);
    static const std::regex ref(R"(reference is (CP2-[A-Z0-9]{6}))");
    std::smatch m;
    if (r.status == 200 && std::regex_search(r.body, m, ref)) {
      std::lock_guard lock(ack_.m);
      ack_.refs[m[1]] = phone;
      ++ack_.shown_in_round;
      return true;
    }
    if (r.status == 200 && ++f_.unexpected_screens <= 5) {
      std::fprintf(stderr, "faults: no reference for %s: %s\n", phone.c_str(), r.body.c_str());
    }
    return false;
  }

  void help() {
    int n = next_help_++;
    auto phone = help_phone(n);
    auto id = "faults-help-" + std::to_string(n);
    ++f_.sms_sent;
    auto r = send("/callbacks/sms", "from=" + cp2::test::form_escape(phone) + "&to=22262&text=HELP&id=" + id +
                                        "&linkId=L" + std::to_string(n));
    if (r.status == 200) {
      std::lock_guard lock(ack_.m);
      ack_.sms[id] = phone;
    }
  }

  void run(int thread) {
    std::mt19937 rng(seed_ + 7919u * static_cast<unsigned>(thread) + 104729u * static_cast<unsigned>(round_));
    int n = 0;
    while (!stop_) {
      bool apply = std::uniform_int_distribution<int>(0, 3)(rng) != 0;
      auto t = apply ? tasks_.take() : std::nullopt;
      if (t) {
        std::string session = "F";
        session += std::to_string(round_);
        session += '-';
        session += std::to_string(thread);
        session += '-';
        session += std::to_string(n++);
        if (!journey(t->first, t->second, session)) tasks_.give_back(*t);
      } else {
        help();
      }
    }
  }

  unsigned short port_;
  figures& f_;
  acknowledged& ack_;
  task_pool& tasks_;
  std::atomic<int>& next_help_;
  unsigned seed_;
  int round_;
  std::atomic<bool> stop_{false};
  bool report_cuts_ = false;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------
// Checks on the database, read-only, while the gateway runs.

struct db_check {
  long refs_found = 0, refs_lost = 0, sms_found = 0, sms_lost = 0;
  bool integrity_ok = false;
  std::string integrity;
};

db_check check_database(const fs::path& db_path, acknowledged& ack) {
  db_check c;
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.exec("PRAGMA busy_timeout = 5000");
  {
    SQLite::Statement q(db, "PRAGMA integrity_check");
    while (q.executeStep()) {
      if (!c.integrity.empty()) c.integrity += '\n';
      c.integrity += q.getColumn(0).getString();
    }
    c.integrity_ok = c.integrity == "ok";
  }
  std::lock_guard lock(ack.m);
  SQLite::Statement app(db, "SELECT count(*) FROM applications WHERE ref = ?");
  for (const auto& [ref, phone] : ack.refs) {
    app.bind(1, ref);
    app.executeStep();
    if (app.getColumn(0).getInt() == 1) ++c.refs_found;
    else {
      ++c.refs_lost;
      std::fprintf(stderr, "faults: LOST application %s of %s: its reference was shown, it is not in the database\n",
                   ref.c_str(), phone.c_str());
    }
    app.reset();
  }
  SQLite::Statement in(db, "SELECT count(*) FROM inbound_sms WHERE id = ?");
  for (const auto& [id, phone] : ack.sms) {
    in.bind(1, id);
    in.executeStep();
    if (in.getColumn(0).getInt() == 1) ++c.sms_found;
    else {
      ++c.sms_lost;
      std::fprintf(stderr, "faults: LOST SMS callback %s from %s: acknowledged with 200, not in inbound_sms\n",
                   id.c_str(), phone.c_str());
    }
    in.reset();
  }
  return c;
}

struct outbox_row {
  long long id;
  std::string phone, state, provider_id;
};

std::vector<outbox_row> outbox_rows(const fs::path& db_path) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.exec("PRAGMA busy_timeout = 5000");
  SQLite::Statement q(db, "SELECT id, phone, state, coalesce(provider_message_id, '') FROM outbox ORDER BY id");
  std::vector<outbox_row> rows;
  while (q.executeStep())
    rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                    q.getColumn(3).getString()});
  return rows;
}

long count_unfinished(const fs::path& db_path) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.exec("PRAGMA busy_timeout = 5000");
  return db.execAndGet("SELECT count(*) FROM outbox WHERE state IN ('queued','sending')").getInt();
}

// ---------------------------------------------------------------------------------------------

fs::path default_gateway() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  // build/<dir>/faults/faults_kill_restart → build/<dir>/gateway/cp2-gateway
  return self.parent_path().parent_path() / "gateway" / "cp2-gateway";
}

int usage() {
  std::fputs("Usage: faults_kill_restart [--kills N] [--gateway PATH] [--threads N] [--applicants N]\n"
             "                           [--seed N] [--sigterm] [--dir DIR] [--keep]\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) std::exit(usage());
      return argv[++i];
    };
    try {
      if (a == "--kills") o.kills = std::stoi(value());
      else if (a == "--threads") o.threads = std::stoi(value());
      else if (a == "--applicants") o.applicants = std::stoi(value());
      else if (a == "--seed") o.seed = static_cast<unsigned>(std::stoul(value()));
      else if (a == "--gateway") o.gateway = value();
      else if (a == "--dir") o.dir = value();
      else if (a == "--sigterm") o.sigterm = true;
      else if (a == "--keep") o.keep = true;
      else return usage();
    } catch (const std::exception&) {
      return usage();
    }
  }
  if (o.kills < 0 || o.kills > 1000 || o.threads < 1 || o.threads > 64 || o.applicants < 0 ||
      o.applicants > 100000)
    return usage();
  if (o.applicants == 0) o.applicants = std::clamp(o.kills * 10, 20, 200);
  if (o.gateway.empty()) o.gateway = default_gateway();
  o.gateway = fs::absolute(o.gateway);  // the child runs in the scratch folder
  if (::access(o.gateway.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "faults: no gateway binary at %s (pass --gateway PATH)\n", o.gateway.c_str());
    return 2;
  }
  if (o.dir.empty()) {
    char tmpl[] = "/tmp/cp2-faults-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      std::perror("faults: mkdtemp");
      return 2;
    }
    o.dir = tmpl;
  } else {
    fs::create_directories(o.dir);
  }
  ::signal(SIGPIPE, SIG_IGN);
  const auto started = steady::now();
  std::printf("faults: kill -9 under load: %d kills, %d threads, seed %u, gateway %s, scratch %s\n", o.kills,
              o.threads, o.seed, o.gateway.c_str(), o.dir.c_str());
  std::fflush(stdout);

  cp2::test::fake_aggregator provider;
  const auto port = free_port();
  const auto db_path = o.dir / "cp2.db";
  std::vector<std::string> env = {
      "PATH=/usr/bin:/bin",
      "CP2_SERVER_LISTEN=127.0.0.1:" + std::to_string(port),
      "CP2_SERVER_THREADS=2",
      "CP2_SERVER_SHUTDOWN_GRACE=10s",
      "CP2_DB_PATH=" + db_path.string(),
      "CP2_PROVIDER_KIND=africastalking",
      "CP2_PROVIDER_BASE_URL=" + provider.base_url(),
      "CP2_PROVIDER_USERNAME=sandbox",
      "CP2_PROVIDER_API_KEY=faults-key",
      "CP2_PROVIDER_TIMEOUT=5s",
      "CP2_ADMIN_TOKEN=" + token,
      "CP2_SMS_RETRY_BASE=100ms",
      "CP2_SMS_RETRY_CAP=1s",
      // The send throttle is not under test here; at its default of 50 a second the drain after
      // the last kill would take most of the run.
      "CP2_SMS_PER_SECOND=2000",
      "CP2_LOG_LEVEL=warn",
      "CP2_LOG_FORMAT=text",
      "CP2_LIMITS_PASSWORD_RESETS_PER_HOUR=1000",
      "CP2_LIMITS_CREDENTIAL_SMS_PER_DAY=1000",
      "CP2_LIMITS_CREDENTIAL_SMS_PER_MINUTE=100000",
      "CP2_LIMITS_USSD_REQUESTS_PER_MINUTE=10000",
      "CP2_LIMITS_LOGIN_FAILURES_PER_CLIENT=100000",
  };
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  gateway_process gw(o.gateway, o.dir, env, port);
  if (!gw.start()) return 2;

  // Vacancies and applicants with complete profiles, through the API, before any kill.
  const std::vector<std::string> api_headers = {"Authorization: Bearer " + token};
  auto csv = cp2::test::request("POST", port, "/api/v1/vacancies", catalog_csv(),
                                {api_headers[0], "Content-Type: text/csv"}, 10000);
  if (csv.status != 200) {
    std::fprintf(stderr, "faults: loading vacancies answered %ld: %s\n", csv.status, csv.body.c_str());
    return 2;
  }
  {
    std::atomic<int> next{0}, failed{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t)
      workers.emplace_back([&] {
        for (int i; (i = next++) < o.applicants;) {
          auto phone = applicant_phone(i);
          auto a = cp2::test::request("POST", port, "/api/v1/accounts", R"({"phone":")" + phone + R"("})",
                                      {api_headers[0], "Content-Type: application/json"}, 20000);
          auto p = cp2::test::request(
              "PUT", port, "/api/v1/accounts/" + cp2::test::form_escape(phone) + "/profile",
              R"({"full_name":"jane moraa","national_id":"12345678","kra_pin":"a123456789z",)"
              R"("county":"kisii","workstation":"Kisii School"})",
              {api_headers[0], "Content-Type: application/json"}, 20000);
          if (a.status != 201 || p.status != 200 || p.body.find(R"("complete":true)") == std::string::npos) {
            if (failed++ < 3)
              std::fprintf(stderr, "faults: applicant %s: account %ld %s, profile %ld %s\n", phone.c_str(),
                           a.status, a.body.c_str(), p.status, p.body.c_str());
          }
        }
      });
    for (auto& w : workers) w.join();
    if (failed > 0) {
      std::fprintf(stderr, "faults: %d applicants could not be prepared\n", failed.load());
      return 2;
    }
  }
  std::printf("faults: %d applicants with complete profiles and %zu vacancies ready (%.1f s)\n", o.applicants,
              paths.size(), std::chrono::duration<double>(steady::now() - started).count());
  std::fflush(stdout);

  // Every (applicant, path) once, shuffled so that each round mixes paths.
  std::vector<std::pair<int, int>> tasks;
  for (int p = 0; p < static_cast<int>(paths.size()); ++p)
    for (int i = 0; i < o.applicants; ++i) tasks.emplace_back(i, p);
  std::mt19937 rng(o.seed);
  std::shuffle(tasks.begin(), tasks.end(), rng);
  task_pool pool(std::move(tasks));
  std::atomic<int> next_help{0};

  figures f;
  acknowledged ack;
  bool ok = true;
  int survived = 0;
  for (int round = 1; round <= o.kills; ++round) {
    auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 800)(rng));
    {
      load l(port, f, ack, pool, next_help, o.seed, round);
      l.start(o.threads);
      std::this_thread::sleep_for(delay);
      gw.kill9();
      l.stop();
    }
    if (!gw.start()) {
      std::fprintf(stderr, "faults: the gateway did not come back after kill %d\n", round);
      ok = false;
      break;
    }
    auto c = check_database(db_path, ack);
    if (c.refs_lost > 0 || c.sms_lost > 0 || !c.integrity_ok) {
      ok = false;
      if (!c.integrity_ok) std::fprintf(stderr, "faults: integrity_check after kill %d: %s\n", round, c.integrity.c_str());
    } else {
      ++survived;
    }
    int shown;
    {
      std::lock_guard lock(ack.m);
      shown = std::exchange(ack.shown_in_round, 0);
    }
    std::printf("faults: kill %2d at %3d ms: %d references shown this round; %ld/%zu applications and %ld/%zu "
                "SMS found; integrity %s\n",
                round, static_cast<int>(delay.count()), shown, c.refs_found, ack.refs.size(), c.sms_found,
                ack.sms.size(), c.integrity_ok ? "ok" : "FAILED");
    std::fflush(stdout);
  }

  // Graceful shutdown under load: SIGTERM, every request that reached the gateway answered.
  long term_cut = -1;
  int term_status = -1;
  if (o.sigterm && ok) {
    figures tf;
    auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 800)(rng));
    load l(port, tf, ack, pool, next_help, o.seed, o.kills + 1);
    l.report_cuts();
    l.start(o.threads);
    std::this_thread::sleep_for(delay);
    gw.signal(SIGTERM);
    auto status = gw.wait_exit(30s);
    l.stop();
    term_cut = tf.requests_cut;
    term_status = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    std::printf("faults: SIGTERM at %d ms under load: %ld requests sent, %ld answered, %ld refused (not "
                "accepted), %ld cut off; exit code %s\n",
                static_cast<int>(delay.count()), tf.requests_sent.load(), tf.requests_answered.load(),
                tf.requests_refused.load(), tf.requests_cut.load(),
                !status ? "none (did not exit within 30 s)" : term_status >= 0 ? std::to_string(term_status).c_str() : "killed by a signal");
    if (term_cut != 0 || term_status != 0) ok = false;
    f.requests_sent += tf.requests_sent;
    f.requests_answered += tf.requests_answered;
    f.requests_refused += tf.requests_refused;
    f.journeys_started += tf.journeys_started;
    f.unexpected_screens += tf.unexpected_screens;
    if (!gw.start()) {
      std::fprintf(stderr, "faults: the gateway did not start after SIGTERM\n");
      return 1;
    }
    auto c = check_database(db_path, ack);
    if (c.refs_lost > 0 || c.sms_lost > 0 || !c.integrity_ok) ok = false;
  } else if (!gw.running() && !gw.start()) {
    return 1;  // the loop above broke out with the gateway down, and it does not start
  }

  // The outbox drains: nothing left queued or sending (bounded wait).
  auto drain_deadline = steady::now() + 60s;
  long unfinished = 0;
  while ((unfinished = count_unfinished(db_path)) > 0 && steady::now() < drain_deadline)
    std::this_thread::sleep_for(200ms);
  auto final_check = check_database(db_path, ack);
  if (final_check.refs_lost > 0 || final_check.sms_lost > 0 || !final_check.integrity_ok) ok = false;
  auto rows = outbox_rows(db_path);
  auto received = provider.received();
  gw.signal(SIGTERM);
  auto last_exit = gw.wait_exit(20s);

  // What the fake accepted: by message id, and grouped by (to, text).
  std::map<std::string, std::size_t> by_id;  // messageId → arrival index
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> by_text;
  for (std::size_t i = 0; i < received.size(); ++i) {
    if (received[i].message_id.empty()) continue;
    by_id[received[i].message_id] = i;
    by_text[{phone_key(received[i].to), received[i].message}].push_back(i);
  }
  long delivered = 0, not_seen = 0, undelivered = 0, failed_rows = 0;
  std::map<std::string, std::vector<std::size_t>> stored_order;  // phone → arrival index of stored ids, by row id
  std::set<std::size_t> stored_indices;
  for (const auto& r : rows) {
    if (r.state == "queued" || r.state == "sending") {
      ++undelivered;
      continue;
    }
    if (r.state == "failed") {
      ++failed_rows;
      continue;
    }
    auto it = by_id.find(r.provider_id);
    if (it == by_id.end()) {
      ++not_seen;
      std::fprintf(stderr, "faults: outbox row %lld (%s) is %s with message id \"%s\" the provider never gave\n",
                   r.id, r.phone.c_str(), r.state.c_str(), r.provider_id.c_str());
      continue;
    }
    ++delivered;
    stored_indices.insert(it->second);
    stored_order[phone_key(r.phone)].push_back(it->second);
  }
  long window_duplicates = 0, late_duplicates = 0, twice_stored = 0;
  for (const auto& [key, sends] : by_text) {
    if (sends.size() < 2) continue;
    long stored = std::count_if(sends.begin(), sends.end(), [&](std::size_t i) { return stored_indices.count(i) > 0; });
    if (stored > 1) {
      twice_stored += stored - 1;  // two outbox rows with the same text to the same phone
      continue;
    }
    // The at-least-once window: sends before the stored one were accepted but their answer was
    // lost to a kill. A send after the stored one went out although the acceptance was stored.
    auto last_stored = std::find_if(sends.rbegin(), sends.rend(), [&](std::size_t i) { return stored_indices.count(i) > 0; });
    long after = last_stored == sends.rend() ? 0 : static_cast<long>(last_stored - sends.rbegin());
    late_duplicates += after;
    window_duplicates += static_cast<long>(sends.size()) - 1 - after;
    if (after > 0)
      std::fprintf(stderr, "faults: a message to %s was sent again after its acceptance was stored: %s\n",
                   key.first.c_str(), key.second.c_str());
  }
  long order_violations = 0;
  for (const auto& [phone, order] : stored_order)
    if (!std::is_sorted(order.begin(), order.end())) {
      ++order_violations;
      std::fprintf(stderr, "faults: messages to %s were accepted out of order\n", phone.c_str());
    }
  // Every acknowledged HELP got its reply queued.
  std::set<std::string> outbox_phones;
  for (const auto& r : rows) outbox_phones.insert(phone_key(r.phone));
  long help_without_reply = 0;
  for (const auto& [id, phone] : ack.sms)
    if (!outbox_phones.count(phone_key(phone))) ++help_without_reply;

  if (undelivered > 0 || not_seen > 0 || late_duplicates > 0 || order_violations > 0 || help_without_reply > 0 ||
      failed_rows > 0)
    ok = false;

  const double seconds = std::chrono::duration<double>(steady::now() - started).count();
  std::printf("\nfaults: figures (seed %u, %.1f s)\n", o.seed, seconds);
  std::printf("  kills survived                      %d of %d\n", survived, o.kills);
  std::printf("  requests sent                       %ld (%ld answered, %ld refused while down, %ld cut by a kill%s)\n",
              f.requests_sent.load(), f.requests_answered.load(), f.requests_refused.load(), f.requests_cut.load(),
              o.sigterm ? ", SIGTERM's below" : "");
  std::printf("  USSD apply journeys started         %ld\n", f.journeys_started.load());
  std::printf("  applications acknowledged           %zu\n", ack.refs.size());
  std::printf("  found after restart                 %ld\n", final_check.refs_found);
  std::printf("  SMS callbacks acknowledged / found  %zu / %ld\n", ack.sms.size(), final_check.sms_found);
  std::printf("  integrity_check                     %s\n", final_check.integrity_ok ? "ok after every restart" : "FAILED");
  std::printf("  messages queued                     %zu\n", rows.size());
  std::printf("  delivered (accepted by the fake)    %ld\n", delivered);
  std::printf("  left queued/sending after 60 s      %ld\n", undelivered);
  std::printf("  failed                              %ld\n", failed_rows);
  std::printf("  duplicated, at-least-once window    %ld (accepted, answer lost to a kill, sent again)\n",
              window_duplicates);
  std::printf("  duplicated after stored acceptance  %ld\n", late_duplicates);
  std::printf("  identical texts queued twice        %ld\n", twice_stored);
  std::printf("  recipients out of order             %ld\n", order_violations);
  std::printf("  HELP acknowledged without a reply   %ld\n", help_without_reply);
  if (o.sigterm)
    std::printf("  SIGTERM under load                  %ld cut off, exit code %d\n", term_cut, term_status);
  std::printf("  final SIGTERM exit code             %d\n",
              last_exit && WIFEXITED(*last_exit) ? WEXITSTATUS(*last_exit) : -1);
  std::printf("  unexpected USSD screens             %ld\n", f.unexpected_screens.load());
  std::printf("faults: %s\n", ok ? "PASS" : "FAIL");

  if (ok && !o.keep) {
    std::error_code ec;
    fs::remove_all(o.dir, ec);
  } else {
    std::printf("faults: scratch folder kept: %s (gateway.log, cp2.db)\n", o.dir.c_str());
  }
  return ok ? 0 : 1;
}
