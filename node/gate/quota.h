// QuotaCounter: the durable counts behind the network policy's quotas
// (policy.h, Quota). Per requesting organisation and action it counts the
// calls allowed in the current UTC minute and UTC day, in the record store
// (family "quotas", key 'c' | org | 0 | action), so a restart refills
// nothing. Fixed windows: at most per_minute in any calendar minute and
// per_day in any UTC day. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "policy/policy.h"
#include "store/store.h"

namespace casenode::node {

class QuotaCounter {
 public:
  QuotaCounter(store::Store& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

  struct Taken {
    bool allowed = false;
    uint64_t used_today = 0;      // calls allowed today, this one included if allowed
    int64_t day = 0;              // the UTC day counted (days since 1970-01-01)
    bool threshold_reached = false;  // this call reached alarm_percent of per_day
    bool first_refusal = false;   // this is today's first refusal
  };

  // Counts one call of `org` on `action` if it fits `quota`. The new count is
  // written before it returns, buffered: the caller's synced decision record,
  // written after it in the same store, makes it durable before any answer.
  // An error if the count cannot be read or written (the call must then be refused).
  [[nodiscard]] absl::StatusOr<Taken> Take(std::string_view org, std::string_view action, const policy::Quota& quota);

 private:
  struct Count {
    int64_t minute = 0;
    uint64_t in_minute = 0;
    int64_t day = 0;
    uint64_t in_day = 0;
    bool refused_today = false;
  };
  [[nodiscard]] absl::StatusOr<Count> Load(const std::string& key) const;

  store::Store& store_;
  const Clock clock_;
  std::mutex mu_;
  std::map<std::string, Count, std::less<>> counts_;  // read through: the store is the truth
};

}  // namespace casenode::node
