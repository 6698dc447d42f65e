// Policy::Compiled: a policy as the engine holds it, once parsed and
// validated (internal/parse.cc), hashed (internal/canonical.cc) and decided
// on (evaluate.cc). Internal to policy/. Immutable once built, so it is read
// from any thread without locks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/policy.h"

namespace casenode::policy {
namespace internal {

// The five kinds of names in the vocabulary, in the order the canonical bytes
// list them.
enum Kind { kRoles = 0, kActions, kPurposes, kCategories, kBases, kKinds };
inline constexpr const char* kKindKey[kKinds] = {"roles", "actions", "purposes", "categories", "legal_bases"};

// A rule's conditions, as bits.
enum Condition : uint8_t { kCaseMember = 1, kCaseActive = 2, kWithinRetention = 4 };

struct Vocab {
  std::vector<std::string> names[kKinds];  // in the order declared
  std::unordered_map<std::string, int> index[kKinds];
  // The index of `name` among the names of kind `k`, or -1.
  int Find(Kind k, const std::string& name) const {
    auto it = index[k].find(name);
    return it == index[k].end() ? -1 : it->second;
  }
};

struct Rule {
  std::string id;
  Effect effect = Effect::kUnspecified;
  bool local = false;
  std::string origin;  // file:line
  uint64_t roles = 0;  // bit i: vocabulary role i
  std::vector<std::string> orgs;
  std::vector<int> actions, purposes;
  uint64_t categories = 0;
  uint32_t bases = 0;
  bool consent_required = false;
  uint8_t conditions = 0;  // Condition bits
  uint32_t rate_limit = 0;
  std::vector<std::string> lists[kKinds];  // names as written, sorted (canonical form, explain)
  std::vector<std::string> condition_names;
};

// The key of Policy::Compiled::index.
inline uint64_t IndexKey(int action, int purpose) { return (uint64_t(uint32_t(action)) << 32) | uint32_t(purpose); }

// The names, comma-separated (readable canonical text, explanations).
inline std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace internal

struct Policy::Compiled {
  std::string name;
  ConsentSettings consent;
  SignalSettings signals;
  CaseSettings cases;
  AuditSettings audit;
  // role -> the data categories its signals may name (sorted); empty: any.
  std::map<std::string, std::vector<std::string>, std::less<>> signal_categories;
  // action -> requester role -> quota (std::less<>: looked up by string_view).
  std::map<std::string, std::map<std::string, Quota, std::less<>>, std::less<>> quotas;
  internal::Vocab vocab;
  std::vector<internal::Rule> rules;                          // sorted by id
  std::unordered_map<uint64_t, std::vector<uint32_t>> index;  // (action, purpose) -> deny rules, then allow rules
  int consent_basis = -1;                                     // the legal basis "consent", or -1
  std::string canonical_bytes;
  std::string network_hash;
  std::string hash;
};

}  // namespace casenode::policy
