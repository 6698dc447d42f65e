// What the policy engine decides on, and what it answers.
//
// A Request holds facts only: who asks (from mTLS and the manifest), what,
// for which purpose and data categories, on which claimed legal basis, the
// consent receipts attached (already checked for signature, validity window,
// revocation and the age rule by the consent verifier: here only their
// status and scope), and case facts. Evaluation is a pure function of the
// request and the policy, so an auditor can replay it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/reason.h"

namespace casenode::policy {

// The outcome of verifying one consent receipt. Persisted: values never change.
enum class ConsentStatus : uint8_t {
  kUnspecified = 0,
  kValid = 1,
  kForged = 2,         // signature does not verify with the issuer's key
  kExpired = 3,        // outside valid_from .. valid_until
  kRevoked = 4,        // the issuer says so
  kAgeRule = 5,        // the wrong person consented for the child's age
  kIssuerUnreachable = 6,
  kUnknownIssuer = 7,
};

struct ConsentFact {
  std::string receipt_id;
  ConsentStatus status = ConsentStatus::kUnspecified;
  std::vector<std::string> purposes;
  std::vector<std::string> categories;
  std::vector<std::string> recipient_roles;
  std::vector<std::string> recipient_orgs;
  std::string subject;  // the receipt's child, named as in Request::subject
};

// How a node names children to the policy: the request's own child, and any
// other one. The policy needs only to know whether a receipt is about the
// request's child, so no identifier of a child ever reaches a decision.
inline constexpr char kThisChild[] = "this-child";
inline constexpr char kAnotherChild[] = "another-child";

struct Request {
  // The child the request is about ("" if about no child): a node passes
  // kThisChild; policy test files may use any names. A consent receipt covers
  // a request only if it is about the same, non-empty subject.
  std::string subject;
  std::string requester_org;
  std::string requester_role;
  std::string action;
  std::string purpose;
  std::vector<std::string> categories;
  std::string legal_basis;  // claimed by the requester; "" if none
  std::vector<ConsentFact> consents;
  bool case_member = false;
  bool case_active = false;
  bool within_retention = true;
};

enum class Effect : uint8_t { kUnspecified = 0, kAllow = 1, kDeny = 2 };

// Every decision is a value: the same request and policy always give the same one.
struct Decision {
  Effect effect = Effect::kDeny;
  std::string rule_id;      // the rule that decided; "default-deny" if none applied
  Reason reason = Reason::kNoMatchingRule;  // kAllowed, kNoMatchingRule, kDeniedByRule, kConsentRevoked, ...
  std::string policy_hash;  // hex SHA-256 of the policy's canonical form
  std::vector<std::string> consent_receipt_ids;  // receipts the decision relied on
  std::string request_digest;                    // hex SHA-256 of canonical_request
  std::string canonical_request;                 // CanonicalRequest(request): what can be decided again
  uint32_t rate_limit_per_minute = 0;            // 0 = none; enforced by the caller

  bool allowed() const { return effect == Effect::kAllow; }
  bool operator==(const Decision&) const = default;
};

// Canonical byte encoding of a request (for the digest): see request.cc.
std::string CanonicalRequest(const Request& request);
std::string RequestDigest(const Request& request);
// Lowercase hex SHA-256 of canonical request bytes: RequestDigest of the
// request they encode (what an auditor recomputes from Decision's bytes).
std::string CanonicalRequestDigest(std::string_view canonical);
// The request `bytes` encode (what an auditor re-decides). InvalidArgument
// unless CanonicalRequest of the result gives exactly `bytes`.
[[nodiscard]] absl::StatusOr<Request> ParseCanonicalRequest(std::string_view bytes);

std::string_view ConsentStatusName(ConsentStatus status);
bool ParseConsentStatus(std::string_view name, ConsentStatus* out);

}  // namespace casenode::policy
