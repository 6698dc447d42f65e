// Reason codes: why something failed or was denied, as one typed enum.
//
// Every error a caller may act on carries a stable UPPER_SNAKE reason code
// (e.g. PEER_NOT_IN_MANIFEST) besides its canonical code. The table below is
// the only place that names a reason and chooses its canonical (gRPC) code, so
// a reason always travels with the same code. Inside the process the reason
// is a status payload; over gRPC it is an ErrorInfo detail (node/rpc).
// Decisions of the policy engine carry the same reasons (ALLOWED included).
//
// Control flow compares enums, never strings: `ReasonOf(s) == Reason::kShredded`.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

#include "absl/status/status.h"

namespace casenode {

// X(enumerator, value, NAME, canonical code). Values are persisted in
// decision records and audit entries: never renumber, only add.
#define CASENODE_REASONS(X)                                                          \
  /* storage and keys */                                                             \
  X(kShredded, 1, "SHREDDED", kNotFound)                                             \
  X(kRecordCorrupt, 2, "RECORD_CORRUPT", kDataLoss)                                  \
  X(kStoreCorrupt, 3, "STORE_CORRUPT", kDataLoss)                                    \
  X(kNewerFormat, 4, "NEWER_FORMAT", kFailedPrecondition)                            \
  X(kWrongMasterKey, 5, "WRONG_MASTER_KEY", kPermissionDenied)                       \
  X(kDiskFull, 6, "DISK_FULL", kResourceExhausted)                                   \
  /* network and peers */                                                            \
  X(kPeerNoCertificate, 10, "PEER_NO_CERTIFICATE", kUnauthenticated)                 \
  X(kPeerNotInManifest, 11, "PEER_NOT_IN_MANIFEST", kUnauthenticated)                \
  X(kPeerCertMismatch, 12, "PEER_CERT_MISMATCH", kUnauthenticated)                   \
  X(kManifestRollback, 13, "MANIFEST_ROLLBACK", kFailedPrecondition)                 \
  X(kManifestExpired, 14, "MANIFEST_EXPIRED", kFailedPrecondition)                   \
  X(kPolicyNotInManifest, 15, "POLICY_NOT_IN_MANIFEST", kFailedPrecondition)         \
  X(kReloadRefused, 16, "RELOAD_REFUSED", kFailedPrecondition)                       \
  X(kUnknownOrg, 17, "UNKNOWN_ORG", kInvalidArgument)                                \
  X(kDecisionNotRecorded, 18, "DECISION_NOT_RECORDED", kUnavailable)                 \
  X(kMalformedConsentReceipt, 19, "MALFORMED_CONSENT_RECEIPT", kInvalidArgument)     \
  X(kUnknownReceipt, 20, "UNKNOWN_RECEIPT", kNotFound)                               \
  X(kMalformedRequest, 21, "MALFORMED_REQUEST", kInvalidArgument)                    \
  X(kPolicyLacksVocabulary, 22, "POLICY_LACKS_VOCABULARY", kFailedPrecondition)      \
  /* policy decisions */                                                             \
  X(kAllowed, 40, "ALLOWED", kOk)                                                    \
  X(kNoMatchingRule, 41, "NO_MATCHING_RULE", kPermissionDenied)                      \
  X(kDeniedByRule, 42, "DENIED_BY_RULE", kPermissionDenied)                          \
  X(kLegalBasisMissing, 43, "LEGAL_BASIS_MISSING", kPermissionDenied)                \
  X(kLegalBasisInsufficient, 44, "LEGAL_BASIS_INSUFFICIENT", kPermissionDenied)      \
  X(kNotCaseMember, 45, "NOT_CASE_MEMBER", kPermissionDenied)                        \
  X(kCaseNotActive, 46, "CASE_NOT_ACTIVE", kPermissionDenied)                        \
  X(kRetentionExpired, 47, "RETENTION_EXPIRED", kPermissionDenied)                   \
  X(kRateLimited, 48, "RATE_LIMITED", kResourceExhausted)                            \
  X(kUnknownRole, 49, "UNKNOWN_ROLE", kInvalidArgument)                              \
  X(kUnknownAction, 50, "UNKNOWN_ACTION", kInvalidArgument)                          \
  X(kUnknownPurpose, 51, "UNKNOWN_PURPOSE", kInvalidArgument)                        \
  X(kUnknownCategory, 52, "UNKNOWN_CATEGORY", kInvalidArgument)                      \
  X(kUnknownLegalBasis, 53, "UNKNOWN_LEGAL_BASIS", kInvalidArgument)                 \
  /* consent, in the precedence the policy reports them (most serious first) */      \
  X(kConsentForged, 60, "CONSENT_FORGED", kPermissionDenied)                         \
  X(kConsentRevoked, 61, "CONSENT_REVOKED", kPermissionDenied)                       \
  X(kConsentExpired, 62, "CONSENT_EXPIRED", kPermissionDenied)                       \
  X(kConsentAgeRule, 63, "CONSENT_AGE_RULE", kPermissionDenied)                      \
  X(kConsentUnknownIssuer, 64, "CONSENT_UNKNOWN_ISSUER", kPermissionDenied)          \
  X(kConsentIssuerUnreachable, 65, "CONSENT_ISSUER_UNREACHABLE", kPermissionDenied)  \
  X(kConsentOutOfScope, 66, "CONSENT_OUT_OF_SCOPE", kPermissionDenied)               \
  X(kConsentMissing, 67, "CONSENT_MISSING", kPermissionDenied)                       \
  /* pseudonyms (keys/oprf, base/bsn) */                                             \
  X(kInvalidBsn, 70, "INVALID_BSN", kInvalidArgument)                                \
  X(kOprfInvalidInput, 71, "OPRF_INVALID_INPUT", kInvalidArgument)                   \
  X(kOprfInvalidEncoding, 72, "OPRF_INVALID_ENCODING", kInvalidArgument)             \
  X(kOprfProofFailed, 73, "OPRF_PROOF_FAILED", kDataLoss)                            \
  X(kOprfTooFewShares, 74, "OPRF_TOO_FEW_SHARES", kUnavailable)                      \
  X(kOprfSharesInconsistent, 75, "OPRF_SHARES_INCONSISTENT", kFailedPrecondition)    \
  X(kOprfShareInvalid, 76, "OPRF_SHARE_INVALID", kFailedPrecondition)                \
  X(kNotAKeyHolder, 77, "NOT_A_KEY_HOLDER", kFailedPrecondition)                    \
  X(kAuditLogInconsistent, 78, "AUDIT_LOG_INCONSISTENT", kFailedPrecondition)      \
  /* cases */                                                                        \
  X(kCaseDestroyed, 80, "CASE_DESTROYED", kNotFound)                                 \
  X(kNotActionOwner, 81, "NOT_ACTION_OWNER", kPermissionDenied)                    \
  /* quotas and alarms */                                                             \
  X(kQuotaExhausted, 82, "QUOTA_EXHAUSTED", kResourceExhausted)                      \
  X(kNotTheAuditor, 83, "NOT_THE_AUDITOR", kFailedPrecondition)                  \
  X(kSignalCategoryNotAllowed, 84, "SIGNAL_CATEGORY_NOT_ALLOWED", kInvalidArgument) \
  /* cases, against a curious member */                                            \
  X(kCaseTextUnsealed, 85, "CASE_TEXT_UNSEALED", kInvalidArgument)                 \
  X(kCaseShareExhausted, 86, "CASE_SHARE_EXHAUSTED", kResourceExhausted)         \
  /* staff sign-in (node/staff): why an ID token was refused */                    \
  X(kStaffTokenMalformed, 90, "STAFF_TOKEN_MALFORMED", kUnauthenticated)           \
  X(kStaffTokenAlgorithm, 91, "STAFF_TOKEN_ALGORITHM", kUnauthenticated)           \
  X(kStaffTokenUnknownKey, 92, "STAFF_TOKEN_UNKNOWN_KEY", kUnauthenticated)        \
  X(kStaffTokenSignature, 93, "STAFF_TOKEN_SIGNATURE", kUnauthenticated)           \
  X(kStaffTokenIssuer, 94, "STAFF_TOKEN_ISSUER", kUnauthenticated)                 \
  X(kStaffTokenAudience, 95, "STAFF_TOKEN_AUDIENCE", kUnauthenticated)             \
  X(kStaffTokenExpired, 96, "STAFF_TOKEN_EXPIRED", kUnauthenticated)               \
  X(kStaffTokenNotYetValid, 97, "STAFF_TOKEN_NOT_YET_VALID", kUnauthenticated)     \
  X(kStaffTokenNonce, 98, "STAFF_TOKEN_NONCE", kUnauthenticated)                   \
  X(kStaffReauthRequired, 99, "STAFF_REAUTH_REQUIRED", kUnauthenticated)

enum class Reason : uint16_t {
  kNone = 0,  // no reason attached (also: a name this build does not know)
#define CASENODE_REASON_ENUM_(e, v, name, code) e = v,
  CASENODE_REASONS(CASENODE_REASON_ENUM_)
#undef CASENODE_REASON_ENUM_
};

// "SHREDDED", ...; "" for kNone.
std::string_view ReasonName(Reason reason);
// The canonical code every error with this reason has.
absl::StatusCode ReasonCode(Reason reason);
// The reason with this name, or nullopt.
std::optional<Reason> ParseReason(std::string_view name);

// An error with `reason`, its canonical code, and `message`.
// REQUIRES: ReasonCode(reason) != kOk.
[[nodiscard]] absl::Status Error(Reason reason, std::string_view message);
// `status` with `reason` attached, keeping its own code (no-op on OK). For
// errors of a library (RocksDB, I/O) that already chose the code.
[[nodiscard]] absl::Status WithReason(absl::Status status, Reason reason);
// The attached reason, or kNone.
Reason ReasonOf(const absl::Status& status);
// `status` with "what: " before its message; code and reason are kept.
[[nodiscard]] absl::Status Annotate(std::string_view what, const absl::Status& status);

// For test output and logs: the name, or "NONE".
inline std::ostream& operator<<(std::ostream& os, Reason reason) {
  return os << (reason == Reason::kNone ? std::string_view("NONE") : ReasonName(reason));
}

inline constexpr char kReasonPayloadUrl[] = "type.googleapis.com/casenode.v1.ErrorInfo.reason";

}  // namespace casenode
