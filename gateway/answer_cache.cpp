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

answer_cache::state answer_cache::claim(const std::string& session, const std::string& text,
                                        std::string& answer) {
  auto now = clock::now();
  auto k = key(session, text);
  std::lock_guard lock(mu_);
  auto* e = entries_.find(k, now);
  if (!e) {
    entries_.put(k, entry{{}, true}, now);
    return state::absent;
  }
  if (e->pending) return state::pending;
  answer = e->answer;
  return state::answered;
}

void answer_cache::put(const std::string& session, const std::string& text, std::string answer) {
  auto now = clock::now();
  auto k = key(session, text);
  std::lock_guard lock(mu_);
  entries_.put(k, entry{std::move(answer), false}, now);
}

void answer_cache::abandon(const std::string& session, const std::string& text) {
  auto k = key(session, text);
  std::lock_guard lock(mu_);
  entries_.erase(k);
}

std::size_t answer_cache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace cp2::gateway
