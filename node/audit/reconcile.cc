#include "node/audit/reconcile.h"

#include "node/audit/consent_state.h"
#include "casenode/v1/types.pb.h"

namespace casenode::node {
namespace {

constexpr int kMaxUnbacked = 1000;  // listed; the rest are counted

// Outcomes that mean the callee's gate decided the call, and so logged it.
bool CalleeDecided(std::string_view outcome) {
  return outcome == "OK" || outcome == "PERMISSION_DENIED" || outcome == "RESOURCE_EXHAUSTED";
}

}  // namespace

void Reconciler::Add(const std::string& org, uint64_t seq, std::string_view leaf) {
  v1::AuditEntry e;
  if (!e.ParseFromArray(leaf.data(), static_cast<int>(leaf.size()))) return;  // verify/replay report it
  if (e.has_consent() && e.consent().kind() == v1::ConsentEvent::STATUS_ANSWERED) {
    const v1::ConsentEvent& c = e.consent();
    // Only an issuer's own log can back its answers.
    if (c.issuer_org() == org) {
      answered_[{org, e.trace_id(), e.span_id(), c.receipt_id()}] = {c.asker_org(), LoggedState(c), e.time_unix_ms()};
    }
    return;
  }
  if (!e.has_call_sent() && !e.has_decision()) return;
  if (e.has_decision() && e.time_unix_ms() <= cutoff_ms_) {
    for (const v1::ConsentCheck& c : e.decision().consent_checks()) {
      if (c.issuer_org() == org) continue;  // its own answer: its replay pairs it
      Relied& r = relied_.emplace_back();
      r.trace_id = c.trace_id();
      r.span_id = c.span_id();
      r.asked_ms = c.answered_at_unix_ms();
      v1::UnbackedConsent& u = r.decision;
      u.set_org(org);
      u.set_seq(seq);
      u.set_receipt_id(c.receipt_id());
      u.set_issuer_org(c.issuer_org());
      u.set_state_relied(LoggedState(c));
    }
  }
  if (e.trace_id() == skip_trace_) return;
  if (e.span_id().empty()) return;  // a caller that sent no trace context cannot be paired
  const Key key{e.trace_id(), e.span_id()};
  if (e.has_call_sent()) {
    sent_[key] = {org, seq, e.call_sent().method(), e.call_sent().peer_org(), e.call_sent().outcome(),
                  e.time_unix_ms()};
  } else {
    const v1::DecisionRecord& d = e.decision();
    received_[key] = {org, seq, d.method(), d.requester_org(), d.allowed() ? "allowed" : d.reason(),
                      e.time_unix_ms()};
  }
}

v1::AuditReconcileReport Reconciler::Finish(const std::set<std::string>& read) {
  v1::AuditReconcileReport report;
  for (const auto& org : read) report.add_nodes(org);
  uint64_t paired = 0;
  auto one_sided = [&](const Key& key, const Side& side, bool is_sent) {
    if (side.time_ms > cutoff_ms_) {
      ++in_flight_;
      return;
    }
    v1::OneSidedCall* c = report.add_one_sided();
    c->set_trace_id(key.first);
    c->set_span_id(key.second);
    c->set_method(side.method);
    c->set_caller_org(is_sent ? side.org : side.other_org);
    c->set_callee_org(is_sent ? side.other_org : side.org);
    c->set_logged_by(side.org);
    c->set_seq(side.seq);
    c->set_outcome(side.outcome);
  };
  for (const auto& [key, side] : sent_) {
    if (received_.contains(key)) {
      ++paired;
      continue;
    }
    // The callee answered but has no record of deciding: one-sided (if its log was read).
    if (CalleeDecided(side.outcome) && read.contains(side.other_org)) one_sided(key, side, true);
  }
  for (const auto& [key, side] : received_) {
    if (sent_.contains(key)) continue;
    // A decision on a call its caller has no record of making.
    if (read.contains(side.other_org)) one_sided(key, side, false);
  }
  report.set_calls_paired(paired);
  uint64_t checks_paired = 0;
  for (Relied& r : relied_) {
    v1::UnbackedConsent& u = r.decision;
    if (!read.contains(u.issuer_org())) continue;
    auto it = answered_.find({u.issuer_org(), r.trace_id, r.span_id, u.receipt_id()});
    const Answered* a = it != answered_.end() && it->second.asker == u.org() ? &it->second : nullptr;
    if (a == nullptr) {
      u.set_why("the issuer's log has no answer to it on that call");
    } else if (a->state != u.state_relied()) {
      u.set_state_answered(a->state);
      u.set_why("the issuer answered otherwise");
    } else if (a->time_ms < r.asked_ms - skew_ms_ || a->time_ms > r.asked_ms + skew_ms_) {
      u.set_state_answered(a->state);
      u.set_why("the issuer answered at another time than the decider says it asked");
    } else {
      ++checks_paired;
      continue;
    }
    if (report.unbacked_consents_size() >= kMaxUnbacked) {
      report.set_unbacked_not_listed(report.unbacked_not_listed() + 1);
      continue;
    }
    *report.add_unbacked_consents() = std::move(u);
  }
  report.set_consent_checks_paired(checks_paired);
  report.set_in_flight(in_flight_);
  return report;
}

}  // namespace casenode::node
