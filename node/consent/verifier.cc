#include "node/consent/verifier.h"

namespace casenode::consent {
namespace {

int64_t UnixMs(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

policy::ConsentStatus StatusOf(v1::ConsentState state) {
  switch (state) {
    case v1::CONSENT_ACTIVE: return policy::ConsentStatus::kValid;
    case v1::CONSENT_REVOKED: return policy::ConsentStatus::kRevoked;
    // A correctly signed receipt its issuer no longer knows was shredded with
    // its subject: it must not be relied on.
    case v1::CONSENT_UNKNOWN: return policy::ConsentStatus::kRevoked;
    // Its issuer was restored from a backup and staff have not confirmed it
    // since: the revocation may have been lost. Treated as revoked.
    case v1::CONSENT_UNCONFIRMED: return policy::ConsentStatus::kRevoked;
    default: return policy::ConsentStatus::kIssuerUnreachable;
  }
}

}  // namespace

absl::StatusOr<v1::ConsentCheck> ConsentVerifier::IssuerAnswer(const network::ManifestNode& issuer,
                                                               const ConsentReceipt& receipt,
                                                               const policy::ConsentSettings& settings,
                                                               Deadline deadline) const {
  const SystemTime now = clock_();
  std::string key = issuer.org;
  key.push_back('\0');
  key += receipt.receipt_id;
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(receipt.signature.data()), receipt.signature.size());
  auto reuse = [&](const Cached& c) {
    v1::ConsentCheck answer = c.answer;
    // Rounded down, as the cache rules compare it: an answer reused at
    // 59.9996 s must not read 60,000 ms old.
    answer.set_age_ms(std::chrono::floor<std::chrono::milliseconds>(now - c.at).count());
    return answer;
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    // An answer from "the future" (the clock stepped back) is not reused.
    if (it != cache_.end() && now >= it->second.at &&
        now - it->second.at < std::chrono::seconds(settings.status_cache_seconds)) {
      return reuse(it->second);
    }
  }
  absl::StatusOr<v1::ConsentCheck> answer = query_(issuer, receipt.receipt_id, deadline);
  std::lock_guard<std::mutex> lock(mu_);
  if (answer.ok()) {
    answer->set_answered_at_unix_ms(UnixMs(now));
    answer->set_age_ms(0);
    if (cache_.size() >= kMaxCached) cache_.clear();  // bounded; answers are cheap to fetch again
    // Two asks may overlap: the one asked last stands (unless the one cached
    // is from the future of a clock stepped back since).
    auto [it, fresh] = cache_.try_emplace(key, Cached{*answer, now});
    if (!fresh && (it->second.at <= now || it->second.at > clock_())) it->second = Cached{*answer, now};
    return answer;
  }
  auto it = cache_.find(key);
  if (settings.allow_stale && it != cache_.end() && now >= it->second.at &&
      now - it->second.at <= std::chrono::seconds(settings.max_stale_seconds)) {
    return reuse(it->second);
  }
  return answer.status();
}

Verified ConsentVerifier::Verify(const ConsentReceipt& receipt, const network::Manifest& manifest,
                                 const policy::ConsentSettings& settings, Deadline deadline,
                                 const CallTrace* call) const {
  const network::ManifestNode* issuer = manifest.FindOrg(receipt.issuer_org);
  if (issuer == nullptr) return {policy::ConsentStatus::kUnknownIssuer, std::nullopt};
  const policy::ConsentStatus local = consent::Verify(receipt, issuer->signing_key, clock_());
  if (local != policy::ConsentStatus::kValid) return {local, std::nullopt};
  if (receipt.issuer_org == self_org_ && call == nullptr) {
    absl::StatusOr<v1::ConsentState> state = own_.State(receipt.receipt_id);
    if (!state.ok()) return {policy::ConsentStatus::kIssuerUnreachable, std::nullopt};
    return {StatusOf(*state), std::nullopt};
  }
  absl::StatusOr<v1::ConsentCheck> answer;
  if (receipt.issuer_org == self_org_) {
    answer = own_answer_(receipt.receipt_id, call->trace_id, call->span_id);
    if (answer.ok()) {
      answer->set_answered_at_unix_ms(UnixMs(clock_()));
      answer->set_age_ms(0);
    }
  } else {
    answer = IssuerAnswer(*issuer, receipt, settings, deadline);
  }
  if (!answer.ok()) return {policy::ConsentStatus::kIssuerUnreachable, std::nullopt};
  if (answer->state() == v1::CONSENT_STATE_UNSPECIFIED || !v1::ConsentState_IsValid(answer->state())) {
    return {policy::ConsentStatus::kIssuerUnreachable, std::nullopt};
  }
  return {StatusOf(answer->state()), *std::move(answer)};
}

}  // namespace casenode::consent
