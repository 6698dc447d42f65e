#include "policy/request.h"

#include <algorithm>

#include "base/canonical.h"
#include "base/encoding.h"
#include "base/sha256.h"

namespace casenode::policy {
std::string CanonicalRequest(const Request& r) {
  CanonicalWriter w("casenode-policy-request/v2");
  w.String(r.subject).String(r.requester_org).String(r.requester_role).String(r.action).String(r.purpose).List(r.categories);
  w.String(r.legal_basis);
  std::vector<std::string> consents;
  for (const auto& c : r.consents) {
    CanonicalWriter one("consent-fact");
    one.String(c.receipt_id).String(c.subject).String(ConsentStatusName(c.status)).List(c.purposes).List(c.categories);
    one.List(c.recipient_roles).List(c.recipient_orgs);
    consents.push_back(one.bytes());
  }
  w.List(std::move(consents)).Bool(r.case_member).Bool(r.case_active).Bool(r.within_retention);
  return w.bytes();
}

std::string RequestDigest(const Request& request) { return Sha256Hex(CanonicalRequest(request)); }

std::string_view ConsentStatusName(ConsentStatus s) {
  switch (s) {
    case ConsentStatus::kValid: return "valid";
    case ConsentStatus::kForged: return "forged";
    case ConsentStatus::kExpired: return "expired";
    case ConsentStatus::kRevoked: return "revoked";
    case ConsentStatus::kAgeRule: return "age_rule";
    case ConsentStatus::kIssuerUnreachable: return "issuer_unreachable";
    case ConsentStatus::kUnknownIssuer: return "unknown_issuer";
    default: return "unspecified";
  }
}

bool ParseConsentStatus(std::string_view name, ConsentStatus* out) {
  for (auto s : {ConsentStatus::kValid, ConsentStatus::kForged, ConsentStatus::kExpired, ConsentStatus::kRevoked,
                 ConsentStatus::kAgeRule, ConsentStatus::kIssuerUnreachable, ConsentStatus::kUnknownIssuer}) {
    if (ConsentStatusName(s) == name) {
      *out = s;
      return true;
    }
  }
  return false;
}

}  // namespace casenode::policy
