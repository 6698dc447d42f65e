// RateLimiter: token buckets per (requester organisation, rule), for the
// rate_limit_per_minute a policy rule sets. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace casenode::node {

class RateLimiter {
 public:
  // True if one more call fits `per_minute` for this key (bucket of that size,
  // refilled continuously).
  bool Allow(const std::string& org, const std::string& rule, uint32_t per_minute,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Bucket> buckets_;
};

}  // namespace casenode::node
