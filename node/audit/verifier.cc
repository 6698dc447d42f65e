#include "node/audit/verifier.h"

#include "base/status.h"
#include "base/strings.h"
#include "tlog/merkle.h"
#include "node/audit/audit_log.h"
#include "node/audit/problems.h"
#include "node/audit/witness.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {


std::optional<tlog::Hash> ToHash(const std::string& bytes) {
  if (bytes.size() != 32) return std::nullopt;
  tlog::Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

std::optional<std::vector<tlog::Hash>> ToHashes(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::vector<tlog::Hash> out;
  out.reserve(static_cast<size_t>(list.size()));
  for (const std::string& b : list) {
    auto h = ToHash(b);
    if (!h) return std::nullopt;
    out.push_back(*h);
  }
  return out;
}

v1::ReadAuditRequest Page(const std::string& purpose, uint64_t tree_size, uint64_t from, bool proofs) {
  v1::ReadAuditRequest req;
  req.set_purpose(purpose);
  req.set_tree_size(tree_size);
  req.set_from_seq(from);
  req.set_count(static_cast<uint32_t>(std::min<uint64_t>(kMaxAuditPage, tree_size - from)));
  req.set_inclusion_proofs(proofs);
  return req;
}

// How old a counted cosignature may be, and how far in the future.
constexpr std::chrono::seconds kMaxCosignatureAge(600);
constexpr std::chrono::seconds kMaxClockSkew(60);

}  // namespace

absl::StatusOr<std::optional<tlog::Checkpoint>> VerifyCheckpoint(const network::ManifestNode& node,
                                                                 const std::vector<network::ManifestNode>& network,
                                                                 uint64_t witnesses, const AuditSource& source,
                                                                 SystemTime now,
                                                                 v1::AuditVerifyReport& report) {

  // 1. The signed checkpoint.
  absl::StatusOr<v1::AuditCheckpointResponse> cp_resp = source.checkpoint();
  if (!cp_resp.ok()) return cp_resp.status();
  report.set_checkpoint(cp_resp->note());
  const std::string origin = LogOrigin(node.org);
  absl::StatusOr<tlog::Note> note = tlog::ParseNote(cp_resp->note());
  if (!note.ok()) {
    AddProblem(report, v1::AuditProblem::CHECKPOINT_INVALID, 0, std::string(note.status().message()));
    return std::nullopt;
  }
  absl::StatusOr<tlog::Checkpoint> cp = tlog::ParseCheckpointBody(note->text);
  if (!cp.ok() || cp->origin != origin || !tlog::VerifyNoteSignature(*note, origin, node.signing_key)) {
    AddProblem(report, v1::AuditProblem::CHECKPOINT_INVALID, 0,
               cp.ok() ? StrCat("not a checkpoint of ", origin, " signed by its key in the manifest")
                       : std::string(cp.status().message()));
    return std::nullopt;
  }
  report.set_tree_size(cp->size);
  report.set_root(std::string(cp->root.begin(), cp->root.end()));
  // Only recent cosignatures count: an old cosigned checkpoint, replayed by
  // the node, would hide everything it logged since.
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  size_t others = 0;
  for (const network::ManifestNode& w : network) {
    if (w.org == node.org) continue;
    ++others;
    absl::StatusOr<uint64_t> t = tlog::VerifyCosignature(*note, WitnessName(w.org), w.signing_key);
    if (!t.ok()) continue;
    const int64_t age = now_s - static_cast<int64_t>(*t);
    if (age <= kMaxCosignatureAge.count() && age >= -kMaxClockSkew.count()) report.add_witnesses(w.org);
  }
  if (static_cast<size_t>(report.witnesses_size()) < RequiredWitnesses(witnesses, others)) {
    AddProblem(report, v1::AuditProblem::CHECKPOINT_UNWITNESSED, 0,
               StrCat("cosigned recently by ", report.witnesses_size(), " witnesses, ", RequiredWitnesses(witnesses, others),
                      " required: no one else vouches that this is the log's only history"));
  }

  return *cp;
}

absl::StatusOr<v1::AuditVerifyReport> VerifyAuditLog(const network::ManifestNode& node,
                                                     const std::vector<network::ManifestNode>& network,
                                                     uint64_t witnesses, const std::string& purpose,
                                                     const AuditSource& source,
                                                     const std::optional<tlog::Checkpoint>& previous,
                                                     const std::set<std::string>& known_gaps, SystemTime now,
                                                     const std::function<void(uint64_t, const std::string&)>& on_entry) {
  v1::AuditVerifyReport report;
  report.set_org(node.org);
  ASSIGN_OR_RETURN(std::optional<tlog::Checkpoint> cp, VerifyCheckpoint(node, network, witnesses, source, now, report));
  if (!cp) return report;

  // 2. Every entry, hashed into the root (O(log n) memory: the size is the node's claim).
  tlog::Frontier tree;
  bool new_gap = false;  // a LogGap entry the previous verification did not see
  uint64_t returned = 0;
  bool complete = true;
  for (uint64_t from = 0; from < cp->size;) {
    absl::StatusOr<v1::ReadAuditResponse> page = source.read(Page(purpose, cp->size, from, false));
    if (!page.ok()) return page.status();
    const uint64_t end = page->next_seq();
    if (end <= from || end > from + kMaxAuditPage || end > cp->size) {
      return absl::DataLossError(StrCat(node.org, " answered a page of its audit log that does not advance"));
    }
    uint64_t expect = from;
    for (const auto& e : page->entries()) {
      if (e.seq() < expect || e.seq() >= end) {
        AddProblem(report, v1::AuditProblem::ENTRY_OUT_OF_PLACE, e.seq(), "returned out of order or out of range");
        complete = false;
        continue;
      }
      for (; expect < e.seq(); ++expect) {
        AddProblem(report, v1::AuditProblem::ENTRY_MISSING, expect, "the node did not return this entry");
        complete = false;
      }
      // Only the sequence number is read here (it leads every leaf); the
      // rest of the entry is the replay's to parse.
      const std::optional<uint64_t> seq = LeafSeq(e.leaf());
      if (!seq) {
        AddProblem(report, v1::AuditProblem::ENTRY_MALFORMED, e.seq(), "not an audit entry");
      } else if (*seq != e.seq()) {
        AddProblem(report, v1::AuditProblem::ENTRY_OUT_OF_PLACE, e.seq(),
                   StrCat("the entry at this position carries sequence number ", *seq));
      }
      if (LeafIsGap(e.leaf())) {
        std::string hash(32, '\0');
        const tlog::Hash h = tlog::LeafHash(e.leaf());
        hash.assign(h.begin(), h.end());
        new_gap = new_gap || !known_gaps.contains(hash);
        if (report.gap_leaf_hashes_size() < kMaxProblems) report.add_gap_leaf_hashes(std::move(hash));
        AddProblem(report, v1::AuditProblem::GAP_DECLARED, e.seq(),
                   "the operator declared entries lost after restoring this node from an older copy");
      }
      if (complete) tree.Append(tlog::LeafHash(e.leaf()), [](tlog::NodeId, const tlog::Hash&) {});
      ++returned;
      if (on_entry) on_entry(e.seq(), e.leaf());
      ++expect;
    }
    for (; expect < end; ++expect) {
      AddProblem(report, v1::AuditProblem::ENTRY_MISSING, expect, "the node did not return this entry");
      complete = false;
    }
    from = end;
  }
  report.set_entries_verified(returned);

  // 3. The root; if it differs, find the entries that changed: each entry's
  // proof from the node's stored tree, which was built when it was logged.
  if (!complete || tree.size() != cp->size || tree.Root() != cp->root) {
    AddProblem(report, v1::AuditProblem::ROOT_MISMATCH, 0, "the entries do not hash to the signed root");
    for (uint64_t from = 0; from < cp->size;) {
      absl::StatusOr<v1::ReadAuditResponse> page = source.read(Page(purpose, cp->size, from, true));
      if (!page.ok()) return page.status();
      const uint64_t end = page->next_seq();
      if (end <= from || end > from + kMaxAuditPage || end > cp->size) {
        return absl::DataLossError(StrCat(node.org, " answered a page of its audit log that does not advance"));
      }
      for (const auto& e : page->entries()) {
        if (e.seq() < from || e.seq() >= end) continue;  // reported in step 2
        auto proof = ToHashes(e.inclusion_proof().hashes());
        if (!proof || (proof->empty() && cp->size > 1) ||
            !tlog::VerifyInclusion(e.seq(), cp->size, tlog::LeafHash(e.leaf()), *proof, cp->root)) {
          AddProblem(report, v1::AuditProblem::ENTRY_CHANGED, e.seq(),
                     proof && !proof->empty() ? "fails its inclusion proof: changed after it was logged"
                                              : "the node cannot prove it: its tree around it is damaged");
        }
      }
      from = end;
    }
    report.set_entries_verified(0);
  }

  // 4. Consistency with what this auditor verified before.
  if (previous) {
    report.set_previous_size(previous->size);
    bool consistent = false;
    if (previous->size <= cp->size) {
      v1::ReadAuditRequest req;
      req.set_purpose(purpose);
      req.set_tree_size(cp->size);
      req.set_consistency(true);
      req.set_consistency_from(previous->size);
      absl::StatusOr<v1::ReadAuditResponse> resp = source.read(req);
      if (!resp.ok()) return resp.status();
      auto proof = ToHashes(resp->consistency_proof());
      consistent = proof && tlog::VerifyConsistency(previous->size, cp->size, previous->root, cp->root, *proof);
    }
    // A gap declared since (reported above) explains a history that changed;
    // without one it is a rewrite. An old gap excuses nothing new.
    if (!consistent && !new_gap) {
      AddProblem(report, v1::AuditProblem::INCONSISTENT_HISTORY, previous->size,
                 StrCat("not an extension of the checkpoint of size ", previous->size,
                        " verified before: history rewritten or rolled back"));
    }
  }
  return report;
}

absl::StatusOr<v1::InzageNode> ReadChildEntries(const network::ManifestNode& node,
                                                const std::vector<network::ManifestNode>& network, uint64_t witnesses,
                                                const AuditSource& source, const std::array<uint8_t, 32>& subject,
                                                SystemTime now) {
  v1::InzageNode out;
  out.set_org(node.org);
  v1::AuditVerifyReport report;
  ASSIGN_OR_RETURN(std::optional<tlog::Checkpoint> cp, VerifyCheckpoint(node, network, witnesses, source, now, report));
  *out.mutable_witnesses() = report.witnesses();
  if (cp) {
    out.set_tree_size(cp->size);
    uint64_t next = 0;  // the lowest seq a returned entry may have
    bool truncated = false;
    for (uint64_t from = 0; from < cp->size && !truncated;) {
      v1::ReadAuditRequest req;
      req.set_purpose(std::string(vocab::kInzage));
      req.set_subject(std::string(subject.begin(), subject.end()));
      req.set_tree_size(cp->size);
      req.set_from_seq(from);
      req.set_count(static_cast<uint32_t>(std::min<uint64_t>(kMaxInzageScan, cp->size - from)));
      absl::StatusOr<v1::ReadAuditResponse> page = source.read(req);
      if (!page.ok()) return page.status();
      const uint64_t end = page->next_seq();
      if (end <= from || end > from + kMaxInzageScan || end > cp->size) {
        return absl::DataLossError(StrCat(node.org, " answered a page of its audit log that does not advance"));
      }
      for (const auto& e : page->entries()) {
        if (out.entries_size() >= kMaxInzageEntries) {
          AddProblem(report, v1::AuditProblem::ENTRY_MISSING, e.seq(),
                     StrCat("more than ", kMaxInzageEntries, " entries about the child: the rest are not listed"));
          truncated = true;
          break;
        }
        auto proof = ToHashes(e.inclusion_proof().hashes());
        v1::AuditEntry entry;
        if (e.seq() < next || e.seq() >= end || !proof || (proof->empty() && cp->size > 1) ||
            !tlog::VerifyInclusion(e.seq(), cp->size, tlog::LeafHash(e.leaf()), *proof, cp->root) ||
            !entry.ParseFromString(e.leaf()) || entry.seq() != e.seq()) {
          AddProblem(report, v1::AuditProblem::ENTRY_CHANGED, e.seq(),
                     "not proved to be in the log at this position: left out of the inzage");
          continue;
        }
        next = e.seq() + 1;  // strictly increasing: no entry twice
        entry.clear_subject();
        *out.add_entries() = std::move(entry);
      }
      from = end;
    }
  }
  *out.mutable_problems() = std::move(*report.mutable_problems());
  return out;
}

}  // namespace casenode::node
