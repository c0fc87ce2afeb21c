// A USSD load generator (issue #8): keep-alive HTTP/1.1 connections that POST Africa's Talking
// USSD callbacks (SPEC 3.1) to a gateway, or to bench_bare_ussd, on the loopback only.
//   --mode journey   each virtual applicant, on a number of its own, creates an account, fills
//                    in the guided profile, browses exam -> ... -> vacancy, applies, and checks
//                    My applications: three sessions, every screen read and checked, options
//                    chosen by what the screen offers (a random item, "98. More" at times);
//   --mode menu      sessions of seeded accounts (bench_seed accounts) that browse from the main
//                    menu down to one vacancy and start again: the cost of menu steps;
//   --mode constant  the first request of a session (text empty), a new session each time;
//   --mode apply     seeded accounts apply, each number once: the first sessions browse down to
//                    a vacancy and Apply, one request a screen; once 50 paths to a vacancy are
//                    known, each new session sends a known path and its Apply in one request
//                    (as an aggregator would after the phone walked the menus), so each request
//                    is an application through the whole USSD path: replay, the session's
//                    facts, the apply and its commit. Every END must carry a new reference.
// Closed loop by default (a connection sends its next request when the answer has come);
// --rate R spreads R requests a second over the connections (each sends every connections/R
// seconds) and measures each latency from the moment its request was due, so a slow server
// cannot hide its queue (no coordinated omission). --stagger S starts each connection at a
// random moment within S seconds, as applicants do not all dial at once.
// Run: build/release/bench/bench_loadgen --port P [--mode journey|menu|constant|apply]
//        [--connections 64] [--threads 1] [--duration 10] [--requests N] [--warmup 1]
//        [--rate R] [--stagger S] [--secret S] [--phone-base 2547XXXXXXXX] [--phones N] [--timeout 15]
//        [--seed 1] [--pid P] [--json FILE] [--label NAME] [--host 127.0.0.1|::1]
// Prints a table on stderr and one JSON line on stdout (appended to --json FILE too). Exits 1
// when any request failed or any journey went wrong, 2 on a usage error.

#include "bench/figures.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using cp2::bench::load_average;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// --- command line -------------------------------------------------------------------------

enum class load_mode { journey, menu, constant, apply };

// The Kenyan mobile block a number belongs to: 2547XXXXXXXX or 2541XXXXXXXX.
constexpr long long block_size = 100'000'000;

// New applicants' numbers default to a 20,000-number slot of 25478/25479 picked by the clock,
// so two runs against one database (minutes apart) do not meet each other's accounts.
long long default_phone_base() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const long long second = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  return 254'780'000'000 + (second % 1000) * 20'000;
}

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/callbacks/ussd";
  load_mode mode = load_mode::journey;
  int connections = 64;
  int threads = 1;
  double duration = 10;
  long long requests = 0;  // 0: no limit, --duration decides
  double warmup = 1;
  double rate = 0;     // 0: closed loop
  double stagger = 0;  // each connection starts at a random moment within this many seconds
  std::string secret;
  long long phone_base = 0;  // 0: the mode's default
  long long phones = 0;      // 0: the mode's default
  std::string service_code = "*384*22262#";
  double timeout = 15;  // the aggregator waits about 15 s for an answer (SPEC 3.4)
  unsigned seed = 1;
  int pid = 0;
  std::string json_file;
  std::string label;
};

const char* mode_name(load_mode m) {
  switch (m) {
    case load_mode::journey: return "journey";
    case load_mode::menu: return "menu";
    case load_mode::constant: return "constant";
    case load_mode::apply: return "apply";
  }
  return "?";
}

void usage() {
  std::fprintf(stderr,
               "usage: bench_loadgen --port P [--mode journey|menu|constant|apply] [--connections 64]\n"
               "         [--threads 1] [--duration S=10] [--requests N] [--warmup S=1] [--rate R]\n"
               "         [--stagger S]\n"
               "         [--secret S] [--phone-base 2547XXXXXXXX] [--phones N] [--timeout S=15]\n"
               "         [--seed N] [--pid P] [--json FILE] [--label NAME] [--host 127.0.0.1|::1]\n"
               "         [--path /callbacks/ussd] [--service-code CODE]\n");
}

bool parse_double(const char* text, double lo, double hi, double& out) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v >= lo && v <= hi)) return false;
  out = v;
  return true;
}

template <typename Int>
bool parse_int(const char* text, double lo, double hi, Int& out) {
  double v = 0;
  if (!parse_double(text, lo, hi, v) || v != std::floor(v)) return false;
  out = static_cast<Int>(v);
  return true;
}

bool parse_mode(std::string_view text, load_mode& out) {
  for (auto m : {load_mode::journey, load_mode::menu, load_mode::constant, load_mode::apply})
    if (text == mode_name(m)) {
      out = m;
      return true;
    }
  return false;
}

bool parse_option(std::string_view arg, const char* value, options& o) {
  if (arg == "--host") o.host = value;
  else if (arg == "--port") return parse_int(value, 1, 65535, o.port);
  else if (arg == "--path") o.path = value;
  else if (arg == "--mode") return parse_mode(value, o.mode);
  else if (arg == "--connections") return parse_int(value, 1, 10'000, o.connections);
  else if (arg == "--threads") return parse_int(value, 1, 64, o.threads);
  else if (arg == "--duration") return parse_double(value, 0.1, 86'400, o.duration);
  else if (arg == "--requests") return parse_int(value, 1, 1e12, o.requests);
  else if (arg == "--warmup") return parse_double(value, 0, 3'600, o.warmup);
  else if (arg == "--rate") return parse_double(value, 0, 1e7, o.rate);
  else if (arg == "--stagger") return parse_double(value, 0, 3'600, o.stagger);
  else if (arg == "--secret") o.secret = value;
  else if (arg == "--phone-base") return parse_int(value, 254'100'000'000, 254'799'999'999, o.phone_base);
  else if (arg == "--phones") return parse_int(value, 1, 1e8, o.phones);
  else if (arg == "--service-code") o.service_code = value;
  else if (arg == "--timeout") return parse_double(value, 0.01, 600, o.timeout);
  else if (arg == "--seed") return parse_int(value, 0, 4e9, o.seed);
  else if (arg == "--pid") return parse_int(value, 1, 4e9, o.pid);
  else if (arg == "--json") o.json_file = value;
  else if (arg == "--label") o.label = value;
  else return false;
  return true;
}

// Fills in the defaults that depend on the mode: menu mode browses bench_seed's accounts
// (its default --phone-base), the others use new numbers.
void apply_mode_defaults(options& o) {
  const bool seeded = o.mode == load_mode::menu || o.mode == load_mode::apply;
  if (o.phone_base == 0) o.phone_base = seeded ? 254'710'000'000 : default_phone_base();
  if (o.phones == 0 && o.mode == load_mode::apply) o.phones = 100'000;
  if (o.phones == 0 && o.mode == load_mode::menu) o.phones = 1000;
  if (o.phones == 0 && o.mode == load_mode::constant) o.phones = 10'000;
  if (o.label.empty()) o.label = mode_name(o.mode);
}

bool parse_options(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc || !parse_option(arg, argv[i + 1], o)) {
      std::fprintf(stderr, "bench_loadgen: bad option %s%s%s\n", argv[i], i + 1 < argc ? " " : "",
                   i + 1 < argc ? argv[i + 1] : "");
      return false;
    }
  }
  // Load goes to this machine only: never to someone else's server.
  if (o.host != "127.0.0.1" && o.host != "::1") {
    std::fprintf(stderr, "bench_loadgen: --host must be 127.0.0.1 or ::1, not %s\n", o.host.c_str());
    return false;
  }
  if (o.port == 0) {
    std::fprintf(stderr, "bench_loadgen: --port is required\n");
    return false;
  }
  if (o.phone_base != 0 && o.phone_base / block_size != 2547 && o.phone_base / block_size != 2541) {
    std::fprintf(stderr, "bench_loadgen: --phone-base must be 2547XXXXXXXX or 2541XXXXXXXX\n");
    return false;
  }
  apply_mode_defaults(o);
  return true;
}

// --- the form the aggregator posts --------------------------------------------------------

// application/x-www-form-urlencoded as browsers and Africa's Talking encode it.
std::string form_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '*') out += c;
    else if (c == ' ') out += '+';
    else out += fmt::format("%{:02X}", u);
  }
  return out;
}

// What one USSD request carries besides the fixed serviceCode and networkCode.
struct ussd_request {
  std::string session_id;
  std::string phone;  // 2547XXXXXXXX; sent as +2547XXXXXXXX
  std::string text;   // every input of the session so far, joined with '*'
};

std::string form_body(const ussd_request& r, const std::string& service_code) {
  return "sessionId=" + form_escape(r.session_id) + "&serviceCode=" + form_escape(service_code) +
         "&phoneNumber=" + form_escape("+" + r.phone) + "&networkCode=63902&text=" + form_escape(r.text);
}

// --- reading a screen ---------------------------------------------------------------------

// One answer: "CON ..." or "END ...", split into lines and numbered options.
struct screen {
  bool end = false;
  std::string text;  // without the prefix
  std::vector<std::string> lines;
  std::vector<std::pair<std::string, std::string>> options;  // number as shown, label

  bool has(std::string_view part) const { return text.find(part) != std::string::npos; }

  // The number of the option whose label starts with `label`, if shown.
  std::optional<std::string> option(std::string_view label) const {
    for (const auto& [number, text_of] : options)
      if (text_of.rfind(label, 0) == 0) return number;
    return std::nullopt;
  }

  // Whether a later page exists ("98. More").
  bool more() const {
    return std::any_of(options.begin(), options.end(), [](const auto& o) { return o.first == "98"; });
  }

  // The numbers of the items on this page, without 0, 00 and 98.
  std::vector<std::string> items() const {
    std::vector<std::string> out;
    for (const auto& [number, label] : options)
      if (number != "0" && number != "00" && number != "98") out.push_back(number);
    return out;
  }

  // The first line, where the gateway puts a notice such as "Invalid choice.".
  std::string_view first_line() const { return lines.empty() ? std::string_view() : lines.front(); }
};

// "12. Label" -> {"12", "Label"}.
std::optional<std::pair<std::string, std::string>> option_line(std::string_view line) {
  std::size_t digits = 0;
  while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
  if (digits == 0 || line.substr(digits, 2) != ". ") return std::nullopt;
  return std::pair(std::string(line.substr(0, digits)), std::string(line.substr(digits + 2)));
}

// `body` must start with "CON " or "END " (the client checks it).
screen parse_screen(std::string_view body) {
  screen s;
  s.end = body.rfind("END ", 0) == 0;
  s.text = std::string(body.substr(4));
  std::string_view rest = s.text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const auto line = rest.substr(0, nl);
    s.lines.emplace_back(line);
    if (auto o = option_line(line)) s.options.push_back(std::move(*o));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  return s;
}

// --- what each connection counts ----------------------------------------------------------

enum class error_kind { none, connect, status, body, timeout, io };
constexpr std::array<error_kind, 5> error_kinds = {error_kind::connect, error_kind::status,
                                                   error_kind::body, error_kind::timeout,
                                                   error_kind::io};

const char* error_name(error_kind e) {
  switch (e) {
    case error_kind::none: return "none";
    case error_kind::connect: return "connect";
    case error_kind::status: return "status";
    case error_kind::body: return "body";
    case error_kind::timeout: return "timeout";
    case error_kind::io: return "io";
  }
  return "?";
}

// The figures of one worker thread; only that thread writes them, main reads them after join.
// Latency and the rates count inside the measuring window; errors and failed journeys count
// over the whole run, warm-up included, so that no failure goes unseen.
struct tally {
  std::vector<std::uint32_t> latency_us;
  std::uint64_t ok = 0;
  std::array<std::uint64_t, error_kinds.size() + 1> errors{};
  std::uint64_t journeys_completed = 0;  // menu mode: browsing sessions that reached a vacancy
  std::uint64_t applications = 0;        // "CP2-" references seen after Apply
  std::uint64_t journeys_failed = 0;
  std::map<std::string, std::pair<std::uint64_t, std::string>> failures;  // reason: count, a screen

  void fail(const std::string& reason, std::string_view shown) {
    ++journeys_failed;
    auto& [count, sample] = failures[reason];
    if (count++ == 0) {
      sample = std::string(shown.substr(0, 200));
      std::replace(sample.begin(), sample.end(), '\n', '|');
    }
  }

  void merge(const tally& t) {
    latency_us.insert(latency_us.end(), t.latency_us.begin(), t.latency_us.end());
    ok += t.ok;
    for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += t.errors[i];
    journeys_completed += t.journeys_completed;
    applications += t.applications;
    journeys_failed += t.journeys_failed;
    for (const auto& [reason, entry] : t.failures) {
      auto& [count, sample] = failures[reason];
      if (count == 0) sample = entry.second;
      count += entry.first;
    }
  }

  std::uint64_t error_total() const {
    std::uint64_t n = 0;
    for (auto e : errors) n += e;
    return n;
  }
};

// --- virtual users ------------------------------------------------------------------------

// One USSD session as the aggregator builds it: an id, the caller, the inputs so far.
class session {
public:
  void start(std::string id, std::string phone) {
    request_ = {std::move(id), std::move(phone), {}};
    inputs_ = 0;
  }
  void input(std::string_view in) {
    if (inputs_++ > 0) request_.text += '*';
    request_.text += in;
  }
  const ussd_request& request() const { return request_; }

private:
  ussd_request request_;
  int inputs_ = 0;
};

// The numbers a user dials with: its own counter from --phone-base, wrapped inside the
// base's block, or cycling over --phones numbers.
class phone_source {
public:
  phone_source(long long base, long long cycle, std::atomic<std::uint64_t>& counter)
      : base_(base), cycle_(cycle), counter_(counter) {}
  std::string next() {
    auto n = static_cast<long long>(counter_.fetch_add(1, std::memory_order_relaxed));
    if (cycle_ > 0) n %= cycle_;
    const long long block = base_ / block_size * block_size;
    return std::to_string(block + (base_ - block + n) % block_size);
  }
  /// True once every number of the cycle has been given out: the next ones come round again.
  bool went_round() const {
    return cycle_ > 0 && counter_.load(std::memory_order_relaxed) > static_cast<std::uint64_t>(cycle_);
  }

private:
  long long base_, cycle_;
  std::atomic<std::uint64_t>& counter_;
};

// Paths from the main menu to Apply (the whole `text` of a session), shared by apply mode's
// users: found by browsing, then dialled in one request.
class path_pool {
public:
  static constexpr std::size_t enough = 50;
  void add(std::string path) {
    std::lock_guard lock(mu_);
    if (paths_.size() < 1000) paths_.push_back(std::move(path));
  }
  // A known path, once there are enough of them to spread applications over many vacancies.
  std::optional<std::string> pick(std::mt19937& rng) {
    std::lock_guard lock(mu_);
    if (paths_.size() < enough) return std::nullopt;
    return paths_[std::uniform_int_distribution<std::size_t>(0, paths_.size() - 1)(rng)];
  }

private:
  std::mutex mu_;
  std::vector<std::string> paths_;
};

// What every mode's user needs: numbers, session ids, choices.
struct user_context {
  phone_source phones;
  std::string session_prefix;  // unique per run and connection
  std::mt19937 rng;
  path_pool* paths = nullptr;  // apply mode
};

// Sends requests and reads answers for one virtual person at a time.
class user {
public:
  explicit user(user_context ctx) : ctx_(std::move(ctx)) {}
  virtual ~user() = default;
  /// The request to send now.
  const ussd_request& next() const { return session_.request(); }
  /// Reads the answer to next() and prepares the request after it.
  virtual void on_screen(const screen& s, tally& t, bool in_window) = 0;
  /// The request failed (no answer, or not a USSD answer; `answer` is what came, if anything):
  /// this person gives up.
  virtual void on_error(error_kind e, std::string_view answer, tally& t) = 0;

protected:
  void new_session(std::string phone) {
    session_.start(fmt::format("{}-{}", ctx_.session_prefix, ++sessions_), std::move(phone));
  }
  // A random item of the page, or, now and then, the next page when there is one: applicants
  // do read past the first screen, and the later pages are the longer replays.
  std::optional<std::string> browse(const screen& s) {
    const auto items = s.items();
    if (s.more() && (items.empty() || chance(0.25))) return "98";
    if (items.empty()) return std::nullopt;
    std::uniform_int_distribution<std::size_t> pick(0, items.size() - 1);
    return items[pick(ctx_.rng)];
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(ctx_.rng); }

  user_context ctx_;
  session session_;
  std::uint64_t sessions_ = 0;
};

// --mode constant: a new session's first request, over and over.
class constant_user final : public user {
public:
  explicit constant_user(user_context ctx) : user(std::move(ctx)) { new_session(ctx_.phones.next()); }
  void on_screen(const screen& s, tally& t, bool) override {
    if (s.end) t.fail("constant: END on the first screen", s.text);
    new_session(ctx_.phones.next());
  }
  void on_error(error_kind, std::string_view, tally&) override { new_session(ctx_.phones.next()); }
};

// --mode menu: an account with a complete profile browses from the main menu to one vacancy,
// then dials again with the next number.
class menu_user final : public user {
public:
  explicit menu_user(user_context ctx) : user(std::move(ctx)) { new_session(ctx_.phones.next()); }

  void on_screen(const screen& s, tally& t, bool in_window) override {
    if (s.has("Apply by ") && s.option("Apply")) {
      if (in_window) ++t.journeys_completed;
      new_session(ctx_.phones.next());
      return;
    }
    auto input = choose(s);
    if (!input) {
      t.fail(failure_reason(s), s.text);
      new_session(ctx_.phones.next());
      return;
    }
    session_.input(*input);
  }
  void on_error(error_kind e, std::string_view answer, tally& t) override {
    t.fail(std::string("menu: request failed (") + error_name(e) + ")", answer);
    new_session(ctx_.phones.next());
  }

private:
  std::optional<std::string> choose(const screen& s) {
    if (s.end || s.first_line() == "Invalid choice.") return std::nullopt;
    if (s.option("My applications")) return s.option("Vacancies");
    if (s.has("Choose the ") || s.has("Choose a vacancy:")) return browse(s);
    return std::nullopt;
  }
  static std::string failure_reason(const screen& s) {
    if (s.option("Create account")) return "menu: no account for this number (seed accounts first)";
    if (s.has("complete your profile")) return "menu: the seeded profile is incomplete";
    return s.end ? "menu: unexpected END" : "menu: unexpected screen";
  }
};

// --mode apply: a seeded account (complete profile) applies once: by browsing while few paths
// to a vacancy are known, then in one request along a known path.
class apply_user final : public user {
public:
  explicit apply_user(user_context ctx) : user(std::move(ctx)) { dial(); }

  void on_screen(const screen& s, tally& t, bool in_window) override {
    if (s.end) {
      if (s.has("Application received") && s.has("CP2-")) {
        if (in_window) ++t.applications, ++t.journeys_completed;
        if (!direct_) ctx_.paths->add(session_.request().text);
      } else if (ctx_.phones.went_round()) {
        // The number applied earlier in this run: the harness's limit, not the gateway's.
        t.fail("apply: every seeded number has applied once; seed more (--phones, bench-load --accounts)", s.text);
      } else {
        t.fail(direct_ ? "apply: one-request Apply refused" : "apply: Apply refused", s.text);
      }
      dial();
      return;
    }
    std::optional<std::string> input;
    if (s.first_line() == "Invalid choice." || direct_) input = std::nullopt;
    else if (s.option("My applications")) input = s.option("Vacancies");
    else if (s.has("Apply by ")) input = s.option("Apply");
    else if (s.has("Choose the ") || s.has("Choose a vacancy:")) input = browse(s);
    if (!input) {
      t.fail(s.option("Create account") ? "apply: no account for this number (seed accounts first)"
                                        : "apply: unexpected screen",
             s.text);
      dial();
      return;
    }
    session_.input(*input);
  }
  void on_error(error_kind e, std::string_view answer, tally& t) override {
    t.fail(std::string("apply: request failed (") + error_name(e) + ")", answer);
    dial();
  }

private:
  // A new session on the next number: along a known path when there are enough.
  void dial() {
    new_session(ctx_.phones.next());
    auto path = ctx_.paths->pick(ctx_.rng);
    direct_ = path.has_value();
    if (direct_) session_.input(*path);
  }
  bool direct_ = false;
};

// --mode journey: a new applicant in three sessions: create the account; complete the
// profile, find a vacancy and apply; see the application under My applications.
class journey_user final : public user {
public:
  explicit journey_user(user_context ctx) : user(std::move(ctx)) { next_applicant(); }

  void on_screen(const screen& s, tally& t, bool in_window) override {
    moved_on_ = false;
    std::optional<std::string> input;
    switch (stage_) {
      case stage::create: input = create_step(s); break;
      case stage::apply: input = apply_step(s, t, in_window); break;
      case stage::status: input = status_step(s, t, in_window); break;
    }
    if (moved_on_) return;
    if (!input) {
      t.fail(fmt::format("{}: {}", stage_name(), s.end ? "unexpected END" : "unexpected screen"), s.text);
      next_applicant();
      return;
    }
    session_.input(*input);
  }

  void on_error(error_kind e, std::string_view answer, tally& t) override {
    t.fail(fmt::format("{}: request failed ({})", stage_name(), error_name(e)), answer);
    next_applicant();
  }

private:
  enum class stage { create, apply, status };

  const char* stage_name() const {
    switch (stage_) {
      case stage::create: return "create";
      case stage::apply: return "apply";
      case stage::status: return "status";
    }
    return "?";
  }

  void next_applicant() {
    phone_ = ctx_.phones.next();
    ordinal_ = std::stoll(phone_) % block_size;
    reference_.clear();
    begin(stage::create);
  }
  void begin(stage next) {
    stage_ = next;
    new_session(phone_);
    moved_on_ = true;
  }

  // Main menu -> Create account -> Confirm -> "being created".
  std::optional<std::string> create_step(const screen& s) {
    if (s.end) {
      if (s.has("being created")) begin(stage::apply);
      return std::nullopt;
    }
    if (s.option("Confirm") && s.has("Create a CP2 account")) return s.option("Confirm");
    return s.option("Create account");
  }

  // Vacancies -> the profile gate and its questions -> the six levels -> a vacancy -> Apply.
  std::optional<std::string> apply_step(const screen& s, tally& t, bool in_window) {
    if (s.end) return applied(s, t, in_window);
    if (s.first_line() == "Invalid choice.") return std::nullopt;
    if (s.text.rfind("Enter your", 0) == 0) return answer(s);
    if (s.has("Enter your")) return std::nullopt;  // a notice above the question: refused
    if (s.option("My applications")) return s.option("Vacancies");
    if (s.has("complete your profile")) return s.option("Continue");
    if (s.has("Choose your home county:") || s.has("Choose the ") || s.has("Choose a vacancy:"))
      return browse(s);
    if (s.has("Apply by ")) return s.option("Apply");
    return std::nullopt;
  }

  // The END after Apply: it must carry the reference.
  std::optional<std::string> applied(const screen& s, tally& t, bool in_window) {
    const auto at = s.text.find("CP2-");
    if (!s.has("Application received") || at == std::string::npos) return std::nullopt;
    reference_ = s.text.substr(at, 10);
    if (in_window) ++t.applications;
    begin(stage::status);
    return std::nullopt;
  }

  // The guided profile's questions, answered with valid values unique to this applicant.
  std::optional<std::string> answer(const screen& s) {
    static constexpr std::array<const char*, 6> first = {"Jane", "Peter", "Mary",
                                                         "John", "Grace", "David"};
    static constexpr std::array<const char*, 6> last = {"Moraa", "Otieno", "Wanjiku",
                                                        "Kiprono", "Achieng", "Mwangi"};
    const auto n = static_cast<std::size_t>(ordinal_);
    if (s.has("full name"))
      return fmt::format("{} {}", first[n % first.size()], last[n / first.size() % last.size()]);
    if (s.has("national ID")) return fmt::format("{}", 10'000'000 + ordinal_ % 89'000'000);
    if (s.has("KRA PIN"))
      return fmt::format("A{:09}{}", ordinal_ % 1'000'000'000, static_cast<char>('A' + n % 26));
    if (s.has("workstation")) return "Kisii School";
    if (s.has("TSC number")) return s.option("I have none");
    return std::nullopt;
  }

  // Main menu -> My applications, which must list the reference.
  std::optional<std::string> status_step(const screen& s, tally& t, bool in_window) {
    if (s.end) return std::nullopt;
    if (s.option("My applications") && s.option("Vacancies")) return s.option("My applications");
    if (!s.has("Your applications:") || !s.has(reference_)) return std::nullopt;
    if (in_window) ++t.journeys_completed;
    next_applicant();
    return std::nullopt;
  }

  stage stage_ = stage::create;
  std::string phone_;
  long long ordinal_ = 0;
  std::string reference_;
  bool moved_on_ = false;  // a step started a new session: no input to add
};

std::unique_ptr<user> make_user(load_mode m, user_context ctx) {
  switch (m) {
    case load_mode::journey: return std::make_unique<journey_user>(std::move(ctx));
    case load_mode::menu: return std::make_unique<menu_user>(std::move(ctx));
    case load_mode::constant: return std::make_unique<constant_user>(std::move(ctx));
    case load_mode::apply: return std::make_unique<apply_user>(std::move(ctx));
  }
  return nullptr;
}

// --- one keep-alive connection ------------------------------------------------------------

struct exchange_result {
  error_kind error = error_kind::none;
  std::string body;
};

// A client connection that reconnects when the server closed it or a request failed.
class connection {
public:
  connection(asio::any_io_executor ex, tcp::endpoint ep, std::string host_header,
             std::chrono::milliseconds timeout)
      : stream_(std::move(ex)), endpoint_(ep), host_header_(std::move(host_header)), timeout_(timeout) {}

  asio::awaitable<exchange_result> exchange(const std::string& target, std::string body) {
    if (!open_) {
      stream_.expires_after(timeout_);
      auto [cec] = co_await stream_.async_connect(endpoint_, as_tuple_awaitable);
      if (cec) co_return failed(cec == beast::error::timeout ? error_kind::timeout : error_kind::connect);
      stream_.socket().set_option(tcp::no_delay(true));
      open_ = true;
    }
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, host_header_);
    req.set(http::field::user_agent, "cp2-bench-loadgen");
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    stream_.expires_after(timeout_);
    auto [wec, wn] = co_await http::async_write(stream_, req, as_tuple_awaitable);
    (void)wn;
    if (wec) co_return failed(wec == beast::error::timeout ? error_kind::timeout : error_kind::io);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    auto [rec, rn] = co_await http::async_read(stream_, buffer_, parser, as_tuple_awaitable);
    (void)rn;
    if (rec) co_return failed(rec == beast::error::timeout ? error_kind::timeout : error_kind::io);
    co_return answered(parser.release());
  }

private:
  exchange_result failed(error_kind e) {
    close();
    return {e, {}};
  }
  exchange_result answered(http::response<http::string_body> res) {
    if (!res.keep_alive()) close();
    exchange_result r;
    r.body = std::move(res.body());
    if (res.result() != http::status::ok) {
      r.error = error_kind::status;
      r.body = fmt::format("HTTP {}: {}", res.result_int(), r.body);
    } else if (r.body.rfind("CON ", 0) != 0 && r.body.rfind("END ", 0) != 0) r.error = error_kind::body;
    return r;
  }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.clear();
    open_ = false;
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  tcp::endpoint endpoint_;
  std::string host_header_;
  std::chrono::milliseconds timeout_;
  bool open_ = false;
};

// --- the run ------------------------------------------------------------------------------

// Seconds as a steady-clock duration.
steady::duration seconds(double s) {
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
}

// What every connection shares. The times are fixed before any connection starts.
struct run_state {
  explicit run_state(const options& opts)
      : o(opts),
        endpoint(asio::ip::make_address(o.host), static_cast<unsigned short>(o.port)),
        target(o.path + (o.secret.empty() ? "" : "?key=" + form_escape(o.secret))),
        host_header((o.host == "::1" ? "[::1]" : o.host) + ":" + std::to_string(o.port)),
        run_tag(fmt::format("{:x}", std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffffff)),
        start(steady::now()),
        measure_from(start + seconds(o.warmup)),
        stop_at(measure_from + seconds(o.duration)) {}

  const options& o;
  tcp::endpoint endpoint;
  std::string target;       // path and ?key=
  std::string host_header;  // 127.0.0.1:port or [::1]:port
  std::string run_tag;      // in every session id, so runs never share an answer cache entry
  steady::time_point start, measure_from, stop_at;
  std::atomic<bool> stop{false};                    // --requests reached
  std::atomic<std::int64_t> stopped_at_ns{0};       // ... at this time since start
  std::atomic<std::uint64_t> next_number{0};        // phone numbers handed out
  std::atomic<std::uint64_t> measured{0};           // answers counted in the window
  path_pool paths;                                  // apply mode
};

// One thread with its own io_context and its own figures: no locks on the hot path.
struct worker {
  asio::io_context ioc{1};
  tally counts;
};

// When each request of one connection is due. Closed loop: as soon as the previous answer
// came. Open loop: every connections/rate seconds, whether or not the previous answer came,
// so the connections together offer --rate; their first moments are spread evenly over one
// interval. With --stagger a connection's first moment is random within that many seconds.
class pacer {
public:
  pacer(const run_state& s, int index) : s_(s), next_due_(s.start) {
    if (s.o.rate > 0) {
      interval_ = seconds(s.o.connections / s.o.rate);
      next_due_ += seconds(index / s.o.rate);
    }
    if (s.o.stagger > 0) {
      // Applicants do not all dial at the same instant: without this every journey would
      // reach its account creation in the same round.
      std::mt19937 rng(s.o.seed ^ (0x9e3779b9u * static_cast<unsigned>(index + 1)));
      next_due_ = s.start + seconds(std::uniform_real_distribution<double>(0, s.o.stagger)(rng));
    }
  }

  // The moment the next request was due, once it has come; nothing when the run is over.
  asio::awaitable<std::optional<steady::time_point>> next(asio::steady_timer& timer) {
    const auto due = s_.o.rate > 0 ? next_due_ : std::max(next_due_, steady::now());
    if (due >= s_.stop_at || s_.stop.load(std::memory_order_relaxed)) co_return std::nullopt;
    next_due_ = due + interval_;
    if (due > steady::now()) {
      timer.expires_at(due);
      co_await timer.async_wait(as_tuple_awaitable);
    }
    co_return due;
  }

private:
  const run_state& s_;
  steady::time_point next_due_;
  steady::duration interval_{};
};

// Whether an answer that came at `done` counts in the window; the --requests-th one ends it.
bool counts_in_window(run_state& s, steady::time_point done) {
  if (done < s.measure_from || done >= s.stop_at || s.stop.load(std::memory_order_relaxed)) return false;
  if (s.o.requests == 0) return true;
  const auto n = s.measured.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n == static_cast<std::uint64_t>(s.o.requests)) {
    s.stopped_at_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(done - s.start).count());
    s.stop.store(true);
  }
  return n <= static_cast<std::uint64_t>(s.o.requests);
}

asio::awaitable<void> drive(run_state& s, worker& w, int index) {
  auto ex = co_await asio::this_coro::executor;
  connection conn(ex, s.endpoint, s.host_header,
                  std::chrono::milliseconds(static_cast<long long>(s.o.timeout * 1000)));
  user_context ctx{phone_source(s.o.phone_base, s.o.phones, s.next_number),
                   fmt::format("LG{}-{}", s.run_tag, index),
                   std::mt19937(s.o.seed * 1'000'003u + static_cast<unsigned>(index)), &s.paths};
  auto u = make_user(s.o.mode, std::move(ctx));
  asio::steady_timer timer(ex);
  pacer pace(s, index);
  for (;;) {
    auto due = co_await pace.next(timer);
    if (!due) break;
    auto r = co_await conn.exchange(s.target, form_body(u->next(), s.o.service_code));
    const auto done = steady::now();
    if (r.error != error_kind::none) {
      ++w.counts.errors[static_cast<std::size_t>(r.error)];
      u->on_error(r.error, r.body, w.counts);
      if (r.error == error_kind::connect) {  // a refused connect fails at once: do not spin
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(as_tuple_awaitable);
      }
      continue;
    }
    const bool in_window = counts_in_window(s, done);
    if (in_window) {
      ++w.counts.ok;
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(done - *due).count();
      w.counts.latency_us.push_back(static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX)));
    }
    u->on_screen(parse_screen(r.body), w.counts, in_window);
  }
}

// --- the process under test ---------------------------------------------------------------

// VmRSS and VmHWM in KiB, from /proc/<pid>/status; zeros when it cannot be read.
struct memory_kib {
  long rss = 0, hwm = 0;
};

memory_kib read_memory(int pid) {
  memory_kib m;
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss = std::atol(line.c_str() + 6);
    else if (line.rfind("VmHWM:", 0) == 0) m.hwm = std::atol(line.c_str() + 6);
  }
  return m;
}

// User plus system CPU seconds of a process ("self" for this one), from /proc/<pid>/stat.
double cpu_seconds(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; rest >> field && i <= 15; ++i) {  // fields 14 and 15 (man 5 proc)
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) stime = std::atof(field.c_str());
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// What the main thread watches while the workers run: the target's memory (sampled every
// 100 ms) and both processes' CPU over the window.
struct watch {
  memory_kib start, end;
  long rss_peak = 0;
  double target_cpu = 0, self_cpu = 0;  // seconds inside the window
};

void sleep_until_or_stop(const run_state& s, steady::time_point t, const std::function<void()>& tick) {
  while (steady::now() < t && !s.stop.load()) {
    tick();
    std::this_thread::sleep_for(std::min<steady::duration>(std::chrono::milliseconds(100), t - steady::now()));
  }
}

watch watch_run(const run_state& s) {
  watch w;
  const std::string target = s.o.pid ? std::to_string(s.o.pid) : std::string();
  auto sample = [&] {
    if (s.o.pid) w.rss_peak = std::max(w.rss_peak, read_memory(s.o.pid).rss);
  };
  if (s.o.pid) w.start = read_memory(s.o.pid);
  sleep_until_or_stop(s, s.measure_from, sample);
  const double target0 = s.o.pid ? cpu_seconds(target) : 0, self0 = cpu_seconds("self");
  sleep_until_or_stop(s, s.stop_at, sample);
  w.target_cpu = s.o.pid ? cpu_seconds(target) - target0 : 0;
  w.self_cpu = cpu_seconds("self") - self0;
  sample();
  if (s.o.pid) w.end = read_memory(s.o.pid);
  return w;
}

// --- report -------------------------------------------------------------------------------

double percentile_ms(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)] / 1000.0;
}

struct summary {
  double seconds = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  watch memory;
  double load = 0;
};

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }
double per_second(std::uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
    else out += c;
  }
  return out;
}

void print_table(const options& o, const tally& t, const summary& m) {
  std::string errors;
  for (auto e : error_kinds)
    errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", error_name(e),
                          t.errors[static_cast<std::size_t>(e)]);
  const std::string loop =
      o.rate > 0 ? fmt::format("open loop at {:.0f} req/s", o.rate) : std::string("closed loop");
  fmt::print(stderr, "bench_loadgen {}: {} mode, {} connections, {} thread(s), {}, {:.1f} s measured "
             "after {:.1f} s warm-up\n",
             o.label, mode_name(o.mode), o.connections, o.threads, loop, m.seconds, o.warmup);
  fmt::print(stderr, "  answers       {:>9} {:>10.0f}/s\n", t.ok, per_second(t.ok, m.seconds));
  fmt::print(stderr, "  latency ms    p50 {:.2f}  p99 {:.2f}  p99.9 {:.2f}  max {:.2f}\n", m.p50,
             m.p99, m.p999, m.max);
  fmt::print(stderr, "  errors        {} ({})\n", t.error_total(), errors);
  if (o.mode != load_mode::constant)
    fmt::print(stderr, "  {:<13} {} completed ({:.1f}/s), {} failed\n",
               o.mode == load_mode::journey ? "journeys" : "sessions", t.journeys_completed,
               per_second(t.journeys_completed, m.seconds), t.journeys_failed);
  if (o.mode == load_mode::journey || o.mode == load_mode::apply)
    fmt::print(stderr, "  applications  {} acknowledged ({:.1f}/s)\n", t.applications,
               per_second(t.applications, m.seconds));
  if (o.pid)
    fmt::print(stderr, "  pid {}        CPU {:.0f}%, RSS {:.1f} MiB at start, {:.1f} peak, {:.1f} at "
               "end; VmHWM {:.1f} MiB\n",
               o.pid, 100 * m.memory.target_cpu / m.seconds, mib(m.memory.start.rss),
               mib(m.memory.rss_peak), mib(m.memory.end.rss), mib(m.memory.end.hwm));
  fmt::print(stderr, "  load generator CPU {:.0f}%, load average {:.2f}\n",
             100 * m.memory.self_cpu / m.seconds, m.load);
  for (const auto& [reason, entry] : t.failures)
    fmt::print(stderr, "  failed: {} x{}; first screen: {}\n", reason, entry.first, entry.second);
}

std::string json_line(const options& o, const tally& t, const summary& m) {
  std::string j = fmt::format(
      "{{\"bench\":\"ussd_load\",\"label\":\"{}\",\"mode\":\"{}\",\"connections\":{},\"threads\":{},"
      "\"rate\":{:.0f},\"seconds\":{:.2f},\"answers\":{},\"req_per_s\":{:.1f},\"p50_ms\":{:.3f},"
      "\"p99_ms\":{:.3f},\"p999_ms\":{:.3f},\"max_ms\":{:.3f},\"errors\":{}",
      json_escape(o.label), mode_name(o.mode), o.connections, o.threads, o.rate, m.seconds, t.ok,
      per_second(t.ok, m.seconds), m.p50, m.p99, m.p999, m.max, t.error_total());
  for (auto e : error_kinds)
    j += fmt::format(",\"errors_{}\":{}", error_name(e), t.errors[static_cast<std::size_t>(e)]);
  j += fmt::format(
      ",\"journeys_completed\":{},\"journeys_per_s\":{:.2f},\"journeys_failed\":{},"
      "\"applications\":{},\"applications_per_s\":{:.2f},\"self_cpu_pct\":{:.0f},\"load_avg\":{:.2f}",
      t.journeys_completed, per_second(t.journeys_completed, m.seconds), t.journeys_failed,
      t.applications, per_second(t.applications, m.seconds), 100 * m.memory.self_cpu / m.seconds, m.load);
  if (o.pid)
    j += fmt::format(
        ",\"pid\":{},\"target_cpu_pct\":{:.0f},\"rss_start_mib\":{:.1f},\"rss_peak_mib\":{:.1f},"
        "\"rss_end_mib\":{:.1f},\"hwm_mib\":{:.1f}",
        o.pid, 100 * m.memory.target_cpu / m.seconds, mib(m.memory.start.rss), mib(m.memory.rss_peak),
        mib(m.memory.end.rss), mib(m.memory.end.hwm));
  return j + "}";
}

summary summarise(run_state& s, tally& t, watch w) {
  summary m;
  const auto stopped = s.stopped_at_ns.load();
  const auto end = stopped ? s.start + std::chrono::nanoseconds(stopped) : s.stop_at;
  m.seconds = std::chrono::duration<double>(end - s.measure_from).count();
  std::sort(t.latency_us.begin(), t.latency_us.end());
  m.p50 = percentile_ms(t.latency_us, 0.50);
  m.p99 = percentile_ms(t.latency_us, 0.99);
  m.p999 = percentile_ms(t.latency_us, 0.999);
  m.max = t.latency_us.empty() ? 0 : t.latency_us.back() / 1000.0;
  m.memory = w;
  m.load = load_average();
  return m;
}

// Runs the connections on --threads workers until the window closes; returns every figure.
tally run(run_state& s, watch& w) {
  std::vector<std::unique_ptr<worker>> workers;
  for (int i = 0; i < s.o.threads; ++i) workers.push_back(std::make_unique<worker>());
  for (int c = 0; c < s.o.connections; ++c) {
    auto& wk = *workers[static_cast<std::size_t>(c % s.o.threads)];
    asio::co_spawn(wk.ioc, drive(s, wk, c), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        // Expected failures are counted, not thrown: this is a bug here, so stop loudly.
        std::fprintf(stderr, "bench_loadgen: a connection failed: %s\n", ex.what());
        std::abort();
      }
    });
  }
  std::vector<std::thread> threads;
  for (auto& wk : workers) threads.emplace_back([&io = wk->ioc] { io.run(); });
  w = watch_run(s);
  for (auto& th : threads) th.join();
  tally all;
  for (const auto& wk : workers) all.merge(wk->counts);
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  run_state s(o);
  watch w;
  tally t = run(s, w);
  const summary m = summarise(s, t, w);
  print_table(o, t, m);
  const std::string line = json_line(o, t, m);
  std::printf("%s\n", line.c_str());
  if (!o.json_file.empty()) std::ofstream(o.json_file, std::ios::app) << line << '\n';
  return t.error_total() == 0 && t.journeys_failed == 0 ? 0 : 1;
}
