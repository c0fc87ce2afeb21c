#pragma once
// Operational metrics for `GET /metrics` (SPEC 6), in the Prometheus text format 0.0.4 so that
// any Prometheus-compatible scraper reads them without an exporter in between.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace cp2::gateway {

/// Default latency buckets in seconds: 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
/// 0.25, 0.5, 1, 2.5, 5, 10.
const std::vector<double>& latency_buckets();

/// A registry of counters, gauges and histograms rendered in the Prometheus text format 0.0.4.
/// Thread safety: registration and child() from any thread (under a mutex); increments and
/// observations from any thread, lock-free (std::atomic) once a child is obtained; render()
/// from any thread.
class metrics_registry {
public:
  /// A total that only goes up (requests served, SMS sent).
  /// Thread safety: any thread, lock-free.
  class counter {
  public:
    /// Adds `v`; a negative or NaN `v` is ignored, as a counter never goes down.
    void inc(double v = 1);
    /// The total so far.
    double value() const;

  private:
    std::atomic<double> value_{0};
  };

  /// A value that goes up and down (sessions open, outbox depth).
  /// Thread safety: any thread, lock-free.
  class gauge {
  public:
    /// Replaces the value.
    void set(double v);
    /// Adds `v`.
    void inc(double v = 1);
    /// Subtracts `v`.
    void dec(double v = 1);
    /// The current value.
    double value() const;

  private:
    std::atomic<double> value_{0};
  };

  /// Observations counted into buckets by upper bound (`le`, inclusive), with their sum.
  /// Thread safety: any thread, lock-free.
  class histogram {
  public:
    /// Buckets by upper bound, strictly increasing and finite; a trailing +Inf may be given or
    /// not, it is always implied. Throws std::invalid_argument otherwise.
    explicit histogram(std::vector<double> bounds);
    /// Counts `v` in the first bucket whose bound is >= v and adds it to the sum. NaN is
    /// ignored: it would make the sum NaN for the rest of the process's life.
    void observe(double v);
    /// Observations so far.
    std::uint64_t count() const;
    /// Sum of the observations so far.
    double sum() const;
    /// The finite upper bounds, without +Inf.
    const std::vector<double>& bounds() const { return bounds_; }
    /// Observations <= each bound, cumulative, then the +Inf bucket: bounds().size() + 1 values,
    /// the last equal to the count read in the same call.
    std::vector<std::uint64_t> cumulative_counts() const;

  private:
    std::vector<double> bounds_;
    // One per bound plus +Inf; per-bucket (not cumulative) so observe() touches one counter.
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<double> sum_{0};
  };

private:
  // What render() needs from every family, whatever its kind.
  class family_base {
  public:
    virtual ~family_base() = default;
    virtual void render(std::string& out) const = 0;
  };
  class callback_metric;
  void add_callback(std::string name, std::string help, const char* type, std::function<double()> read);

public:
  /// The metrics of one name: one child per distinct tuple of label values.
  /// Thread safety: child() from any thread; keep the returned reference for the hot path.
  template <class Metric>
  class family final : public family_base {
  public:
    /// The child for `label_values` (one per label name, same order), created on first use;
    /// the same values give the same child, valid for the registry's life. Throws
    /// std::invalid_argument when the number of values differs from the number of label names.
    Metric& child(const std::vector<std::string>& label_values = {});
    /// The metric name.
    const std::string& name() const { return name_; }
    /// The label names, in the order child() takes their values.
    const std::vector<std::string>& label_names() const { return label_names_; }
    /// Appends # HELP, # TYPE and the samples; nothing when a labelled family has no child yet.
    void render(std::string& out) const override;

  private:
    friend class metrics_registry;
    family(std::string name, std::string help, std::vector<std::string> label_names,
           std::vector<double> buckets);

    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::vector<double> buckets_;  // histograms only
    mutable std::mutex mu_;
    // Ordered, so samples come out sorted by label values; unique_ptr keeps children in place.
    std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
  };

  metrics_registry() = default;
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;
  ~metrics_registry();

  /// Registers a counter family. Registering the same name again with the same kind and label
  /// names returns the existing family; any other reuse of a name, or a name or label name
  /// Prometheus rejects, throws std::invalid_argument. Valid for the registry's life.
  family<counter>& counter_family(std::string name, std::string help,
                                  std::vector<std::string> label_names = {});
  /// Registers a gauge family, under the same rules as counter_family().
  family<gauge>& gauge_family(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  /// Registers a histogram family, under the same rules as counter_family() (same buckets too);
  /// `le` is reserved for the buckets and refused as a label name.
  family<histogram>& histogram_family(std::string name, std::string help,
                                      std::vector<std::string> label_names = {},
                                      std::vector<double> buckets = latency_buckets());
  /// A gauge without labels whose value is read by `read` on each render() (e.g. outbox depth
  /// from a cached value). `read` runs without the registry's lock held, on render()'s thread;
  /// if it throws, the sample is rendered as NaN so one broken reading does not hide the rest.
  void gauge_callback(std::string name, std::string help, std::function<double()> read);
  /// The same for a counter: a total that another component keeps and only ever raises (the
  /// database writer's commits, say), read on each render().
  void counter_callback(std::string name, std::string help, std::function<double()> read);

  /// The whole registry in the exposition format: families sorted by name, samples by label
  /// values; HELP and TYPE once per family.
  std::string render() const;

private:
  template <class Metric>
  family<Metric>& add_family(std::string name, std::string help,
                             std::vector<std::string> label_names, std::vector<double> buckets);
  void claim_names(const std::string& name, const std::vector<std::string>& sample_names);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<family_base>> families_;
  // Every sample name in use (a histogram `h` uses h_bucket, h_sum and h_count), so that no
  // two families render the same series.
  std::set<std::string> sample_names_;
};

extern template class metrics_registry::family<metrics_registry::counter>;
extern template class metrics_registry::family<metrics_registry::gauge>;
extern template class metrics_registry::family<metrics_registry::histogram>;

}  // namespace cp2::gateway
