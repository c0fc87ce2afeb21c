#include "gateway/rate_limiter.hpp"

namespace cp2::gateway {

void rate_limiter::sweep(clock::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + window_;
  for (auto it = slots_.begin(); it != slots_.end();)
    it = now - it->second.window_start >= window_ ? slots_.erase(it) : std::next(it);
}

rate_limiter::verdict rate_limiter::hit(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mu_);
  sweep(now);
  auto& s = slots_[key];
  if (s.count == 0 || now - s.window_start >= window_) s = slot{now, 0, false};
  if (++s.count <= limit_) return verdict::allowed;
  if (s.told) return verdict::refused;
  s.told = true;
  return verdict::refused_first;
}

bool rate_limiter::over(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  return it != slots_.end() && now - it->second.window_start < window_ && it->second.count >= limit_;
}

}  // namespace cp2::gateway
