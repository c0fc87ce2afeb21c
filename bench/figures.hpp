#pragma once
// What every benchmark reports the same way: elapsed times, percentiles, the machine's load.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <vector>

namespace cp2::bench {

using steady = std::chrono::steady_clock;

inline double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// The median, the 99th percentile (nearest rank) and the largest of some samples.
struct percentiles {
  double p50 = 0, p99 = 0, max = 0;
  std::size_t count = 0;
};

inline percentiles percentiles_of(std::vector<double> v) {
  percentiles p;
  p.count = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = v.back();
  return p;
}

/// The 1-minute load average: other work on the machine moves every figure, so each
/// benchmark prints it.
inline double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0;
  in >> one;
  return one;
}

}  // namespace cp2::bench
