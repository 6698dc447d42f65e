// The durable quota counts behind the policy's [quota] tables (node/gate/quota.h),
// with injected time: windows, restarts, alarms, and the network-wide bound
// that follows when any t of n holders suffice.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

#include "node/gate/quota.h"
#include "tests/support/stores.h"

using namespace casenode;

namespace {

constexpr std::string_view kAction = "pseudonym.evaluate";

// Takes until refused; returns how many were allowed.
int TakeAll(node::QuotaCounter& q, std::string_view org, const policy::Quota& quota) {
  int allowed = 0;
  for (;;) {
    auto t = q.Take(org, kAction, quota);
    INFO(t.status());
    REQUIRE(t.ok());
    if (!t->allowed) return allowed;
    ++allowed;
  }
}

}  // namespace

TEST_CASE("a quota bounds each calendar minute and each UTC day, per organisation and action", "[quota]") {
  testing::Stores s;
  s.now = *ParseRfc3339("2026-12-07T10:00:00Z", "t");
  node::QuotaCounter q(*s.store, s.clock());
  const policy::Quota quota{5, 12, 80};
  REQUIRE(TakeAll(q, "school", quota) == 5);  // the minute's bound
  auto other = q.Take("politie", kAction, quota);
  REQUIRE((other.ok() && other->allowed));  // another organisation counts apart
  auto other_action = q.Take("school", "signal.notify", quota);
  REQUIRE((other_action.ok() && other_action->allowed));  // and another action
  s.now += std::chrono::seconds(59);
  REQUIRE(TakeAll(q, "school", quota) == 0);  // same minute
  s.now += std::chrono::seconds(1);
  REQUIRE(TakeAll(q, "school", quota) == 5);
  s.now += std::chrono::minutes(1);
  REQUIRE(TakeAll(q, "school", quota) == 2);  // the day's bound: 12
  s.now += std::chrono::hours(2);
  REQUIRE(TakeAll(q, "school", quota) == 0);
  s.now = *ParseRfc3339("2026-12-08T00:00:00Z", "t");  // a new UTC day
  REQUIRE(TakeAll(q, "school", quota) == 5);
}

TEST_CASE("a restart refills no quota: the counts are read back from the store", "[quota]") {
  testing::Stores s;
  s.now = *ParseRfc3339("2026-12-07T10:00:30Z", "t");
  const policy::Quota quota{5, 8, 80};
  {
    node::QuotaCounter q(*s.store, s.clock());
    REQUIRE(TakeAll(q, "school", quota) == 5);
  }
  {
    node::QuotaCounter restarted(*s.store, s.clock());
    REQUIRE(TakeAll(restarted, "school", quota) == 0);  // same minute, after the restart
    s.now += std::chrono::minutes(1);
    REQUIRE(TakeAll(restarted, "school", quota) == 3);  // the day's rest
  }
  // And after the store itself is closed and opened again.
  s.store.reset();
  auto reopened = store::Store::Open(s.dir.path("records"), *s.key_store, s.clock());
  REQUIRE(reopened.ok());
  s.store = *std::move(reopened);
  node::QuotaCounter again(*s.store, s.clock());
  s.now += std::chrono::minutes(1);
  REQUIRE(TakeAll(again, "school", quota) == 0);
}

TEST_CASE("reaching alarm_percent and the day's first refusal are each reported once", "[quota]") {
  testing::Stores s;
  s.now = *ParseRfc3339("2026-12-07T10:00:00Z", "t");
  node::QuotaCounter q(*s.store, s.clock());
  const policy::Quota quota{100, 10, 75};  // alarm at ceil(7.5) = 8
  int thresholds = 0, first_refusals = 0;
  for (int i = 0; i < 30; ++i) {
    auto t = q.Take("school", kAction, quota);
    REQUIRE(t.ok());
    if (t->threshold_reached) {
      ++thresholds;
      CHECK(t->used_today == 8);
      CHECK(i == 7);
    }
    if (t->first_refusal) {
      ++first_refusals;
      CHECK(i == 10);
      CHECK(t->used_today == 10);
    }
    CHECK(t->allowed == (i < 10));
  }
  CHECK(thresholds == 1);
  CHECK(first_refusals == 1);
  // Not again after a restart on the same day.
  node::QuotaCounter restarted(*s.store, s.clock());
  auto t = restarted.Take("school", kAction, quota);
  REQUIRE(t.ok());
  CHECK_FALSE(t->allowed);
  CHECK_FALSE(t->first_refusal);
}

// Any t of n holders suffice for one derivation, and each holder counts its
// own evaluations: the network-wide bound on derivations by one requester
// per day is floor(n * per_day / t). A requester that picks its holder sets
// as well as it can (always the t with the most quota left) reaches it
// exactly; none gets beyond it, whatever sets it tries in whatever order.
TEST_CASE("the network-wide bound is floor(n x per_day / t), over every holder subset", "[quota]") {
  const policy::Quota quota{1000, 7, 80};
  for (const auto& [t, n] : {std::pair{2, 3}, std::pair{2, 4}, std::pair{3, 5}, std::pair{2, 5}}) {
    std::vector<std::unique_ptr<testing::Stores>> holders;
    std::vector<std::unique_ptr<node::QuotaCounter>> counters;
    for (int i = 0; i < n; ++i) {
      holders.push_back(std::make_unique<testing::Stores>());
      counters.push_back(std::make_unique<node::QuotaCounter>(*holders.back()->store, holders.back()->clock()));
    }
    std::vector<int> left(n, static_cast<int>(quota.per_day));
    int derived = 0;
    // Greedy: the t holders with the most left; each asked one evaluation.
    for (;;) {
      std::vector<int> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return left[a] > left[b]; });
      int granted = 0;
      for (int k = 0; k < t; ++k) {
        auto taken = counters[order[k]]->Take("school", kAction, quota);
        REQUIRE(taken.ok());
        if (taken->allowed) {
          ++granted;
          --left[order[k]];
        }
      }
      if (granted < t) break;
      ++derived;
    }
    INFO("t = " << t << ", n = " << n);
    CHECK(derived == n * static_cast<int>(quota.per_day) / t);
    // Nothing is left anywhere that t holders could still give together.
    int holders_with_quota = 0;
    for (int i = 0; i < n; ++i) {
      auto taken = counters[i]->Take("school", kAction, quota);
      REQUIRE(taken.ok());
      holders_with_quota += taken->allowed ? 1 : 0;
    }
    CHECK(holders_with_quota < t);
  }
}

TEST_CASE("a clock stepped back refills nothing, and a lowered quota still raises its alarms", "[quota]") {
  testing::Stores s;
  s.now = *ParseRfc3339("2026-12-07T10:00:00Z", "t");
  node::QuotaCounter q(*s.store, s.clock());
  const policy::Quota quota{100, 10, 80};
  REQUIRE(TakeAll(q, "school", quota) == 10);
  s.now -= std::chrono::hours(24);  // NTP fault, VM snapshot
  REQUIRE(TakeAll(q, "school", quota) == 0);
  s.now += std::chrono::hours(24);
  REQUIRE(TakeAll(q, "school", quota) == 0);

  // 6 used; a reload lowers per_day to 4: the next call is refused and is the
  // day's first refusal; raising it to 20 lets the alarm at 16 fire once.
  s.now = *ParseRfc3339("2026-12-09T10:00:00Z", "t");
  for (int i = 0; i < 6; ++i) REQUIRE(q.Take("politie", "pseudonym.evaluate", quota)->allowed);
  auto lowered = q.Take("politie", "pseudonym.evaluate", policy::Quota{100, 4, 50});
  REQUIRE(lowered.ok());
  CHECK_FALSE(lowered->allowed);
  CHECK(lowered->first_refusal);
  CHECK(lowered->used_today == 6);
  int alarms = 0;
  for (int i = 0; i < 14; ++i) {
    auto t = q.Take("politie", "pseudonym.evaluate", policy::Quota{100, 20, 80});
    REQUIRE(t.ok());
    REQUIRE(t->allowed);
    alarms += t->threshold_reached ? 1 : 0;
  }
  CHECK(alarms == 1);
}
