#include "node/audit/keyspace.h"

#include "base/encoding.h"

namespace casenode::node::audit_keys {
namespace {

std::string Keyed(char prefix, std::string_view rest) {
  std::string k(1, prefix);
  k.append(rest);
  return k;
}

std::string Numbered(char prefix, uint64_t n) {
  std::string k(1, prefix);
  AppendU64(k, n);
  return k;
}

}  // namespace

std::string Entry(uint64_t seq) { return Numbered(kEntryPrefix, seq); }
std::string Block(uint64_t block) { return Numbered('b', block); }
std::string TreeNode(tlog::NodeId id) {
  std::string k(1, 'n');
  k.push_back(static_cast<char>(id.level));
  AppendU64(k, id.index);
  return k;
}
std::string Held(std::string_view org) { return Keyed('w', org); }
std::string Evidence(std::string_view org) { return Keyed(kEvidencePrefix[0], org); }
std::string Verified(std::string_view org) { return Keyed('v', org); }
std::string VerifiedGaps(std::string_view org) { return Keyed('V', org); }

}  // namespace casenode::node::audit_keys
