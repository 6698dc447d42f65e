#include "node/peer_service.h"

#include <algorithm>

#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/audit/subject_seal.h"
#include "node/consent_service.h"
#include "node/edge/requests.h"

namespace casenode::node {
namespace {

// Calls whose action and purpose are fixed by the method and carry no personal data.
PeerCallFacts FixedFacts(std::string action, std::string purpose) {
  PeerCallFacts facts;
  facts.action = std::move(action);
  facts.purpose = std::move(purpose);
  return facts;
}
const PeerCallFacts kConsentStatusFacts = FixedFacts("consent.status", "netwerkbeheer");

// An auditor's read of the log: metadata, under the auditor's legal duty.
PeerCallFacts AuditReadFacts(const std::string& purpose) {
  PeerCallFacts facts = FixedFacts("audit.read", purpose);
  facts.categories = {"logmetadata"};
  facts.legal_basis = "legal_duty";
  return facts;
}

// A ReadAudit answer stops growing past this size (the default message
// limit is 1 MiB; an entry with a policy load can be tens of KiB).
constexpr size_t kAuditPageBytes = 256 * 1024;

// "ACTIVE", "REVOKED", ...: the state as the log names it.
void AppendHash(google::protobuf::RepeatedPtrField<std::string>& out, const keys::tlog::Hash& h) {
  out.Add(std::string(reinterpret_cast<const char*>(h.data()), h.size()));
}

}  // namespace

grpc::Status PeerService::Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                               v1::PingResponse* response) {
  static const PeerCallFacts kAboutNoOne = [] {
    PeerCallFacts facts = FixedFacts("node.ping", "netwerkbeheer");
    facts.decision_durability = store::Durability::kBuffered;  // concerns no one: may wait for company
    return facts;
  }();
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  PeerCallFacts about_child;
  if (!request->subject().empty()) {
    about_child = FixedFacts("node.ping", "netwerkbeheer");
    about_child.subject.emplace();
    std::copy(request->subject().begin(), request->subject().end(), about_child.subject->begin());
  }
  const PeerCallFacts& facts = request->subject().empty() ? kAboutNoOne : about_child;
  return gate_.Admit(context, "Peer.Ping", facts, [&](const PeerCall& call) {
    const auto manifest = network_.manifest();
    const keys::ManifestNode* self = manifest->FindOrg(network_.self_org());
    response->set_org(network_.self_org());
    response->set_role(self != nullptr ? self->role : v1::ROLE_UNSPECIFIED);
    response->set_manifest_version(manifest->version);
    response->set_caller_org(call.caller.org);
    return absl::OkStatus();
  });
}

grpc::Status PeerService::ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest* request,
                                        v1::ConsentStatusResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return gate_.Admit(context, "Peer.ConsentStatus", kConsentStatusFacts, [&](const PeerCall& call) -> absl::Status {
    int64_t revoked_at = 0;
    ASSIGN_OR_RETURN(v1::ConsentCheck answer,
                     AnswerConsentStatus(consents_, audit_, keys_, network_.self_org(), call.caller.org,
                                         request->receipt_id(), call.trace_id, call.span_id, &revoked_at));
    v1::ConsentStatusResponse::State state = v1::ConsentStatusResponse::STATE_UNSPECIFIED;
    (void)consent::ParseStateName(answer.state(), &state);
    response->set_state(state);
    response->set_revoked_at_unix(revoked_at);
    return absl::OkStatus();
  });
}

grpc::Status PeerService::EvaluatePseudonym(grpc::ServerContext* context, const v1::EvaluatePseudonymRequest* request,
                                            v1::EvaluatePseudonymResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  // Public in the manifest anyway; no decision to record for a call that cannot be served.
  if (share_ == nullptr) {
    return ToGrpcStatus(Error(Reason::kNotAKeyHolder, "this node holds no share of the pseudonym key"));
  }
  PeerCallFacts facts = FixedFacts("pseudonym.evaluate", request->purpose());
  facts.legal_basis = request->legal_basis();
  return gate_.Admit(context, "Peer.EvaluatePseudonym", facts, [&](const PeerCall&) -> absl::Status {
    oprf::Element blinded;
    std::copy(request->blinded_element().begin(), request->blinded_element().end(), blinded.begin());
    ASSIGN_OR_RETURN(oprf::ShareEvaluation share, oprf::EvaluateShare(*share_, blinded));
    response->set_holder_index(share.holder);
    response->set_evaluated_element(std::string(share.element.begin(), share.element.end()));
    response->set_proof(std::string(share.proof.begin(), share.proof.end()));
    return absl::OkStatus();
  });
}

namespace {

PeerCallFacts SignalFacts(std::string action, const std::string& subject, const std::string& purpose,
                          const std::string& legal_basis, std::vector<std::string> categories) {
  PeerCallFacts facts = FixedFacts(std::move(action), purpose);
  facts.subject.emplace();
  std::copy(subject.begin(), subject.end(), facts.subject->begin());
  facts.legal_basis = legal_basis;
  facts.categories = std::move(categories);
  return facts;
}

}  // namespace

// The answer depends on the signals held only after the gate has decided, and
// the decision only on the request: a refused caller learns nothing.
grpc::Status PeerService::LookupSignal(grpc::ServerContext* context, const v1::LookupSignalRequest* request,
                                       v1::LookupSignalResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  const PeerCallFacts facts =
      SignalFacts("signal.lookup", request->subject(), request->purpose(), request->legal_basis(), {"signaal"});
  return gate_.Admit(context, "Peer.LookupSignal", facts, [&](const PeerCall& call) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::SignalRecord> held, signals_.On(AsBytes(request->subject())));
    const keys::ManifestNode self = network_.self();
    for (const v1::SignalRecord& s : held) *response->add_matches() = SignalBook::MatchOf(s, self);
    if (held.empty()) return absl::OkStatus();  // "not known here" is what every refusal looks like too
    return gate_.Disclose(call, "Peer.LookupSignal", facts.categories, static_cast<uint32_t>(held.size()),
                          facts.subject);
  });
}

grpc::Status PeerService::NotifySignal(grpc::ServerContext* context, const v1::NotifySignalRequest* request,
                                       v1::NotifySignalResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  const PeerCallFacts facts = SignalFacts("signal.notify", request->subject(), request->purpose(),
                                          request->legal_basis(), {"signaal", "contact"});
  return gate_.Admit(context, "Peer.NotifySignal", facts, [&](const PeerCall& call) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::SignalRecord> held, signals_.On(AsBytes(request->subject())));
    if (held.empty()) {  // withdrawn or expired meanwhile: nothing to tell anyone here
      response->set_stored(false);
      return absl::OkStatus();
    }
    v1::MatchNotice notice;
    notice.set_notice_id(request->notice_id());
    notice.set_sent(false);
    *notice.mutable_other() = request->from();
    // Who sent it is the certificate's organisation, whatever the message says.
    notice.mutable_other()->set_org(call.caller.org);
    notice.mutable_other()->set_role(call.caller.role);
    int64_t expires = 0;
    for (const v1::SignalRecord& s : held) {
      notice.add_signal_ids(s.signal_id());
      expires = std::max(expires, s.expires_at_ms());
    }
    notice.set_time_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count());
    notice.set_delivered(true);
    notice.set_expires_at_ms(expires);
    RETURN_IF_ERROR(signals_.PutNotice(signals_.HandleOf(AsBytes(request->subject())), notice));
    response->set_stored(true);
    *response->mutable_mine() = SignalBook::MatchOf(held.front(), network_.self());
    return gate_.Disclose(call, "Peer.NotifySignal", facts.categories, 1, facts.subject);
  });
}

grpc::Status PeerService::AuditCheckpoint(grpc::ServerContext* context, const v1::AuditCheckpointRequest* request,
                                          v1::AuditCheckpointResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return gate_.Admit(context, "Peer.AuditCheckpoint", AuditReadFacts(request->purpose()),
                     [&](const PeerCall&) -> absl::Status {
                       // The newest checkpoint, cosigned by every witness that answers now.
                       response->set_note(publisher_.PublishNow(NestedDeadline(*context)));
                       return absl::OkStatus();
                     });
}

grpc::Status PeerService::ReadAudit(grpc::ServerContext* context, const v1::ReadAuditRequest* request,
                                    v1::ReadAuditResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  const uint64_t size = request->tree_size();
  const bool inzage = !request->subject().empty();
  PeerCallFacts facts = AuditReadFacts(request->purpose());
  if (inzage) {
    facts.subject.emplace();
    std::copy(request->subject().begin(), request->subject().end(), facts.subject->begin());
  }
  return gate_.Admit(context, "Peer.ReadAudit", facts,
                     [&](const PeerCall& call) -> absl::Status {
                       // Only an admitted reader learns anything about the log's size.
                       if (size > audit_.head().size) {
                         return Error(Reason::kMalformedRequest, "tree_size: beyond this node's log");
                       }
                       if (inzage) {
                         RETURN_IF_ERROR(ReadAboutChild(*request, *facts.subject, *response));
                         return DiscloseEntries(call, facts, *response);
                       }
                       const uint64_t end = request->from_seq() + request->count();
                       uint64_t seq = request->from_seq();
                       for (; seq < end; ++seq) {
                         // Stop early to stay well under the message size limit
                         // (always with at least one entry, so paging advances).
                         if (seq > request->from_seq() && response->ByteSizeLong() > kAuditPageBytes) break;
                         absl::StatusOr<std::string> leaf = audit_.Entry(seq);
                         // An entry the store lost or cannot open is left out: the
                         // auditor reports the gap by its sequence number.
                         if (!leaf.ok()) continue;
                         auto* e = response->add_entries();
                         e->set_seq(seq);
                         e->set_leaf(*std::move(leaf));
                         if (request->inclusion_proofs()) {
                           // A damaged tree node costs this entry its proof, not the page.
                           auto proof = audit_.InclusionProof(seq, size);
                           if (!proof.ok()) continue;
                           for (const auto& h : *proof) AppendHash(*e->mutable_inclusion_proof()->mutable_hashes(), h);
                         }
                       }
                       response->set_next_seq(seq);
                       if (request->consistency()) {
                         auto proof = audit_.ConsistencyProof(request->consistency_from(), size);
                         if (!proof.ok()) return proof.status();
                         for (const auto& h : *proof) AppendHash(*response->mutable_consistency_proof(), h);
                       }
                       return DiscloseEntries(call, facts, *response);
                     });
}

absl::Status PeerService::DiscloseEntries(const PeerCall& call, const PeerCallFacts& facts,
                                          const v1::ReadAuditResponse& response) {
  if (response.entries().empty()) return absl::OkStatus();  // proofs and sizes: no entry disclosed
  return gate_.Disclose(call, "Peer.ReadAudit", facts.categories, static_cast<uint32_t>(response.entries_size()),
                        facts.subject);
}

absl::Status PeerService::ReadAboutChild(const v1::ReadAuditRequest& request, const std::array<uint8_t, 32>& subject,
                                         v1::ReadAuditResponse& response) const {
  const uint64_t end = request.from_seq() + request.count();
  absl::StatusOr<SubjectMatcher> matcher = SubjectMatcher::For(keys_, subject);
  if (!matcher.ok()) {
    if (ReasonOf(matcher.status()) != Reason::kShredded) return matcher.status();
    response.set_next_seq(end);  // no key: nothing here is about the child (any more)
    return absl::OkStatus();
  }
  uint64_t seq = request.from_seq();
  size_t bytes = 0;
  v1::AuditEntry entry;
  for (; seq < end && bytes <= kAuditPageBytes; ++seq) {
    absl::StatusOr<std::string> leaf = audit_.Entry(seq);
    // An entry that cannot be read is reported, not skipped: the auditor
    // cannot tell a missing entry about the child from none.
    if (!leaf.ok()) return Error(Reason::kRecordCorrupt, StrCat("audit entry ", seq, " cannot be read"));
    if (!entry.ParseFromString(*leaf)) return Error(Reason::kRecordCorrupt, StrCat("audit entry ", seq, " does not parse"));
    if (!matcher->Matches(entry.subject())) continue;
    ASSIGN_OR_RETURN(auto proof, audit_.InclusionProof(seq, request.tree_size()));
    bytes += leaf->size() + 32 * proof.size() + 16;
    auto* e = response.add_entries();
    e->set_seq(seq);
    e->set_leaf(*std::move(leaf));
    for (const auto& h : proof) AppendHash(*e->mutable_inclusion_proof()->mutable_hashes(), h);
  }
  response.set_next_seq(seq);
  return absl::OkStatus();
}

grpc::Status PeerService::Cosign(grpc::ServerContext* context, const v1::CosignRequest* request,
                                 v1::CosignResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  static const PeerCallFacts kFacts = [] {
    PeerCallFacts facts = FixedFacts("audit.cosign", "verantwoording");
    facts.decision_durability = store::Durability::kBuffered;  // concerns no one
    return facts;
  }();
  return gate_.Admit(context, "Peer.Cosign", kFacts, [&](const PeerCall& call) -> absl::Status {
    const auto manifest = network_.manifest();
    const keys::ManifestNode* caller = manifest->FindOrg(call.caller.org);
    if (caller == nullptr) return Error(Reason::kUnknownOrg, "the caller is not in the manifest");
    absl::StatusOr<v1::CosignResponse> resp = witness_.Cosign(*caller, *request);
    if (!resp.ok()) return resp.status();
    *response = *std::move(resp);
    return absl::OkStatus();
  });
}

// ---- Cases: CaseHost answers ----

grpc::Status PeerService::InviteToCase(grpc::ServerContext* context, const v1::InviteToCaseRequest* request,
                                       v1::InviteToCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.InviteToCase(context, *request, *response);
}

grpc::Status PeerService::AnswerCaseInvitation(grpc::ServerContext* context,
                                               const v1::AnswerCaseInvitationRequest* request,
                                               v1::AnswerCaseInvitationResponse*) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.AnswerCaseInvitation(context, *request);
}

grpc::Status PeerService::ContributeToCase(grpc::ServerContext* context, const v1::ContributeToCaseRequest* request,
                                           v1::ContributeToCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.ContributeToCase(context, *request, *response);
}

grpc::Status PeerService::ReadCase(grpc::ServerContext* context, const v1::ReadCaseRequest* request,
                                   v1::ReadCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.ReadCase(context, *request, *response);
}

grpc::Status PeerService::SetCaseAction(grpc::ServerContext* context, const v1::SetCaseActionRequest* request,
                                        v1::SetCaseActionResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.SetCaseAction(context, *request, *response);
}

grpc::Status PeerService::CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest* request,
                                    v1::CloseCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.CloseCase(context, *request, *response);
}

grpc::Status PeerService::DestroyCase(grpc::ServerContext* context, const v1::DestroyCaseRequest* request,
                                      v1::DestroyCaseResponse*) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.DestroyCase(context, *request);
}

}  // namespace casenode::node
