#include "node/audit/host/audit_host.h"

#include <algorithm>

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/audit/subject_seal.h"
#include "node/rpc/context.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {

// An auditor's read of the log: metadata, under the auditor's legal duty.
PeerCallFacts AuditReadFacts(const std::string& purpose) {
  PeerCallFacts facts;
  facts.action = vocab::kAuditRead;
  facts.purpose = purpose;
  facts.categories = {std::string(vocab::kLogmetadata)};
  facts.legal_basis = vocab::kLegalDuty;
  return facts;
}

// A ReadAudit answer stops growing past this size (the default message
// limit is 1 MiB; an entry with a policy load can be tens of KiB).
constexpr size_t kAuditPageBytes = 256 * 1024;

void AppendHash(google::protobuf::RepeatedPtrField<std::string>& out, const tlog::Hash& h) {
  out.Add(std::string(reinterpret_cast<const char*>(h.data()), h.size()));
}

}  // namespace

grpc::Status AuditHost::AuditCheckpoint(grpc::ServerContext* context, const v1::AuditCheckpointRequest& request,
                                        v1::AuditCheckpointResponse& response) {
  return gate_.Admit(context, "Peer.AuditCheckpoint", AuditReadFacts(request.purpose()),
                     [&](const PeerCall&) -> absl::Status {
                       // The newest checkpoint, cosigned by every witness that answers now.
                       response.set_note(publisher_.PublishNow(NestedDeadline(*context)));
                       return absl::OkStatus();
                     });
}

grpc::Status AuditHost::ReadAudit(grpc::ServerContext* context, const v1::ReadAuditRequest& request,
                                  v1::ReadAuditResponse& response) {
  const bool inzage = !request.subject().empty();
  PeerCallFacts facts = AuditReadFacts(request.purpose());
  if (inzage) {
    facts.subject.emplace();
    std::copy(request.subject().begin(), request.subject().end(), facts.subject->begin());
  }
  return gate_.Admit(context, "Peer.ReadAudit", facts, [&](const PeerCall& call) -> absl::Status {
    // Only an admitted reader learns anything about the log's size.
    if (request.tree_size() > audit_.head().size) {
      return Error(Reason::kMalformedRequest, "tree_size: beyond this node's log");
    }
    RETURN_IF_ERROR(inzage ? ReadAboutChild(request, *facts.subject, response) : ReadPage(request, response));
    return DiscloseEntries(call, facts, response);
  });
}

absl::Status AuditHost::ReadPage(const v1::ReadAuditRequest& request, v1::ReadAuditResponse& response) const {
  const uint64_t size = request.tree_size();
  const uint64_t end = request.from_seq() + request.count();
  uint64_t seq = request.from_seq();
  for (; seq < end; ++seq) {
    // Stop early to stay well under the message size limit (always with at
    // least one entry, so paging advances).
    if (seq > request.from_seq() && response.ByteSizeLong() > kAuditPageBytes) break;
    absl::StatusOr<std::string> leaf = audit_.Entry(seq);
    // An entry the store lost or cannot open is left out: the auditor
    // reports the gap by its sequence number.
    if (!leaf.ok()) continue;
    auto* e = response.add_entries();
    e->set_seq(seq);
    e->set_leaf(*std::move(leaf));
    if (request.inclusion_proofs()) {
      // A damaged tree node costs this entry its proof, not the page.
      auto proof = audit_.InclusionProof(seq, size);
      if (!proof.ok()) continue;
      for (const auto& h : *proof) AppendHash(*e->mutable_inclusion_proof()->mutable_hashes(), h);
    }
  }
  response.set_next_seq(seq);
  if (request.consistency()) {
    auto proof = audit_.ConsistencyProof(request.consistency_from(), size);
    if (!proof.ok()) return proof.status();
    for (const auto& h : *proof) AppendHash(*response.mutable_consistency_proof(), h);
  }
  return absl::OkStatus();
}

absl::Status AuditHost::DiscloseEntries(const PeerCall& call, const PeerCallFacts& facts,
                                        const v1::ReadAuditResponse& response) {
  if (response.entries().empty()) return absl::OkStatus();  // proofs and sizes: no entry disclosed
  return gate_.Disclose(call, "Peer.ReadAudit", facts.categories, static_cast<uint32_t>(response.entries_size()),
                        facts.subject);
}

absl::Status AuditHost::ReadAboutChild(const v1::ReadAuditRequest& request, const std::array<uint8_t, 32>& subject,
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

grpc::Status AuditHost::Cosign(grpc::ServerContext* context, const v1::CosignRequest& request,
                               v1::CosignResponse& response) {
  static const PeerCallFacts kFacts = [] {
    PeerCallFacts facts;
    facts.action = vocab::kAuditCosign;
    facts.purpose = vocab::kVerantwoording;
    facts.decision_durability = store::Durability::kBuffered;  // concerns no one
    return facts;
  }();
  return gate_.Admit(context, "Peer.Cosign", kFacts, [&](const PeerCall& call) -> absl::Status {
    const auto manifest = network_.manifest();
    const network::ManifestNode* caller = manifest->FindOrg(call.caller.org);
    if (caller == nullptr) return Error(Reason::kUnknownOrg, "the caller is not in the manifest");
    ASSIGN_OR_RETURN(v1::CosignResponse answer, witness_.Cosign(*caller, request));
    response = std::move(answer);
    return absl::OkStatus();
  });
}

grpc::Status AuditHost::ReportAlarm(grpc::ServerContext* context, const v1::ReportAlarmRequest& request,
                                    v1::ReportAlarmResponse&) {
  static const PeerCallFacts kFacts = [] {
    PeerCallFacts facts;
    facts.action = vocab::kAuditAlarm;
    facts.purpose = vocab::kVerantwoording;
    facts.categories = {std::string(vocab::kLogmetadata)};
    facts.legal_basis = vocab::kLegalDuty;
    return facts;
  }();
  return gate_.Admit(context, "Peer.ReportAlarm", kFacts, [&](const PeerCall& call) -> absl::Status {
    if (network_.self().role != network::Role::ROLE_AUDITOR) {
      return Error(Reason::kNotTheAuditor, "this node is not an auditor node; alarms go to the auditor");
    }
    return alarms_.Receive(call.caller.org, request.alarm());
  });
}

v1::AuditStatus LocalAuditStatus(const CheckpointPublisher& publisher, const Witness& witness,
                                 const consent::ConsentBook& consents) {
  v1::AuditStatus s = publisher.Status();
  for (auto& v : witness.Refused()) *s.add_refused() = std::move(v);
  *s.mutable_consent_hold() = consents.hold();
  return s;
}

}  // namespace casenode::node
