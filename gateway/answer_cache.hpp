#pragma once
// Remembered USSD answers (SPEC 3.1, 7): the aggregator retries, and a repeated request must
// get the same answer without a second side effect.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace cp2::gateway {

/// Answers by (sessionId, text), kept for `ttl` (at least a session's 180 s life).
/// Thread safety: all members may be called from any thread.
class answer_cache {
public:
  using clock = std::chrono::steady_clock;

  explicit answer_cache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

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
    clock::time_point expires;
  };
  static std::string key(const std::string& session, const std::string& text);
  void sweep(clock::time_point now);

  std::chrono::milliseconds ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  clock::time_point next_sweep_ = clock::now();
};

}  // namespace cp2::gateway
