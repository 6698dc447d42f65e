// The keys of the record store's "audit" family, all in one place: the log
// itself, what this node witnesses of others' logs, and what its auditor
// verified. Each kind of key has its own first byte; the values are
// described where they are written. Persisted: never change a byte here.
//
//   'e' u64be seq                  an entry's leaf bytes          (audit_log.cc)
//   'b' u64be block                the leaf hashes of a block     (audit_log.cc)
//   'n' u8 level u64be index       a Merkle tree node's hash      (audit_log.cc)
//   "p"                            the leaf hashes not yet in a full block
//   "s"                            the log's committed state
//   'w' org                        the note this node holds of org's log (witness.cc)
//   'x' org                        evidence against org's log     (witness.cc)
//   "c"                            this log's latest cosigned note (witness.cc)
//   "g"                            the seq of this log's declared gap (witness.cc)
//   'v' org                        the last note of org's log verified clean (services/audit_service.cc)
//   'V' org                        the gap leaf hashes that log had then
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tlog/merkle.h"

namespace casenode::node::audit_keys {

inline constexpr char kEntryPrefix = 'e';
inline constexpr std::string_view kPending = "p";
inline constexpr std::string_view kState = "s";
inline constexpr std::string_view kCosigned = "c";
inline constexpr std::string_view kGap = "g";
// Scan prefix of every 'x' key.
inline constexpr std::string_view kEvidencePrefix = "x";

std::string Entry(uint64_t seq);
std::string Block(uint64_t block);
std::string TreeNode(tlog::NodeId id);
std::string Held(std::string_view org);
std::string Evidence(std::string_view org);
std::string Verified(std::string_view org);
std::string VerifiedGaps(std::string_view org);

}  // namespace casenode::node::audit_keys
