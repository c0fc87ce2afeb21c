#include "gateway/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace cp2::gateway {

namespace {

using registry = metrics_registry;

// By hand rather than <cctype>: the grammar is ASCII whatever the process locale says.
bool is_name(const std::string& s, bool colon_allowed) {
  auto first = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
  };
  if (s.empty() || !first(s.front())) return false;
  return std::all_of(s.begin() + 1, s.end(), [&](char c) { return first(c) || (c >= '0' && c <= '9'); });
}

void check_metric_name(const std::string& name) {
  if (!is_name(name, true)) throw std::invalid_argument(fmt::format("invalid metric name \"{}\"", name));
}

void check_label_names(const std::string& metric, const std::vector<std::string>& names, bool histogram) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& n = names[i];
    // "__" is reserved for Prometheus' own labels; "le" carries a histogram's bucket bound.
    if (!is_name(n, false) || n.starts_with("__") || (histogram && n == "le"))
      throw std::invalid_argument(fmt::format("metric {}: invalid label name \"{}\"", metric, n));
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), n) !=
        names.begin() + static_cast<std::ptrdiff_t>(i))
      throw std::invalid_argument(fmt::format("metric {}: label \"{}\" given twice", metric, n));
  }
}

std::vector<double> checked_bounds(std::vector<double> bounds) {
  // +Inf is always the last bucket; accept it given explicitly, as other clients do.
  if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity()) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      throw std::invalid_argument(fmt::format("histogram bound {} is not finite", bounds[i]));
    if (i > 0 && !(bounds[i - 1] < bounds[i]))
      throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
  return bounds;
}

// Shortest form that reads back to the same double ("1", "0.25", "1e-07"); Prometheus parses
// Go's ParseFloat syntax, which spells the non-finite values like this.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) out += "NaN";
  else if (std::isinf(v)) out += v > 0 ? "+Inf" : "-Inf";
  else fmt::format_to(std::back_inserter(out), "{}", v);
}

void append_number(std::string& out, std::uint64_t v) { fmt::format_to(std::back_inserter(out), "{}", v); }

void append_label_value(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// HELP text escapes only backslash and newline (format 0.0.4); a quote stays as is.
void append_help(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// `name{a="x",le="0.5"} ` — `le` (histogram buckets only) always last.
void append_series(std::string& out, const std::string& name, const std::string& suffix,
                   const std::vector<std::string>& label_names, const std::vector<std::string>& values,
                   const std::string* le = nullptr) {
  out += name;
  out += suffix;
  if (!label_names.empty() || le) {
    out += '{';
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out += ',';
      out += label_names[i];
      out += "=\"";
      append_label_value(out, values[i]);
      out += '"';
    }
    if (le) {
      if (!label_names.empty()) out += ',';
      out += "le=\"";
      out += *le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void append_samples(std::string& out, const std::string& name, const std::vector<std::string>& label_names,
                    const std::vector<std::string>& values, const registry::counter& c) {
  append_series(out, name, "", label_names, values);
  append_number(out, c.value());
  out += '\n';
}

void append_samples(std::string& out, const std::string& name, const std::vector<std::string>& label_names,
                    const std::vector<std::string>& values, const registry::gauge& g) {
  append_series(out, name, "", label_names, values);
  append_number(out, g.value());
  out += '\n';
}

void append_samples(std::string& out, const std::string& name, const std::vector<std::string>& label_names,
                    const std::vector<std::string>& values, const registry::histogram& h) {
  // One snapshot of the counts so _count always equals the +Inf bucket, even mid-observe.
  auto counts = h.cumulative_counts();
  std::string le;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    le.clear();
    if (i < h.bounds().size()) append_number(le, h.bounds()[i]);
    else le = "+Inf";
    append_series(out, name, "_bucket", label_names, values, &le);
    append_number(out, counts[i]);
    out += '\n';
  }
  append_series(out, name, "_sum", label_names, values);
  append_number(out, h.sum());
  out += '\n';
  append_series(out, name, "_count", label_names, values);
  append_number(out, counts.back());
  out += '\n';
}

template <class Metric>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<Metric, registry::counter>) return "counter";
  else if constexpr (std::is_same_v<Metric, registry::gauge>) return "gauge";
  else return "histogram";
}

template <class Metric>
std::unique_ptr<Metric> make_metric(const std::vector<double>& buckets) {
  if constexpr (std::is_same_v<Metric, registry::histogram>) return std::make_unique<Metric>(buckets);
  else return std::make_unique<Metric>();
}

// The series names a family renders, which no other family may render too.
template <class Metric>
std::vector<std::string> sample_names(const std::string& name) {
  if constexpr (std::is_same_v<Metric, registry::histogram>) return {name + "_bucket", name + "_sum", name + "_count"};
  else return {name};
}

}  // namespace

// Relaxed order throughout: a metric orders nothing else, it only has to add up exactly.
void metrics_registry::counter::inc(double v) {
  if (!(v >= 0)) return;  // also refuses NaN, which would stick for good
  value_.fetch_add(v, std::memory_order_relaxed);
}

double metrics_registry::counter::value() const { return value_.load(std::memory_order_relaxed); }

void metrics_registry::gauge::set(double v) { value_.store(v, std::memory_order_relaxed); }
void metrics_registry::gauge::inc(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
void metrics_registry::gauge::dec(double v) { value_.fetch_sub(v, std::memory_order_relaxed); }
double metrics_registry::gauge::value() const { return value_.load(std::memory_order_relaxed); }

metrics_registry::histogram::histogram(std::vector<double> bounds)
    : bounds_(checked_bounds(std::move(bounds))),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void metrics_registry::histogram::observe(double v) {
  if (std::isnan(v)) return;
  auto i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t metrics_registry::histogram::count() const { return cumulative_counts().back(); }

double metrics_registry::histogram::sum() const { return sum_.load(std::memory_order_relaxed); }

std::vector<std::uint64_t> metrics_registry::histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = running += buckets_[i].load(std::memory_order_relaxed);
  return out;
}

template <class Metric>
metrics_registry::family<Metric>::family(std::string name, std::string help,
                                         std::vector<std::string> label_names, std::vector<double> buckets)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {
  // An unlabelled metric exists from the start: the scraper sees its 0 before the first event,
  // so rate() and increase() count that event.
  if (label_names_.empty()) children_.emplace(std::vector<std::string>{}, make_metric<Metric>(buckets_));
}

template <class Metric>
Metric& metrics_registry::family<Metric>::child(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size())
    throw std::invalid_argument(fmt::format("metric {}: {} label values for {} label names", name_,
                                            label_values.size(), label_names_.size()));
  std::lock_guard lock(mu_);
  auto it = children_.find(label_values);
  if (it == children_.end()) it = children_.emplace(label_values, make_metric<Metric>(buckets_)).first;
  return *it->second;
}

template <class Metric>
void metrics_registry::family<Metric>::render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (children_.empty()) return;
  append_help(out, name_, help_, type_name<Metric>());
  for (const auto& [values, metric] : children_) append_samples(out, name_, label_names_, values, *metric);
}

template class metrics_registry::family<metrics_registry::counter>;
template class metrics_registry::family<metrics_registry::gauge>;
template class metrics_registry::family<metrics_registry::histogram>;

class metrics_registry::callback_metric final : public family_base {
public:
  callback_metric(std::string name, std::string help, const char* type, std::function<double()> read)
      : name_(std::move(name)), help_(std::move(help)), type_(type), read_(std::move(read)) {}

  void render(std::string& out) const override {
    double v;
    try {
      v = read_();
    } catch (...) {
      // One failed reading must not cost the scrape every other metric; NaN says "no value".
      v = std::numeric_limits<double>::quiet_NaN();
    }
    append_help(out, name_, help_, type_);
    append_series(out, name_, "", {}, {});
    append_number(out, v);
    out += '\n';
  }

private:
  std::string name_;
  std::string help_;
  const char* type_;  // "gauge" or "counter"
  std::function<double()> read_;
};

metrics_registry::~metrics_registry() = default;

void metrics_registry::claim_names(const std::string& name, const std::vector<std::string>& names) {
  auto taken = [&](const std::string& n) { return sample_names_.count(n) || families_.count(n); };
  if (sample_names_.count(name) || std::any_of(names.begin(), names.end(), taken))
    throw std::invalid_argument(fmt::format("metric {} would render a series another metric renders", name));
  sample_names_.insert(names.begin(), names.end());
}

template <class Metric>
metrics_registry::family<Metric>& metrics_registry::add_family(std::string name, std::string help,
                                                               std::vector<std::string> label_names,
                                                               std::vector<double> buckets) {
  constexpr bool is_histogram = std::is_same_v<Metric, histogram>;
  check_metric_name(name);
  check_label_names(name, label_names, is_histogram);
  if constexpr (is_histogram) buckets = checked_bounds(std::move(buckets));
  else buckets.clear();

  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<family<Metric>*>(it->second.get());
    if (existing && existing->label_names_ == label_names && existing->buckets_ == buckets) return *existing;
    throw std::invalid_argument(fmt::format("metric {} is already registered with another type or labels", name));
  }
  auto names = sample_names<Metric>(name);
  std::unique_ptr<family<Metric>> f(new family<Metric>(name, std::move(help), std::move(label_names), std::move(buckets)));
  claim_names(name, names);
  auto& ref = *f;
  families_.emplace(std::move(name), std::move(f));
  return ref;
}

metrics_registry::family<metrics_registry::counter>& metrics_registry::counter_family(
    std::string name, std::string help, std::vector<std::string> label_names) {
  return add_family<counter>(std::move(name), std::move(help), std::move(label_names), {});
}

metrics_registry::family<metrics_registry::gauge>& metrics_registry::gauge_family(
    std::string name, std::string help, std::vector<std::string> label_names) {
  return add_family<gauge>(std::move(name), std::move(help), std::move(label_names), {});
}

metrics_registry::family<metrics_registry::histogram>& metrics_registry::histogram_family(
    std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> buckets) {
  return add_family<histogram>(std::move(name), std::move(help), std::move(label_names), std::move(buckets));
}

void metrics_registry::gauge_callback(std::string name, std::string help, std::function<double()> read) {
  add_callback(std::move(name), std::move(help), "gauge", std::move(read));
}

void metrics_registry::counter_callback(std::string name, std::string help, std::function<double()> read) {
  add_callback(std::move(name), std::move(help), "counter", std::move(read));
}

void metrics_registry::add_callback(std::string name, std::string help, const char* type,
                                    std::function<double()> read) {
  check_metric_name(name);
  if (!read) throw std::invalid_argument(fmt::format("metric {}: empty callback", name));
  std::lock_guard lock(mu_);
  if (families_.count(name)) throw std::invalid_argument(fmt::format("metric {} is already registered", name));
  auto g = std::make_unique<callback_metric>(name, std::move(help), type, std::move(read));
  claim_names(name, {name});
  families_.emplace(std::move(name), std::move(g));
}

std::string metrics_registry::render() const {
  // Families are never removed, so the pointers outlive the lock; rendering without it lets a
  // callback take its time, or even register a metric, without blocking or deadlocking.
  std::vector<const family_base*> in_order;
  {
    std::lock_guard lock(mu_);
    in_order.reserve(families_.size());
    for (const auto& [name, f] : families_) in_order.push_back(f.get());
  }
  std::string out;
  for (const auto* f : in_order) f->render(out);
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

}  // namespace cp2::gateway
