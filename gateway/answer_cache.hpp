#pragma once
// Remembered USSD answers (SPEC 3.1, 7): the aggregator retries, and a repeated request must
// get the same answer without a second side effect.

#include "gateway/expiring_map.hpp"

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

namespace cp2::gateway {

/// Answers by (sessionId, text), kept for `ttl` (at least a session's 180 s life), at most
/// `max_entries` of them (the oldest go first).
/// Thread safety: all members may be called from any thread.
class answer_cache {
public:
  using clock = std::chrono::steady_clock;

  answer_cache(std::chrono::milliseconds ttl, std::size_t max_entries) : entries_(ttl, max_entries) {}

  /// What a lookup found.
  enum class state { absent, pending, answered };

  /// Looks up (session, text). When absent, marks it pending: the caller must then put() the
  /// answer or abandon() it.
  state claim(const std::string& session, const std::string& text, std::string& answer);
  /// The answer to (session, text); clears pending.
  void put(const std::string& session, const std::string& text, std::string answer);
  /// Gives up a pending claim (the request failed): a retry computes the answer afresh.
  void abandon(const std::string& session, const std::string& text);
  /// Entries held now (answers and pending).
  std::size_t size() const;

private:
  struct entry {
    std::string answer;
    bool pending = true;
  };
  static std::string key(const std::string& session, const std::string& text);

  mutable std::mutex mu_;
  expiring_map<entry> entries_;
};

}  // namespace cp2::gateway
