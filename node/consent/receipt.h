// ConsentReceipt: a signed record that someone consented to a processing of a
// child's data, modelled on FHIR Consent.
//
// A receipt is signed (Ed25519, context "consent-receipt/v2") by the node that
// recorded it, over its canonical encoding (CanonicalBytes; format pinned by a
// golden test):
//   CanonicalWriter("casenode-consent-receipt/v2")
//     .String(receipt_id).String(issuer_org).Bytes(subject)
//     .List(consenters).U64(child_age_years).List(purposes).List(categories)
//     .List(recipient_roles).List(recipient_orgs).U64(valid_from).U64(valid_until)
//     .String(recorded_by).String(evidence_ref).U64(age_rule_until)
// Times are Unix seconds. age_rule_until is the day the child reaches the next
// age boundary of the consent rule (12 or 16), after which the receipt no
// longer stands because someone else must consent; 0 when the child was 16
// or over. The issuer computes it from the date of birth at recording and
// stores no date of birth.
// The subject is the child's network pseudonym, never a BSN. Consenters are
// "child", "parent" or "guardian". Receipts are immutable; revocation is a
// separate fact held by the issuer.
#pragma once

#include <array>
#include <chrono>
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
  SystemTime age_rule_until{};  // see above; epoch 0 = no further boundary
  keys::Signature signature{};
};

// A date of birth, "YYYY-MM-DD". InvalidArgument naming `birth_date` otherwise
// (never echoing the value: it is personal data).
[[nodiscard]] absl::StatusOr<std::chrono::year_month_day> ParseBirthDate(std::string_view text);

// What the date of birth tells the consent rule at moment `at`: the child's
// age in whole years, and the start (00:00 UTC) of the day it reaches the
// next boundary (12 or 16), or epoch 0 at 16 and over. A birthday on 29
// February counts on 28 February in other years (the earlier day: a receipt
// ends no later than the rule changes).
struct AgeFacts {
  uint32_t age_years = 0;
  SystemTime rule_until{};
};
AgeFacts AgeAt(std::chrono::year_month_day birth, SystemTime at);

std::string CanonicalBytes(const ConsentReceipt& receipt);

// A new receipt id.
std::string NewReceiptId();

// Checks the receipt's own fields: InvalidArgument naming the field.
[[nodiscard]] absl::Status Validate(const ConsentReceipt& receipt);
// What a node records besides (stricter than what verifiers accept from
// receipts issued before): names of [a-z0-9._-] (organisations by the
// manifest's syntax), each listed once, at most 64 per list; a staff id of
// [a-z0-9._-]{1,64}; an evidence reference of at most 256 bytes of text
// without control characters. The error names the field.
[[nodiscard]] absl::Status CheckRecordable(const ConsentReceipt& r);

// Signs the receipt as its issuer. REQUIRES: Validate(receipt).ok().
void Sign(ConsentReceipt& receipt, const keys::SigningKey& issuer_key);

// The Dutch age rule for who must consent: under 12 a parent or guardian;
// 12 to 15 the child and a parent or guardian; 16 and over the child.
bool AgeRuleSatisfied(uint32_t child_age_years, const std::vector<std::string>& consenters);

// Everything a responder can check without asking the issuer: the signature
// (with the issuer's key from the manifest), the validity window at `now`,
// the age rule, and that `now` is before age_rule_until. Revocation is
// checked with the issuer separately.
policy::ConsentStatus Verify(const ConsentReceipt& receipt, const keys::PublicKey& issuer_key, SystemTime now);

// The receipt as the policy engine sees it, with a verification status.
// `subject` is the node-local handle of the receipt's child (see policy::Request::subject).
policy::ConsentFact ToFact(const ConsentReceipt& receipt, policy::ConsentStatus status, std::string subject);

}  // namespace casenode::consent
