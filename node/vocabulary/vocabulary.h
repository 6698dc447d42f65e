// The names of the policy's vocabulary that the daemon's code relies on: the
// actions its Peer methods and staff acts ask the gate about, the purposes,
// data categories and legal bases those fix. Every part of the daemon names
// them from here (casectl's flag defaults are the user's to change; a seal
// context such as "afspraken" in cases/desk.cc is a byte format, not a policy
// name, and stays a literal), and a node checks at start and at
// every reload that the policy in force knows each of them
// (CheckVocabulary): a policy that renamed or dropped one is refused with the
// name, instead of showing up as denials at run time.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "policy/policy.h"

namespace casenode::node::vocab {

// Actions.
inline constexpr std::string_view kNodePing = "node.ping";
inline constexpr std::string_view kConsentStatus = "consent.status";
inline constexpr std::string_view kPseudonymEvaluate = "pseudonym.evaluate";
inline constexpr std::string_view kSignalLookup = "signal.lookup";
inline constexpr std::string_view kSignalNotify = "signal.notify";
inline constexpr std::string_view kCaseConvene = "case.convene";
inline constexpr std::string_view kCaseInvite = "case.invite";
inline constexpr std::string_view kCaseJoin = "case.join";
inline constexpr std::string_view kCaseContribute = "case.contribute";
inline constexpr std::string_view kCaseRead = "case.read";
inline constexpr std::string_view kCaseClose = "case.close";
inline constexpr std::string_view kCaseDestroy = "case.destroy";
inline constexpr std::string_view kAuditRead = "audit.read";
inline constexpr std::string_view kAuditCosign = "audit.cosign";
inline constexpr std::string_view kAuditAlarm = "audit.alarm";

// Purposes.
inline constexpr std::string_view kNetwerkbeheer = "netwerkbeheer";
inline constexpr std::string_view kCasusoverleg = "casusoverleg";
inline constexpr std::string_view kVerantwoording = "verantwoording";
inline constexpr std::string_view kInzage = "inzage";

// Data categories.
inline constexpr std::string_view kSignaal = "signaal";
inline constexpr std::string_view kContact = "contact";
inline constexpr std::string_view kAfspraken = "afspraken";
inline constexpr std::string_view kLogmetadata = "logmetadata";

// Legal bases.
inline constexpr std::string_view kLegalDuty = "legal_duty";
inline constexpr std::string_view kPublicTask = "public_task";

// OK if `policy`'s vocabulary lists every name above; else
// POLICY_LACKS_VOCABULARY naming the first that is missing and its kind.
[[nodiscard]] absl::Status CheckVocabulary(const policy::Policy& policy);

}  // namespace casenode::node::vocab
