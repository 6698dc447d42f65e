// ConsentReceipt: a signed record that someone consented to a processing of a
// child's data, modelled on FHIR Consent.
//
// A receipt is signed (Ed25519, context "consent-receipt/v1") by the node that
// recorded it, over its canonical encoding (CanonicalBytes; format pinned by a
// golden test):
//   CanonicalWriter("casenode-consent-receipt/v1")
//     .String(receipt_id).String(issuer_org).Bytes(subject)
//     .List(consenters).U64(child_age_years).List(purposes).List(categories)
//     .List(recipient_roles).List(recipient_orgs).U64(valid_from).U64(valid_until)
//     .String(recorded_by).String(evidence_ref)
// The subject is the child's network pseudonym, never a BSN. Consenters are
// "child", "parent" or "guardian". Receipts are immutable; revocation is a
// separate fact held by the issuer.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "keys/identity.h"
#include "policy/request.h"

namespace casenode::consent {

struct ConsentReceipt {
  std::string receipt_id;   // 32 lowercase hex digits (16 random bytes)
  std::string issuer_org;   // the recording node's organisation
  std::array<uint8_t, 32> subject{};  // network pseudonym of the child
  std::vector<std::string> consenters;  // "child", "parent", "guardian"
  uint32_t child_age_years = 0;         // the child's age when consent was given
  std::vector<std::string> purposes;
  std::vector<std::string> categories;
  std::vector<std::string> recipient_roles;
  std::vector<std::string> recipient_orgs;
  SystemTime valid_from;
  SystemTime valid_until;
  std::string recorded_by;   // pseudonymous staff id
  std::string evidence_ref;  // where the signed form is kept, e.g. a document number
  keys::Signature signature{};
};

std::string CanonicalBytes(const ConsentReceipt& receipt);

// A new receipt id.
std::string NewReceiptId();

// Checks the receipt's own fields: InvalidArgument naming the field.
absl::Status Validate(const ConsentReceipt& receipt);

// Signs the receipt as its issuer. REQUIRES: Validate(receipt).ok().
void Sign(ConsentReceipt& receipt, const keys::SigningKey& issuer_key);

// The Dutch age rule for who must consent: under 12 a parent or guardian;
// 12 to 15 the child and a parent or guardian; 16 and over the child.
bool AgeRuleSatisfied(uint32_t child_age_years, const std::vector<std::string>& consenters);

// Everything a responder can check without asking the issuer: the signature
// (with the issuer's key from the manifest), the validity window at `now` and
// the age rule. Revocation is checked with the issuer separately.
policy::ConsentStatus Verify(const ConsentReceipt& receipt, const keys::PublicKey& issuer_key, SystemTime now);

// The receipt as the policy engine sees it, with a verification status.
policy::ConsentFact ToFact(const ConsentReceipt& receipt, policy::ConsentStatus status);

}  // namespace casenode::consent
