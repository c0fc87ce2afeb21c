#pragma once
// A map whose entries expire a fixed time after they were last stored, oldest first, with a
// bound on how many it holds. Expiry is a little work on each call, never a pause to walk
// every entry.

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace cp2::gateway {

/// Entries by string key; an entry lives `ttl` after it was last put(), and when more than
/// `max_entries` are held the oldest goes first, expired or not.
/// Thread safety: none; callers lock.
template <class V>
class expiring_map {
public:
  using clock = std::chrono::steady_clock;

  expiring_map(std::chrono::milliseconds ttl, std::size_t max_entries)
      : ttl_(ttl), max_entries_(max_entries == 0 ? 1 : max_entries) {}

  /// The live value of `key`, or null.
  V* find(const std::string& key, clock::time_point now) {
    drop_expired(now);
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.value;
  }

  /// Stores `value` under `key` (replacing any), alive for ttl from `now`.
  V& put(const std::string& key, V value, clock::time_point now) {
    drop_expired(now);
    auto [it, inserted] = map_.try_emplace(key);
    if (!inserted) order_.erase(it->second.pos);
    it->second.value = std::move(value);
    it->second.expires = now + ttl_;
    // The node's key stays where it is while the entry exists, rehashing or not.
    it->second.pos = order_.insert(order_.end(), &it->first);
    while (map_.size() > max_entries_) drop_oldest();
    return it->second.value;
  }

  /// Forgets `key`.
  void erase(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    order_.erase(it->second.pos);
    map_.erase(it);
  }

  std::size_t size() const { return map_.size(); }

private:
  struct slot {
    V value{};
    clock::time_point expires;
    typename std::list<const std::string*>::iterator pos;
  };

  // Entries expire in the order they were last stored (the ttl is the same for all).
  void drop_expired(clock::time_point now) {
    while (!order_.empty() && map_.find(*order_.front())->second.expires <= now) drop_oldest();
  }

  void drop_oldest() {
    auto it = map_.find(*order_.front());
    order_.pop_front();
    map_.erase(it);
  }

  std::chrono::milliseconds ttl_;
  std::size_t max_entries_;
  std::unordered_map<std::string, slot> map_;
  std::list<const std::string*> order_;  // keys, least recently stored first
};

}  // namespace cp2::gateway
