// Policy: the network's purpose-binding policy, loaded, validated and compiled.
//
// The language is described in policy/README.md. In short: a vocabulary of
// roles, actions, purposes, data categories and legal bases, and rules that
// allow or deny a requester (by role or organisation) an action for a purpose
// on data categories, naming the legal bases that suffice, whether consent is
// required, and conditions. Deny by default; a deny rule overrides every allow
// rule; local rule files may only deny, so they can only restrict.
//
// Evaluate() is pure, const and thread-safe: the same request and policy
// always give the same Decision (its policy_hash names the policy version).
// A Policy is immutable; share it as shared_ptr<const Policy>.
//
// Only Load(), ReadNetworkSources() and ReadFiles() touch the file system
// (sources.cc); the engine behind FromSources() and Evaluate() (policy.cc,
// evaluate.cc, internal/) works on Sources in memory and does no file I/O.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/request.h"

namespace casenode::policy {

// One policy file's text and the name errors should use for it.
struct Source {
  std::string name;
  std::string text;
};

// Why one rule did or did not decide a request (for `casectl policy explain`).
struct RuleTrace {
  std::string rule_id;
  std::string effect;  // "allow" or "deny"
  std::string origin;  // file:line
  bool applies = false;
  bool decided = false;
  std::string why;
};

// How responders treat the revocation check of a consent receipt, from the
// network policy's [consent] table.
struct ConsentSettings {
  uint32_t status_cache_seconds = 60;  // how long an issuer's answer is reused
  bool allow_stale = false;            // on_issuer_unreachable = "allow_stale": reuse an older answer
  uint32_t max_stale_seconds = 3600;   // ... but never one older than this
  bool operator==(const ConsentSettings&) const = default;
};

// How long a registered signal lasts, from the network policy's [signals]
// table: it expires this long after its registration.
struct SignalSettings {
  uint64_t retention_seconds = 63072000;  // 730 days: two years after registration
  bool operator==(const SignalSettings&) const = default;
};

// The network policy's [cases] table: how long a closed casusoverleg is kept
// (its bewaartermijn starts when the convener closes it), and each member's
// share of one case at the convener, so that no member can fill a case for
// the others: contributions, agreements it added, and the bytes of both.
inline constexpr int64_t kMaxMemberContributions = 1000;
inline constexpr int64_t kMaxMemberAgreements = 200;
inline constexpr int64_t kMaxMemberBytes = 3 * 1024 * 1024;
struct CaseSettings {
  uint64_t retention_seconds = 63072000;  // 730 days after closing
  uint64_t member_contributions = 200;
  uint64_t member_agreements = 50;
  uint64_t member_bytes = 1024 * 1024;
  bool operator==(const CaseSettings&) const = default;
};

// How many witnesses must have cosigned a node's checkpoint, recently, for
// an auditor to accept it: the network policy's [audit] table (at most the
// number of other nodes in the network).
struct AuditSettings {
  uint64_t witnesses = 2;
  bool operator==(const AuditSettings&) const = default;
};

// A durable bound on one action for each requesting organisation of one
// role, from the network policy's [quota."<action>"] tables. The node that
// answers counts every allowed call per UTC minute and per UTC day, in its
// store (a restart refills nothing); beyond either bound the call is refused
// (RESOURCE_EXHAUSTED, QUOTA_EXHAUSTED). Reaching alarm_percent of per_day
// raises an alarm to the auditor.
struct Quota {
  uint32_t per_minute = 0;
  uint32_t per_day = 0;
  uint32_t alarm_percent = 80;
  bool operator==(const Quota&) const = default;
};

struct Explanation {
  Decision decision;
  std::vector<RuleTrace> rules;  // every rule, in id order
};

class Policy {
 public:
  // Reads every *.toml file directly in `network_dir` (sorted by name) as the
  // network policy, and each of `local_files` as local rules. Errors name the
  // file, line and problem.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<const Policy>> Load(
      const std::string& network_dir, const std::vector<std::string>& local_files = {});
  // The sources Load() reads: every *.toml directly in `network_dir` (sorted
  // by name), and each of `files`.
  [[nodiscard]] static absl::StatusOr<std::vector<Source>> ReadNetworkSources(const std::string& network_dir);
  [[nodiscard]] static absl::StatusOr<std::vector<Source>> ReadFiles(const std::vector<std::string>& files);
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<const Policy>> FromSources(const std::vector<Source>& network,
                                                                                 const std::vector<Source>& local = {});
  ~Policy();

  Decision Evaluate(const Request& request) const;
  Explanation Explain(const Request& request) const;

  // Hex SHA-256 of CanonicalBytes(): the policy version.
  const std::string& hash() const;
  // The hash the network part alone would have (its local rules left out),
  // from the same compile: what a node compares with the manifest's
  // policy_hash. Equals hash() when there are no local rules.
  const std::string& network_hash() const;
  // The unambiguous, length-prefixed encoding of everything that decides a
  // request (format in internal/canonical.cc and policy/README.md),
  // independent of file layout, comments and descriptions. Equal bytes mean
  // equal decisions.
  const std::string& CanonicalBytes() const;
  // The same content as readable text, one line per item (for people and
  // logs); not what is hashed.
  std::string CanonicalText() const;
  size_t rule_count() const;
  const std::string& name() const;
  // True if some rule of the network policy (never a local rule) allows
  // requesters of `role` to ask for `action`, for some purpose: who takes part
  // in an exchange at all (e.g. which roles hold and answer signals).
  bool NetworkAllowsRole(std::string_view role, std::string_view action) const;
  // Whether the vocabulary lists `name` as a role, an action, a purpose, a data category or a legal basis.
  enum class Term { kRole, kAction, kPurpose, kCategory, kLegalBasis };
  bool Knows(Term term, std::string_view name) const;
  const ConsentSettings& consent_settings() const;
  const SignalSettings& signal_settings() const;
  const CaseSettings& case_settings() const;
  const AuditSettings& audit_settings() const;
  // Whether a signal of an organisation of `role` may name `category`
  // ([signals.categories]; any category when the table is absent).
  bool SignalCategoryAllowed(std::string_view role, std::string_view category) const;
  // The quota on `action` for requesters of `role`, or nullptr if none is set.
  const Quota* quota(std::string_view action, std::string_view role) const;

  struct Compiled;  // internal (policy/internal/compiled.h)

 private:
  explicit Policy(std::unique_ptr<Compiled> c);
  std::unique_ptr<Compiled> c_;
};

}  // namespace casenode::policy
