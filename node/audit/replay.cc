#include "node/audit/replay.h"

#include <algorithm>

#include "base/strings.h"
#include "casenode/v1/types.pb.h"
#include "node/audit/problems.h"

namespace casenode::node {
namespace {

std::vector<policy::Source> Sources(const google::protobuf::RepeatedPtrField<v1::PolicyLoad::Source>& in) {
  std::vector<policy::Source> out;
  for (const auto& s : in) out.push_back({s.name(), s.text()});
  return out;
}

// The Peer methods whose answers disclose records (PeerGate::Disclose).
bool Discloses(std::string_view method) {
  return method == "Peer.LookupSignal" || method == "Peer.NotifySignal" || method == "Peer.ReadAudit";
}

std::string Outcome(bool allowed, std::string_view rule, std::string_view reason) {
  return StrCat(allowed ? "allow" : "deny", " by ", std::string(rule), " (", std::string(reason), ")");
}

}  // namespace

void Replayer::Add(uint64_t seq, std::string_view leaf, v1::AuditVerifyReport& report) {
  v1::AuditEntry entry;
  if (!entry.ParseFromArray(leaf.data(), static_cast<int>(leaf.size())) ||
      entry.event_case() == v1::AuditEntry::EVENT_NOT_SET) {
    AddProblem(report, v1::AuditProblem::ENTRY_MALFORMED, seq, "not an audit entry this replay can read");
    return;
  }
  if (entry.has_policy_load()) {
    const v1::PolicyLoad& load = entry.policy_load();
    if (load.policy_hash() != current_) {
      previous_ = current_;
      current_ = load.policy_hash();
    }
    if (policies_.contains(load.policy_hash())) return;
    auto compiled = policy::Policy::FromSources(Sources(load.network_sources()), Sources(load.local_sources()));
    if (!compiled.ok() || (*compiled)->hash() != load.policy_hash() ||
        (*compiled)->network_hash() != load.network_policy_hash()) {
      AddProblem(report, v1::AuditProblem::POLICY_LOAD_INVALID, seq,
                 compiled.ok() ? "the recorded sources do not give the recorded policy hash"
                               : StrCat("the recorded sources do not compile: ", std::string(compiled.status().message())));
      return;
    }
    policies_.emplace(load.policy_hash(), *std::move(compiled));
    return;
  }
  if (entry.has_disclosure()) {
    CheckDisclosure(seq, entry, report);
    return;
  }
  if (!entry.has_decision()) return;
  const v1::DecisionRecord& d = entry.decision();
  if (d.allowed() && Discloses(d.method())) {
    allowed_.erase(allowed_.begin(), allowed_.lower_bound(seq > kDisclosureWindow ? seq - kDisclosureWindow : 0));
    allowed_[seq] = Allowed{StrCat(entry.trace_id(), "/", entry.span_id(), "/", d.method()), d.requester_org(),
                            {d.categories().begin(), d.categories().end()}};
  }
  if ((since_ms_ != 0 && d.time_unix_ms() < since_ms_) || (until_ms_ != 0 && d.time_unix_ms() >= until_ms_)) return;
  ++replayed_;
  auto it = policies_.find(d.policy_hash());
  if (it == policies_.end()) {
    AddProblem(report, v1::AuditProblem::POLICY_UNKNOWN, seq,
               StrCat("decided under policy ", d.policy_hash(), ", which the log never recorded loading"));
    return;
  }
  if (d.policy_hash() != current_ && d.policy_hash() != previous_) {
    AddProblem(report, v1::AuditProblem::POLICY_NOT_IN_FORCE, seq,
               StrCat("decided under policy ", d.policy_hash(), ", which the log had replaced by ", current_));
  }
  absl::StatusOr<policy::Request> request = policy::ParseCanonicalRequest(d.canonical_request());
  if (!request.ok()) {
    AddProblem(report, v1::AuditProblem::DECISION_UNREADABLE, seq, "its canonical request cannot be read");
    return;
  }
  const policy::Decision again = it->second->Evaluate(*request);
  const std::string_view reason = ReasonName(again.reason);
  // The gate turns an allow into a denial when the rule's rate limit is spent.
  const bool rate_limited = !d.allowed() && d.reason() == ReasonName(Reason::kRateLimited) && again.allowed() &&
                            again.rule_id == d.rule_id() && again.rate_limit_per_minute > 0 &&
                            again.request_digest == d.request_digest();
  if (rate_limited) return;
  if (again.allowed() != d.allowed() || again.rule_id != d.rule_id() || reason != d.reason() ||
      again.request_digest != d.request_digest()) {
    AddProblem(report, v1::AuditProblem::DECISION_DIFFERS, seq,
               StrCat("logged ", Outcome(d.allowed(), d.rule_id(), d.reason()), ", decided again ",
                      Outcome(again.allowed(), again.rule_id, reason)));
  }
}

void Replayer::CheckDisclosure(uint64_t seq, const v1::AuditEntry& entry, v1::AuditVerifyReport& report) {
  const v1::Disclosure& x = entry.disclosure();
  const int64_t now = entry.time_unix_ms();
  if ((since_ms_ != 0 && now < since_ms_) || (until_ms_ != 0 && now >= until_ms_)) return;
  auto it = x.decision_seq() < seq ? allowed_.find(x.decision_seq()) : allowed_.end();
  if (it == allowed_.end() || it->second.org != x.to_org() ||
      it->second.call != StrCat(entry.trace_id(), "/", entry.span_id(), "/", x.method())) {
    AddProblem(report, v1::AuditProblem::DISCLOSURE_WITHOUT_DECISION, seq,
               StrCat(x.method(), " disclosed ", x.items(), " records to ", x.to_org(),
                      " with no allowing decision on that call before it"));
    return;
  }
  for (const std::string& c : x.categories()) {
    if (std::find(it->second.categories.begin(), it->second.categories.end(), c) == it->second.categories.end()) {
      AddProblem(report, v1::AuditProblem::DISCLOSURE_WITHOUT_DECISION, seq,
                 StrCat(x.method(), " disclosed category ", c, " to ", x.to_org(), ", which its decision did not cover"));
      return;
    }
  }
}

}  // namespace casenode::node
