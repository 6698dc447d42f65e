#include "policy/request.h"

#include <openssl/evp.h>

#include <algorithm>

#include "base/encoding.h"

namespace casenode::policy {
namespace {

// Length-prefixed fields: u32be length || bytes. Lists are sorted first, so
// the order in which a client listed categories does not change the digest.
void Field(std::string& out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out.append(s);
}

void List(std::string& out, std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  Field(out, std::to_string(items.size()));
  for (const auto& i : items) Field(out, i);
}

}  // namespace

std::string CanonicalRequest(const Request& r) {
  std::string out = "casenode-policy-request/v1";
  Field(out, r.requester_org);
  Field(out, r.requester_role);
  Field(out, r.action);
  Field(out, r.purpose);
  List(out, r.categories);
  Field(out, r.legal_basis);
  std::vector<std::string> consents;
  for (const auto& c : r.consents) {
    std::string one;
    Field(one, c.receipt_id);
    Field(one, ConsentStatusName(c.status));
    List(one, c.purposes);
    List(one, c.categories);
    List(one, c.recipient_roles);
    List(one, c.recipient_orgs);
    consents.push_back(std::move(one));
  }
  List(out, consents);
  Field(out, r.case_member ? "1" : "0");
  Field(out, r.case_active ? "1" : "0");
  Field(out, r.within_retention ? "1" : "0");
  return out;
}

std::string RequestDigest(const Request& request) {
  const std::string bytes = CanonicalRequest(request);
  uint8_t md[32];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return HexEncode({md, len});
}

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
