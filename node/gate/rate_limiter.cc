#include "node/gate/rate_limiter.h"

#include <algorithm>

namespace casenode::node {

bool RateLimiter::Allow(const std::string& org, const std::string& rule, uint32_t per_minute,
                        std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = buckets_.try_emplace({org, rule});
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = per_minute;
    b.last = now;
  }
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min<double>(per_minute, b.tokens + elapsed * per_minute / 60.0);
  b.last = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace casenode::node
