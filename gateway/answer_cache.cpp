#include "gateway/answer_cache.hpp"

namespace cp2::gateway {

std::string answer_cache::key(const std::string& session, const std::string& text) {
  std::string k;
  k.reserve(session.size() + 1 + text.size());
  k += session;
  k += '\n';  // cannot occur in a session id the aggregator sends
  k += text;
  return k;
}

void answer_cache::sweep(clock::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + std::chrono::seconds(10);
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
}

answer_cache::state answer_cache::claim(const std::string& session, const std::string& text,
                                        std::string& answer) {
  auto now = clock::now();
  std::lock_guard lock(mu_);
  sweep(now);
  auto [it, inserted] = entries_.try_emplace(key(session, text));
  if (inserted || it->second.expires <= now) {
    it->second = entry{{}, true, now + ttl_};
    return state::absent;
  }
  if (it->second.pending) return state::pending;
  answer = it->second.answer;
  return state::answered;
}

void answer_cache::put(const std::string& session, const std::string& text, std::string answer) {
  std::lock_guard lock(mu_);
  entries_[key(session, text)] = entry{std::move(answer), false, clock::now() + ttl_};
}

void answer_cache::abandon(const std::string& session, const std::string& text) {
  std::lock_guard lock(mu_);
  entries_.erase(key(session, text));
}

std::size_t answer_cache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace cp2::gateway
