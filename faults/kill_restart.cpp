// faults_kill_restart: kill -9 under load, repeatedly, against the real cp2-gateway binary
// (issue #9). Proves that every application whose reference a phone was shown, and every SMS
// callback acknowledged with 200, survives the kill; that the database passes
// PRAGMA integrity_check after each restart; and that every outbox row reaches the fake
// Africa's Talking provider, in order per recipient, with duplicates only in the documented
// at-least-once window. With --sigterm it also stops the gateway with SIGTERM under load and
// checks that no request in flight was cut off and that the exit code is 0. With --outage it
// then starts a gateway of its own with sms.per_second 50 and puts the provider through an
// outage under load (HTTP 500, hangs past provider.timeout, refused connections, each for
// --outage-ms) while SMS callbacks queue replies; once the provider accepts again, every reply
// must arrive exactly once, in order per phone, within the throttle (run_outage below).
// --outage-only runs that phase alone.
//
// Usage: faults_kill_restart [--kills N] [--gateway PATH] [--threads N] [--applicants N]
//                            [--seed N] [--sigterm] [--outage | --no-outage | --outage-only]
//                            [--outage-phones N] [--outage-ms MS] [--dir DIR] [--keep]
// The gateway defaults to ../gateway/cp2-gateway next to this program in the build tree.
// Traffic goes to 127.0.0.1 only. Exit code 0 when every check passed, 1 otherwise, 2 on bad
// usage or when the gateway cannot be started.

#include "tests/support/fake_aggregator.hpp"
#include "tests/support/http_client.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <list>
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
  int applicants = 0;  // 0: twenty per kill, between 20 and 400 (accounts take ~0.1 s each to hash)
  unsigned seed = std::random_device{}();
  bool sigterm = false;
  bool outage = false;       // the provider outage phase, after the kills and the SIGTERM check
  bool outage_only = false;  // that phase alone
  int outage_phones = 120;   // each sends 4 SMS keywords during the outage
  int outage_ms = 4000;      // how long each kind of failure lasts
  bool keep = false;
  fs::path gateway;
  fs::path dir;
};

const std::string token = "faults-token";

// One exam and activity per path, so that each applicant can apply once on each path: 3 exams
// times 6 activities, so that apply journeys last through 20 kills even in a release build.
struct vacancy_path {
  std::vector<std::string> labels;  // exam, activity, venue, role, county, sub-county, station
};
std::vector<vacancy_path> make_paths() {
  const std::vector<std::string> exams = {"KCSE", "KCPE", "KPSEA"};
  const std::vector<std::string> activities = {"Marking",   "Supervision and Invigilation", "Clerking",
                                               "Centre management", "Coordination", "Security"};
  const std::vector<std::vector<std::string>> places = {{"Kisii", "Bobasi", "Kisii School"},
                                                        {"Nairobi", "Westlands", "Starehe Boys Centre"}};
  std::vector<vacancy_path> out;
  for (std::size_t e = 0; e < exams.size(); ++e)
    for (std::size_t a = 0; a < activities.size(); ++a) {
      const auto& place = places[(e + a) % places.size()];
      out.push_back({{exams[e], activities[a], a == 0 ? "Marking centre" : "Examination centre",
                      a == 0 ? "Examiner" : "Officer", place[0], place[1], place[2]}});
    }
  return out;
}
const std::vector<vacancy_path> paths = make_paths();

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
// Provider outage under load (--outage): errors, hangs and refused connections, then recovery.

// A TCP relay in front of the fake provider, so that the provider's port can refuse
// connections: the fake answers badly, hangs or drops a connection it has accepted, but it
// always accepts. refuse() closes the listening socket (a connect then gets ECONNREFUSED, as
// from a host that is up with its service down) and cuts every relayed connection, kept-alive
// ones included; listen() binds the same port again.
// Thread safety: every member may be called from any thread.
class tcp_relay {
public:
  explicit tcp_relay(unsigned short upstream) : upstream_(upstream) {
    fd_ = open_listener(0);
    if (fd_ < 0) {
      std::perror("faults: relay listen");
      std::exit(2);
    }
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listening_ = true;
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~tcp_relay() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    acceptor_.join();  // closes the listener and cuts what is live
    std::list<std::unique_ptr<conn>> all;
    {
      std::lock_guard lock(mu_);
      all.swap(conns_);
    }
    for (auto& c : all) c->thread.join();
  }
  tcp_relay(const tcp_relay&) = delete;
  tcp_relay& operator=(const tcp_relay&) = delete;

  unsigned short port() const { return port_; }
  /// Closes the port and cuts every relayed connection; returns once done.
  void refuse() { set_listening(false); }
  /// Opens the port again; false when it could not be bound again within 2 s.
  bool listen() { return set_listening(true); }
  /// Connections relayed so far.
  long connections() const { return accepted_; }
  /// When each request was read from a client, in order: the moment the sender started it,
  /// seen closer than where the fake records it.
  std::vector<steady::time_point> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

private:
  struct conn {
    int client, upstream;
    bool live = true;  // guarded by mu_: its fds are open
    std::atomic<bool> done{false};
    std::thread thread;
  };

  static int open_listener(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  bool set_listening(bool on) {
    std::unique_lock lock(mu_);
    want_listening_ = on;
    return changed_.wait_for(lock, 2s, [&] { return listening_ == on; });
  }

  // Only the acceptor thread opens, polls and closes the listener, so it is never closed under
  // a poll or an accept.
  void accept_loop() {
    for (;;) {
      bool want, stop;
      {
        std::lock_guard lock(mu_);
        want = want_listening_ && !stop_;
        stop = stop_;
      }
      if (!want && fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
        std::lock_guard lock(mu_);
        for (auto& c : conns_)
          if (c->live) {
            ::shutdown(c->client, SHUT_RDWR);
            ::shutdown(c->upstream, SHUT_RDWR);
          }
        listening_ = false;
        changed_.notify_all();
      } else if (want && fd_ < 0 && (fd_ = open_listener(port_)) >= 0) {
        std::lock_guard lock(mu_);
        listening_ = true;
        changed_.notify_all();
      }
      if (stop) return;
      reap();
      if (fd_ < 0) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(upstream_);
      if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (upstream >= 0) ::close(upstream);
        ::close(client);
        continue;
      }
      ++accepted_;
      auto c = std::make_unique<conn>();
      c->client = client;
      c->upstream = upstream;
      auto* raw = c.get();
      std::lock_guard lock(mu_);
      c->thread = std::thread([this, raw] { pump(*raw); });
      conns_.push_back(std::move(c));
    }
  }

  void reap() {
    std::list<std::unique_ptr<conn>> finished;
    {
      std::lock_guard lock(mu_);
      for (auto it = conns_.begin(); it != conns_.end();)
        if ((*it)->done) finished.splice(finished.end(), conns_, it++);
        else ++it;
    }
    for (auto& c : finished) c->thread.join();
  }

  // Copies bytes both ways until either side ends; then both end.
  void pump(conn& c) {
    pollfd p[2] = {{c.client, POLLIN, 0}, {c.upstream, POLLIN, 0}};
    char buf[16384];
    for (bool end = false; !end;) {
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2 && !end; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0) end = true;
        // curl does not pipeline: a read that starts a request starts exactly one.
        if (i == 0 && n >= 5 && std::memcmp(buf, "POST ", 5) == 0) {
          auto now = steady::now();
          std::lock_guard lock(mu_);
          requests_.push_back(now);
        }
        for (ssize_t off = 0; !end && off < n;) {
          ssize_t w = ::send(p[1 - i].fd, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) end = true;
          else off += w;
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      c.live = false;
    }
    ::close(c.client);
    ::close(c.upstream);
    c.done = true;
  }

  unsigned short upstream_, port_ = 0;
  int fd_ = -1;  // the listener; only the acceptor thread touches it after construction
  std::atomic<long> accepted_{0};
  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable changed_;
  bool want_listening_ = true, listening_ = false, stop_ = false;
  std::list<std::unique_ptr<conn>> conns_;
  std::vector<steady::time_point> requests_;
  std::thread acceptor_;
};

std::string outage_phone(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+254733%06d", i);
  return buf;
}

// Each phone sends these in turn, each after the previous one was acknowledged: four replies
// to one number (two of them credential SMS, whose order is the one that matters most).
const std::vector<std::string> outage_keywords = {"REGISTER", "STATUS", "HELP", "PASSWORD"};

struct outage_row {
  long long id;
  std::string phone, state, provider_id, link_id;
};

std::vector<outage_row> outage_rows(const fs::path& db_path) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.exec("PRAGMA busy_timeout = 5000");
  SQLite::Statement q(db, "SELECT id, phone, state, coalesce(provider_message_id, ''), link_id FROM outbox ORDER BY id");
  std::vector<outage_row> rows;
  while (q.executeStep())
    rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                    q.getColumn(3).getString(), q.getColumn(4).getString()});
  return rows;
}

// The value of `name{label}` in a Prometheus text page, 0 when absent.
double metric(const std::string& page, const std::string& series) {
  auto at = page.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::atof(page.c_str() + at + series.size() + 2);
}

// The provider fails for `each` in each of three ways while SMS callbacks queue replies, then
// recovers; the backlog must drain exactly once per message, in order per phone, within
// sms.per_second. Its own gateway (with the throttle at its default) and database, in dir.
// True when every check passed.
bool run_outage(const options& o, const fs::path& dir) {
  constexpr int per_second = 50;
  constexpr auto retry_cap = 2s;
  const auto each = std::chrono::milliseconds(o.outage_ms);
  const auto started = steady::now();
  fs::create_directories(dir);
  std::printf("\nfaults: provider outage under load: %d phones x %zu SMS, %lld ms each of HTTP 500, hang, "
              "refused connections; sms.per_second %d; scratch %s\n",
              o.outage_phones, outage_keywords.size(), static_cast<long long>(each.count()), per_second,
              dir.c_str());
  std::fflush(stdout);

  cp2::test::fake_aggregator provider;
  provider.set_behaviour(cp2::test::fake_behaviour::http_500);  // down before the first message
  tcp_relay relay(provider.port());
  const auto port = free_port();
  const auto db_path = dir / "cp2.db";
  std::vector<std::string> env = {
      "PATH=/usr/bin:/bin",
      "CP2_SERVER_LISTEN=127.0.0.1:" + std::to_string(port),
      "CP2_SERVER_THREADS=2",
      "CP2_DB_PATH=" + db_path.string(),
      "CP2_PROVIDER_KIND=africastalking",
      "CP2_PROVIDER_BASE_URL=http://127.0.0.1:" + std::to_string(relay.port()),
      "CP2_PROVIDER_USERNAME=sandbox",
      "CP2_PROVIDER_API_KEY=faults-key",
      "CP2_PROVIDER_TIMEOUT=1s",
      "CP2_PROVIDER_CONNECT_TIMEOUT=1s",
      "CP2_ADMIN_TOKEN=" + token,
      "CP2_SMS_PER_SECOND=" + std::to_string(per_second),
      "CP2_SMS_RETRY_BASE=200ms",
      "CP2_SMS_RETRY_CAP=2s",
      "CP2_LOG_LEVEL=warn",
      "CP2_LOG_FORMAT=text",
      "CP2_LIMITS_PASSWORD_RESETS_PER_HOUR=1000",
      "CP2_LIMITS_CREDENTIAL_SMS_PER_DAY=1000",
      "CP2_LIMITS_CREDENTIAL_SMS_PER_MINUTE=100000",
  };
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  if (const char* v = std::getenv("CP2_LOG_LEVEL"))
    for (auto& e : env)
      if (e.rfind("CP2_LOG_LEVEL=", 0) == 0) e = std::string("CP2_LOG_LEVEL=") + v;
  gateway_process gw(o.gateway, dir, env, port);
  if (!gw.start()) return false;

  // Load: phone i starts its keywords at i/phones of the way through the outage (less a
  // margin), from a few threads; a phone stops at its first callback not acknowledged.
  std::mutex ack_m;
  std::map<std::string, std::vector<std::string>> acked;  // phone key → link ids, in sending order
  std::atomic<long> callbacks_sent{0}, callbacks_failed{0};
  std::atomic<int> next_phone{0};
  std::atomic<bool> stop_load{false};
  const auto load_start = steady::now();
  const auto load_span = 3 * each - 500ms;
  std::vector<std::thread> load_threads;
  for (int t = 0; t < o.threads; ++t)
    load_threads.emplace_back([&] {
      for (int i; !stop_load && (i = next_phone++) < o.outage_phones;) {
        auto at = load_start + load_span * i / o.outage_phones;
        while (!stop_load && steady::now() < at) std::this_thread::sleep_for(5ms);
        const auto phone = outage_phone(i);
        for (std::size_t k = 0; k < outage_keywords.size() && !stop_load; ++k) {
          // The linkId comes back on the reply, so each arrival names its callback.
          const auto link = std::to_string(i) + "-" + std::to_string(k);
          const auto id = "outage-" + link;
          ++callbacks_sent;
          auto r = cp2::test::post_form(port, "/callbacks/sms",
                                        "from=" + cp2::test::form_escape(phone) + "&to=22262&text=" +
                                            outage_keywords[k] + "&id=" + id + "&linkId=" + link);
          if (r.status != 200) {
            if (++callbacks_failed <= 3)
              std::fprintf(stderr, "faults: outage: SMS callback %s answered %ld %s%s\n", id.c_str(), r.status,
                           r.body.c_str(), r.error.c_str());
            break;
          }
          std::lock_guard lock(ack_m);
          acked[phone_key(phone)].push_back(link);
        }
      }
    });

  // The outage: HTTP 500, then hangs past provider.timeout, then refused connections.
  std::this_thread::sleep_until(load_start + each);
  const auto attempts_500 = provider.attempts();
  provider.set_behaviour(cp2::test::fake_behaviour::hang);
  std::this_thread::sleep_until(load_start + 2 * each);
  const auto attempts_hang = provider.attempts() - attempts_500;
  relay.refuse();
  const auto relayed_before_refusal = relay.connections();
  std::this_thread::sleep_until(load_start + 3 * each);
  stop_load = true;
  for (auto& t : load_threads) t.join();
  const auto attempts_while_refusing = provider.attempts() - attempts_500 - attempts_hang;
  const auto relayed_while_refusing = relay.connections() - relayed_before_refusal;
  const long backlog = count_unfinished(db_path);
  const auto queued_rows = outage_rows(db_path).size();
  const auto outage_end = steady::now();
  const double outage_seconds = std::chrono::duration<double>(outage_end - load_start).count();

  // Recovery: the fake accepts and its port is open again. Every arrival is timed from here.
  provider.set_behaviour(cp2::test::fake_behaviour::accept);
  bool relay_ok = relay.listen();
  if (!relay_ok) std::fprintf(stderr, "faults: outage: the relay could not bind its port again\n");
  const auto recovered = steady::now();
  const std::size_t base = provider.received().size();
  std::vector<steady::time_point> arrival;  // of received()[base + k]
  const auto deadline = recovered + 60s;
  auto next_db_check = recovered;
  long unfinished = backlog;
  while (steady::now() < deadline) {
    if (provider.wait_for(base + arrival.size() + 1, 20ms)) {
      auto now = steady::now();
      while (provider.wait_for(base + arrival.size() + 1, 0ms)) arrival.push_back(now);
    }
    if (steady::now() >= next_db_check) {
      next_db_check = steady::now() + 200ms;
      if ((unfinished = count_unfinished(db_path)) == 0) break;
    }
  }
  // Late arrivals (a send still in flight at the last check) count too.
  std::this_thread::sleep_for(300ms);
  while (provider.wait_for(base + arrival.size() + 1, 0ms)) arrival.push_back(steady::now());

  auto rows = outage_rows(db_path);
  auto received = provider.received();
  while (arrival.size() < received.size() - base) arrival.push_back(steady::now());
  auto page = cp2::test::request("GET", port, "/metrics", "", {}, 5000).body;
  gw.signal(SIGTERM);
  auto exit_status = gw.wait_exit(20s);
  const int exit_code = exit_status && WIFEXITED(*exit_status) ? WEXITSTATUS(*exit_status) : -1;

  // Accepted arrivals after recovery, with their times.
  struct accepted_send {
    std::size_t index;
    steady::time_point at;
  };
  std::vector<accepted_send> accepted;
  std::map<std::string, std::size_t> by_id;  // messageId → index in received
  long accepted_before_recovery = 0;
  for (std::size_t i = 0; i < received.size(); ++i) {
    if (received[i].message_id.empty()) continue;
    by_id[received[i].message_id] = i;
    if (i < base) ++accepted_before_recovery;
    else accepted.push_back({i, arrival[i - base]});
  }

  // Each row: accepted with an id the fake gave. Duplicates: an accepted send whose id no row
  // stored; after the stored acceptance of its row (same linkId), it is a failure.
  long delivered = 0, lost = 0, failed_rows = 0, not_seen = 0;
  std::map<std::string, std::size_t> stored_at;  // linkId → arrival index of the stored send
  for (const auto& r : rows) {
    if (r.state == "queued" || r.state == "sending") ++lost;
    else if (r.state == "failed") ++failed_rows;
    else if (auto it = by_id.find(r.provider_id); it == by_id.end()) {
      ++not_seen;
      std::fprintf(stderr, "faults: outage: outbox row %lld is %s with message id \"%s\" the provider never gave\n",
                   r.id, r.state.c_str(), r.provider_id.c_str());
    } else {
      ++delivered;
      stored_at[r.link_id] = it->second;
    }
  }
  long window_duplicates = 0, late_duplicates = 0;
  std::set<std::size_t> stored_indices;
  for (const auto& [link, i] : stored_at) stored_indices.insert(i);
  for (const auto& a : accepted) {
    if (stored_indices.count(a.index)) continue;
    auto it = stored_at.find(received[a.index].link_id);
    if (it != stored_at.end() && it->second < a.index) {
      ++late_duplicates;
      std::fprintf(stderr, "faults: outage: the reply to %s was sent again after its acceptance was stored\n",
                   received[a.index].link_id.c_str());
    } else {
      ++window_duplicates;
    }
  }
  // Per phone, the stored sends arrived in the order the callbacks were acknowledged; and each
  // acknowledged callback has its reply.
  std::map<std::string, std::vector<std::string>> arrived;  // phone key → link ids, arrival order
  for (std::size_t i = 0; i < received.size(); ++i)
    if (stored_indices.count(i)) arrived[phone_key(received[i].to)].push_back(received[i].link_id);
  std::set<std::string> row_links;
  for (const auto& r : rows) row_links.insert(r.link_id);
  long out_of_order = 0, without_reply = 0, acked_total = 0;
  for (const auto& [key, links] : acked) {
    acked_total += static_cast<long>(links.size());
    for (const auto& l : links)
      if (!row_links.count(l)) ++without_reply;
    std::vector<std::string> expected;
    for (const auto& l : links)
      if (stored_at.count(l)) expected.push_back(l);
    if (arrived[key] != expected) {
      ++out_of_order;
      std::string got, want;
      for (const auto& l : arrived[key]) got += " " + l;
      for (const auto& l : expected) want += " " + l;
      std::fprintf(stderr, "faults: outage: messages to %s arrived as%s, queued as%s\n", key.c_str(), got.c_str(),
                   want.c_str());
    }
  }

  // The drain: the largest number of sends started in any one-second window (timed at the
  // relay, where the gateway's pace is least blurred by this program's own scheduling), in the
  // first second after the first one and afterwards: both at most the throttle, plus an
  // allowance for the token bucket's twentieth of a second and timing on the way.
  std::vector<steady::time_point> sends;
  for (auto t : relay.requests())
    if (t >= recovered) sends.push_back(t);
  long peak_first = 0, peak_after = 0;
  for (std::size_t i = 0, j = 0; i < sends.size(); ++i) {
    while (j < sends.size() && sends[j] < sends[i] + 1s) ++j;
    long in_window = static_cast<long>(j - i);
    if (sends[i] < sends.front() + 1s) peak_first = std::max(peak_first, in_window);
    else peak_after = std::max(peak_after, in_window);
  }
  double first_s = -1, last_s = -1;
  if (!accepted.empty()) {
    first_s = std::chrono::duration<double>(accepted.front().at - recovered).count();
    last_s = std::chrono::duration<double>(accepted.back().at - recovered).count();
  }
  const long allowance = per_second / 10;
  const double expected_s = static_cast<double>(backlog) / per_second;
  // The first retry after recovery comes at most retry_cap (+20% jitter) later; then the
  // backlog takes backlog/per_second.
  const double drain_limit_s = expected_s + std::chrono::duration<double>(retry_cap).count() * 1.2 + 2.0;
  const bool rate_ok = peak_after <= per_second + allowance && peak_first <= per_second + allowance;
  const bool drain_ok = lost == 0 && last_s >= 0 && last_s <= drain_limit_s;

  const double failures_500 = metric(page, R"(cp2_provider_failures_total{failure="response_status"})");
  const double timeouts = metric(page, R"(cp2_provider_failures_total{failure="timeout"})");
  const double connection_failed = metric(page, R"(cp2_provider_failures_total{failure="connection_failed"})");
  const double refused = connection_failed - (static_cast<double>(attempts_hang) - timeouts);
  const bool refusing_ok = attempts_while_refusing == 0 && relayed_while_refusing == 0;
  if (!refusing_ok) std::fprintf(stderr, "faults: outage: the provider was reached while its port was closed\n");
  const bool ok = relay_ok && refusing_ok && lost == 0 && failed_rows == 0 && not_seen == 0 && late_duplicates == 0 &&
                  out_of_order == 0 && without_reply == 0 && callbacks_failed == 0 && accepted_before_recovery == 0 &&
                  rate_ok && drain_ok && exit_code == 0 && backlog > 0;
  const double seconds = std::chrono::duration<double>(steady::now() - started).count();
  const double drain_rate = accepted.size() > 1 && last_s > first_s
                                ? static_cast<double>(accepted.size() - 1) / (last_s - first_s)
                                : 0;
  std::printf("faults: provider outage figures (%.1f s)\n", seconds);
  std::printf("  SMS callbacks sent / acknowledged    %ld / %ld (%zu phones, %zu keywords each, in %.1f s of outage)\n",
              callbacks_sent.load(), acked_total, acked.size(), outage_keywords.size(), outage_seconds);
  std::printf("  messages queued during the outage    %zu (backlog at recovery %ld)\n", queued_rows, backlog);
  std::printf("  attempts failed by kind              HTTP 500: %zu (gateway: response_status %.0f)\n", attempts_500,
              failures_500);
  std::printf("                                       hang: %zu (gateway: timeout %.0f, the rest cut when the port "
              "closed)\n",
              attempts_hang, timeouts);
  std::printf("                                       refused connection: %.0f (gateway: connection_failed %.0f, "
              "less the hangs cut)\n",
              refused, connection_failed);
  std::printf("                                       reaching the fake while refusing: %zu requests, %ld "
              "connections\n",
              attempts_while_refusing, relayed_while_refusing);
  std::printf("  first acceptance after recovery      %.2f s\n", first_s);
  std::printf("  time to drain                        %.2f s after recovery (backlog/per_second = %.1f s; limit %.1f s)\n",
              last_s, expected_s, drain_limit_s);
  std::printf("  drain rate                           %.1f/s from first to last acceptance (throttle %d/s)\n",
              drain_rate, per_second);
  std::printf("  sends after recovery                 %zu (accepted %zu)\n", sends.size(), accepted.size());
  std::printf("  peak in any 1 s window               %ld in the first second (at most %d), "
              "%ld after (at most %d)\n",
              peak_first, static_cast<int>(per_second + allowance), peak_after, static_cast<int>(per_second + allowance));
  std::printf("  delivered (accepted by the fake)     %ld of %zu\n", delivered, rows.size());
  std::printf("  lost (queued/sending after 60 s)     %ld; failed %ld; stored id never given %ld\n", lost,
              failed_rows, not_seen);
  std::printf("  duplicated after stored acceptance   %ld (at-least-once window: %ld)\n", late_duplicates,
              window_duplicates);
  std::printf("  recipients out of order              %ld of %zu\n", out_of_order, acked.size());
  std::printf("  callbacks acknowledged without reply %ld\n", without_reply);
  std::printf("  SIGTERM exit code                    %d\n", exit_code);
  std::printf("faults: provider outage %s\n", ok ? "PASS" : "FAIL");
  std::fflush(stdout);
  return ok;
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
             "                           [--seed N] [--sigterm] [--outage | --no-outage | --outage-only]\n"
             "                           [--outage-phones N] [--outage-ms MS] [--dir DIR] [--keep]\n",
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
      else if (a == "--outage") o.outage = true;
      else if (a == "--no-outage") o.outage = false;
      else if (a == "--outage-only") o.outage = o.outage_only = true;
      else if (a == "--outage-phones") o.outage_phones = std::stoi(value());
      else if (a == "--outage-ms") o.outage_ms = std::stoi(value());
      else if (a == "--keep") o.keep = true;
      else return usage();
    } catch (const std::exception&) {
      return usage();
    }
  }
  if (o.kills < 0 || o.kills > 1000 || o.threads < 1 || o.threads > 64 || o.applicants < 0 ||
      o.applicants > 100000 || o.outage_phones < 1 || o.outage_phones > 10000 || o.outage_ms < 1000 ||
      o.outage_ms > 60000)
    return usage();
  if (o.applicants == 0) o.applicants = std::clamp(o.kills * 20, 20, 400);
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
  if (o.outage_only) {
    const bool ok = run_outage(o, o.dir / "outage");
    if (ok && !o.keep) {
      std::error_code ec;
      fs::remove_all(o.dir, ec);
    } else {
      std::printf("faults: scratch folder kept: %s (outage/gateway.log, outage/cp2.db)\n", o.dir.c_str());
    }
    return ok ? 0 : 1;
  }
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
  // CP2_LOG_LEVEL=info puts the access log in gateway.log, to look into a failure.
  if (const char* v = std::getenv("CP2_LOG_LEVEL"))
    for (auto& e : env)
      if (e.rfind("CP2_LOG_LEVEL=", 0) == 0) e = std::string("CP2_LOG_LEVEL=") + v;
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
    const long sent_before = f.requests_sent, answered_before = f.requests_answered, cut_before = f.requests_cut;
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
    std::printf("faults: kill %2d at %3d ms: %ld requests sent (%ld answered, %ld cut), %d references shown; "
                "%ld/%zu applications and %ld/%zu SMS found; integrity %s\n",
                round, static_cast<int>(delay.count()), f.requests_sent - sent_before,
                f.requests_answered - answered_before, f.requests_cut - cut_before, shown, c.refs_found,
                ack.refs.size(), c.sms_found, ack.sms.size(), c.integrity_ok ? "ok" : "FAILED");
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
    int shown;
    {
      std::lock_guard lock(ack.m);
      shown = std::exchange(ack.shown_in_round, 0);
    }
    std::printf("faults: after SIGTERM and a restart: %d references shown during it; %ld/%zu applications and "
                "%ld/%zu SMS found; integrity %s\n",
                shown, c.refs_found, ack.refs.size(), c.sms_found, ack.sms.size(), c.integrity_ok ? "ok" : "FAILED");
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
  std::printf("faults: kills%s %s\n", o.sigterm ? " and SIGTERM" : "", ok ? "PASS" : "FAIL");
  std::fflush(stdout);
  if (o.outage && !run_outage(o, o.dir / "outage")) ok = false;
  std::printf("faults: %s\n", ok ? "PASS" : "FAIL");

  if (ok && !o.keep) {
    std::error_code ec;
    fs::remove_all(o.dir, ec);
  } else {
    std::printf("faults: scratch folder kept: %s (gateway.log, cp2.db)\n", o.dir.c_str());
  }
  return ok ? 0 : 1;
}
