#include "node/vocabulary/vocabulary.h"

#include "base/reason.h"
#include "base/strings.h"

namespace casenode::node::vocab {
namespace {

using Term = policy::Policy::Term;

struct Used {
  Term term;
  std::string_view name;
};

constexpr Used kUsed[] = {
    {Term::kAction, kNodePing},           {Term::kAction, kConsentStatus},   {Term::kAction, kPseudonymEvaluate},
    {Term::kAction, kSignalLookup},       {Term::kAction, kSignalNotify},    {Term::kAction, kCaseConvene},
    {Term::kAction, kCaseInvite},         {Term::kAction, kCaseJoin},        {Term::kAction, kCaseContribute},
    {Term::kAction, kCaseRead},           {Term::kAction, kCaseClose},       {Term::kAction, kCaseDestroy},
    {Term::kAction, kAuditRead},          {Term::kAction, kAuditCosign},     {Term::kAction, kAuditAlarm},
    {Term::kPurpose, kNetwerkbeheer},
    {Term::kPurpose, kCasusoverleg},      {Term::kPurpose, kVerantwoording}, {Term::kPurpose, kInzage},
    {Term::kCategory, kSignaal},          {Term::kCategory, kContact},       {Term::kCategory, kAfspraken},
    {Term::kCategory, kLogmetadata},      {Term::kLegalBasis, kLegalDuty},   {Term::kLegalBasis, kPublicTask},
};

std::string_view KindName(Term term) {
  switch (term) {
    case Term::kRole: return "role";
    case Term::kAction: return "action";
    case Term::kPurpose: return "purpose";
    case Term::kCategory: return "data category";
    case Term::kLegalBasis: return "legal basis";
  }
  return "name";
}

}  // namespace

absl::Status CheckVocabulary(const policy::Policy& policy) {
  for (const Used& used : kUsed) {
    if (!policy.Knows(used.term, used.name)) {
      return Error(Reason::kPolicyLacksVocabulary,
                   StrCat("the policy's vocabulary lacks the ", KindName(used.term), " \"", used.name,
                          "\", which casenode uses; a policy may add names, not drop these"));
    }
  }
  return absl::OkStatus();
}

}  // namespace casenode::node::vocab
