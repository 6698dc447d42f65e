#include "node/audit/alarms.h"

#include <sodium.h>

#include <algorithm>

#include "base/encoding.h"
#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node {
namespace {

constexpr auto kRetryFirst = std::chrono::milliseconds(500);
constexpr auto kRetryMax = std::chrono::milliseconds(60000);
constexpr auto kKeepFor = std::chrono::days(400);  // a year of alarms and some, for the auditor's review
constexpr size_t kMaxAlarmBytes = 1024;

std::string RaisedKey(int64_t time_ms, const std::string& id) {
  std::string key = "r";
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(static_cast<uint64_t>(time_ms) >> (8 * i)));
  return key + id;
}

std::string NewAlarmId() {
  uint8_t raw[16];
  randombytes_buf(raw, sizeof raw);
  return HexEncode(raw);
}

std::string_view KindName(v1::QuotaAlarm::Kind kind) {
  return kind == v1::QuotaAlarm::EXHAUSTED ? "exhausted" : "threshold_reached";
}

}  // namespace

Alarms::Alarms(const network::Network& network, store::Store& store, Report report, Clock clock)
    : network_(network),
      store_(store),
      report_(std::move(report)),
      clock_(std::move(clock)),
      loop_([this] { return DeliverDue(); }) {}

absl::Status Alarms::Put(const std::string& key, const v1::QuotaAlarm& alarm, store::Durability durability) {
  store::Record r;
  r.family = store::Family::kQuotas;
  r.data_key = keys::DataKeyRef{keys::DataKeyKind::kNode, {}};
  r.key = key;
  r.plaintext = alarm.SerializeAsString();
  r.expires_at = std::chrono::time_point_cast<std::chrono::seconds>(clock_() + kKeepFor);
  return store_.Put(r, durability);
}

void Alarms::Raise(v1::QuotaAlarm alarm) {
  alarm.set_alarm_id(NewAlarmId());
  alarm.set_reporter_org(network_.self_org());
  alarm.set_time_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count());
  alarm.set_delivered(false);
  const absl::Status stored = Put(RaisedKey(alarm.time_ms(), alarm.alarm_id()), alarm, store::Durability::kBuffered);
  Log(LogLevel::kWarn, "quota.alarm",
      {{"requester_org", alarm.requester_org()},
       {"action", alarm.action()},
       {"kind", KindName(alarm.kind())},
       {"used", static_cast<int64_t>(alarm.used())},
       {"per_day", static_cast<int64_t>(alarm.per_day())},
       {"stored", stored.ok()}});
  loop_.Kick();
}

absl::Status Alarms::Receive(const std::string& reporter_org, const v1::QuotaAlarm& reported) {
  // Only the checked fields are kept (no unknown fields, no size beyond
  // them); the time is this node's, the reporter the caller's certificate.
  if (network_.manifest()->FindOrg(reported.requester_org()) == nullptr) {
    return Error(Reason::kUnknownOrg, "alarm.requester_org: not an organisation in the manifest");
  }
  v1::QuotaAlarm alarm;
  alarm.set_alarm_id(reported.alarm_id());
  alarm.set_reporter_org(reporter_org);
  alarm.set_requester_org(reported.requester_org());
  alarm.set_action(reported.action());
  alarm.set_kind(reported.kind());
  alarm.set_used(reported.used());
  alarm.set_per_day(reported.per_day());
  alarm.set_day(reported.day());
  alarm.set_time_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count());
  alarm.set_delivered(true);
  std::string key = StrCat("a", reporter_org);
  key.push_back('\0');
  key += alarm.alarm_id();
  RETURN_IF_ERROR(Put(key, alarm, store::Durability::kSynced));
  Log(LogLevel::kWarn, "quota.alarm_received",
      {{"reporter_org", reporter_org},
       {"requester_org", alarm.requester_org()},
       {"action", alarm.action()},
       {"kind", KindName(alarm.kind())},
       {"used", static_cast<int64_t>(alarm.used())}});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::QuotaAlarm>> Alarms::List() const {
  std::vector<v1::QuotaAlarm> received, raised;
  int unreadable = 0;
  for (const auto& entry : {std::pair{"a", &received}, std::pair{"r", &raised}}) {
    const char* prefix = entry.first;
    std::vector<v1::QuotaAlarm>* into = entry.second;  // not a structured binding: clang 14 cannot capture one
    RETURN_IF_ERROR(store_.Scan(store::Family::kQuotas, prefix,
                                [&](std::string_view, const absl::StatusOr<std::string>& value) {
                                  v1::QuotaAlarm a;
                                  if (!value.ok() || value->size() > kMaxAlarmBytes || !a.ParseFromString(*value)) {
                                    ++unreadable;  // one bad record hides no other
                                    return;
                                  }
                                  into->push_back(std::move(a));
                                }));
  }
  if (unreadable > 0) Log(LogLevel::kError, "quota.alarm_unreadable", {{"records", int64_t{unreadable}}});
  std::stable_sort(received.begin(), received.end(),
                   [](const auto& x, const auto& y) { return x.time_ms() < y.time_ms(); });
  received.insert(received.end(), raised.begin(), raised.end());
  return received;
}

std::chrono::milliseconds Alarms::DeliverDue() {
  std::vector<std::pair<std::string, v1::QuotaAlarm>> due;
  const absl::Status scanned =
      store_.Scan(store::Family::kQuotas, "r", [&](std::string_view key, const absl::StatusOr<std::string>& value) {
        v1::QuotaAlarm a;
        if (value.ok() && value->size() <= kMaxAlarmBytes && a.ParseFromString(*value) && !a.delivered()) {
          due.emplace_back(std::string(key), std::move(a));
        }
      });
  if (!scanned.ok() || due.empty()) return kRetryMax;
  std::vector<network::ManifestNode> auditors;
  for (const auto& n : network_.manifest()->nodes) {
    if (n.role == network::Role::ROLE_AUDITOR && n.org != network_.self_org()) auditors.push_back(n);
  }
  // No auditor (yet): the alarms wait for one a later manifest names, and
  // are never marked delivered to nobody.
  if (auditors.empty()) return kRetryMax;
  bool all = true;
  for (auto& [key, alarm] : due) {
    if (loop_.stopping()) break;
    bool delivered = true;
    for (const auto& auditor : auditors) {
      const absl::Status sent = report_(auditor, alarm);
      if (!sent.ok()) {
        delivered = false;
        Log(LogLevel::kWarn, "quota.alarm_pending",
            {{"to_org", auditor.org}, {"status", absl::StatusCodeToString(sent.code())},
             {"reason", ReasonName(ReasonOf(sent))}});
      }
    }
    if (delivered) {
      alarm.set_delivered(true);
      if (!Put(key, alarm, store::Durability::kSynced).ok()) delivered = false;
    }
    all = all && delivered;
  }
  if (all) {
    failures_ = 0;
    return kRetryMax;
  }
  failures_ = std::min(failures_ + 1, 10);
  return std::min<std::chrono::milliseconds>(kRetryMax, kRetryFirst * (int64_t{1} << (failures_ - 1)));
}

}  // namespace casenode::node
