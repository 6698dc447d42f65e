#include "node/gate/gate.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <sodium.h>

#include <algorithm>

#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "casenode/v1/types.pb.h"
#include "keys/nonce.h"
#include "node/audit/subject_seal.h"

namespace casenode::node {

void PeerGate::SetPolicy(std::shared_ptr<const policy::Policy> policy) {
  policy_.Store(std::move(policy));
}

std::shared_ptr<const policy::Policy> PeerGate::policy() const {
  return policy_.Load();
}

absl::Status PeerGate::Decide(const grpc::ServerContext& context, PeerCall& call, std::string_view method,
                              const PeerCallFacts& facts) {
  const auto& md = context.client_metadata();
  std::string attached;
  const auto it = md.find(kConsentHeader);
  if (it != md.end()) attached.assign(it->second.data(), it->second.size());
  RETURN_IF_ERROR(Evaluate(call, method, facts, it != md.end() ? &attached : nullptr, NestedDeadline(context)));
  if (call.decision.allowed()) return absl::OkStatus();
  return Denial(facts, call.decision);
}

absl::StatusOr<PeerCall> PeerGate::DecideAlso(const PeerCall& call, std::string_view method,
                                              const PeerCallFacts& facts, Deadline deadline) {
  PeerCall again = call;
  RETURN_IF_ERROR(Evaluate(again, method, facts, nullptr, deadline, /*synced_by_disclosure=*/true));
  return again;
}

absl::StatusOr<PeerCall> PeerGate::DecideOwn(std::string_view method, const PeerCallFacts& facts,
                                             const std::string& trace_id, Deadline deadline) {
  RETURN_IF_ERROR(network_.CheckFresh());
  PeerCall call;
  const network::ManifestNode self = network_.self();
  call.caller = network::Caller{self.org, self.role};
  call.trace_id = trace_id;
  RETURN_IF_ERROR(Evaluate(call, method, facts, nullptr, deadline));
  return call;
}

absl::Status PeerGate::Denial(const PeerCallFacts& facts, const policy::Decision& decision) {
  return Error(decision.reason, StrCat("policy denies ", facts.action, " for purpose ", facts.purpose, ": ",
                                       ReasonName(decision.reason), " (rule ", decision.rule_id, ")"));
}

absl::Status PeerGate::Evaluate(PeerCall& call, std::string_view method, const PeerCallFacts& facts,
                                const std::string* attached, Deadline deadline, bool synced_by_disclosure) {
  const std::shared_ptr<const policy::Policy> policy_now = policy();  // one version for the whole call
  policy::Request req;
  // The policy sees which receipts are about the call's child, never who the
  // child is: the call's subject is the token kThisChild, a receipt about it
  // gets the same token, and any other receipt kAnotherChild. Decisions can
  // be taken again from the stored request, which names no child (only the
  // ids of receipts it relied on link decisions resting on the same receipt:
  // README, known limits).
  if (facts.subject) req.subject = policy::kThisChild;
  req.requester_org = call.caller.org;
  req.requester_role = std::string(network::RoleName(call.caller.role));
  req.action = facts.action;
  req.purpose = facts.purpose;
  req.categories = facts.categories;
  req.legal_basis = facts.legal_basis;
  req.consents = facts.consents;
  std::vector<v1::ConsentCheck> checks;  // the answers the receipts' facts rest on, for the log
  v1::ConsentReceiptList list;
  if (attached != nullptr) {
    if (!list.ParseFromString(*attached) || list.receipts_size() > kMaxReceiptsPerCall) {
      return Error(Reason::kMalformedConsentReceipt, StrCat(kConsentHeader, ": expected at most ", kMaxReceiptsPerCall,
                                                          " consent receipts"));
    }
  }
  for (const auto& own : facts.receipts) *list.add_receipts() = own;
  if (!list.receipts().empty()) {
    const auto manifest = network_.manifest();
    const consent::CallTrace trace{call.trace_id, call.span_id};
    for (const auto& proto : list.receipts()) {
      auto receipt = consent::FromProto(proto);
      if (!receipt.ok()) return WithReason(receipt.status(), Reason::kMalformedConsentReceipt);
      const bool same_child =
          facts.subject && sodium_memcmp(receipt->subject.data(), facts.subject->data(), facts.subject->size()) == 0;
      consent::Verified verified =
          verifier_.Verify(*receipt, *manifest, policy_now->consent_settings(), deadline, &trace);
      req.consents.push_back(
          consent::ToFact(*receipt, verified.status, same_child ? policy::kThisChild : policy::kAnotherChild));
      if (verified.check) {
        verified.check->set_fact_index(static_cast<uint32_t>(req.consents.size() - 1));
        checks.push_back(*std::move(verified.check));
      }
    }
  }
  req.case_member = facts.case_member;
  req.case_active = facts.case_active;
  req.within_retention = facts.within_retention;
  call.decision = policy_now->Evaluate(req);
  if (call.decision.allowed() && call.decision.rate_limit_per_minute > 0 &&
      !limiter_.Allow(call.caller.org, call.decision.rule_id, call.decision.rate_limit_per_minute)) {
    call.decision.effect = policy::Effect::kDeny;
    call.decision.reason = Reason::kRateLimited;
  }
  if (call.decision.allowed()) {
    if (const policy::Quota* quota = policy_now->quota(facts.action, req.requester_role)) {
      absl::StatusOr<QuotaCounter::Taken> taken = quotas_.Take(call.caller.org, facts.action, *quota);
      if (!taken.ok()) {
        return Error(Reason::kDecisionNotRecorded, "cannot count the call against its quota; refusing to answer");
      }
      if (!taken->allowed) {
        call.decision.effect = policy::Effect::kDeny;
        call.decision.reason = Reason::kQuotaExhausted;
      }
      if ((taken->threshold_reached || taken->first_refusal) && alarm_) {
        v1::QuotaAlarm alarm;
        alarm.set_requester_org(call.caller.org);
        alarm.set_action(facts.action);
        alarm.set_kind(taken->first_refusal ? v1::QuotaAlarm::EXHAUSTED : v1::QuotaAlarm::THRESHOLD_REACHED);
        alarm.set_used(taken->used_today);
        alarm.set_per_day(quota->per_day);
        alarm.set_day(taken->day);
        alarm_(std::move(alarm));
      }
    }
  }
  // Fail closed: an answer whose decision cannot be recorded is not given.
  absl::StatusOr<std::string> sealed = std::string();
  if (facts.subject) sealed = SealSubject(keys_, *facts.subject, call.decision.allowed());
  if (!sealed.ok()) {
    return Error(Reason::kDecisionNotRecorded, "cannot seal the decision's subject; refusing to answer");
  }
  const DecisionEvent event{method, call.trace_id, call.span_id, call.caller.role, &req, &call.decision, *sealed,
                            &checks};
  // A decision that involved a consent receipt is about a child: never
  // buffered, unless a synced disclosure after it comes before any answer.
  const store::Durability durability = synced_by_disclosure   ? store::Durability::kBuffered
                                       : req.consents.empty() ? facts.decision_durability
                                                              : store::Durability::kSynced;
  if (absl::Status stored = audit_.Append(event, durability, &call.decision_seq); !stored.ok()) {
    return Error(Reason::kDecisionNotRecorded, "cannot record the policy decision; refusing to answer");
  }
  if (observer_) observer_(req, call.decision);
  return absl::OkStatus();
}

absl::Status PeerGate::Disclose(const PeerCall& call, std::string_view method, std::vector<std::string> categories,
                                uint32_t items, const std::optional<std::array<uint8_t, 32>>& subject) {
  v1::AuditEntry e;
  e.set_trace_id(call.trace_id);
  e.set_span_id(call.span_id);
  v1::Disclosure& d = *e.mutable_disclosure();
  d.set_method(std::string(method));
  d.set_to_org(call.caller.org);
  for (auto& c : categories) d.add_categories(std::move(c));
  d.set_items(items);
  d.set_decision_seq(call.decision_seq);
  if (absl::Status s = AppendAbout(audit_, keys_, subject, std::move(e)); !s.ok()) {
    return Error(Reason::kDecisionNotRecorded, "cannot record what the answer discloses; refusing to answer");
  }
  return absl::OkStatus();
}

absl::StatusOr<PeerCall> PeerGate::Authenticate(const grpc::ServerContext& context) const {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  const auto pems = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                         : std::vector<grpc::string_ref>{};
  if (pems.empty()) {
    RETURN_IF_ERROR(network_.CheckFresh());  // an expired manifest is named first, as Identify does
    return Error(Reason::kPeerNoCertificate, "no client certificate");
  }
  PeerCall call;
  // Checks the manifest's expiry too, in the same snapshot.
  auto caller = network_.Identify(std::string_view(pems.front().data(), pems.front().size()));
  if (!caller.ok()) return caller.status();
  call.caller = *std::move(caller);
  call.trace_id = TraceIdOf(context);
  call.span_id = SpanIdOf(context);
  return call;
}

void PeerGate::Record(std::string_view method, const PeerCall* call, const absl::Status& status,
                      std::chrono::steady_clock::time_point start) const {
  const LogLevel level = status.ok() ? LogLevel::kDebug : LogLevel::kWarn;
  if (!LogEnabled(level)) return;
  const int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  const std::string code(absl::StatusCodeToString(status.code()));
  const std::string_view reason = ReasonName(ReasonOf(status));
  if (call != nullptr) {
    Log(level, "peer.call",
        {{"method", method}, {"caller_org", call->caller.org}, {"caller_role", network::RoleName(call->caller.role)},
         {"trace_id", call->trace_id}, {"rule", call->decision.rule_id}, {"status", code}, {"reason", reason},
         {"duration_us", us}});
  } else {
    Log(level, "peer.refused", {{"method", method}, {"status", code}, {"reason", reason}});
  }
}

}  // namespace casenode::node
