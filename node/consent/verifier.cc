#include "node/consent/verifier.h"

namespace casenode::consent {

absl::StatusOr<v1::ConsentStatusResponse::State> ConsentVerifier::IssuerState(
    const keys::ManifestNode& issuer, const ConsentReceipt& receipt, const policy::ConsentSettings& settings,
    Deadline deadline) const {
  const SystemTime now = clock_();
  std::string key = issuer.org;
  key.push_back('\0');
  key += receipt.receipt_id;
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(receipt.signature.data()), receipt.signature.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now - it->second.at < std::chrono::seconds(settings.status_cache_seconds)) {
      return it->second.state;
    }
  }
  auto state = query_(issuer, receipt.receipt_id, deadline);
  std::lock_guard<std::mutex> lock(mu_);
  if (state.ok()) {
    if (cache_.size() >= kMaxCached) cache_.clear();  // bounded; answers are cheap to fetch again
    cache_[key] = Cached{*state, now};
    return state;
  }
  auto it = cache_.find(key);
  if (settings.allow_stale && it != cache_.end() &&
      now - it->second.at <= std::chrono::seconds(settings.max_stale_seconds)) {
    return it->second.state;
  }
  return state;
}

policy::ConsentStatus ConsentVerifier::Verify(const ConsentReceipt& receipt, const keys::Manifest& manifest,
                                              const policy::ConsentSettings& settings, Deadline deadline) const {
  const keys::ManifestNode* issuer = manifest.FindOrg(receipt.issuer_org);
  if (issuer == nullptr) return policy::ConsentStatus::kUnknownIssuer;
  const policy::ConsentStatus local = consent::Verify(receipt, issuer->signing_key, clock_());
  if (local != policy::ConsentStatus::kValid) return local;
  absl::StatusOr<v1::ConsentStatusResponse::State> state;
  if (receipt.issuer_org == self_org_) {
    state = own_.State(receipt.receipt_id);
  } else {
    state = IssuerState(*issuer, receipt, settings, deadline);
  }
  if (!state.ok()) return policy::ConsentStatus::kIssuerUnreachable;
  switch (*state) {
    case v1::ConsentStatusResponse::STATE_ACTIVE: return policy::ConsentStatus::kValid;
    case v1::ConsentStatusResponse::STATE_REVOKED: return policy::ConsentStatus::kRevoked;
    // A correctly signed receipt its issuer no longer knows was shredded with
    // its subject: it must not be relied on.
    case v1::ConsentStatusResponse::STATE_UNKNOWN: return policy::ConsentStatus::kRevoked;
    // Its issuer was restored from a backup and staff have not confirmed it
    // since: the revocation may have been lost. Treated as revoked.
    case v1::ConsentStatusResponse::STATE_UNCONFIRMED: return policy::ConsentStatus::kRevoked;
    default: return policy::ConsentStatus::kIssuerUnreachable;
  }
}

}  // namespace casenode::consent
