#include "node/consent/verifier.h"

namespace casenode::consent {

policy::ConsentStatus ConsentVerifier::Verify(const ConsentReceipt& receipt, const keys::Manifest& manifest) const {
  const keys::ManifestNode* issuer = manifest.FindOrg(receipt.issuer_org);
  if (issuer == nullptr) return policy::ConsentStatus::kUnknownIssuer;
  const policy::ConsentStatus local = consent::Verify(receipt, issuer->signing_key, clock_());
  if (local != policy::ConsentStatus::kValid) return local;
  absl::StatusOr<v1::ConsentStatusResponse::State> state;
  if (receipt.issuer_org == self_org_) {
    auto entry = own_.Show(receipt.receipt_id);
    if (entry.ok()) {
      state = entry->revoked() ? v1::ConsentStatusResponse::STATE_REVOKED : v1::ConsentStatusResponse::STATE_ACTIVE;
    } else if (entry.status().code() == absl::StatusCode::kNotFound) {
      state = v1::ConsentStatusResponse::STATE_UNKNOWN;
    } else {
      state = entry.status();
    }
  } else {
    state = query_(*issuer, receipt.receipt_id);
  }
  if (!state.ok()) return policy::ConsentStatus::kIssuerUnreachable;
  switch (*state) {
    case v1::ConsentStatusResponse::STATE_ACTIVE: return policy::ConsentStatus::kValid;
    case v1::ConsentStatusResponse::STATE_REVOKED: return policy::ConsentStatus::kRevoked;
    // A correctly signed receipt its issuer no longer knows was shredded with
    // its subject: it must not be relied on.
    case v1::ConsentStatusResponse::STATE_UNKNOWN: return policy::ConsentStatus::kRevoked;
    default: return policy::ConsentStatus::kIssuerUnreachable;
  }
}

}  // namespace casenode::consent
