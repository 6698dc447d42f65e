// The auditor's check of one node's audit log, from what that node returns
// over Peer calls (AuditCheckpoint, ReadAudit):
//
// 1. The checkpoint is a C2SP note signed by the node's key in the manifest,
//    with origin "casenode.log/<org>", and cosigned in the last 10 minutes
//    by at least as many other nodes of the manifest as the policy's
//    [audit] witnesses (RequiredWitnesses, witness.h).
// 2. Every entry below its tree size is fetched (pages of up to 1000); each
//    must parse as an AuditEntry whose seq is its position. The root of all
//    leaves must equal the signed root: that proves every entry's inclusion
//    at once, at two hashes per entry.
// 3. If it does not, each entry's inclusion proof (from the node's stored
//    tree) is checked, and every entry that fails is reported by sequence
//    number: changed after it was logged.
// 4. If this auditor verified an earlier checkpoint of the node, the new one
//    must be a consistent extension of it (RFC 9162 consistency proof): a log
//    rewritten or rolled back to an older copy is reported.
// Problems are results (at most 1000 listed); an error means the node could
// not be asked, or answered with pages that do not advance.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "casenode/v1/local.pb.h"
#include "casenode/v1/peer.pb.h"
#include "base/time.h"
#include "network/manifest.h"
#include "tlog/note.h"

namespace casenode::node {

// How the verifier reaches the node: its Peer calls, bound to one peer.
struct AuditSource {
  std::function<absl::StatusOr<v1::AuditCheckpointResponse>()> checkpoint;
  std::function<absl::StatusOr<v1::ReadAuditResponse>(const v1::ReadAuditRequest&)> read;
};

// `network`: every node of the manifest (the possible witnesses);
// `witnesses`: how many of them the policy requires ([audit] witnesses).
// `previous`: the last checkpoint of this node this auditor verified, if any;
// `known_gaps`: the leaf hashes of the gaps its log had then. Only a gap not
// among them explains a history that no longer extends `previous`.
// `on_entry(seq, leaf)` sees every entry returned, in order (for the replay).
[[nodiscard]] absl::StatusOr<v1::AuditVerifyReport> VerifyAuditLog(
    const network::ManifestNode& node, const std::vector<network::ManifestNode>& network, uint64_t witnesses, const std::string& purpose,
    const AuditSource& source, const std::optional<tlog::Checkpoint>& previous,
    const std::set<std::string>& known_gaps, SystemTime now,
    const std::function<void(uint64_t, const std::string&)>& on_entry = nullptr);

// Step 1 alone: fetches the signed checkpoint and checks its signature and
// witnesses, noting problems (and the witnesses that count) in `report`.
// nullopt if it is not a checkpoint of the node at all.
[[nodiscard]] absl::StatusOr<std::optional<tlog::Checkpoint>> VerifyCheckpoint(
    const network::ManifestNode& node, const std::vector<network::ManifestNode>& network, uint64_t witnesses,
    const AuditSource& source,
    SystemTime now, v1::AuditVerifyReport& report);

// Inzage: the node's entries about the child with pseudonym `subject`
// (ReadAudit with a subject), each checked against the verified checkpoint
// by its inclusion proof; an entry that fails is a problem, not a line.
// Which entries are about the child only the node can tell (it holds the
// key of their sealed subject): what it leaves out cannot be detected here.
[[nodiscard]] absl::StatusOr<v1::InzageNode> ReadChildEntries(const network::ManifestNode& node,
                                                              const std::vector<network::ManifestNode>& network,
                                                              uint64_t witnesses, const AuditSource& source,
                                                              const std::array<uint8_t, 32>& subject, SystemTime now);

}  // namespace casenode::node
