// ConsentVerifier: what a responder knows about a receipt a requester attached.
//
// Checks, in order: the issuer is in the manifest (else unknown_issuer); the
// signature verifies with the issuer's manifest key (else forged); the
// validity window and the age rule; then asks the issuer (Peer
// ConsentStatus) whether it was revoked. An issuer that cannot be reached
// gives issuer_unreachable, which the policy treats as a denial: fail closed.
// This node answers for its own receipts without a network call. Thread-safe.
#pragma once

#include <functional>

#include "base/time.h"
#include "casenode/v1/peer.pb.h"
#include "keys/manifest.h"
#include "node/consent/consent_book.h"
#include "node/consent/receipt.h"

namespace casenode::consent {

// Asks `issuer` for the state of a receipt; an error if it cannot be reached.
using StatusQuery = std::function<absl::StatusOr<v1::ConsentStatusResponse::State>(const keys::ManifestNode& issuer,
                                                                                    const std::string& receipt_id)>;

class ConsentVerifier {
 public:
  ConsentVerifier(const ConsentBook& own, std::string self_org, StatusQuery query, Clock clock)
      : own_(own), self_org_(std::move(self_org)), query_(std::move(query)), clock_(std::move(clock)) {}

  policy::ConsentStatus Verify(const ConsentReceipt& receipt, const keys::Manifest& manifest) const;

 private:
  const ConsentBook& own_;
  const std::string self_org_;
  const StatusQuery query_;
  const Clock clock_;
};

}  // namespace casenode::consent
