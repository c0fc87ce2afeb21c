#pragma once
// Counting events per key in fixed windows, in memory: USSD requests per number per minute,
// failed logins per client address. Lost on restart, which only forgives a little.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cp2::gateway {

/// At most `limit` events per key per `window`.
/// Thread safety: any thread.
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  rate_limiter(int limit, std::chrono::milliseconds window) : limit_(limit), window_(window) {}

  /// What one event found.
  enum class verdict {
    allowed,
    refused_first,  ///< over the limit, and the first refusal of this window: log it
    refused,        ///< over the limit again in the same window
  };

  /// Counts an event for `key` and says whether it is within the limit.
  verdict hit(const std::string& key, clock::time_point now = clock::now());

  /// True when `key` is over the limit now, without counting anything.
  bool over(const std::string& key, clock::time_point now = clock::now());

private:
  struct slot {
    clock::time_point window_start;
    int count = 0;
    bool told = false;
  };
  void sweep(clock::time_point now);

  int limit_;
  std::chrono::milliseconds window_;
  std::mutex mu_;
  std::unordered_map<std::string, slot> slots_;
  clock::time_point next_sweep_ = clock::now();
};

}  // namespace cp2::gateway
