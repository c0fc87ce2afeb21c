// The outbound SMS path under load (issue #4), against a fake Africa's Talking on loopback:
//   1. ceiling: a bare libcurl multi loop posting the requests build_send_request makes;
//   2. sender:  the same number of outbox rows through the real outbox_sender, the real
//               africastalking_provider and the real SQLite store, until every row is accepted;
//   3. backlog: a queued backlog's memory, then the I/O threads' timer lateness and the
//               database pool's queue wait while the sender drains it at a throttle, against
//               the same measurements with the sender idle.
// Run: build/release/bench/bench_outbound [--messages N] [--in-flight K] [--per-second R]
//        [--backlog B] [--drain-per-second R] [--drain-seconds S] [--idle-seconds S]
//        [--threads T] [--db PATH]
// Prints a table, then one JSON line with every figure. All traffic goes to 127.0.0.1. Every
// wait has a deadline. Exits 1 when a check of what was sent fails (a row not accepted exactly
// once, a duplicate message id); missed targets are reported, not an error. The machine's
// load average is printed with the figures: other work on the same cores moves them a lot.

#include "bench/figures.hpp"
#include "db/database.hpp"
#include "db/group_commit.hpp"
#include "db/sqlite_account_store.hpp"
#include "db/sqlite_outbox_store.hpp"
#include "domain/accounts.hpp"
#include "gateway/wall_clock.hpp"
#include "sms/africastalking_protocol.hpp"
#include "sms/africastalking_provider.hpp"
#include "sms/outbox_sender.hpp"
#include "tests/support/fake_aggregator.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <curl/curl.h>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
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
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
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
  // At ~40,000 a second a run of 20,000 lasted half a second, and its ratio to the ceiling
  // moved by ±2 points from run to run; 60,000 measure the steady state.
  std::size_t messages = 60'000;
  int in_flight = 32;
  int per_second = 1'000'000;  // phase 2: high enough never to throttle
  std::size_t backlog = 100'000;
  int drain_per_second = 2'000;  // phase 3's throttle
  double drain_seconds = 5;
  double idle_seconds = 2;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string db_path;  // empty: a temporary file, removed at the end
};

void usage() {
  std::fprintf(stderr,
               "usage: bench_outbound [--messages N=60000] [--in-flight K=32] "
               "[--per-second R=1000000]\n"
               "                      [--backlog B=100000] [--drain-per-second R=2000] "
               "[--drain-seconds S=5]\n"
               "                      [--idle-seconds S=2] [--threads T=cores] "
               "[--db PATH (must not exist; default a temp file)]\n");
}

bool parse_options(int argc, char** argv, bench_options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_outbound: %s needs a value\n", argv[i]);
      return false;
    }
    const char* value = argv[++i];
    char* end = nullptr;
    const double number = std::strtod(value, &end);
    const bool numeric = end != value && *end == '\0' && number >= 0;
    auto need = [&](double lo, double hi) {
      if (numeric && number >= lo && number <= hi) return true;
      std::fprintf(stderr, "bench_outbound: %s wants a number in [%g, %g], got '%s'\n",
                   std::string(arg).c_str(), lo, hi, value);
      return false;
    };
    if (arg == "--messages") {
      if (!need(1, 10'000'000)) return false;
      o.messages = static_cast<std::size_t>(number);
    } else if (arg == "--in-flight") {
      if (!need(1, 1024)) return false;
      o.in_flight = static_cast<int>(number);
    } else if (arg == "--per-second") {
      if (!need(1, 1e9)) return false;
      o.per_second = static_cast<int>(number);
    } else if (arg == "--backlog") {
      if (!need(0, 10'000'000)) return false;
      o.backlog = static_cast<std::size_t>(number);
    } else if (arg == "--drain-per-second") {
      if (!need(1, 1e9)) return false;
      o.drain_per_second = static_cast<int>(number);
    } else if (arg == "--drain-seconds") {
      if (!need(0.1, 600)) return false;
      o.drain_seconds = number;
    } else if (arg == "--idle-seconds") {
      if (!need(0.1, 600)) return false;
      o.idle_seconds = number;
    } else if (arg == "--threads") {
      if (!need(1, 256)) return false;
      o.threads = static_cast<int>(number);
    } else if (arg == "--db") {
      o.db_path = value;
    } else {
      std::fprintf(stderr, "bench_outbound: unknown option %s\n", std::string(arg).c_str());
      return false;
    }
  }
  return true;
}

// --- figures ------------------------------------------------------------------------------

// VmRSS and VmHWM of this process, in KiB.
struct memory_kib {
  long rss = 0, hwm = 0;
};

memory_kib read_memory() {
  memory_kib m;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss = std::atol(line.c_str() + 6);
    else if (line.rfind("VmHWM:", 0) == 0) m.hwm = std::atol(line.c_str() + 6);
  }
  return m;
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

// CPU time of every thread of this process, by thread id, so that a phase can say which
// thread was busy: a thread near 100% of a core is that phase's bottleneck.
struct thread_cpu {
  std::string name;
  double seconds = 0;
};

std::map<int, thread_cpu> cpu_by_thread() {
  std::map<int, thread_cpu> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(f);
    if (fields.size() < 13) continue;  // fields[11], [12]: utime, stime (stat fields 14, 15)
    const int tid = std::atoi(entry.path().filename().c_str());
    std::string name = stat.substr(open + 1, close - open - 1);
    if (tid == ::getpid()) name = "main";
    out[tid] = {name, (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / tick};
  }
  return out;
}

// "fake 97%, io-1 40%, ..." for the threads that used at least 2% of a core between a and b.
std::string cpu_summary(const std::map<int, thread_cpu>& a, const std::map<int, thread_cpu>& b,
                        double wall_seconds) {
  std::map<std::string, double> by_name;  // threads of the same name add up
  for (const auto& [tid, now] : b) {
    const auto before = a.find(tid);
    by_name[now.name] += now.seconds - (before == a.end() ? 0.0 : before->second.seconds);
  }
  std::vector<std::pair<double, std::string>> rows;
  for (const auto& [name, secs] : by_name) {
    const double percent = 100.0 * secs / wall_seconds;
    if (percent >= 2) rows.emplace_back(percent, name);
  }
  std::sort(rows.rbegin(), rows.rend());
  std::string out;
  for (const auto& [percent, name] : rows) {
    if (!out.empty()) out += ", ";
    out += name + " " + std::to_string(static_cast<int>(std::lround(percent))) + "%";
  }
  return out;
}

void name_this_thread(const char* name) { ::pthread_setname_np(::pthread_self(), name); }

// --- the messages -------------------------------------------------------------------------

constexpr std::string_view shortcode = "22262";
constexpr std::string_view message_text =
    "CP2: your application for the data clerk vacancy in Nairobi was received. "
    "Reply HELP for help or STOP to opt out.";

// Canonical digits 2547XXXXXXXX: a different phone per row, because the outbox sends one
// message at a time to any one phone.
std::string phone_of(std::uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2547%08llu", static_cast<unsigned long long>(n % 100'000'000));
  return buf;
}

// Queues n rows in one transaction through the production insert; returns the first and
// last id.
std::pair<std::int64_t, std::int64_t> enqueue_rows(SQLite::Database& db, std::uint64_t first_phone,
                                                   std::size_t n, domain::unix_ms now) {
  db::sqlite_account_store accounts(db);
  std::int64_t first = 0, last = 0;
  accounts.in_transaction([&] {
    for (std::size_t i = 0; i < n; ++i) {
      accounts.enqueue_sms({phone_of(first_phone + i), std::string(message_text), false,
                            domain::message_kind::notification, ""},
                           now);
      if (i == 0) first = db.getLastInsertRowid();
    }
    last = db.getLastInsertRowid();
  });
  return {first, last};
}

// --- phase 1: the ceiling -----------------------------------------------------------------

struct ceiling_result {
  std::size_t ok = 0, failed = 0;
  double seconds = 0;
  double per_second = 0;
  percentiles latency_ms;
  std::string cpu;
};

size_t keep_body(char* data, size_t size, size_t n, void* userp) {
  static_cast<std::string*>(userp)->append(data, size * n);
  return size * n;
}

// One thread, up to in_flight easy handles kept busy, each reused (so is its connection).
ceiling_result run_ceiling(const std::vector<sms::http_post>& requests, int in_flight) {
  ceiling_result r;
  if (requests.empty()) return r;
  struct slot {
    CURL* easy = nullptr;
    std::string response;
    steady::time_point started;
  };
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(in_flight));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(in_flight));
  curl_slist* headers = nullptr;  // the same for every request: the credentials do not change
  for (const auto& [name, value] : requests.front().headers)
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  headers = curl_slist_append(headers, "Expect:");

  std::vector<slot> slots(static_cast<std::size_t>(in_flight));
  for (auto& s : slots) {
    s.easy = curl_easy_init();
    curl_easy_setopt(s.easy, CURLOPT_POST, 1L);
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s.easy, CURLOPT_USERAGENT, "cp2-gateway");
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, &keep_body);
    curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, &s.response);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, 15'000L);
  }
  std::size_t next = 0, finished = 0;
  auto start = [&](slot& s) {
    const auto& req = requests[next++];
    s.response.clear();
    curl_easy_setopt(s.easy, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    s.started = steady::now();
    curl_multi_add_handle(multi, s.easy);
  };

  std::vector<double> latency;
  latency.reserve(requests.size());
  const auto cpu0 = cpu_by_thread();
  const auto t0 = steady::now();
  const auto deadline = t0 + std::chrono::seconds(60) + std::chrono::milliseconds(requests.size());
  for (auto& s : slots)
    if (next < requests.size()) start(s);
  while (finished < requests.size() && steady::now() < deadline) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      slot* s = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &s);
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      latency.push_back(ms_between(s->started, steady::now()));
      ++finished;
      if (code == CURLE_OK && status == 201) ++r.ok;
      else ++r.failed;
      curl_multi_remove_handle(multi, easy);
      if (next < requests.size()) start(*s);
    }
    if (finished < requests.size()) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  const auto t1 = steady::now();
  r.cpu = cpu_summary(cpu0, cpu_by_thread(), seconds_between(t0, t1));

  for (auto& s : slots) {
    curl_multi_remove_handle(multi, s.easy);  // harmless when not added
    curl_easy_cleanup(s.easy);
  }
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  r.seconds = seconds_between(t0, t1);
  r.per_second = static_cast<double>(r.ok) / r.seconds;
  r.latency_ms = percentiles_of(std::move(latency));
  return r;
}

// --- instruments around the sender --------------------------------------------------------

// Times each send from provider.send() to its completion callback.
class timing_provider final : public sms::provider {
public:
  explicit timing_provider(sms::provider& inner) : inner_(inner) {}
  std::string_view name() const override { return inner_.name(); }
  void send(const sms::provider_message& m, std::function<void(sms::send_outcome)> done) override {
    const auto t0 = steady::now();
    inner_.send(m, [this, t0, done = std::move(done)](sms::send_outcome o) {
      {
        std::lock_guard lock(mu_);
        ms_.push_back(ms_between(t0, steady::now()));
      }
      done(std::move(o));
    });
  }
  void stop() override { inner_.stop(); }
  std::vector<double> latencies_ms() const {
    std::lock_guard lock(mu_);
    return ms_;
  }

private:
  sms::provider& inner_;
  mutable std::mutex mu_;
  std::vector<double> ms_;
};

// Calls, total and longest time of one store operation. Written on the database thread,
// read from the main thread while it runs.
struct op_timing {
  std::atomic<std::uint64_t> calls{0}, ns{0}, max_ns{0};
  void add(steady::duration d) {
    const auto n = static_cast<std::uint64_t>(std::chrono::nanoseconds(d).count());
    calls.fetch_add(1, std::memory_order_relaxed);
    ns.fetch_add(n, std::memory_order_relaxed);
    if (n > max_ns.load(std::memory_order_relaxed)) max_ns.store(n, std::memory_order_relaxed);
  }
  double total_ms() const { return static_cast<double>(ns.load()) / 1e6; }
  double mean_ms() const {
    const auto c = calls.load();
    return c == 0 ? 0.0 : total_ms() / static_cast<double>(c);
  }
  double max_ms() const { return static_cast<double>(max_ns.load()) / 1e6; }
};

// The real store with a stopwatch on each call, and each row's time from claimed to stored
// as accepted. Thread safety: as the store it wraps (the database thread); the atomics may
// be read from anywhere, claim_to_accept_ms() once the database thread has been joined.
class timed_outbox_store final : public domain::outbox_store {
public:
  explicit timed_outbox_store(domain::outbox_store& inner) : inner_(inner) {}

  int recover_sending(domain::unix_ms now, domain::unix_ms older_than) override {
    return timed(other_, [&] { return inner_.recover_sending(now, older_than); });
  }
  int retry_now(domain::unix_ms now) override {
    return timed(other_, [&] { return inner_.retry_now(now); });
  }
  int make_due(domain::unix_ms now, domain::unix_ms later_than) override {
    return timed(other_, [&] { return inner_.make_due(now, later_than); });
  }
  void unclaim(const std::vector<std::int64_t>& ids, domain::unix_ms now) override {
    timed(other_, [&] { inner_.unclaim(ids, now); });
  }
  std::vector<domain::outbox_row> claim_due(domain::unix_ms now, int limit) override {
    auto rows = timed(claim_, [&] { return inner_.claim_due(now, limit); });
    const auto t = steady::now();
    for (const auto& row : rows) claimed_at_[row.id] = t;
    claimed_rows_.fetch_add(rows.size(), std::memory_order_relaxed);
    return rows;
  }
  using domain::outbox_store::mark_accepted;
  void mark_accepted(const std::vector<domain::acceptance>& rows, domain::unix_ms now) override {
    timed(accept_, [&] { inner_.mark_accepted(rows, now); });
    const auto t = steady::now();
    for (const auto& row : rows) {
      if (auto it = claimed_at_.find(row.id); it != claimed_at_.end()) {
        claim_to_accept_.push_back(ms_between(it->second, t));
        claimed_at_.erase(it);
      }
    }
    accepted_.fetch_add(rows.size(), std::memory_order_release);
  }
  void mark_retry(std::int64_t id, domain::unix_ms next_attempt, const std::string& error,
                  domain::unix_ms now) override {
    timed(other_, [&] { inner_.mark_retry(id, next_attempt, error, now); });
  }
  void mark_failed(std::int64_t id, const std::string& error, domain::unix_ms now) override {
    timed(other_, [&] { inner_.mark_failed(id, error, now); });
  }
  std::pair<int, std::optional<domain::unix_ms>> backlog() override {
    return timed(other_, [&] { return inner_.backlog(); });
  }
  std::optional<domain::unix_ms> next_due() override {
    return timed(next_due_, [&] { return inner_.next_due(); });
  }
  domain::report_result apply_delivery_report(const std::string& message_id,
                                              domain::delivery state, const std::string& status,
                                              const std::string& failure_reason,
                                              domain::unix_ms now) override {
    return timed(other_, [&] {
      return inner_.apply_delivery_report(message_id, state, status, failure_reason, now);
    });
  }

  std::uint64_t accepted() const { return accepted_.load(std::memory_order_acquire); }
  std::uint64_t claimed_rows() const { return claimed_rows_.load(); }
  const op_timing& claims() const { return claim_; }
  const op_timing& accepts() const { return accept_; }
  const op_timing& next_dues() const { return next_due_; }
  double busy_ms() const {
    return claim_.total_ms() + accept_.total_ms() + next_due_.total_ms() + other_.total_ms();
  }
  const std::vector<double>& claim_to_accept_ms() const { return claim_to_accept_; }

private:
  template <class F>
  static std::invoke_result_t<F&> timed(op_timing& t, F f) {
    struct stopwatch {
      op_timing& t;
      steady::time_point start = steady::now();
      ~stopwatch() { t.add(steady::now() - start); }
    } watch{t};
    return f();
  }

  domain::outbox_store& inner_;
  op_timing claim_, accept_, next_due_, other_;
  std::atomic<std::uint64_t> accepted_{0}, claimed_rows_{0};
  std::unordered_map<std::int64_t, steady::time_point> claimed_at_;
  std::vector<double> claim_to_accept_;
};

// The lateness of a steady_timer asking for a wake-up every `period` on the I/O threads: what
// any other handler (a USSD request, say) would wait for a thread. On each wake-up it also
// posts an empty task to the database pool and times how long that task waits to start: what
// a request that needs the database would wait behind the sender's statements.
class lag_probe {
public:
  lag_probe(asio::io_context& ioc, asio::thread_pool& db_pool) : timer_(ioc), db_pool_(db_pool) {}

  // Runs `ticks` wake-ups; the future is ready after the last.
  std::future<void> run(std::chrono::milliseconds period, int ticks) {
    period_ = period;
    left_ = std::max(1, ticks);
    done_ = std::promise<void>();
    {
      std::lock_guard lock(mu_);
      late_ms_.clear();
      db_wait_ms_.clear();
    }
    auto f = done_.get_future();
    asio::post(timer_.get_executor(), [this] { arm(steady::now() + period_); });
    return f;
  }

  std::vector<double> lateness_ms() const {
    std::lock_guard lock(mu_);
    return late_ms_;
  }
  std::vector<double> db_wait_ms() const {
    std::lock_guard lock(mu_);
    return db_wait_ms_;
  }

private:
  void arm(steady::time_point due) {
    timer_.expires_at(due);
    timer_.async_wait([this, due](boost::system::error_code ec) {
      if (ec) return;
      const auto now = steady::now();
      {
        std::lock_guard lock(mu_);
        late_ms_.push_back(ms_between(due, now));
      }
      asio::post(db_pool_, [this, now] {
        const double waited = ms_between(now, steady::now());
        std::lock_guard lock(mu_);
        db_wait_ms_.push_back(waited);
      });
      if (--left_ == 0) done_.set_value();
      else arm(now + period_);  // from the actual wake-up, so one late tick is counted once
    });
  }

  asio::steady_timer timer_;
  asio::thread_pool& db_pool_;
  std::chrono::milliseconds period_{10};
  int left_ = 0;  // only touched by the one outstanding wait
  std::promise<void> done_;
  mutable std::mutex mu_;
  std::vector<double> late_ms_, db_wait_ms_;
};

// The gateway's outbound wiring (gateway/app.cpp): the I/O threads' io_context on `threads`
// threads (here only the lag probe's timer runs there), a one-thread pool for SQLite, and the
// outbound event loop on a thread of its own with the Africa's Talking provider and the sender.
struct sender_rig {
  sender_rig(SQLite::Database& db, const sms::provider_credentials& creds,
             const bench_options& o, int per_second)
      : writer(db, [this](std::function<void()> batch) { asio::post(db_pool, std::move(batch)); }),
        sqlite_store(db),
        store(sqlite_store),
        at(out_ioc, creds, std::string(shortcode),
           sms::http_client_options{static_cast<std::size_t>(o.in_flight),
                                    std::chrono::milliseconds(5000),
                                    std::chrono::milliseconds(15000)}),
        provider(at),
        sender(out_ioc, db_pool, writer, store, provider, clock, options_for(o, per_second)),
        probe(ioc, db_pool) {
    asio::post(db_pool, [] { name_this_thread("db"); });
    threads.emplace_back([this] {
      name_this_thread("outbound");
      out_ioc.run();
    });
    for (int i = 0; i < o.threads; ++i)
      threads.emplace_back([this, i] {
        name_this_thread(("io-" + std::to_string(i + 1)).c_str());
        ioc.run();
      });
  }
  ~sender_rig() { stop(std::chrono::seconds(10)); }
  sender_rig(const sender_rig&) = delete;
  sender_rig& operator=(const sender_rig&) = delete;

  static sms::sender_options options_for(const bench_options& o, int per_second) {
    sms::sender_options so;
    so.max_in_flight = o.in_flight;
    so.per_second = per_second;
    return so;
  }

  // As app::request_stop: the sender (answers in flight are recorded), then the provider,
  // then the threads. Returns false when the sender did not report stopped within `limit`.
  bool stop(std::chrono::seconds limit) {
    if (stopped) return true;
    stopped = true;
    auto done = std::make_shared<std::promise<void>>();
    sender.stop([done] { done->set_value(); });
    const bool clean = done->get_future().wait_for(limit) == std::future_status::ready;
    provider.stop();
    work.reset();
    out_work.reset();
    // Lets the provider's cancellation run; the threads end when the io_context has no work.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    out_ioc.stop();
    ioc.stop();
    for (auto& t : threads) t.join();
    db_pool.join();  // the store's figures are read after this
    return clean;
  }

  // Declared first: destroyed last, after everything that holds its handlers.
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  asio::io_context out_ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> out_work{out_ioc.get_executor()};
  asio::thread_pool db_pool{1};
  wall_clock clock;
  db::group_commit writer;  // the sender's claims and outcomes share commits, as in the gateway
  db::sqlite_outbox_store sqlite_store;
  timed_outbox_store store;
  sms::africastalking_provider at;
  timing_provider provider;
  sms::outbox_sender sender;
  lag_probe probe;
  std::vector<std::thread> threads;
  bool stopped = false;
};

// --- phase 2: the sender ------------------------------------------------------------------

struct sender_result {
  std::size_t accepted = 0;
  double seconds = 0;
  double per_second = 0;
  percentiles send_ms, claim_to_accept_ms;
  std::uint64_t claims = 0, claimed_rows = 0, accepts = 0, next_dues = 0;
  double claim_mean_ms = 0, claim_max_ms = 0, accept_mean_ms = 0, accept_max_ms = 0;
  double next_due_mean_ms = 0;
  double db_busy_percent = 0;
  std::string cpu;
  bool stopped_cleanly = false;
  bool verified = false;
  std::vector<std::string> problems;
};

sender_result run_sender(SQLite::Database& db, const std::string& db_path,
                         const sms::provider_credentials& creds, test::fake_aggregator& fake,
                         const bench_options& o) {
  sender_result r;
  const std::size_t fake_before = fake.received().size();
  wall_clock clock;
  const auto [first_id, last_id] = enqueue_rows(db, 10'000'000, o.messages, clock.now());

  steady::time_point t0, t_last;
  std::map<int, thread_cpu> cpu0;
  {
    sender_rig rig(db, creds, o, o.per_second);
    cpu0 = cpu_by_thread();
    t0 = steady::now();
    rig.sender.start();
    const auto deadline = t0 + std::chrono::seconds(60) + std::chrono::milliseconds(o.messages);
    while (rig.store.accepted() < o.messages && steady::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    t_last = steady::now();
    r.cpu = cpu_summary(cpu0, cpu_by_thread(), seconds_between(t0, t_last));
    r.stopped_cleanly = rig.stop(std::chrono::seconds(10));
    if (!r.stopped_cleanly) r.problems.push_back("the sender did not stop in 10 s");

    r.accepted = rig.store.accepted();
    r.seconds = seconds_between(t0, t_last);
    r.per_second = static_cast<double>(r.accepted) / r.seconds;
    r.send_ms = percentiles_of(rig.provider.latencies_ms());
    r.claim_to_accept_ms = percentiles_of(rig.store.claim_to_accept_ms());
    r.claims = rig.store.claims().calls;
    r.claimed_rows = rig.store.claimed_rows();
    r.claim_mean_ms = rig.store.claims().mean_ms();
    r.claim_max_ms = rig.store.claims().max_ms();
    r.accepts = rig.store.accepts().calls;
    r.accept_mean_ms = rig.store.accepts().mean_ms();
    r.accept_max_ms = rig.store.accepts().max_ms();
    r.next_dues = rig.store.next_dues().calls;
    r.next_due_mean_ms = rig.store.next_dues().mean_ms();
    r.db_busy_percent = 100.0 * rig.store.busy_ms() / (1000.0 * r.seconds);
    const auto& st = rig.sender.stats();
    if (st.retried != 0 || st.failed != 0)
      r.problems.push_back("sender retried " + std::to_string(st.retried.load()) + ", failed " +
                           std::to_string(st.failed.load()));
  }

  // Every row accepted exactly once, as the database and the fake each tell it.
  if (r.accepted != o.messages)
    r.problems.push_back("only " + std::to_string(r.accepted) + " of " +
                         std::to_string(o.messages) + " accepted before the deadline");
  SQLite::Database reader(db_path, SQLite::OPEN_READONLY);
  SQLite::Statement q(reader,
                      "SELECT count(*), sum(state = 'accepted'), sum(attempts = 1), "
                      "count(DISTINCT provider_message_id) FROM outbox WHERE id BETWEEN ? AND ?");
  q.bind(1, first_id);
  q.bind(2, last_id);
  q.executeStep();
  const auto rows = static_cast<std::size_t>(q.getColumn(0).getInt64());
  const auto accepted = static_cast<std::size_t>(q.getColumn(1).getInt64());
  const auto once = static_cast<std::size_t>(q.getColumn(2).getInt64());
  const auto distinct_ids = static_cast<std::size_t>(q.getColumn(3).getInt64());
  if (rows != o.messages || accepted != o.messages || once != o.messages || distinct_ids != o.messages)
    r.problems.push_back("database: " + std::to_string(rows) + " rows, " + std::to_string(accepted) +
                         " accepted, " + std::to_string(once) + " sent once, " +
                         std::to_string(distinct_ids) + " distinct message ids");

  const auto got = fake.received();
  std::unordered_set<std::string> to, ids;
  for (std::size_t i = fake_before; i < got.size(); ++i) {
    to.insert(got[i].to);
    ids.insert(got[i].message_id);
  }
  const std::size_t fake_count = got.size() - fake_before;
  if (fake_count != o.messages || to.size() != o.messages || ids.size() != o.messages)
    r.problems.push_back("fake: " + std::to_string(fake_count) + " received, " +
                         std::to_string(to.size()) + " distinct numbers, " +
                         std::to_string(ids.size()) + " distinct message ids");
  SQLite::Statement mids(reader, "SELECT provider_message_id FROM outbox WHERE id BETWEEN ? AND ?");
  mids.bind(1, first_id);
  mids.bind(2, last_id);
  std::size_t unknown = 0;
  while (mids.executeStep())
    if (mids.getColumn(0).isNull() || !ids.contains(mids.getColumn(0).getString())) ++unknown;
  if (unknown != 0)
    r.problems.push_back(std::to_string(unknown) + " rows hold a message id the fake did not give");
  r.verified = r.problems.empty();
  return r;
}

// --- phase 3: the backlog -----------------------------------------------------------------

struct backlog_result {
  std::size_t rows = 0;
  double enqueue_seconds = 0;
  memory_kib before, queued, idle, drain_peak, after;
  double db_mib = 0;
  percentiles idle_late_ms, drain_late_ms, idle_db_wait_ms, drain_db_wait_ms;
  std::size_t drained = 0, drained_in_window = 0;
  double drain_seconds = 0, drain_per_second = 0, steady_per_second = 0;
  percentiles send_ms, claim_to_accept_ms;
  double claim_mean_ms = 0, claim_max_ms = 0, accept_mean_ms = 0, db_busy_percent = 0;
  std::uint64_t claims = 0, claimed_rows = 0;
  std::string idle_cpu, drain_cpu;
  std::size_t left_queued = 0;
  bool verified = false;
  std::vector<std::string> problems;
};

backlog_result run_backlog(SQLite::Database& db, const std::string& db_path,
                           const sms::provider_credentials& creds, test::fake_aggregator& fake,
                           const bench_options& o) {
  backlog_result r;
  r.rows = o.backlog;
  wall_clock clock;
  const std::size_t fake_before = fake.received().size();
  r.before = read_memory();
  const auto e0 = steady::now();
  const auto [first_id, last_id] = enqueue_rows(db, 30'000'000, o.backlog, clock.now());
  r.enqueue_seconds = seconds_between(e0, steady::now());
  r.queued = read_memory();
  std::error_code ec;
  r.db_mib = static_cast<double>(fs::file_size(db_path, ec) + fs::file_size(db_path + "-wal", ec)) /
             (1024.0 * 1024.0);

  const auto period = std::chrono::milliseconds(10);
  const int idle_ticks = static_cast<int>(o.idle_seconds * 100);
  const int drain_ticks = static_cast<int>(o.drain_seconds * 100);
  {
    sender_rig rig(db, creds, o, o.drain_per_second);

    // The sender constructed, the backlog queued, nothing sending.
    auto c0 = cpu_by_thread();
    auto t0 = steady::now();
    auto idle = rig.probe.run(period, idle_ticks);
    idle.wait_for(std::chrono::duration<double>(o.idle_seconds + 10));
    r.idle_cpu = cpu_summary(c0, cpu_by_thread(), seconds_between(t0, steady::now()));
    r.idle_late_ms = percentiles_of(rig.probe.lateness_ms());
    r.idle_db_wait_ms = percentiles_of(rig.probe.db_wait_ms());
    r.idle = read_memory();

    c0 = cpu_by_thread();
    t0 = steady::now();
    rig.sender.start();
    auto drain = rig.probe.run(period, drain_ticks);
    const auto deadline = t0 + std::chrono::duration<double>(o.drain_seconds + 10);
    // The token bucket holds up to one second of sends, so the start may burst: the steady
    // rate is taken over the second half of the drain.
    const auto steady_from = t0 + std::chrono::duration_cast<steady::duration>(
                                      std::chrono::duration<double>(o.drain_seconds / 2));
    std::optional<std::pair<steady::time_point, std::uint64_t>> mark;
    while (drain.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready &&
           steady::now() < deadline) {
      const auto m = read_memory();
      r.drain_peak.rss = std::max(r.drain_peak.rss, m.rss);
      if (!mark && steady::now() >= steady_from) mark.emplace(steady::now(), rig.store.accepted());
    }
    const auto t1 = steady::now();
    r.drained = r.drained_in_window = rig.store.accepted();
    if (mark && t1 > mark->first)
      r.steady_per_second =
          static_cast<double>(r.drained - mark->second) / seconds_between(mark->first, t1);
    r.drain_cpu = cpu_summary(c0, cpu_by_thread(), seconds_between(t0, t1));
    r.drain_late_ms = percentiles_of(rig.probe.lateness_ms());
    r.drain_db_wait_ms = percentiles_of(rig.probe.db_wait_ms());
    r.drain_peak.hwm = read_memory().hwm;
    if (!rig.stop(std::chrono::seconds(10))) r.problems.push_back("the sender did not stop in 10 s");

    r.drain_seconds = seconds_between(t0, t1);
    r.drain_per_second = static_cast<double>(r.drained_in_window) / r.drain_seconds;
    r.send_ms = percentiles_of(rig.provider.latencies_ms());
    r.claim_to_accept_ms = percentiles_of(rig.store.claim_to_accept_ms());
    r.claims = rig.store.claims().calls;
    r.claimed_rows = rig.store.claimed_rows();
    r.claim_mean_ms = rig.store.claims().mean_ms();
    r.claim_max_ms = rig.store.claims().max_ms();
    r.accept_mean_ms = rig.store.accepts().mean_ms();
    r.db_busy_percent = 100.0 * rig.store.busy_ms() / (1000.0 * seconds_between(t0, steady::now()));
    const auto& st = rig.sender.stats();
    if (st.retried != 0 || st.failed != 0)
      r.problems.push_back("sender retried " + std::to_string(st.retried.load()) + ", failed " +
                           std::to_string(st.failed.load()));
    // Sends answered while stopping are stored too: check against the final count.
    r.drained = rig.store.accepted();
  }
  r.after = read_memory();

  SQLite::Database reader(db_path, SQLite::OPEN_READONLY);
  SQLite::Statement q(reader,
                      "SELECT sum(state = 'accepted'), sum(state = 'queued'), "
                      "sum(state = 'sending'), sum(state = 'accepted' AND attempts = 1) "
                      "FROM outbox WHERE id BETWEEN ? AND ?");
  q.bind(1, first_id);
  q.bind(2, last_id);
  q.executeStep();
  const auto accepted = static_cast<std::size_t>(q.getColumn(0).getInt64());
  r.left_queued = static_cast<std::size_t>(q.getColumn(1).getInt64());
  const auto sending = static_cast<std::size_t>(q.getColumn(2).getInt64());
  const auto once = static_cast<std::size_t>(q.getColumn(3).getInt64());
  const std::size_t fake_count = fake.received().size() - fake_before;
  if (accepted != r.drained || once != accepted || fake_count != accepted || sending != 0 ||
      accepted + r.left_queued != o.backlog)
    r.problems.push_back("after the drain: " + std::to_string(accepted) + " accepted (" +
                         std::to_string(once) + " once), " + std::to_string(r.left_queued) +
                         " queued, " + std::to_string(sending) + " sending; the fake got " +
                         std::to_string(fake_count) + ", the store counted " +
                         std::to_string(r.drained));
  r.verified = r.problems.empty();
  return r;
}

// --- report -------------------------------------------------------------------------------

std::string json_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bench_options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  const bool temp_db = o.db_path.empty();
  if (temp_db)
    o.db_path = (fs::temp_directory_path() / ("cp2-bench-outbound-" + std::to_string(::getpid()) + ".db"))
                    .string();
  if (fs::exists(o.db_path)) {
    std::fprintf(stderr, "bench_outbound: %s exists; give a path to a new file\n", o.db_path.c_str());
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  // The fake's thread takes its name from the thread that starts it.
  name_this_thread("fake");
  auto fake = std::make_unique<test::fake_aggregator>();
  name_this_thread("bench_outbound");
  const sms::provider_credentials creds{fake->base_url(), "cp2bench", "bench-api-key"};

  std::vector<sms::http_post> requests;
  requests.reserve(o.messages);
  for (std::size_t i = 0; i < o.messages; ++i)
    requests.push_back(sms::build_send_request(
        creds, {"+" + phone_of(10'000'000 + i), std::string(message_text), std::string(shortcode), ""}));

  const double load_before = load_average();
  std::printf("bench_outbound: %zu messages, %d in flight, %d I/O threads, %u cores, load %.2f, "
              "db %s\n",
              o.messages, o.in_flight, o.threads, std::thread::hardware_concurrency(), load_before,
              o.db_path.c_str());
  std::fflush(stdout);

  // 1. ceiling
  const std::size_t fake0 = fake->received().size();
  const ceiling_result ceiling = run_ceiling(requests, o.in_flight);
  const bool ceiling_ok = ceiling.ok == o.messages && fake->received().size() - fake0 == o.messages;
  requests.clear();
  requests.shrink_to_fit();

  // 2. sender, 3. backlog, on one database (the backlog lands behind the delivered rows, as
  // after an outage it would).
  int rc = 0;
  sender_result sender;
  backlog_result backlog;
  try {
    auto db = db::open_database(o.db_path, std::chrono::milliseconds(5000));
    sender = run_sender(*db, o.db_path, creds, *fake, o);
    if (o.backlog > 0) backlog = run_backlog(*db, o.db_path, creds, *fake, o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_outbound: %s\n", e.what());
    rc = 1;
  }
  if (temp_db)
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      fs::remove(o.db_path + suffix, ec);
    }
  fake.reset();
  if (rc != 0) return rc;

  const double ratio = ceiling.per_second > 0 ? sender.per_second / ceiling.per_second : 0;
  const bool target_ratio = ratio >= 0.5;
  const bool target_rate = sender.per_second >= 5000;
  // "Drains at the configured throttle": the second half's rate at least 90% of it, and no
  // more sent than the token bucket allows (one second's worth of burst, plus what was in
  // flight). "Without the I/O threads' latency rising": p99 timer lateness at most twice
  // idle's, or within 1 ms of it.
  const double drain_allowed =
      o.drain_per_second * (backlog.drain_seconds + 1) + static_cast<double>(o.in_flight);
  const bool drain_too_slow = backlog.steady_per_second < 0.9 * o.drain_per_second;
  const bool drain_too_fast = static_cast<double>(backlog.drained_in_window) > drain_allowed;
  const bool drain_rate_ok = !drain_too_slow && !drain_too_fast;
  const bool drain_lag_ok =
      backlog.drain_late_ms.p99 <= std::max(2 * backlog.idle_late_ms.p99, backlog.idle_late_ms.p99 + 1);

  std::printf("\n%-28s %10s %9s %9s %9s\n", "", "msgs/s", "p50 ms", "p99 ms", "max ms");
  std::printf("%-28s %10.0f %9.2f %9.2f %9.2f\n", "ceiling (bare curl multi)", ceiling.per_second,
              ceiling.latency_ms.p50, ceiling.latency_ms.p99, ceiling.latency_ms.max);
  std::printf("%-28s %10.0f %9.2f %9.2f %9.2f\n", "sender: send latency", sender.per_second,
              sender.send_ms.p50, sender.send_ms.p99, sender.send_ms.max);
  std::printf("%-28s %10s %9.2f %9.2f %9.2f\n", "sender: claimed -> accepted", "",
              sender.claim_to_accept_ms.p50, sender.claim_to_accept_ms.p99,
              sender.claim_to_accept_ms.max);
  std::printf("\nceiling: %zu ok, %zu failed in %.2f s; CPU: %s\n", ceiling.ok, ceiling.failed,
              ceiling.seconds, ceiling.cpu.c_str());
  std::printf("sender:  %zu accepted in %.2f s; CPU: %s\n", sender.accepted, sender.seconds,
              sender.cpu.c_str());
  std::printf("  database thread busy %.0f%%: %llu claims (%.1f rows each, mean %.3f ms, max %.1f ms), "
              "%llu mark_accepted (%.1f rows each, mean %.3f ms, max %.1f ms), %llu next_due (mean %.3f ms)\n",
              sender.db_busy_percent, static_cast<unsigned long long>(sender.claims),
              sender.claims ? static_cast<double>(sender.claimed_rows) / static_cast<double>(sender.claims) : 0.0,
              sender.claim_mean_ms, sender.claim_max_ms, static_cast<unsigned long long>(sender.accepts),
              sender.accepts ? static_cast<double>(sender.accepted) / static_cast<double>(sender.accepts) : 0.0,
              sender.accept_mean_ms, sender.accept_max_ms,
              static_cast<unsigned long long>(sender.next_dues), sender.next_due_mean_ms);
  std::printf("  sender / ceiling = %.0f%% (target >= 50%%: %s); %.0f msgs/s (target >= 5000: %s)\n",
              100 * ratio, target_ratio ? "met" : "MISSED", sender.per_second,
              target_rate ? "met" : "MISSED");
  std::printf("  checks: %s\n", sender.verified ? "every row accepted once, the fake got each once, no duplicate ids"
                                                 : "FAILED");
  for (const auto& p : sender.problems) std::printf("    %s\n", p.c_str());

  if (o.backlog > 0) {
    std::printf("\nbacklog: %zu rows queued in %.2f s (db + wal %.1f MiB)\n", backlog.rows,
                backlog.enqueue_seconds, backlog.db_mib);
    std::printf("  RSS MiB: before %.1f, queued %.1f, idle sender %.1f, draining (peak) %.1f, after %.1f;"
                " VmHWM %.1f\n",
                mib(backlog.before.rss), mib(backlog.queued.rss), mib(backlog.idle.rss),
                mib(backlog.drain_peak.rss), mib(backlog.after.rss), mib(backlog.drain_peak.hwm));
    std::printf("  drain at --drain-per-second %d: %zu sent in %.2f s = %.0f msgs/s; in the second "
                "half %.0f msgs/s (%s); %zu left queued\n",
                o.drain_per_second, backlog.drained_in_window, backlog.drain_seconds,
                backlog.drain_per_second,
                backlog.steady_per_second,
                drain_too_slow  ? "BELOW the throttle"
                : drain_too_fast ? "ABOVE what the throttle allows"
                                 : "at the throttle",
                backlog.left_queued);
    std::printf("  send latency p50 %.2f ms p99 %.2f ms; claimed -> accepted p50 %.2f ms p99 %.2f ms\n",
                backlog.send_ms.p50, backlog.send_ms.p99, backlog.claim_to_accept_ms.p50,
                backlog.claim_to_accept_ms.p99);
    std::printf("  database thread busy %.0f%%: %llu claims (%.1f rows each, mean %.3f ms, max %.1f ms), "
                "mark_accepted mean %.3f ms\n",
                backlog.db_busy_percent, static_cast<unsigned long long>(backlog.claims),
                backlog.claims ? static_cast<double>(backlog.claimed_rows) / static_cast<double>(backlog.claims) : 0.0,
                backlog.claim_mean_ms, backlog.claim_max_ms, backlog.accept_mean_ms);
    std::printf("  I/O timer lateness (10 ms timer)  p50 ms  p99 ms  max ms\n");
    std::printf("    sender idle                    %7.3f %7.3f %7.3f   CPU: %s\n",
                backlog.idle_late_ms.p50, backlog.idle_late_ms.p99, backlog.idle_late_ms.max,
                backlog.idle_cpu.c_str());
    std::printf("    sender draining                %7.3f %7.3f %7.3f   CPU: %s\n",
                backlog.drain_late_ms.p50, backlog.drain_late_ms.p99, backlog.drain_late_ms.max,
                backlog.drain_cpu.c_str());
    std::printf("  database pool queue wait (an empty task posted every 10 ms)\n");
    std::printf("    sender idle                    %7.3f %7.3f %7.3f\n", backlog.idle_db_wait_ms.p50,
                backlog.idle_db_wait_ms.p99, backlog.idle_db_wait_ms.max);
    std::printf("    sender draining                %7.3f %7.3f %7.3f\n", backlog.drain_db_wait_ms.p50,
                backlog.drain_db_wait_ms.p99, backlog.drain_db_wait_ms.max);
    std::printf("  I/O latency %s while draining\n", drain_lag_ok ? "did not rise" : "ROSE");
    std::printf("  checks: %s\n", backlog.verified ? "each drained row accepted once and received once"
                                                   : "FAILED");
    for (const auto& p : backlog.problems) std::printf("    %s\n", p.c_str());
  }

  std::printf(
      "\n{\"bench\":\"outbound\",\"messages\":%zu,\"in_flight\":%d,\"threads\":%d,\"cores\":%u,"
      "\"load_before\":%.2f,\"load_after\":%.2f,"
      "\"ceiling\":{\"msgs_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"ok\":%zu,\"cpu\":\"%s\"},"
      "\"sender\":{\"msgs_per_s\":%.0f,\"send_p50_ms\":%.3f,\"send_p99_ms\":%.3f,"
      "\"claim_to_accept_p50_ms\":%.3f,\"claim_to_accept_p99_ms\":%.3f,\"accepted\":%zu,"
      "\"db_busy_pct\":%.1f,\"claims\":%llu,\"claim_mean_ms\":%.3f,\"accept_mean_ms\":%.3f,"
      "\"cpu\":\"%s\",\"verified\":%s},"
      "\"ratio\":%.3f,\"target_ratio_met\":%s,\"target_rate_met\":%s,\"backlog\":",
      o.messages, o.in_flight, o.threads, std::thread::hardware_concurrency(), load_before,
      load_average(), ceiling.per_second, ceiling.latency_ms.p50, ceiling.latency_ms.p99,
      ceiling.ok, json_escape(ceiling.cpu).c_str(), sender.per_second, sender.send_ms.p50,
      sender.send_ms.p99, sender.claim_to_accept_ms.p50, sender.claim_to_accept_ms.p99,
      sender.accepted, sender.db_busy_percent, static_cast<unsigned long long>(sender.claims),
      sender.claim_mean_ms, sender.accept_mean_ms, json_escape(sender.cpu).c_str(),
      sender.verified ? "true" : "false", ratio, target_ratio ? "true" : "false",
      target_rate ? "true" : "false");
  if (o.backlog == 0) {
    std::printf("null}\n");
  } else {
    std::printf(
        "{\"rows\":%zu,\"enqueue_s\":%.2f,\"rss_before_mib\":%.1f,\"rss_queued_mib\":%.1f,"
        "\"rss_idle_mib\":%.1f,\"rss_drain_peak_mib\":%.1f,\"hwm_mib\":%.1f,\"db_mib\":%.1f,"
        "\"drain_throttle\":%d,\"drained\":%zu,\"drain_msgs_per_s\":%.0f,"
        "\"drain_steady_msgs_per_s\":%.0f,\"claim_mean_ms\":%.3f,\"db_busy_pct\":%.1f,"
        "\"idle_late_p50_ms\":%.3f,\"idle_late_p99_ms\":%.3f,\"drain_late_p50_ms\":%.3f,"
        "\"drain_late_p99_ms\":%.3f,\"idle_db_wait_p99_ms\":%.3f,\"drain_db_wait_p99_ms\":%.3f,"
        "\"drain_rate_ok\":%s,\"drain_lag_ok\":%s,\"verified\":%s}}\n",
        backlog.rows, backlog.enqueue_seconds, mib(backlog.before.rss), mib(backlog.queued.rss),
        mib(backlog.idle.rss), mib(backlog.drain_peak.rss), mib(backlog.drain_peak.hwm),
        backlog.db_mib, o.drain_per_second, backlog.drained_in_window, backlog.drain_per_second,
        backlog.steady_per_second, backlog.claim_mean_ms, backlog.db_busy_percent,
        backlog.idle_late_ms.p50, backlog.idle_late_ms.p99, backlog.drain_late_ms.p50,
        backlog.drain_late_ms.p99, backlog.idle_db_wait_ms.p99, backlog.drain_db_wait_ms.p99,
        drain_rate_ok ? "true" : "false", drain_lag_ok ? "true" : "false",
        backlog.verified ? "true" : "false");
  }

  const bool checks = ceiling_ok && sender.verified && (o.backlog == 0 || backlog.verified);
  if (!ceiling_ok) std::fprintf(stderr, "bench_outbound: the ceiling loop did not get %zu answers\n", o.messages);
  return checks ? 0 : 1;
}
