#include "node/gate/quota.h"

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node {
namespace {

constexpr size_t kCountBytes = 5 * 8;

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[at + i]);
  return v;
}

}  // namespace

absl::StatusOr<QuotaCounter::Count> QuotaCounter::Load(const std::string& key) const {
  absl::StatusOr<std::string> stored = store_.Get(store::Family::kQuotas, key);
  if (stored.status().code() == absl::StatusCode::kNotFound) return Count{};
  if (!stored.ok()) return stored.status();
  if (stored->size() != kCountBytes) return Error(Reason::kRecordCorrupt, "a quota count has the wrong size");
  Count c;
  c.minute = static_cast<int64_t>(GetU64(*stored, 0));
  c.in_minute = GetU64(*stored, 8);
  c.day = static_cast<int64_t>(GetU64(*stored, 16));
  c.in_day = GetU64(*stored, 24);
  c.refused_today = GetU64(*stored, 32) != 0;
  return c;
}

absl::StatusOr<QuotaCounter::Taken> QuotaCounter::Take(std::string_view org, std::string_view action,
                                                       const policy::Quota& quota) {
  const int64_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  const int64_t minute = seconds / 60;
  const int64_t day = seconds / 86400;
  std::string key = StrCat("c", org);
  key.push_back('\0');
  key += action;

  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    ASSIGN_OR_RETURN(Count loaded, Load(key));
    it = counts_.emplace(key, loaded).first;
  }
  Count next = it->second;
  // Windows only move forwards: a clock stepped back refills nothing.
  if (day > next.day) next = Count{minute, 0, day, 0, false};
  if (minute > next.minute) {
    next.minute = minute;
    next.in_minute = 0;
  }

  Taken taken;
  taken.day = next.day;
  taken.allowed = next.in_minute < quota.per_minute && next.in_day < quota.per_day;
  if (taken.allowed) {
    next.in_minute += 1;
    next.in_day += 1;
    // ceil(per_day * percent / 100): reached exactly once a day.
    const uint64_t at = (uint64_t{quota.per_day} * quota.alarm_percent + 99) / 100;
    // Crossed by this call (also after a reload lowered the quota below the count).
    taken.threshold_reached = next.in_day - 1 < at && next.in_day >= at;
  } else {
    // Only the day's first refusal is worth a write (and an alarm).
    taken.first_refusal = next.in_day >= quota.per_day && !next.refused_today;
    if (!taken.first_refusal) {
      taken.used_today = next.in_day;
      return taken;
    }
    next.refused_today = true;
  }
  taken.used_today = next.in_day;
  std::string value;
  value.reserve(kCountBytes);
  PutU64(value, static_cast<uint64_t>(next.minute));
  PutU64(value, next.in_minute);
  PutU64(value, static_cast<uint64_t>(next.day));
  PutU64(value, next.in_day);
  PutU64(value, next.refused_today ? 1 : 0);
  store::Record record;
  record.family = store::Family::kQuotas;
  record.data_key = keys::DataKeyRef{keys::DataKeyKind::kNode, {}};
  record.key = key;
  record.plaintext = std::move(value);
  record.expires_at = SystemTime(std::chrono::seconds((day + 2) * 86400));  // useless after its day
  RETURN_IF_ERROR(store_.Put(record, store::Durability::kBuffered));
  it->second = next;
  return taken;
}

}  // namespace casenode::node
