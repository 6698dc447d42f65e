#include "node/consent/receipt.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "base/canonical.h"
#include "base/encoding.h"
#include "base/org_id.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/text.h"

namespace casenode::consent {
namespace {

constexpr std::string_view kSignatureContext = "consent-receipt/v2";
constexpr size_t kMaxReceiptNames = 64;    // per list: as many as the vocabulary may hold
constexpr size_t kMaxEvidenceBytes = 256;  // where the signed form is kept

bool Has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

std::string CanonicalBytes(const ConsentReceipt& r) {
  CanonicalWriter w("casenode-consent-receipt/v2");
  w.String(r.receipt_id).String(r.issuer_org).Bytes(r.subject);
  w.List(r.consenters).U64(r.child_age_years).List(r.purposes).List(r.categories);
  w.List(r.recipient_roles).List(r.recipient_orgs);
  w.U64(static_cast<uint64_t>(r.valid_from.time_since_epoch().count()));
  w.U64(static_cast<uint64_t>(r.valid_until.time_since_epoch().count()));
  w.String(r.recorded_by).String(r.evidence_ref);
  w.U64(static_cast<uint64_t>(r.age_rule_until.time_since_epoch().count()));
  return std::move(w).bytes();
}

std::string NewReceiptId() {
  uint8_t id[16];
  randombytes_buf(id, sizeof id);
  return HexEncode(id);
}

absl::Status Validate(const ConsentReceipt& r) {
  auto bad = [](std::string_view field, std::string_view expected) {
    return Error(Reason::kMalformedConsentReceipt, StrCat("consent receipt: ", field, ": expected ", expected));
  };
  if (r.receipt_id.size() != 32 || !HexDecode(r.receipt_id, "").ok()) return bad("receipt_id", "32 lowercase hex digits");
  if (r.issuer_org.empty()) return bad("issuer_org", "the recording organisation");
  if (r.consenters.empty()) return bad("consenters", "at least one of child, parent, guardian");
  for (const auto& c : r.consenters) {
    if (c != "child" && c != "parent" && c != "guardian") return bad("consenters", "only child, parent or guardian");
  }
  if (r.child_age_years > 25) return bad("child_age_years", "the child's age, 0 to 25");
  if (r.purposes.empty()) return bad("purposes", "at least one purpose");
  if (r.categories.empty()) return bad("categories", "at least one data category");
  if (r.recipient_roles.empty() && r.recipient_orgs.empty()) return bad("recipients", "a recipient role or organisation");
  if (r.valid_until <= r.valid_from) return bad("valid_until", "a time after valid_from");
  if (r.recorded_by.empty()) return bad("recorded_by", "the pseudonymous id of the staff member");
  return absl::OkStatus();
}

absl::Status CheckRecordable(const ConsentReceipt& r) {
  auto bad = [](std::string_view field, std::string_view expected) {
    return Error(Reason::kMalformedRequest, StrCat("consent receipt: ", field, ": expected ", expected));
  };
  // Names as the policy vocabulary and the manifest write them, each listed
  // once; text bounded and without control characters (it is shown to staff).
  auto names = [&](std::string_view field, const std::vector<std::string>& list, bool org) -> absl::Status {
    if (list.size() > kMaxReceiptNames) return bad(field, StrCat("at most ", kMaxReceiptNames, " names"));
    std::set<std::string_view> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string& n = list[i];
      if (org && !ValidOrgId(n)) return bad(field, kOrgIdSyntax);
      if (!org) RETURN_IF_ERROR(CheckName(n, StrCat("consent receipt: ", field)));
      // The value is not quoted: a BSN typed in the wrong place has a name's syntax.
      if (!seen.insert(n).second) return bad(field, StrCat("each name once (entry ", i, " repeats one)"));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(names("consenters", r.consenters, false));
  RETURN_IF_ERROR(names("purposes", r.purposes, false));
  RETURN_IF_ERROR(names("categories", r.categories, false));
  RETURN_IF_ERROR(names("recipient_roles", r.recipient_roles, false));
  RETURN_IF_ERROR(names("recipient_orgs", r.recipient_orgs, true));
  RETURN_IF_ERROR(CheckStaffId(r.recorded_by, "consent receipt: recorded_by"));
  RETURN_IF_ERROR(
      CheckText(r.evidence_ref, "consent receipt: evidence_ref", kMaxEvidenceBytes, TextLines::kNone, /*optional=*/true));
  return absl::OkStatus();
}

void Sign(ConsentReceipt& r, const keys::SigningKey& issuer_key) {
  r.signature = issuer_key.Sign(kSignatureContext, AsBytes(CanonicalBytes(r)));
}

absl::StatusOr<std::chrono::year_month_day> ParseBirthDate(std::string_view text) {
  auto bad = [] { return Error(Reason::kMalformedRequest, "birth_date: expected a date of birth as YYYY-MM-DD"); };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  auto number = [&](size_t at, size_t len, int* out) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int y = 0, m = 0, d = 0;
  if (!number(0, 4, &y) || !number(5, 2, &m) || !number(8, 2, &d)) return bad();
  const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                                         std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok() || y < 1900) return bad();
  return date;
}

AgeFacts AgeAt(std::chrono::year_month_day birth, SystemTime at) {
  using namespace std::chrono;
  // The day the child turns `years`: 29 February falls on 28 February in other years.
  auto birthday = [&](int years) {
    year_month_day d{birth.year() + std::chrono::years(years), birth.month(), birth.day()};
    if (!d.ok()) d = year_month_day{d.year(), d.month(), day(28)};
    return SystemTime(duration_cast<seconds>(sys_days(d).time_since_epoch()));
  };
  AgeFacts facts;
  int age = 0;
  while (age < 200 && birthday(age + 1) <= at) ++age;
  facts.age_years = static_cast<uint32_t>(age);
  if (age < 12) {
    facts.rule_until = birthday(12);
  } else if (age < 16) {
    facts.rule_until = birthday(16);
  }
  return facts;
}

bool AgeRuleSatisfied(uint32_t age, const std::vector<std::string>& consenters) {
  const bool child = Has(consenters, "child");
  const bool adult = Has(consenters, "parent") || Has(consenters, "guardian");
  if (age < 12) return adult;
  if (age < 16) return child && adult;
  return child;
}

policy::ConsentStatus Verify(const ConsentReceipt& r, const keys::PublicKey& issuer_key, SystemTime now) {
  if (!Validate(r).ok() || !keys::VerifySignature(issuer_key, kSignatureContext, AsBytes(CanonicalBytes(r)), r.signature)) {
    return policy::ConsentStatus::kForged;
  }
  if (now < r.valid_from || now >= r.valid_until) return policy::ConsentStatus::kExpired;
  if (!AgeRuleSatisfied(r.child_age_years, r.consenters)) return policy::ConsentStatus::kAgeRule;
  if (r.age_rule_until.time_since_epoch().count() != 0 && now >= r.age_rule_until) {
    return policy::ConsentStatus::kAgeRule;  // the child has since reached an age where others must consent
  }
  return policy::ConsentStatus::kValid;
}

policy::ConsentFact ToFact(const ConsentReceipt& r, policy::ConsentStatus status, std::string subject) {
  return policy::ConsentFact{r.receipt_id,      status,           r.purposes,         r.categories,
                             r.recipient_roles, r.recipient_orgs, std::move(subject)};
}

}  // namespace casenode::consent
