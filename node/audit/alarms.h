// Alarms: quota alarms (policy [quota]; QuotaAlarm in types.proto). The node
// that counted raises one when a requester reaches a quota's alarm_percent or
// is first refused on a day; it is logged, counted in the metrics by the
// caller, stored, and delivered in the background to every auditor node of
// the network, which keeps it for `casectl audit alarms`: enumeration is
// seen, not only slowed. Records in the store's "quotas" family (no child,
// no person):
//   'r' | time_ms (u64be) | alarm id       -> QuotaAlarm  raised here; delivered once every auditor has it
//   'a' | reporter org | 0 | alarm id      -> QuotaAlarm  received (auditor nodes)
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "base/wake_loop.h"
#include "casenode/v1/types.pb.h"
#include "network/network.h"
#include "store/store.h"

namespace casenode::node {

class Alarms {
 public:
  // Sends one alarm to one auditor node (PeerClient::ReportAlarm).
  using Report = std::function<absl::Status(const network::ManifestNode& auditor, const v1::QuotaAlarm& alarm)>;
  Alarms(const network::Network& network, store::Store& store, Report report, Clock clock);
  ~Alarms() { Stop(); }
  Alarms(const Alarms&) = delete;
  Alarms& operator=(const Alarms&) = delete;

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

  // Raises `alarm` (alarm_id, reporter_org and time_ms are set here): logs
  // it, stores it (buffered: the decision record that follows syncs it) and
  // wakes the delivery. A failure to store is logged; the alarm's decision
  // is refused or allowed as it was.
  void Raise(v1::QuotaAlarm alarm);
  // Keeps an alarm `reporter_org` reported (idempotent per reporter and id):
  // its checked fields only, stamped with this node's time. UNKNOWN_ORG if
  // it names a requester the manifest does not list.
  [[nodiscard]] absl::Status Receive(const std::string& reporter_org, const v1::QuotaAlarm& reported);
  // Alarms received, then those raised here, each oldest first; records that
  // cannot be read are skipped (and logged), so none hides the others.
  [[nodiscard]] absl::StatusOr<std::vector<v1::QuotaAlarm>> List() const;

 private:
  std::chrono::milliseconds DeliverDue();
  [[nodiscard]] absl::Status Put(const std::string& key, const v1::QuotaAlarm& alarm, store::Durability durability);

  const network::Network& network_;
  store::Store& store_;
  const Report report_;
  const Clock clock_;
  int failures_ = 0;  // the delivery thread's: consecutive passes that left alarms undelivered
  WakeLoop loop_;     // last: stopped before the rest goes
};

}  // namespace casenode::node
