// The USSD menus alone, without HTTP or a database (issue #8): how many replayed steps a
// second one thread answers on a catalog of seeded vacancies, with the engine's cache of
// vacancy screens and without it, in the same run on the same walks.
//
// Each session is a seeded applicant with a complete profile browsing as bench_loadgen's menu
// mode does: the main menu, Vacancies, then a random choice at each level (now and then the
// next page, "98") down to one vacancy's screen. Every step sends the whole session so far,
// as the aggregator does, so the engine replays it from the main menu. Both engines must show
// the same screens; a difference is reported and fails the run.
//
// Run: build/release/bench/bench_menus [--sessions N=20000] [--seed S=1] FILE.csv [FILE.csv ...]
// with files written by `bench_seed vacancies` (at most 20,000 rows each, the importer's limit;
// use --first to write more).

#include "db/reference_data.hpp"
#include "domain/catalog.hpp"
#include "domain/vacancy.hpp"
#include "ussd/engine.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cp2;
using steady = std::chrono::steady_clock;

struct options {
  std::size_t sessions = 20'000;
  unsigned seed = 1;
  std::vector<std::string> files;
};

bool parse_options(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--sessions" || arg == "--seed") && i + 1 < argc) {
      char* end = nullptr;
      const long long v = std::strtoll(argv[++i], &end, 10);
      if (*end != '\0' || v < 1 || v > 10'000'000) return false;
      if (arg == "--sessions") o.sessions = static_cast<std::size_t>(v);
      else o.seed = static_cast<unsigned>(v);
    } else if (arg.starts_with("-")) {
      return false;
    } else {
      o.files.emplace_back(arg);
    }
  }
  return !o.files.empty();
}

// The vacancies of every file, checked as `cp2-gateway import-vacancies` checks them.
std::vector<domain::vacancy> load(const std::vector<std::string>& files) {
  auto counties = domain::static_county_lookup::from_csv(db::kenya_counties_csv());
  if (!counties) throw std::runtime_error("the compiled-in county list does not parse");
  std::vector<domain::vacancy> all;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error("cannot read " + f);
    auto rows = domain::validate_vacancy_csv(text.str(), *counties);
    if (!rows) throw std::runtime_error(f + ": row " + std::to_string(rows.error().front().row) + ": " +
                                        rows.error().front().error);
    for (auto& v : rows.value()) all.push_back(std::move(v));
  }
  return all;
}

// The numbered choices of a screen, without "98. More", "0. Back" and "00. Main menu".
std::vector<std::string> items(const std::string& screen) {
  std::vector<std::string> out;
  std::string_view rest = screen;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    const auto dot = line.find(". ");
    if (dot == 0 || dot == std::string_view::npos || line[0] == '0') continue;
    const auto number = line.substr(0, dot);
    if (number == "98" || number.find_first_not_of("0123456789") != std::string_view::npos) continue;
    out.emplace_back(number);
  }
  return out;
}

// One browsing session's inputs, chosen on the screens of `e`.
std::vector<std::string> walk(const ussd::engine& e, const ussd::session_facts& facts, std::mt19937& rng) {
  std::vector<std::string> inputs{"1"};  // Vacancies
  std::string text = "1";
  for (int depth = 0; depth < 40; ++depth) {
    const auto r = e.step(facts, text);
    if (r.end || r.text.find("Apply by ") != std::string::npos) break;
    const auto choices = items(r.text);
    const bool more = r.text.find("\n98. More") != std::string::npos;
    std::string input;
    if (more && (choices.empty() || std::bernoulli_distribution(0.25)(rng))) input = "98";
    else if (!choices.empty())
      input = choices[std::uniform_int_distribution<std::size_t>(0, choices.size() - 1)(rng)];
    else break;
    inputs.push_back(input);
    text += "*" + input;
  }
  return inputs;
}

struct figures {
  double seconds = 0;
  std::size_t steps = 0;
  std::size_t screen_bytes = 0;  // a checksum of sorts: the same for both engines
};

// Replays every session's requests in order (the first, empty, then each input added).
figures replay_all(const ussd::engine& e, const ussd::session_facts& facts,
                   const std::vector<std::vector<std::string>>& sessions,
                   std::vector<std::string>* screens) {
  figures f;
  const auto started = steady::now();
  for (const auto& inputs : sessions) {
    std::string text;
    auto r = e.step(facts, text);
    f.screen_bytes += r.text.size();
    ++f.steps;
    for (const auto& in : inputs) {
      text += text.empty() ? in : "*" + in;
      r = e.step(facts, text);
      f.screen_bytes += r.text.size();
      ++f.steps;
      if (screens) screens->push_back(std::move(r.text));
    }
  }
  f.seconds = std::chrono::duration<double>(steady::now() - started).count();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_options(argc, argv, o)) {
    std::fprintf(stderr, "usage: bench_menus [--sessions N=20000] [--seed S=1] FILE.csv [FILE.csv ...]\n");
    return 2;
  }
  try {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    ussd::session_facts facts;
    facts.has_account = true;
    facts.phone_local = "0710000000";
    facts.profile = {"Bench Applicant", "12345678", "A123456789Z", "Nairobi", "Bench School", ""};
    facts.now = now;
    facts.vacancies = std::make_shared<domain::catalog>(load(o.files), std::map<std::string, int>{}, now);
    if (facts.vacancies->size() == 0) throw std::runtime_error("no vacancy is open now");

    ussd::engine_options uncached_options;
    uncached_options.menu_cache_bytes = 0;
    const ussd::engine cached{ussd::engine_options{}}, uncached{uncached_options};

    std::mt19937 rng(o.seed);
    std::vector<std::vector<std::string>> sessions;
    for (std::size_t i = 0; i < o.sessions; ++i) sessions.push_back(walk(uncached, facts, rng));

    // The same screens from both, checked before timing.
    std::vector<std::string> with, without;
    replay_all(cached, facts, sessions, &with);
    replay_all(uncached, facts, sessions, &without);
    if (with != without) {
      std::fprintf(stderr, "bench_menus: the cached engine showed other screens than the uncached one\n");
      return 1;
    }
    // Timed: each engine twice, alternated; the faster of the two runs counts.
    figures best_cached, best_uncached;
    for (int round = 0; round < 2; ++round) {
      const auto u = replay_all(uncached, facts, sessions, nullptr);
      const auto c = replay_all(cached, facts, sessions, nullptr);
      if (round == 0 || u.seconds < best_uncached.seconds) best_uncached = u;
      if (round == 0 || c.seconds < best_cached.seconds) best_cached = c;
    }
    const double per_step_uncached = 1e6 * best_uncached.seconds / static_cast<double>(best_uncached.steps);
    const double per_step_cached = 1e6 * best_cached.seconds / static_cast<double>(best_cached.steps);
    std::printf("bench_menus: %zu open vacancies, %zu sessions, %zu steps each run (%.1f a session)\n\n",
                facts.vacancies->size(), sessions.size(), best_cached.steps,
                static_cast<double>(best_cached.steps) / static_cast<double>(sessions.size()));
    std::printf("%-30s %12s %10s\n", "", "steps/s", "us/step");
    std::printf("%-30s %12.0f %10.2f\n", "every screen built", 1e6 / per_step_uncached, per_step_uncached);
    std::printf("%-30s %12.0f %10.2f\n", "vacancy screens cached", 1e6 / per_step_cached, per_step_cached);
    std::printf("\ncached / built = %.2fx; the cache holds %.1f MiB\n", per_step_uncached / per_step_cached,
                static_cast<double>(cached.cached_screen_bytes()) / (1 << 20));
    std::printf("{\"bench\":\"menus\",\"vacancies\":%zu,\"sessions\":%zu,\"steps\":%zu,"
                "\"built_us_per_step\":%.3f,\"cached_us_per_step\":%.3f,\"speedup\":%.3f,"
                "\"cache_bytes\":%zu}\n",
                facts.vacancies->size(), sessions.size(), best_cached.steps, per_step_uncached,
                per_step_cached, per_step_uncached / per_step_cached, cached.cached_screen_bytes());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_menus: %s\n", e.what());
    return 1;
  }
  return 0;
}
