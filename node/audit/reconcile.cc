#include "node/audit/reconcile.h"

#include "casenode/v1/types.pb.h"

namespace casenode::node {
namespace {

// Outcomes that mean the callee's gate decided the call, and so logged it.
bool CalleeDecided(std::string_view outcome) {
  return outcome == "OK" || outcome == "PERMISSION_DENIED" || outcome == "RESOURCE_EXHAUSTED";
}

}  // namespace

void Reconciler::Add(const std::string& org, uint64_t seq, std::string_view leaf) {
  v1::AuditEntry e;
  if (!e.ParseFromArray(leaf.data(), static_cast<int>(leaf.size()))) return;  // verify/replay report it
  if (!e.has_call_sent() && !e.has_decision()) return;
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
  report.set_in_flight(in_flight_);
  return report;
}

}  // namespace casenode::node
