#include "node/audit/replay.h"

#include <algorithm>

#include "base/strings.h"
#include "casenode/v1/types.pb.h"
#include "node/audit/consent_state.h"
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
  return method == "Peer.LookupSignal" || method == "Peer.NotifySignal" || method == "Peer.ReadAudit" ||
         method == "Peer.ReadCase";
}

std::string Outcome(bool allowed, std::string_view rule, std::string_view reason) {
  return StrCat(allowed ? "allow" : "deny", " by ", std::string(rule), " (", std::string(reason), ")");
}

std::string AnswerKey(std::string_view trace_id, std::string_view span_id, std::string_view receipt_id) {
  return StrCat(std::string(trace_id), "/", std::string(span_id), "/", std::string(receipt_id));
}

// The fact a responder's verifier makes of an issuer's answer (consent/verifier.cc).
policy::ConsentStatus FactOf(v1::ConsentState state) {
  switch (state) {
    case v1::CONSENT_ACTIVE: return policy::ConsentStatus::kValid;
    case v1::CONSENT_REVOKED:
    case v1::CONSENT_UNKNOWN:
    case v1::CONSENT_UNCONFIRMED: return policy::ConsentStatus::kRevoked;
    default: return policy::ConsentStatus::kIssuerUnreachable;
  }
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
  if (entry.has_consent()) {
    ApplyConsent(seq, entry, report);
    return;
  }
  if (!entry.has_decision()) return;
  const v1::DecisionRecord& d = entry.decision();
  if (d.allowed() && Discloses(d.method())) {
    allowed_.erase(allowed_.begin(), allowed_.lower_bound(seq > kDisclosureWindow ? seq - kDisclosureWindow : 0));
    allowed_[seq] = Allowed{StrCat(entry.trace_id(), "/", entry.span_id(), "/", d.method()), d.requester_org(),
                            {d.categories().begin(), d.categories().end()}};
  }
  if (!InWindow(d.time_unix_ms())) return;
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
  const bool consent_differs = !DeriveConsents(seq, entry, it->second->consent_settings(), *request, report);
  const policy::Decision again = it->second->Evaluate(*request);
  const std::string_view reason = ReasonName(again.reason);
  // The gate turns an allow into a denial when the rule's rate limit is spent.
  const bool rate_limited = !d.allowed() && d.reason() == ReasonName(Reason::kRateLimited) && again.allowed() &&
                            again.rule_id == d.rule_id() && again.rate_limit_per_minute > 0 &&
                            again.request_digest == d.request_digest();
  // ... and when the caller's quota on the action is spent (policy [quota]).
  const bool quota_spent = !d.allowed() && d.reason() == ReasonName(Reason::kQuotaExhausted) && again.allowed() &&
                           again.rule_id == d.rule_id() &&
                           it->second->quota(request->action, request->requester_role) != nullptr &&
                           again.request_digest == d.request_digest();
  if (rate_limited || quota_spent) return;
  // With consent facts derived anew the request (and its digest) differs by
  // construction; only the outcome is compared then.
  if (again.allowed() != d.allowed() || again.rule_id != d.rule_id() || reason != d.reason() ||
      (!consent_differs && again.request_digest != d.request_digest())) {
    AddProblem(report, v1::AuditProblem::DECISION_DIFFERS, seq,
               StrCat("logged ", Outcome(d.allowed(), d.rule_id(), d.reason()), ", decided again ",
                      Outcome(again.allowed(), again.rule_id, reason)));
  }
}

void Replayer::CheckDisclosure(uint64_t seq, const v1::AuditEntry& entry, v1::AuditVerifyReport& report) {
  const v1::Disclosure& x = entry.disclosure();
  if (!InWindow(entry.time_unix_ms())) return;
  auto it = x.decision_seq() < seq ? allowed_.find(x.decision_seq()) : allowed_.end();
  if (it == allowed_.end() || it->second.org != x.to_org() ||
      it->second.call != StrCat(entry.trace_id(), "/", entry.span_id(), "/", x.method())) {
    AddProblem(report, v1::AuditProblem::DISCLOSURE_WITHOUT_DECISION, seq,
               StrCat(x.method(), " disclosed ", x.items(), " records to ", x.to_org(),
                      " with no allowing decision on that call before it"));
    return;
  }
  // Each category disclosed must be allowed by the call's decision, or by one
  // of the further decisions the same call took (a case read decides each
  // contribution's category after the call's own).
  auto covered = [&](const std::string& c) {
    for (auto d = it; d != allowed_.end() && d->first < seq; ++d) {
      if (d->second.call != it->second.call || d->second.org != x.to_org()) continue;
      if (std::find(d->second.categories.begin(), d->second.categories.end(), c) != d->second.categories.end()) {
        return true;
      }
    }
    return false;
  };
  for (const std::string& c : x.categories()) {
    if (!covered(c)) {
      AddProblem(report, v1::AuditProblem::DISCLOSURE_WITHOUT_DECISION, seq,
                 StrCat(x.method(), " disclosed category ", c, " to ", x.to_org(), ", which its decision did not cover"));
      return;
    }
  }
}

v1::ConsentState Replayer::StateOf(const std::string& receipt_id) const {
  auto it = receipts_.find(receipt_id);
  if (it == receipts_.end()) return v1::CONSENT_UNKNOWN;
  if (it->second.revoked) return v1::CONSENT_REVOKED;
  return it->second.hold_generation < hold_generation_ ? v1::CONSENT_UNCONFIRMED : v1::CONSENT_ACTIVE;
}

void Replayer::ApplyConsent(uint64_t seq, const v1::AuditEntry& entry, v1::AuditVerifyReport& report) {
  const v1::ConsentEvent& c = entry.consent();
  const bool judged = InWindow(entry.time_unix_ms());
  auto problem = [&](std::string detail) {
    if (judged) AddProblem(report, v1::AuditProblem::CONSENT_STATE_DIFFERS, seq, std::move(detail));
  };
  if (c.issuer_org() != org_) {
    // A node records, revokes, holds and answers for its own receipts only.
    problem(StrCat("a consent event about receipt ", c.receipt_id(), " of ", c.issuer_org(), " in the log of ", org_));
    return;
  }
  switch (c.kind()) {
    case v1::ConsentEvent::RECORDED:
      if (!receipts_.try_emplace(c.receipt_id(), Receipt{false, c.hold_generation()}).second) {
        problem(StrCat("receipt ", c.receipt_id(), " recorded twice"));
      }
      return;
    case v1::ConsentEvent::REVOKED:
      receipts_[c.receipt_id()].revoked = true;
      return;
    case v1::ConsentEvent::HELD:
      hold_generation_ = std::max(hold_generation_, c.hold_generation());
      return;
    case v1::ConsentEvent::CONFIRMED: {
      auto it = receipts_.find(c.receipt_id());
      if (it == receipts_.end() || it->second.revoked) {
        problem(StrCat("receipt ", c.receipt_id(), " confirmed while its log had it ", ConsentStateText(StateOf(c.receipt_id()))));
        return;
      }
      it->second.hold_generation = c.hold_generation();
      return;
    }
    case v1::ConsentEvent::STATUS_ANSWERED: {
      const v1::ConsentState expected = StateOf(c.receipt_id());
      if (LoggedState(c) != expected) {
        problem(StrCat("answered ", ConsentStateText(LoggedState(c)), " about receipt ", c.receipt_id(), " to ", c.asker_org(),
                       ", which its log had left ", ConsentStateText(expected)));
      }
      if (c.asker_org() == org_) {
        answers_.erase(answers_.begin(), answers_.lower_bound(seq > kDisclosureWindow ? seq - kDisclosureWindow : 0));
        answers_[seq] = Answer{AnswerKey(entry.trace_id(), entry.span_id(), c.receipt_id()), LoggedState(c)};
      }
      return;
    }
    default:
      return;
  }
}

bool Replayer::DeriveConsents(uint64_t seq, const v1::AuditEntry& entry, const policy::ConsentSettings& settings,
                              policy::Request& request, v1::AuditVerifyReport& report) {
  const v1::DecisionRecord& d = entry.decision();
  bool same = true;
  for (size_t i = 0; i < request.consents.size(); ++i) {
    policy::ConsentFact& fact = request.consents[i];
    // Forged, expired, age rule and unknown issuer follow from the receipt
    // itself, which the log does not hold; the rest from an issuer's answer.
    if (fact.status != policy::ConsentStatus::kValid && fact.status != policy::ConsentStatus::kRevoked &&
        fact.status != policy::ConsentStatus::kIssuerUnreachable) {
      continue;
    }
    const v1::ConsentCheck* check = nullptr;
    for (const v1::ConsentCheck& c : d.consent_checks()) {
      if (c.fact_index() == i && c.receipt_id() == fact.receipt_id) check = &c;
    }
    policy::ConsentStatus derived = policy::ConsentStatus::kIssuerUnreachable;
    std::string why = "it names no answer from its issuer";
    if (check != nullptr) {
      const v1::ConsentState answered = LoggedState(*check);
      derived = FactOf(answered);
      why = StrCat("its issuer ", check->issuer_org(), " answered ", ConsentStateText(answered));
      const int64_t age = check->age_ms();
      const int64_t logged_age = d.time_unix_ms() - check->answered_at_unix_ms();  // by the log's own times
      const bool fresh_enough =
          age >= 0 && (age == 0 || age < int64_t{settings.status_cache_seconds} * 1000 ||
                       (settings.allow_stale && age <= int64_t{settings.max_stale_seconds} * 1000));
      if (!fresh_enough) {
        derived = policy::ConsentStatus::kIssuerUnreachable;
        why = StrCat("it rests on an answer ", age, " ms old, older than its policy allows");
      } else if (logged_age < -kClockSlackMs || logged_age > age + kClockSlackMs) {
        derived = policy::ConsentStatus::kIssuerUnreachable;
        why = StrCat("it rests on an answer said to be ", age, " ms old, asked ", logged_age, " ms before the decision");
      } else if (check->issuer_org() == org_) {
        auto a = answers_.find(check->answer_seq());
        if (a == answers_.end() || a->first >= seq || age != 0 ||
            a->second.call != AnswerKey(entry.trace_id(), entry.span_id(), check->receipt_id()) ||
            a->second.state != answered) {
          derived = policy::ConsentStatus::kIssuerUnreachable;
          why = StrCat("this node's own answer ", ConsentStateText(answered), " is not logged at seq ", check->answer_seq(),
                       " on that call");
        }
      }
    }
    if (derived != fact.status) {
      AddProblem(report, v1::AuditProblem::CONSENT_STATE_DIFFERS, seq,
                 StrCat("receipt ", fact.receipt_id, " logged as ", policy::ConsentStatusName(fact.status), ", but ",
                        why));
      fact.status = derived;
      same = false;
    }
  }
  return same;
}

}  // namespace casenode::node
