#pragma once
// A bound on the requests of one kind being worked on at once: past it the gateway answers
// "busy" at once instead of queueing without end (overload shedding, docs/performance.md).

#include <atomic>
#include <optional>
#include <utility>

namespace cp2::gateway {

/// Counts requests in progress and refuses one more beyond `max`.
/// Thread safety: any thread.
class in_flight_limit {
public:
  explicit in_flight_limit(int max) : max_(max) {}

  /// Held while a request is worked on; leaving its scope ends the request.
  class ticket {
  public:
    explicit ticket(std::atomic<int>& count) : count_(&count) {}
    ticket(ticket&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
    ticket& operator=(ticket&&) = delete;
    ticket(const ticket&) = delete;
    ~ticket() {
      if (count_) count_->fetch_sub(1, std::memory_order_relaxed);
    }

  private:
    std::atomic<int>* count_;
  };

  /// A ticket, or nothing when `max` requests are already in progress.
  std::optional<ticket> try_enter() {
    if (count_.fetch_add(1, std::memory_order_relaxed) >= max_) {
      count_.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return std::optional<ticket>(std::in_place, count_);
  }

  /// Requests in progress now.
  int current() const { return count_.load(std::memory_order_relaxed); }

private:
  int max_;
  std::atomic<int> count_{0};
};

}  // namespace cp2::gateway
