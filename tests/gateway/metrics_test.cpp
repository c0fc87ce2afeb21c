// The metrics registry (SPEC 6, GET /metrics): what render() writes is read back by a strict
// parser of the Prometheus text format 0.0.4 below, so a test fails on anything a scraper
// would refuse or misread, not only on a changed value.

#include "gateway/metrics.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <latch>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using cp2::gateway::latency_buckets;
using cp2::gateway::metrics_registry;

namespace {

using labels = std::vector<std::pair<std::string, std::string>>;

struct sample {
  std::string name;
  labels label_pairs;
  double value = 0;
  std::string raw_value;  // as written, to check the spelling
};

struct exposition {
  std::vector<sample> samples;
  std::map<std::string, std::string> help;
  std::map<std::string, std::string> type;
  std::vector<std::string> families;  // in the order of their TYPE lines
};

[[noreturn]] void malformed(const std::string& line, const std::string& why) {
  throw std::runtime_error("malformed exposition (" + why + "): " + line);
}

bool is_name(const std::string& s, bool colon) {
  static const std::regex metric("[a-zA-Z_:][a-zA-Z0-9_:]*"), label("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(s, colon ? metric : label);
}

double parse_value(const std::string& s, const std::string& line) {
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  // strtod would also take "inf", "nan" and hex; Prometheus spells those otherwise.
  if (s.empty() || s.find_first_not_of("0123456789.eE+-") != std::string::npos) malformed(line, "value");
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) malformed(line, "value");
  return v;
}

// `name{a="x",b="y"} value` — no timestamps, since the registry writes none.
sample parse_sample(const std::string& line) {
  sample s;
  std::size_t i = line.find_first_of("{ ");
  if (i == std::string::npos) malformed(line, "no value");
  s.name = line.substr(0, i);
  if (!is_name(s.name, true)) malformed(line, "metric name");
  if (line[i] == '{') {
    ++i;
    while (line.at(i) != '}') {
      std::size_t eq = line.find("=\"", i);
      if (eq == std::string::npos) malformed(line, "label");
      std::string key = line.substr(i, eq - i);
      if (!is_name(key, false)) malformed(line, "label name");
      std::string value;
      for (i = eq + 2;; ++i) {
        if (i >= line.size()) malformed(line, "unterminated label value");
        char c = line[i];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        if (++i >= line.size()) malformed(line, "dangling backslash");
        if (line[i] == '\\') value += '\\';
        else if (line[i] == '"') value += '"';
        else if (line[i] == 'n') value += '\n';
        else malformed(line, "unknown escape");
      }
      for (const auto& [k, v] : s.label_pairs)
        if (k == key) malformed(line, "label twice");
      s.label_pairs.emplace_back(key, value);
      ++i;  // past the closing quote
      if (line.at(i) == ',') ++i;
      else if (line.at(i) != '}') malformed(line, "after label");
    }
    ++i;
    if (i >= line.size() || line[i] != ' ') malformed(line, "space before value");
  }
  s.raw_value = line.substr(i + 1);
  s.value = parse_value(s.raw_value, line);
  return s;
}

std::string unescape_help(const std::string& text, const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i >= text.size()) malformed(line, "dangling backslash");
    if (text[i] == '\\') out += '\\';
    else if (text[i] == 'n') out += '\n';
    else malformed(line, "unknown escape in HELP");
  }
  return out;
}

// Strict on purpose: one TYPE per family, samples only under their family's TYPE and
// contiguous, no duplicate series, histogram buckets with `le`.
exposition parse(const std::string& text) {
  exposition e;
  if (!text.empty() && text.back() != '\n') malformed(text, "no final newline");
  std::string family;
  std::map<std::pair<std::string, labels>, int> seen;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) malformed(line, "empty line");
    if (line.starts_with("# HELP ")) {
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      auto name = rest.substr(0, sp);
      if (!is_name(name, true) || e.help.count(name)) malformed(line, "HELP");
      e.help[name] = sp == std::string::npos ? "" : unescape_help(rest.substr(sp + 1), line);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      if (sp == std::string::npos) malformed(line, "TYPE");
      auto name = rest.substr(0, sp), type = rest.substr(sp + 1);
      if (!is_name(name, true) || e.type.count(name)) malformed(line, "TYPE twice");
      if (type != "counter" && type != "gauge" && type != "histogram") malformed(line, "type");
      e.type[name] = type;
      e.families.push_back(name);
      family = name;
      continue;
    }
    if (line.starts_with("#")) malformed(line, "comment");
    sample s = parse_sample(line);
    if (family.empty()) malformed(line, "sample before TYPE");
    bool belongs = s.name == family;
    if (e.type[family] == "histogram") {
      belongs = s.name == family + "_sum" || s.name == family + "_count";
      if (s.name == family + "_bucket") {
        belongs = !s.label_pairs.empty() && s.label_pairs.back().first == "le";
      }
    }
    if (!belongs) malformed(line, "sample outside its family");
    if (seen[{s.name, s.label_pairs}]++) malformed(line, "duplicate series");
    e.samples.push_back(std::move(s));
  }
  return e;
}

// The one sample with this name and these labels (in order); fails the test when absent.
const sample& find(const exposition& e, const std::string& name, const labels& l = {}) {
  for (const auto& s : e.samples)
    if (s.name == name && s.label_pairs == l) return s;
  FAIL("no sample " << name);
  throw std::logic_error("unreachable");
}

std::size_t count_of(const exposition& e, const std::string& name) {
  std::size_t n = 0;
  for (const auto& s : e.samples) n += s.name == name;
  return n;
}

}  // namespace

TEST_CASE("metrics: the test parser refuses what a scraper would refuse") {
  CHECK_NOTHROW(parse("# HELP a x\n# TYPE a counter\na{l=\"q\\\"\"} 1\n"));
  CHECK_THROWS(parse("# TYPE a counter\na 1"));                    // no final newline
  CHECK_THROWS(parse("a 1\n"));                                    // sample without TYPE
  CHECK_THROWS(parse("# TYPE a counter\na{l=\"x} 1\n"));           // unterminated value
  CHECK_THROWS(parse("# TYPE a counter\na{l=\"x\\t\"} 1\n"));      // unknown escape
  CHECK_THROWS(parse("# TYPE a counter\na 1.0.0\n"));              // bad number
  CHECK_THROWS(parse("# TYPE a counter\na inf\n"));                // Go spells it +Inf
  CHECK_THROWS(parse("# TYPE a counter\na 1\na 2\n"));             // duplicate series
  CHECK_THROWS(parse("# TYPE a counter\n# TYPE a counter\n"));     // TYPE twice
  CHECK_THROWS(parse("# TYPE a counter\nb 1\n"));                  // outside its family
  CHECK_THROWS(parse("# TYPE h histogram\nh_bucket 1\n"));         // bucket without le
}

TEST_CASE("metrics: counters with and without labels") {
  metrics_registry reg;

  SUBCASE("an unlabelled counter is rendered at 0 before its first increment") {
    reg.counter_family("sms_sent_total", "SMS accepted by the provider.");
    auto e = parse(reg.render());
    CHECK(find(e, "sms_sent_total").raw_value == "0");
    CHECK(e.type["sms_sent_total"] == "counter");
    CHECK(e.help["sms_sent_total"] == "SMS accepted by the provider.");
  }

  SUBCASE("inc adds, and a negative or NaN increment is ignored") {
    auto& c = reg.counter_family("sms_sent_total", "SMS sent.").child();
    c.inc();
    c.inc(2.5);
    c.inc(-1);
    c.inc(std::numeric_limits<double>::quiet_NaN());
    CHECK(c.value() == 3.5);
    CHECK(find(parse(reg.render()), "sms_sent_total").value == 3.5);
  }

  SUBCASE("labelled children: same values give the same child, each rendered with its labels") {
    auto& f = reg.counter_family("http_requests_total", "Requests served.", {"route", "code"});
    CHECK(f.name() == "http_requests_total");
    CHECK(f.label_names() == std::vector<std::string>{"route", "code"});
    auto& ok = f.child({"/callbacks/ussd", "200"});
    CHECK(&f.child({"/callbacks/ussd", "200"}) == &ok);
    CHECK(&f.child({"/callbacks/ussd", "403"}) != &ok);
    ok.inc(3);
    f.child({"/callbacks/ussd", "403"}).inc();
    auto e = parse(reg.render());
    CHECK(find(e, "http_requests_total", {{"route", "/callbacks/ussd"}, {"code", "200"}}).value == 3);
    CHECK(find(e, "http_requests_total", {{"route", "/callbacks/ussd"}, {"code", "403"}}).value == 1);
    CHECK(count_of(e, "http_requests_total") == 2);
  }

  SUBCASE("a labelled family without children renders nothing yet") {
    reg.counter_family("http_requests_total", "Requests served.", {"route"});
    CHECK(reg.render().empty());
  }

  SUBCASE("the wrong number of label values throws") {
    auto& f = reg.counter_family("http_requests_total", "Requests served.", {"route", "code"});
    CHECK_THROWS_AS(f.child({"/only-route"}), std::invalid_argument);
    CHECK_THROWS_AS(f.child({"a", "b", "c"}), std::invalid_argument);
    CHECK_THROWS_AS(f.child(), std::invalid_argument);
    auto& plain = reg.counter_family("plain_total", "No labels.");
    CHECK_THROWS_AS(plain.child({"x"}), std::invalid_argument);
    CHECK(parse(reg.render()).samples.size() == 1);  // only plain_total: the failures made no child
  }
}

TEST_CASE("metrics: gauges and callback gauges") {
  metrics_registry reg;

  SUBCASE("set, inc and dec") {
    auto& g = reg.gauge_family("ussd_sessions_open", "USSD sessions open.").child();
    g.set(10);
    g.inc();
    g.dec(4);
    g.inc(0.5);
    CHECK(g.value() == 7.5);
    g.dec(20);
    auto e = parse(reg.render());
    CHECK(e.type["ussd_sessions_open"] == "gauge");
    CHECK(find(e, "ussd_sessions_open").value == -12.5);
  }

  SUBCASE("a callback gauge is read at each render") {
    double depth = 5;
    reg.gauge_callback("sms_outbox_depth", "Messages waiting to be sent.", [&] { return depth; });
    auto e = parse(reg.render());
    CHECK(e.type["sms_outbox_depth"] == "gauge");
    CHECK(find(e, "sms_outbox_depth").value == 5);
    depth = 7;
    CHECK(find(parse(reg.render()), "sms_outbox_depth").value == 7);
  }

  SUBCASE("a callback counter is read at each render and typed as a counter") {
    double commits = 3;
    reg.counter_callback("db_commits_total", "Commits made.", [&] { return commits; });
    auto e = parse(reg.render());
    CHECK(e.type["db_commits_total"] == "counter");
    CHECK(find(e, "db_commits_total").value == 3);
    commits = 9;
    CHECK(find(parse(reg.render()), "db_commits_total").value == 9);
    CHECK_THROWS_AS(reg.gauge_callback("db_commits_total", "Again.", [] { return 0.0; }), std::invalid_argument);
  }

  SUBCASE("a throwing callback renders NaN and the other metrics all the same") {
    reg.gauge_callback("broken", "Throws.", []() -> double { throw std::runtime_error("db gone"); });
    reg.counter_family("zz_total", "After it.").child().inc();
    auto e = parse(reg.render());
    CHECK(find(e, "broken").raw_value == "NaN");
    CHECK(find(e, "zz_total").value == 1);
  }

  SUBCASE("a callback may use the registry: render() holds no lock while reading") {
    auto& hits = reg.counter_family("hits_total", "Hits.").child();
    hits.inc(4);
    reg.gauge_callback("hits_again", "Reads the registry.", [&] {
      return reg.counter_family("hits_total", "Hits.").child().value();
    });
    CHECK(find(parse(reg.render()), "hits_again").value == 4);
  }

  SUBCASE("an empty callback or a reused name throws") {
    CHECK_THROWS_AS(reg.gauge_callback("g", "x", {}), std::invalid_argument);
    reg.gauge_callback("g", "x", [] { return 1.0; });
    CHECK_THROWS_AS(reg.gauge_callback("g", "x", [] { return 1.0; }), std::invalid_argument);
    CHECK_THROWS_AS(reg.gauge_family("g", "x"), std::invalid_argument);
  }
}

TEST_CASE("metrics: histograms") {
  metrics_registry reg;

  SUBCASE("buckets are cumulative, le inclusive, +Inf equals the count, sum adds up") {
    auto& h = reg.histogram_family("provider_send_seconds", "Time to send.", {}, {0.25, 1, 2.5}).child();
    for (double v : {0.0, 0.25, 0.5, 1.0, 3.0, -1.0}) h.observe(v);
    h.observe(std::numeric_limits<double>::quiet_NaN());  // ignored
    CHECK(h.count() == 6);
    CHECK(h.sum() == 3.75);
    CHECK(h.cumulative_counts() == std::vector<std::uint64_t>{3, 5, 5, 6});

    auto e = parse(reg.render());
    CHECK(e.type["provider_send_seconds"] == "histogram");
    const std::string b = "provider_send_seconds_bucket";
    CHECK(find(e, b, {{"le", "0.25"}}).value == 3);
    CHECK(find(e, b, {{"le", "1"}}).value == 5);
    CHECK(find(e, b, {{"le", "2.5"}}).value == 5);
    CHECK(find(e, b, {{"le", "+Inf"}}).value == 6);
    CHECK(count_of(e, b) == 4);
    CHECK(find(e, "provider_send_seconds_sum").value == 3.75);
    CHECK(find(e, "provider_send_seconds_count").value == 6);
  }

  SUBCASE("labels come first and le last; each child has its own buckets") {
    auto& f = reg.histogram_family("http_request_seconds", "Time to answer.", {"route"}, {0.1});
    f.child({"/b"}).observe(0.05);
    f.child({"/a"}).observe(5);
    auto e = parse(reg.render());
    CHECK(find(e, "http_request_seconds_bucket", {{"route", "/a"}, {"le", "0.1"}}).value == 0);
    CHECK(find(e, "http_request_seconds_bucket", {{"route", "/a"}, {"le", "+Inf"}}).value == 1);
    CHECK(find(e, "http_request_seconds_bucket", {{"route", "/b"}, {"le", "0.1"}}).value == 1);
    CHECK(find(e, "http_request_seconds_sum", {{"route", "/a"}}).value == 5);
    CHECK(find(e, "http_request_seconds_count", {{"route", "/b"}}).value == 1);
  }

  SUBCASE("default latency buckets, spelled as Prometheus parses them") {
    CHECK(latency_buckets() ==
          std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    reg.histogram_family("latency_seconds", "Default buckets.").child().observe(0.003);
    auto e = parse(reg.render());
    std::vector<std::string> les;
    for (const auto& s : e.samples)
      if (s.name == "latency_seconds_bucket") les.push_back(s.label_pairs.back().second);
    CHECK(les == std::vector<std::string>{"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                          "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"});
    double previous = -1;
    for (const auto& s : e.samples)
      if (s.name == "latency_seconds_bucket") {
        CHECK(s.value >= previous);
        previous = s.value;
      }
    CHECK(find(e, "latency_seconds_bucket", {{"le", "0.0025"}}).value == 0);
    CHECK(find(e, "latency_seconds_bucket", {{"le", "0.005"}}).value == 1);
  }

  SUBCASE("an explicit trailing +Inf is accepted once; other bad bounds throw") {
    auto inf = std::numeric_limits<double>::infinity();
    reg.histogram_family("h", "x", {}, {1, inf}).child().observe(2);
    auto e = parse(reg.render());
    CHECK(count_of(e, "h_bucket") == 2);
    CHECK_THROWS_AS(metrics_registry::histogram({2, 1}), std::invalid_argument);
    CHECK_THROWS_AS(metrics_registry::histogram({1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(metrics_registry::histogram({std::nan("")}), std::invalid_argument);
    CHECK_THROWS_AS(metrics_registry::histogram({-inf, 1}), std::invalid_argument);
    CHECK_THROWS_AS(reg.histogram_family("h2", "x", {}, {5, 1}), std::invalid_argument);
    CHECK(metrics_registry::histogram({}).cumulative_counts().size() == 1);  // +Inf alone
  }
}

TEST_CASE("metrics: label values and HELP text are escaped") {
  metrics_registry reg;
  const std::string nasty = "say \"hi\"\\path\nnext";
  auto& f = reg.counter_family("sms_keyword_total", "Keywords \\ seen,\nby \"word\".", {"word"});
  f.child({nasty}).inc();
  f.child({"trailing\\"}).inc(2);
  f.child({"Murang'a – Kiharu"}).inc(3);  // UTF-8 and an apostrophe pass unchanged
  f.child({""}).inc(4);

  auto text = reg.render();
  CHECK(text.find(R"(sms_keyword_total{word="say \"hi\"\\path\nnext"} 1)") != std::string::npos);
  CHECK(text.find(R"(# HELP sms_keyword_total Keywords \\ seen,\nby "word".)") != std::string::npos);

  auto e = parse(text);
  CHECK(e.help["sms_keyword_total"] == "Keywords \\ seen,\nby \"word\".");
  CHECK(find(e, "sms_keyword_total", {{"word", nasty}}).value == 1);
  CHECK(find(e, "sms_keyword_total", {{"word", "trailing\\"}}).value == 2);
  CHECK(find(e, "sms_keyword_total", {{"word", "Murang'a – Kiharu"}}).value == 3);
  CHECK(find(e, "sms_keyword_total", {{"word", ""}}).value == 4);
}

TEST_CASE("metrics: numbers read back exactly, non-finite values spelled as Prometheus expects") {
  metrics_registry reg;
  auto& f = reg.gauge_family("value", "Values.", {"i"});
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> values{0, 1, -1, 0.1, 1e-7, 123456789, 9007199254740993.0, 1e21, 3.141592653589793,
                                   std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(),
                                   inf, -inf, std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t i = 0; i < values.size(); ++i) f.child({std::to_string(100 + i)}).set(values[i]);
  auto e = parse(reg.render());
  for (std::size_t i = 0; i < values.size(); ++i) {
    CAPTURE(i);
    const auto& s = find(e, "value", {{"i", std::to_string(100 + i)}});
    if (std::isnan(values[i])) CHECK(std::isnan(s.value));
    else CHECK(s.value == values[i]);
  }
  CHECK(find(e, "value", {{"i", "101"}}).raw_value == "1");
  CHECK(find(e, "value", {{"i", "105"}}).raw_value == "123456789");
  CHECK(find(e, "value", {{"i", "111"}}).raw_value == "+Inf");
  CHECK(find(e, "value", {{"i", "112"}}).raw_value == "-Inf");
  CHECK(find(e, "value", {{"i", "113"}}).raw_value == "NaN");
}

TEST_CASE("metrics: HELP and TYPE once per family, in a deterministic order") {
  // The same metrics registered and touched in different orders render the same text.
  auto build = [](bool reversed) {
    auto reg = std::make_unique<metrics_registry>();
    std::vector<std::function<void()>> steps{
        [&] { reg->counter_family("b_total", "B.", {"k"}).child({"y"}).inc(); },
        [&] { reg->counter_family("b_total", "B.", {"k"}).child({"x"}).inc(2); },
        [&] { reg->gauge_family("a_gauge", "A.").child().set(1); },
        [&] { reg->histogram_family("c_seconds", "C.", {"k"}, {1}).child({"2"}).observe(1); },
        [&] { reg->histogram_family("c_seconds", "C.", {"k"}, {1}).child({"10"}).observe(2); },
        [&] { reg->gauge_callback("a:callback", "Callback.", [] { return 3.0; }); },
    };
    if (reversed) std::reverse(steps.begin(), steps.end());
    for (auto& step : steps) step();
    return reg;
  };
  auto forward = build(false), backward = build(true);
  auto text = forward->render();
  CHECK(text == backward->render());
  CHECK(text == forward->render());

  auto e = parse(text);  // refuses a second HELP or TYPE for a family
  CHECK(e.families == std::vector<std::string>{"a:callback", "a_gauge", "b_total", "c_seconds"});
  CHECK(e.help.size() == 4);
  std::vector<std::string> b_order, c_order;
  for (const auto& s : e.samples) {
    if (s.name == "b_total") b_order.push_back(s.label_pairs[0].second);
    if (s.name == "c_seconds_count") c_order.push_back(s.label_pairs[0].second);
  }
  CHECK(b_order == std::vector<std::string>{"x", "y"});
  CHECK(c_order == std::vector<std::string>{"10", "2"});  // sorted as strings, byte order

  CHECK(text ==
        "# HELP a:callback Callback.\n# TYPE a:callback gauge\na:callback 3\n"
        "# HELP a_gauge A.\n# TYPE a_gauge gauge\na_gauge 1\n"
        "# HELP b_total B.\n# TYPE b_total counter\nb_total{k=\"x\"} 2\nb_total{k=\"y\"} 1\n"
        "# HELP c_seconds C.\n# TYPE c_seconds histogram\n"
        "c_seconds_bucket{k=\"10\",le=\"1\"} 0\nc_seconds_bucket{k=\"10\",le=\"+Inf\"} 1\n"
        "c_seconds_sum{k=\"10\"} 2\nc_seconds_count{k=\"10\"} 1\n"
        "c_seconds_bucket{k=\"2\",le=\"1\"} 1\nc_seconds_bucket{k=\"2\",le=\"+Inf\"} 1\n"
        "c_seconds_sum{k=\"2\"} 1\nc_seconds_count{k=\"2\"} 1\n");
}

TEST_CASE("metrics: registration rules") {
  metrics_registry reg;

  SUBCASE("invalid metric names throw") {
    for (const char* bad : {"", "1abc", "a-b", "a b", "a.b", "é", "a{b}"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS(reg.counter_family(bad, "x"), std::invalid_argument);
      CHECK_THROWS_AS(reg.gauge_family(bad, "x"), std::invalid_argument);
      CHECK_THROWS_AS(reg.histogram_family(bad, "x"), std::invalid_argument);
      CHECK_THROWS_AS(reg.gauge_callback(bad, "x", [] { return 0.0; }), std::invalid_argument);
    }
    CHECK_NOTHROW(reg.counter_family("_a:b_9", "x"));
    CHECK_NOTHROW(reg.counter_family(":colon", "x"));
  }

  SUBCASE("invalid label names throw") {
    for (const char* bad : {"", "1a", "a:b", "a-b", "__reserved"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS(reg.counter_family("c", "x", {bad}), std::invalid_argument);
    }
    CHECK_THROWS_AS(reg.counter_family("c", "x", {"a", "a"}), std::invalid_argument);
    CHECK_THROWS_AS(reg.histogram_family("h", "x", {"le"}), std::invalid_argument);
    CHECK_NOTHROW(reg.counter_family("c", "x", {"le", "_a9"}));  // le is only a histogram's
    CHECK(reg.render().empty());  // nothing half-registered by the failures
  }

  SUBCASE("the same registration returns the same family; a different one throws") {
    auto& f = reg.counter_family("c_total", "x", {"a"});
    CHECK(&reg.counter_family("c_total", "other help", {"a"}) == &f);
    CHECK_THROWS_AS(reg.counter_family("c_total", "x", {"b"}), std::invalid_argument);
    CHECK_THROWS_AS(reg.counter_family("c_total", "x"), std::invalid_argument);
    CHECK_THROWS_AS(reg.gauge_family("c_total", "x", {"a"}), std::invalid_argument);
    auto& h = reg.histogram_family("h_seconds", "x", {}, {1, 2});
    CHECK(&reg.histogram_family("h_seconds", "x", {}, {1, 2}) == &h);
    CHECK_THROWS_AS(reg.histogram_family("h_seconds", "x", {}, {1, 3}), std::invalid_argument);
  }

  SUBCASE("names that would render the same series as another family throw") {
    reg.histogram_family("h", "x");
    CHECK_THROWS_AS(reg.counter_family("h_count", "x"), std::invalid_argument);
    CHECK_THROWS_AS(reg.gauge_callback("h_sum", "x", [] { return 0.0; }), std::invalid_argument);
    reg.gauge_family("g_bucket", "x");
    CHECK_THROWS_AS(reg.histogram_family("g", "x"), std::invalid_argument);
    CHECK_NOTHROW(parse(reg.render()));
  }
}

TEST_CASE("metrics: concurrent increments add up exactly") {
  metrics_registry reg;
  constexpr int threads = 8, per_thread = 100'000;
  std::atomic<bool> done{false};
  int renders = 0;
  std::string scrape_problem;

  // A scraper running all along sees well-formed text with +Inf equal to the count. It only
  // records what it finds: a failed assertion thrown on this thread would end the process.
  std::thread scraper([&] {
    try {
      while (!done.load()) {
        auto e = parse(reg.render());
        // The histogram appears when a worker registers it, which may be after this render
        // began; from then on both series are there and agree.
        std::optional<double> inf_bucket, count;
        for (const auto& s : e.samples) {
          if (s.name == "work_seconds_bucket" && s.label_pairs.back().second == "+Inf") inf_bucket = s.value;
          if (s.name == "work_seconds_count") count = s.value;
        }
        if (inf_bucket.has_value() != count.has_value()) scrape_problem = "+Inf bucket or count missing";
        else if (inf_bucket != count) scrape_problem = "+Inf bucket differs from count";
        ++renders;
      }
    } catch (const std::exception& ex) {
      scrape_problem = ex.what();
    }
  });

  // Released together, so the increments overlap as much as the machine allows.
  std::latch start(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&reg, &start, t] {
      // Registration from every thread: each gets the same families.
      auto& shared = reg.counter_family("work_total", "Work done.", {"who"}).child({"all"});
      auto& mine = reg.counter_family("work_total", "Work done.", {"who"}).child({"t" + std::to_string(t)});
      auto& level = reg.gauge_family("work_level", "Up then half down.").child();
      auto& seconds = reg.histogram_family("work_seconds", "Work.", {}, {0.25, 0.5, 1}).child();
      start.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) {
        shared.inc();
        mine.inc();
        level.inc();
        if (i % 2) level.dec();
        seconds.observe(0.25 * (i % 4));  // exact in binary, so the sum is exact too
      }
    });
  for (auto& w : workers) w.join();
  done = true;
  scraper.join();
  CHECK(renders > 0);
  CHECK(scrape_problem == "");

  auto e = parse(reg.render());
  CHECK(find(e, "work_total", {{"who", "all"}}).raw_value == "800000");
  for (int t = 0; t < threads; ++t) CHECK(find(e, "work_total", {{"who", "t" + std::to_string(t)}}).value == per_thread);
  CHECK(find(e, "work_level").value == threads * per_thread / 2);
  CHECK(find(e, "work_seconds_count").value == threads * per_thread);
  CHECK(find(e, "work_seconds_sum").value == 300'000);
  CHECK(find(e, "work_seconds_bucket", {{"le", "0.25"}}).value == 400'000);
  CHECK(find(e, "work_seconds_bucket", {{"le", "0.5"}}).value == 600'000);
  CHECK(find(e, "work_seconds_bucket", {{"le", "1"}}).value == 800'000);
  CHECK(find(e, "work_seconds_bucket", {{"le", "+Inf"}}).value == 800'000);
}
