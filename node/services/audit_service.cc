#include "node/services/audit_service.h"

#include <algorithm>
#include <set>

#include "node/audit/keyspace.h"
#include "base/bsn.h"
#include "base/org_id.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/audit/reconcile.h"
#include "node/audit/problems.h"
#include "node/audit/replay.h"
#include "node/audit/subject_seal.h"
#include "node/audit/verifier.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {

// How long one verification may take in all.
constexpr auto kVerifyBudget = std::chrono::minutes(10);

// `node`'s log as the verifier reads it: Peer calls in one trace.
AuditSource SourceFor(PeerClient& peers, const network::ManifestNode& node, const std::string& purpose,
                      const std::string& trace_id, PeerClient::Deadline deadline) {
  return AuditSource{[&peers, &node, purpose, trace_id, deadline]() {
                       v1::AuditCheckpointRequest req;
                       req.set_purpose(purpose);
                       return peers.AuditCheckpoint(node, req, trace_id, deadline);
                     },
                     [&peers, &node, trace_id, deadline](const v1::ReadAuditRequest& req) {
                       return peers.ReadAudit(node, req, trace_id, deadline);
                     }};
}

}  // namespace

grpc::Status AuditService::Verify(grpc::ServerContext* context, const v1::AuditVerifyRequest* request,
                                  v1::AuditVerifyReport* response) {
  const edge::Known known = known_();
  if (auto bad = edge::Check(*request, known); !bad.ok()) return ToGrpcStatus(bad);
  const auto& manifest = known.manifest;
  const network::ManifestNode* node = manifest->FindOrg(request->org());
  const std::string purpose = request->purpose().empty() ? std::string(vocab::kVerantwoording) : request->purpose();

  std::optional<tlog::Checkpoint> previous;
  absl::StatusOr<std::string> stored = store_.Get(store::Family::kAudit, audit_keys::Verified(node->org));
  if (stored.ok()) {
    auto cp = tlog::ParseCheckpointBody(*stored);
    if (!cp.ok()) return ToGrpcStatus(WithReason(cp.status(), Reason::kRecordCorrupt));
    previous = *cp;
  } else if (stored.status().code() != absl::StatusCode::kNotFound) {
    return ToGrpcStatus(stored.status());
  }
  std::set<std::string> known_gaps;
  absl::StatusOr<std::string> gaps = store_.Get(store::Family::kAudit, audit_keys::VerifiedGaps(node->org));
  if (gaps.ok()) {
    if (gaps->size() % 32 != 0) return ToGrpcStatus(Error(Reason::kRecordCorrupt, "verified gaps record"));
    for (size_t i = 0; i < gaps->size(); i += 32) known_gaps.insert(gaps->substr(i, 32));
  } else if (gaps.status().code() != absl::StatusCode::kNotFound) {
    return ToGrpcStatus(gaps.status());
  }

  const std::string trace_id = TraceIdOf(*context);
  const auto deadline = std::min(context->deadline(), std::chrono::system_clock::now() + kVerifyBudget);
  const AuditSource source = SourceFor(peers_, *node, purpose, trace_id, deadline);
  Replayer replayer(node->org, request->since_unix_ms(), request->until_unix_ms());
  v1::AuditVerifyReport replayed;
  std::function<void(uint64_t, const std::string&)> on_entry;
  if (request->replay()) {
    on_entry = [&](uint64_t seq, const std::string& leaf) { replayer.Add(seq, leaf, replayed); };
  }
  absl::StatusOr<v1::AuditVerifyReport> report = VerifyAuditLog(*node, manifest->nodes, policy_()->audit_settings().witnesses, purpose, source, previous,
                     known_gaps, clock_(), on_entry);
  if (!report.ok()) return ToGrpcStatus(Annotate(StrCat("audit log of ", node->org), report.status()));
  // A declared gap is reported every time, but the log after it is the
  // reference the next verification must extend.
  const bool log_clean = std::all_of(report->problems().begin(), report->problems().end(), [](const auto& p) {
    return p.kind() == v1::AuditProblem::GAP_DECLARED;
  });
  if (request->replay()) {
    for (auto& p : *replayed.mutable_problems()) {
      if (p.kind() == v1::AuditProblem::PROBLEMS_TRUNCATED) {  // keeps the count of the ones replay left out
        for (uint64_t i = 0; i < p.seq(); ++i) AddProblem(*report, p.kind(), 0, "");
        continue;
      }
      AddProblem(*report, p.kind(), p.seq(), std::move(*p.mutable_detail()));
    }
    report->set_decisions_replayed(replayer.decisions_replayed());
    report->set_policies_loaded(replayer.policies_loaded());
  }

  // A log verified clean becomes the reference the next verification must extend.
  if (log_clean) {
    auto note = tlog::ParseNote(report->checkpoint());
    if (note.ok()) {
      std::string gap_hashes;
      for (const std::string& h : report->gap_leaf_hashes()) gap_hashes += h;
      const std::vector<store::Record> reference = {AuditRecord(audit_keys::Verified(node->org), note->text),
                                                    AuditRecord(audit_keys::VerifiedGaps(node->org), gap_hashes)};
      if (absl::Status s = store_.Write(reference); !s.ok()) return ToGrpcStatus(s);
    }
  }
  *response = *std::move(report);
  return grpc::Status::OK;
}

grpc::Status AuditService::Reconcile(grpc::ServerContext* context, const v1::AuditReconcileRequest* request,
                                     v1::AuditReconcileReport* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  const std::string purpose = request->purpose().empty() ? std::string(vocab::kVerantwoording) : request->purpose();
  const auto manifest = network_.manifest();
  const std::string trace_id = TraceIdOf(*context);
  const auto deadline = std::min(context->deadline(), std::chrono::system_clock::now() + kVerifyBudget);
  // Recent calls are in flight: they may not have ended, on both sides,
  // before the logs are read. (settle must cover the nodes' peer timeout.)
  const int64_t settle_ms = 1000 * static_cast<int64_t>(request->settle_seconds() == 0 ? 30 : request->settle_seconds());
  const int64_t cutoff_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count() - settle_ms;
  Reconciler reconciler(cutoff_ms, trace_id, settle_ms);
  std::set<std::string> read;
  std::vector<std::string> unreadable;

  // This node's own log, read directly.
  const uint64_t own_size = own_log_.head().size;
  bool own_ok = true;
  for (uint64_t seq = 0; seq < own_size; ++seq) {
    absl::StatusOr<std::string> leaf = own_log_.Entry(seq);
    if (!leaf.ok()) {
      own_ok = false;
      continue;
    }
    reconciler.Add(network_.self_org(), seq, *leaf);
  }
  if (own_ok) {
    read.insert(network_.self_org());
  } else {
    unreadable.push_back(network_.self_org());
  }

  // Every other node's, verified as `audit verify` does.
  for (const network::ManifestNode& node : manifest->nodes) {
    if (node.org == network_.self_org()) continue;
    const AuditSource source = SourceFor(peers_, node, purpose, trace_id, deadline);
    absl::StatusOr<v1::AuditVerifyReport> report =
        VerifyAuditLog(node, manifest->nodes, policy_()->audit_settings().witnesses, purpose, source, std::nullopt,
                       {}, clock_(),
                       [&](uint64_t seq, const std::string& leaf) { reconciler.Add(node.org, seq, leaf); });
    const bool readable = report.ok() && std::all_of(report->problems().begin(), report->problems().end(),
                                                     [](const auto& p) { return p.kind() == v1::AuditProblem::GAP_DECLARED; });
    if (readable) {
      read.insert(node.org);
    } else {
      unreadable.push_back(node.org);
    }
  }
  *response = reconciler.Finish(read);
  for (auto& org : unreadable) response->add_unreadable(std::move(org));
  return grpc::Status::OK;
}

grpc::Status AuditService::Inzage(grpc::ServerContext* context, const v1::AuditInzageRequest* request,
                                  v1::AuditInzageReport* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  absl::StatusOr<Bsn> bsn = ParseBsn(request->bsn());
  if (!bsn.ok()) return ToGrpcStatus(bsn.status());
  const std::string trace_id = TraceIdOf(*context);
  const auto deadline = std::min(context->deadline(), std::chrono::system_clock::now() + kVerifyBudget);
  // The auditor's own pseudonym rule: inzage under its legal duty, rate limited by every key holder.
  absl::StatusOr<Derivation> derived =
      deriver_.Derive(*bsn, std::string(vocab::kInzage), std::string(vocab::kLegalDuty), trace_id, std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!derived.ok()) return ToGrpcStatus(Annotate("pseudonym for the inzage", derived.status()));
  const Pseudonym& subject = derived->pseudonym;

  const auto manifest = network_.manifest();
  for (const network::ManifestNode& node : manifest->nodes) {
    v1::InzageNode* out = response->add_nodes();
    if (node.org == network_.self_org()) {
      // This node's own log, read directly: the auditor trusts its own node.
      out->set_org(node.org);
      const uint64_t size = own_log_.head().size;
      out->set_tree_size(size);
      absl::StatusOr<SubjectMatcher> matcher = SubjectMatcher::For(keys_, subject);
      if (!matcher.ok()) continue;
      v1::AuditEntry entry;
      for (uint64_t seq = 0; seq < size; ++seq) {
        absl::StatusOr<std::string> leaf = own_log_.Entry(seq);
        if (!leaf.ok() || !entry.ParseFromString(*leaf) || !matcher->Matches(entry.subject())) continue;
        entry.clear_subject();
        *out->add_entries() = entry;
      }
      continue;
    }
    const AuditSource source = SourceFor(peers_, node, std::string(vocab::kInzage), trace_id, deadline);
    absl::StatusOr<v1::InzageNode> read = ReadChildEntries(node, manifest->nodes, policy_()->audit_settings().witnesses, source, subject,
                         clock_());
    if (!read.ok()) {
      out->set_org(node.org);
      out->set_error(StrCat(absl::StatusCodeToString(read.status().code()), ": ", std::string(read.status().message())));
      continue;
    }
    *out = *std::move(read);
  }
  return grpc::Status::OK;
}

grpc::Status AuditService::Alarms(grpc::ServerContext*, const v1::AuditAlarmsRequest*,
                                  v1::AuditAlarmsResponse* response) {
  absl::StatusOr<std::vector<v1::QuotaAlarm>> alarms = alarms_.List();
  if (!alarms.ok()) return ToGrpcStatus(alarms.status());
  for (auto& a : *alarms) *response->add_alarms() = std::move(a);
  return grpc::Status::OK;
}

}  // namespace casenode::node
