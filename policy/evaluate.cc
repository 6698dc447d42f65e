// Deciding requests: Policy::Evaluate and Policy::Explain, pure functions of
// the request and the compiled policy (policy/README.md, "How a request is decided").
#include <algorithm>

#include "base/strings.h"
#include "policy/internal/compiled.h"
#include "policy/internal/request_digest.h"
#include "policy/policy.h"

namespace casenode::policy {
namespace internal {
namespace {

// A request translated into the policy's vocabulary.
struct Interned {
  uint64_t role_bit = 0;
  int action = -1, purpose = -1;
  uint64_t categories = 0;
  int basis = -1;
};

// What one rule says about one request.
struct Verdict {
  bool applies = false;  // the rule is about this request (requester, action, purpose, categories)
  bool passed = false;   // for allow rules: every requirement holds; for deny rules: equal to applies
  Reason reason = Reason::kNone;
  std::vector<std::string> consents_used;
};

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The failure reason of a receipt for this request, or kNone if it covers it.
Reason ReceiptFailure(const ConsentFact& f, const Request& req) {
  switch (f.status) {
    case ConsentStatus::kValid:
      break;
    case ConsentStatus::kForged:
      return Reason::kConsentForged;
    case ConsentStatus::kRevoked:
      return Reason::kConsentRevoked;
    case ConsentStatus::kExpired:
      return Reason::kConsentExpired;
    case ConsentStatus::kAgeRule:
      return Reason::kConsentAgeRule;
    case ConsentStatus::kUnknownIssuer:
      return Reason::kConsentUnknownIssuer;
    case ConsentStatus::kIssuerUnreachable:
      return Reason::kConsentIssuerUnreachable;
    default:
      return Reason::kConsentForged;
  }
  // A receipt about another child, or a request about no child at all.
  if (req.subject.empty() || f.subject != req.subject) return Reason::kConsentOutOfScope;
  if (!Contains(f.purposes, req.purpose)) return Reason::kConsentOutOfScope;
  for (const auto& c : req.categories) {
    if (!Contains(f.categories, c)) return Reason::kConsentOutOfScope;
  }
  if (!Contains(f.recipient_roles, req.requester_role) && !Contains(f.recipient_orgs, req.requester_org)) {
    return Reason::kConsentOutOfScope;
  }
  return Reason::kNone;
}

// Fixed precedence, so the reason does not depend on the order receipts were
// attached: the consent reasons are numbered most serious first.
bool MoreSerious(Reason a, Reason b) { return static_cast<int>(a) < static_cast<int>(b); }

Verdict Check(const Policy::Compiled& c, const Rule& rule, const Request& req, const Interned& in, std::string* why) {
  Verdict v;
  auto note = [&](std::string text) {
    if (why != nullptr) *why = std::move(text);
  };
  if (std::find(rule.actions.begin(), rule.actions.end(), in.action) == rule.actions.end()) {
    note(StrCat("action ", req.action, " is not in [", Join(rule.lists[kActions]), "]"));
    return v;
  }
  if (std::find(rule.purposes.begin(), rule.purposes.end(), in.purpose) == rule.purposes.end()) {
    note(StrCat("purpose ", req.purpose, " is not in [", Join(rule.lists[kPurposes]), "]"));
    return v;
  }
  if ((rule.roles & in.role_bit) == 0 && !Contains(rule.orgs, req.requester_org)) {
    note(StrCat("requester ", req.requester_org, " (", req.requester_role, ") is not in roles [",
                Join(rule.lists[kRoles]), "] or orgs [", Join(rule.orgs), "]"));
    return v;
  }
  if (rule.effect == Effect::kDeny) {
    if (rule.categories != 0 && (rule.categories & in.categories) == 0) {
      note(StrCat("no requested category is in [", Join(rule.lists[kCategories]), "]"));
      return v;
    }
    v.applies = v.passed = true;
    v.reason = Reason::kDeniedByRule;
    note("denies this request");
    return v;
  }
  if ((in.categories & ~rule.categories) != 0) {
    note(StrCat("requested categories are not all in [", Join(rule.lists[kCategories]), "]"));
    return v;
  }
  v.applies = true;
  if (rule.bases != 0) {
    if (in.basis < 0) {
      v.reason = Reason::kLegalBasisMissing;
      note(StrCat("no legal basis claimed; one of [", Join(rule.lists[kBases]), "] is needed"));
      return v;
    }
    if ((rule.bases & (uint32_t{1} << in.basis)) == 0) {
      v.reason = Reason::kLegalBasisInsufficient;
      note(StrCat("legal basis ", req.legal_basis, " is not in [", Join(rule.lists[kBases]), "]"));
      return v;
    }
  }
  if (rule.consent_required || (in.basis >= 0 && in.basis == c.consent_basis)) {
    Reason best = Reason::kConsentMissing;
    for (const ConsentFact& f : req.consents) {
      const Reason failure = ReceiptFailure(f, req);
      if (failure == Reason::kNone) {
        v.consents_used.push_back(f.receipt_id);
        best = Reason::kNone;
        break;
      }
      if (best == Reason::kConsentMissing || MoreSerious(failure, best)) best = failure;
    }
    if (best != Reason::kNone) {
      v.reason = best;
      note(StrCat("needs a valid consent receipt covering this request: ", ReasonName(best)));
      return v;
    }
  }
  const std::pair<Condition, Reason> checks[] = {{kCaseMember, Reason::kNotCaseMember},
                                                 {kCaseActive, Reason::kCaseNotActive},
                                                 {kWithinRetention, Reason::kRetentionExpired}};
  const bool facts[] = {req.case_member, req.case_active, req.within_retention};
  for (size_t i = 0; i < 3; ++i) {
    if ((rule.conditions & checks[i].first) != 0 && !facts[i]) {
      v.reason = checks[i].second;
      note(StrCat("condition fails: ", ReasonName(checks[i].second)));
      return v;
    }
  }
  v.passed = true;
  v.reason = Reason::kAllowed;
  note("allows this request");
  return v;
}

// Translates the request; returns the reason of the first name outside the vocabulary, or kNone.
Reason Intern(const Policy::Compiled& c, const Request& req, Interned* in) {
  const int role = c.vocab.Find(kRoles, req.requester_role);
  if (role < 0) return Reason::kUnknownRole;
  in->role_bit = uint64_t{1} << role;
  if ((in->action = c.vocab.Find(kActions, req.action)) < 0) return Reason::kUnknownAction;
  if ((in->purpose = c.vocab.Find(kPurposes, req.purpose)) < 0) return Reason::kUnknownPurpose;
  for (const auto& cat : req.categories) {
    const int ix = c.vocab.Find(kCategories, cat);
    if (ix < 0) return Reason::kUnknownCategory;
    in->categories |= uint64_t{1} << ix;
  }
  if (!req.legal_basis.empty() && (in->basis = c.vocab.Find(kBases, req.legal_basis)) < 0) {
    return Reason::kUnknownLegalBasis;
  }
  return Reason::kNone;
}

}  // namespace
}  // namespace internal

Decision Policy::Evaluate(const Request& req) const {
  Decision d;
  d.effect = Effect::kDeny;
  d.policy_hash = c_->hash;
  d.canonical_request = CanonicalRequest(req);
  d.request_digest = internal::RequestDigestOf(req, d.canonical_request);
  internal::Interned in;
  if (const Reason unknown = internal::Intern(*c_, req, &in); unknown != Reason::kNone) {
    d.rule_id = "vocabulary";
    d.reason = unknown;
    return d;
  }
  // With no rule passing, the first rule that applied but failed a requirement
  // explains the denial (e.g. CONSENT_REVOKED); with none, the default denies.
  const internal::Rule* failed_rule = nullptr;
  Reason failed_reason = Reason::kNoMatchingRule;
  auto bucket = c_->index.find(internal::IndexKey(in.action, in.purpose));
  if (bucket != c_->index.end()) {
    for (uint32_t i : bucket->second) {  // deny rules first, then allow rules, each in id order
      const internal::Rule& rule = c_->rules[i];
      internal::Verdict v = internal::Check(*c_, rule, req, in, nullptr);
      if (!v.applies) continue;
      if (v.passed) {
        d.effect = rule.effect;
        d.rule_id = rule.id;
        d.reason = v.reason;
        d.consent_receipt_ids = std::move(v.consents_used);
        d.rate_limit_per_minute = rule.rate_limit;
        return d;
      }
      if (failed_rule == nullptr) {
        failed_rule = &rule;
        failed_reason = v.reason;
      }
    }
  }
  d.rule_id = failed_rule != nullptr ? failed_rule->id : "default-deny";
  d.reason = failed_reason;
  return d;
}

Explanation Policy::Explain(const Request& req) const {
  Explanation e;
  e.decision = Evaluate(req);
  internal::Interned in;
  const bool known = internal::Intern(*c_, req, &in) == Reason::kNone;
  for (const internal::Rule& rule : c_->rules) {
    RuleTrace t;
    t.rule_id = rule.id;
    t.effect = rule.effect == Effect::kAllow ? "allow" : "deny";
    t.origin = rule.origin;
    if (known) {
      internal::Verdict v = internal::Check(*c_, rule, req, in, &t.why);
      t.applies = v.applies;
    } else {
      t.why = StrCat("not evaluated: ", ReasonName(e.decision.reason));
    }
    t.decided = rule.id == e.decision.rule_id;
    e.rules.push_back(std::move(t));
  }
  return e;
}

}  // namespace casenode::policy
