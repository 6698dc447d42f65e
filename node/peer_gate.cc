#include "node/peer_gate.h"

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

namespace casenode::node {
namespace {

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string RandomHex(size_t bytes) {
  uint8_t buf[16];
  randombytes_buf(buf, bytes);
  return HexEncode({buf, bytes});
}

}  // namespace

std::string NewTraceparent(std::string_view trace_id) {
  const std::string id = trace_id.size() == 32 ? std::string(trace_id) : RandomHex(16);
  return "00-" + id + "-" + RandomHex(8) + "-01";
}

std::string TraceIdOf(std::string_view tp) {
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
  const std::string_view id = tp.substr(3, 32);
  if (!IsLowerHex(id) || id == std::string(32, '0')) return {};
  return std::string(id);
}

std::chrono::system_clock::time_point NestedDeadline(const grpc::ServerContext& context) {
  const auto now = std::chrono::system_clock::now();
  const auto left = context.deadline() - now;
  const auto cap = std::chrono::seconds(30);  // no deadline from the caller: still bounded
  return now + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::min<std::chrono::system_clock::duration>(left, cap) / 2);
}

void PeerGate::SetPolicy(std::shared_ptr<const policy::Policy> policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = std::move(policy);
}

std::shared_ptr<const policy::Policy> PeerGate::policy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policy_;
}

absl::StatusOr<PeerCall> PeerGate::Decide(const grpc::ServerContext& context, std::string_view method,
                                          const PeerCallFacts& facts) {
  ASSIGN_OR_RETURN(PeerCall call, Authenticate(context));
  const std::shared_ptr<const policy::Policy> policy_now = policy();  // one version for the whole call
  policy::Request req;
  if (facts.subject) req.subject = HexEncode(subject_hasher_(*facts.subject));
  req.requester_org = call.caller.org;
  req.requester_role = std::string(keys::RoleName(call.caller.role));
  req.action = facts.action;
  req.purpose = facts.purpose;
  req.categories = facts.categories;
  req.legal_basis = facts.legal_basis;
  req.consents = facts.consents;
  const auto& md = context.client_metadata();
  if (auto it = md.find(kConsentHeader); it != md.end()) {
    v1::ConsentReceiptList list;
    if (!list.ParseFromArray(it->second.data(), static_cast<int>(it->second.size())) ||
        list.receipts_size() > kMaxReceiptsPerCall) {
      return Error(Reason::kMalformedConsentReceipt, StrCat(kConsentHeader, ": expected at most ", kMaxReceiptsPerCall,
                                                          " consent receipts"));
    }
    const auto manifest = network_.manifest();
    for (const auto& proto : list.receipts()) {
      auto receipt = consent::FromProto(proto);
      if (!receipt.ok()) return WithReason(receipt.status(), Reason::kMalformedConsentReceipt);
      req.consents.push_back(consent::ToFact(
          *receipt, verifier_.Verify(*receipt, *manifest, policy_now->consent_settings(), NestedDeadline(context)),
          HexEncode(subject_hasher_(receipt->subject))));
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
  // Fail closed: an answer whose decision cannot be recorded is not given.
  if (absl::Status stored = StoreDecision(method, call, facts, req); !stored.ok()) {
    return Error(Reason::kDecisionNotRecorded, "cannot record the policy decision; refusing to answer");
  }
  if (call.decision.allowed()) return call;
  return Error(call.decision.reason, StrCat("policy denies ", facts.action, " for purpose ", facts.purpose, ": ",
                                            ReasonName(call.decision.reason), " (rule ", call.decision.rule_id, ")"));
}

absl::Status PeerGate::StoreDecision(std::string_view method, const PeerCall& call, const PeerCallFacts& facts,
                                     const policy::Request& request) {
  const auto now = std::chrono::system_clock::now();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  v1::DecisionRecord rec;
  rec.set_time_unix_ms(ms);
  rec.set_trace_id(call.trace_id);
  rec.set_method(std::string(method));
  rec.set_requester_org(call.caller.org);
  rec.set_requester_role(call.caller.role);
  rec.set_action(facts.action);
  rec.set_purpose(facts.purpose);
  for (const auto& c : facts.categories) rec.add_categories(c);
  rec.set_legal_basis(facts.legal_basis);
  rec.set_allowed(call.decision.allowed());
  rec.set_rule_id(call.decision.rule_id);
  rec.set_reason(std::string(ReasonName(call.decision.reason)));
  rec.set_policy_hash(call.decision.policy_hash);
  for (const auto& id : call.decision.consent_receipt_ids) rec.add_consent_receipt_ids(id);
  rec.set_request_digest(call.decision.request_digest);
  // The whole request as decided, so an auditor can decide it again.
  rec.set_canonical_request(policy::CanonicalRequest(request));
  // Key: time (big-endian ms) then 8 random bytes, so decisions sort by time.
  std::string key(16, '\0');
  for (int i = 0; i < 8; ++i) key[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint64_t>(ms) >> (56 - 8 * i));
  keys::FillRandomNonce(reinterpret_cast<uint8_t*>(key.data()) + 8, 8);
  store::Record record{store::Family::kDecisions, std::move(key), keys::DataKeyRef{keys::DataKeyKind::kNode, {}},
                       rec.SerializeAsString(), std::nullopt};
  return decisions_.Append(std::move(record), facts.decision_durability);
}

absl::StatusOr<PeerCall> PeerGate::Authenticate(const grpc::ServerContext& context) const {
  RETURN_IF_ERROR(network_.CheckFresh());
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  const auto pems = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                         : std::vector<grpc::string_ref>{};
  if (pems.empty()) {
    return Error(Reason::kPeerNoCertificate, "no client certificate");
  }
  PeerCall call;
  auto caller = network_.Identify(std::string(pems.front().data(), pems.front().size()));
  if (!caller.ok()) return caller.status();
  call.caller = *std::move(caller);
  const auto& md = context.client_metadata();
  auto it = md.find(kTraceparentHeader);
  if (it != md.end()) call.trace_id = TraceIdOf(std::string_view(it->second.data(), it->second.size()));
  if (call.trace_id.empty()) call.trace_id = RandomHex(16);
  return call;
}

void PeerGate::Record(std::string_view method, const PeerCall* call, const absl::Status& status,
                      std::chrono::steady_clock::duration elapsed) const {
  const LogLevel level = status.ok() ? LogLevel::kDebug : LogLevel::kWarn;
  if (!LogEnabled(level)) return;
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  const std::string code(absl::StatusCodeToString(status.code()));
  const std::string_view reason = ReasonName(ReasonOf(status));
  if (call != nullptr) {
    Log(level, "peer.call",
        {{"method", method}, {"caller_org", call->caller.org}, {"caller_role", keys::RoleName(call->caller.role)},
         {"trace_id", call->trace_id}, {"rule", call->decision.rule_id}, {"status", code}, {"reason", reason},
         {"duration_us", us}});
  } else {
    Log(level, "peer.refused", {{"method", method}, {"status", code}, {"reason", reason}});
  }
}

}  // namespace casenode::node
