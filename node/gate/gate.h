// PeerGate: the one place every Peer call passes before its handler runs.
//
// 1. Authenticates: the caller's verified client certificate is mapped to its
//    manifest entry; its organisation and role come from there, never from
//    the request.
// 2. Decides: consent receipts attached as metadata (kConsentHeader) are
//    verified (signature, validity, age rule, revocation at the issuer); the
//    policy in force evaluates the call (action, purpose, data categories,
//    legal basis, consent facts, case facts); a rule's rate limit is enforced
//    per caller, and the policy's quota on the action for the caller's role
//    is counted durably per caller organisation (quota.h): beyond it the call
//    is refused (QUOTA_EXHAUSTED), and nearing it raises an alarm.
// 3. Records: every decision is an entry of the AuditLog (store family
//    "audit"), with the child it concerns sealed under the child's data key
//    (subject_seal.h), so an inzage finds it and shredding unlinks it. A decision about personal data is durable before the
//    answer; if it cannot be written the call fails (UNAVAILABLE) and the
//    handler does not run — logging fails closed.
// 4. Only an allowed call reaches the handler, which gets the caller and the
//    decision, and records what its answer discloses (Disclose) before it
//    returns. Denials are PERMISSION_DENIED (INVALID_ARGUMENT for names the
//    vocabulary lacks, RESOURCE_EXHAUSTED when rate limited) with the reason
//    code in the status details.
// Thread-safe; the policy is swapped whole on reload.
#pragma once

#include <grpcpp/server_context.h>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "node/consent/verifier.h"
#include "node/audit/audit_log.h"
#include "base/log.h"
#include "base/snapshot_cell.h"
#include "network/network.h"
#include "node/gate/quota.h"
#include "node/gate/rate_limiter.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"
#include "store/store.h"
#include "policy/policy.h"

namespace casenode::node {

// What a Peer method asks for, in the policy's terms. Set by each method from
// its request (or fixed, for calls such as Ping).
struct PeerCallFacts {
  // The child the call is about (its network pseudonym), if any. Only a
  // receipt about this child can cover the call; the policy and the decision
  // record see a token, never the pseudonym (see gate.cc).
  std::optional<std::array<uint8_t, 32>> subject;
  std::string action;
  std::string purpose;
  std::vector<std::string> categories;
  std::string legal_basis;
  std::vector<policy::ConsentFact> consents;
  // Receipts the node itself brings to the decision (a case's own), verified
  // like those the caller attaches.
  std::vector<v1::ConsentReceipt> receipts;
  bool case_member = false;
  bool case_active = false;
  bool within_retention = true;
  // How the decision is written before the answer. Every decision about a
  // child or a consent is synced; only calls that concern no one (a ping)
  // may be buffered.
  store::Durability decision_durability = store::Durability::kSynced;
};

struct PeerCall {
  network::Caller caller;
  std::string trace_id;  // 32 hex digits, shared by caller and callee
  std::string span_id;   // 16 hex digits: the caller's span for this call ("" if it sent none)
  policy::Decision decision;
  uint64_t decision_seq = 0;  // its entry in the audit log (synced decisions only)
};

class PeerGate {
 public:
  // `keys` holds the children's data keys that seal the subject of each
  // decision about a child (subject_seal.h).
  // `quotas` counts the calls the policy's [quota] tables bound.
  PeerGate(const network::Network& network, AuditLog& audit, store::KeyStore& keys, const consent::ConsentVerifier& verifier,
           QuotaCounter& quotas, std::shared_ptr<const policy::Policy> policy)
      : network_(network), audit_(audit), keys_(keys), verifier_(verifier), quotas_(quotas), policy_(std::move(policy)) {}

  // Authenticates, decides and records, then runs
  // `handler(const PeerCall&) -> absl::Status` if the call is allowed.
  template <typename Handler>
  grpc::Status Admit(grpc::ServerContext* context, std::string_view method, const PeerCallFacts& facts,
                     Handler&& handler) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<PeerCall> call = Authenticate(*context);
    absl::Status status = call.ok() ? Decide(*context, *call, method, facts) : call.status();
    if (status.ok()) status = handler(*call);
    // A refusal is logged with the caller it refused (and the rule), if it knew one.
    Record(method, call.ok() ? &*call : nullptr, status, start);
    return ToGrpcStatus(status);
  }

  using Deadline = std::chrono::system_clock::time_point;
  // Decides and records one more decision for an admitted call: same caller,
  // same trace (a case read decides each contribution's category so). Only
  // facts.receipts are verified, not the ones the caller attached. The
  // decision if it was recorded (allowed or not); an error if it could not be.
  // Written buffered: the handler's Disclose, synced and later in the same
  // log, makes it durable before the answer leaves (an answer is only given
  // after Disclose succeeds).
  [[nodiscard]] absl::StatusOr<PeerCall> DecideAlso(const PeerCall& call, std::string_view method,
                                                    const PeerCallFacts& facts, Deadline deadline);
  // Decides and records what this node's own staff do (convening a case,
  // joining one): the node is the requester. Same result as DecideAlso.
  [[nodiscard]] absl::StatusOr<PeerCall> DecideOwn(std::string_view method, const PeerCallFacts& facts,
                                                   const std::string& trace_id, Deadline deadline);

  // As Admit, for calls whose facts depend on who calls (a member of a case
  // or not): `facts_of(const Caller&) -> absl::StatusOr<PeerCallFacts>` runs
  // after authentication; its error is the answer. The handler gets the call
  // and the facts: `handler(const PeerCall&, const PeerCallFacts&) -> absl::Status`.
  template <typename FactsOf, typename Handler>
  grpc::Status AdmitAs(grpc::ServerContext* context, std::string_view method, FactsOf&& facts_of,
                       Handler&& handler) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<PeerCall> call = Authenticate(*context);
    absl::StatusOr<PeerCallFacts> facts = call.ok() ? facts_of(call->caller) : call.status();
    absl::Status status = facts.ok() ? Decide(*context, *call, method, *facts) : facts.status();
    if (status.ok()) status = handler(*call, *facts);
    Record(method, call.ok() ? &*call : nullptr, status, start);
    return ToGrpcStatus(status);
  }

  // The error a denied decision answers with.
  static absl::Status Denial(const PeerCallFacts& facts, const policy::Decision& decision);

  // Records (synced) what the answer to an admitted call discloses: handlers
  // call it last, and return its error, so an answer that cannot be logged is
  // not given. `subject`: the child the data is about, if any.
  [[nodiscard]] absl::Status Disclose(const PeerCall& call, std::string_view method,
                                      std::vector<std::string> categories, uint32_t items,
                                      const std::optional<std::array<uint8_t, 32>>& subject);

  void SetPolicy(std::shared_ptr<const policy::Policy> policy);
  std::shared_ptr<const policy::Policy> policy() const;

  // Called with every recorded decision and the request it decided (for
  // metrics). Set once, before the node serves.
  using DecisionObserver = std::function<void(const policy::Request&, const policy::Decision&)>;
  void SetDecisionObserver(DecisionObserver observer) { observer_ = std::move(observer); }
  // Called when a caller reaches a quota's alarm_percent or is first refused
  // on a day (before the decision is recorded). Set once, before the node serves.
  using AlarmObserver = std::function<void(v1::QuotaAlarm)>;
  void SetAlarmObserver(AlarmObserver observer) { alarm_ = std::move(observer); }

 private:
  [[nodiscard]] absl::StatusOr<PeerCall> Authenticate(const grpc::ServerContext& context) const;
  // Evaluates and stores the decision for an authenticated call (in
  // call.decision and decision_seq); an error if the call may not proceed.
  [[nodiscard]] absl::Status Decide(const grpc::ServerContext& context, PeerCall& call, std::string_view method,
                                    const PeerCallFacts& facts);
  // Evaluates `facts` (and the `attached` receipts, if any) for `call`'s
  // caller and stores the decision in call->decision and decision_seq. An
  // error only if it cannot be recorded.
  [[nodiscard]] absl::Status Evaluate(PeerCall& call, std::string_view method, const PeerCallFacts& facts,
                                      const std::string* attached, Deadline deadline,
                                      bool synced_by_disclosure = false);

  // Logs the call (refusals at warn, the rest at debug) with its duration since `start`.
  void Record(std::string_view method, const PeerCall* call, const absl::Status& status,
              std::chrono::steady_clock::time_point start) const;

  const network::Network& network_;
  AuditLog& audit_;
  store::KeyStore& keys_;
  const consent::ConsentVerifier& verifier_;
  RateLimiter limiter_;
  QuotaCounter& quotas_;
  SnapshotCell<policy::Policy> policy_;  // swapped whole on reload
  DecisionObserver observer_;
  AlarmObserver alarm_;
};

}  // namespace casenode::node
