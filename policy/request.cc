#include "policy/request.h"

#include "base/canonical.h"
#include "base/sha256.h"
#include "policy/internal/request_digest.h"

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
    consents.push_back(std::move(one).bytes());
  }
  w.List(std::move(consents)).Bool(r.case_member).Bool(r.case_active).Bool(r.within_retention);
  return std::move(w).bytes();
}

std::string RequestDigest(const Request& request) {
  return internal::RequestDigestOf(request, CanonicalRequest(request));
}

std::string CanonicalRequestDigest(std::string_view canonical) { return Sha256Hex(canonical); }

absl::StatusOr<Request> ParseCanonicalRequest(std::string_view bytes) {
  constexpr size_t kMaxItems = 1024;
  const auto bad = [] { return absl::InvalidArgumentError("not a canonical policy request"); };
  CanonicalReader r(bytes);
  Request q;
  auto domain = r.String();
  if (!domain || *domain != "casenode-policy-request/v2") return bad();
  auto str = [&](std::string& out) {
    auto s = r.String();
    if (s) out = std::string(*s);
    return s.has_value();
  };
  if (!str(q.subject) || !str(q.requester_org) || !str(q.requester_role) || !str(q.action) || !str(q.purpose)) {
    return bad();
  }
  auto categories = r.List(kMaxItems);
  if (!categories || !str(q.legal_basis)) return bad();
  q.categories = *std::move(categories);
  auto consents = r.List(kMaxItems);
  if (!consents) return bad();
  for (const std::string& one : *consents) {
    CanonicalReader c(one);
    ConsentFact f;
    auto d = c.String();
    auto id = c.String();
    auto subject = c.String();
    auto status = c.String();
    if (!d || *d != "consent-fact" || !id || !subject || !status || !ParseConsentStatus(*status, &f.status)) {
      return bad();
    }
    f.receipt_id = std::string(*id);
    f.subject = std::string(*subject);
    auto purposes = c.List(kMaxItems);
    auto cats = c.List(kMaxItems);
    auto roles = c.List(kMaxItems);
    auto orgs = c.List(kMaxItems);
    if (!purposes || !cats || !roles || !orgs || !c.AtEnd()) return bad();
    f.purposes = *std::move(purposes);
    f.categories = *std::move(cats);
    f.recipient_roles = *std::move(roles);
    f.recipient_orgs = *std::move(orgs);
    q.consents.push_back(std::move(f));
  }
  auto member = r.Bool();
  auto active = r.Bool();
  auto retention = r.Bool();
  if (!member || !active || !retention || !r.AtEnd()) return bad();
  q.case_member = *member;
  q.case_active = *active;
  q.within_retention = *retention;
  if (CanonicalRequest(q) != bytes) return bad();
  return q;
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
