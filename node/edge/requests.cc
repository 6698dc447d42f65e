#include "node/edge/requests.h"

#include <set>
#include <string_view>

#include "base/bsn.h"
#include "base/encoding.h"
#include "base/org_id.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/text.h"
#include "keys/oprf/oprf.h"
#include "tlog/note.h"
#include "node/audit/audit_log.h"
#include "node/cases/case_book.h"
#include "node/consent/consent_book.h"
#include "node/consent/receipt.h"
#include "node/rpc/context.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node::edge {
namespace {

using Term = policy::Policy::Term;

absl::Status Bad(std::string_view message) { return Error(Reason::kMalformedRequest, message); }

// Identifiers this network makes: 32 lowercase hex digits (128 random bits).
absl::Status CheckId(std::string_view value, std::string_view field) {
  if (!IsLowerHex(value, 32)) return Bad(StrCat(field, ": expected 32 lowercase hex digits"));
  return absl::OkStatus();
}

absl::Status CheckPseudonym(std::string_view value, std::string_view field) {
  if (value.size() != 32) return Bad(StrCat(field, ": expected a 32-byte pseudonym"));
  return absl::OkStatus();
}

absl::Status CheckBsn(std::string_view value) {
  absl::StatusOr<Bsn> bsn = ParseBsn(value);  // its errors never echo the value
  return bsn.ok() ? absl::OkStatus() : Annotate("bsn", bsn.status());
}

// A name of the policy's vocabulary: its syntax, then that the policy lists
// it (UNKNOWN_PURPOSE, ...). Values are never quoted back: a BSN typed in
// the wrong field has a name's syntax. A list's entries are named by index.
absl::Status CheckKnown(std::string_view value, std::string_view field, Term term, const Known& known) {
  RETURN_IF_ERROR(CheckName(value, field));
  if (!known.policy->Knows(term, value)) {
    struct Unknown {
      Reason reason;
      std::string_view noun;
    };
    const Unknown u = term == Term::kPurpose    ? Unknown{Reason::kUnknownPurpose, "purpose"}
                      : term == Term::kCategory ? Unknown{Reason::kUnknownCategory, "data category"}
                      : term == Term::kRole     ? Unknown{Reason::kUnknownRole, "role"}
                      : term == Term::kAction   ? Unknown{Reason::kUnknownAction, "action"}
                                                : Unknown{Reason::kUnknownLegalBasis, "legal basis"};
    return Error(u.reason, StrCat(field, ": not a ", u.noun, " of the network policy's vocabulary"));
  }
  return absl::OkStatus();
}

absl::Status CheckOptionalKnown(std::string_view value, std::string_view field, Term term, const Known& known) {
  return value.empty() ? absl::OkStatus() : CheckKnown(value, field, term, known);
}

absl::Status CheckOptionalName(std::string_view value, std::string_view field) {
  return value.empty() ? absl::OkStatus() : CheckName(value, field);
}

// An organisation the manifest lists now.
absl::Status CheckOrg(std::string_view value, std::string_view field, const Known& known) {
  if (!ValidOrgId(value)) return Bad(StrCat(field, ": expected an organisation id (", kOrgIdSyntax, ")"));
  if (known.manifest->FindOrg(value) == nullptr) {
    return Error(Reason::kUnknownOrg, StrCat(field, ": not an organisation in the manifest"));
  }
  return absl::OkStatus();
}

// A receipt staff pass on (to verify it, or attached to a call): issued, so
// its id and issuer have their syntax, and bounded. Its other fields are the
// verifier's to judge (a receipt issued under older rules still verifies).
constexpr size_t kMaxReceiptBytes = 4096;

absl::Status CheckIssuedReceipt(const v1::ConsentReceipt& p) {
  if (p.ByteSizeLong() > kMaxReceiptBytes) {
    return Error(Reason::kMalformedConsentReceipt, StrCat("consent receipt: at most ", kMaxReceiptBytes, " bytes"));
  }
  ASSIGN_OR_RETURN(consent::ConsentReceipt r, consent::FromProto(p));
  if (!IsLowerHex(r.receipt_id, 32)) {
    return Error(Reason::kMalformedConsentReceipt, "consent receipt: receipt_id: expected 32 lowercase hex digits");
  }
  if (!ValidOrgId(r.issuer_org)) {
    return Error(Reason::kMalformedConsentReceipt,
                 StrCat("consent receipt: issuer_org: expected an organisation id (", kOrgIdSyntax, ")"));
  }
  return absl::OkStatus();
}

// Attached receipts travel as one binary metadata entry (casenode-consent-bin,
// base64 on the wire), and gRPC refuses headers past about 8 KiB: 4 KiB of
// receipts in all keeps well clear of that.
constexpr size_t kMaxAttachedReceiptBytes = 4096;

absl::Status CheckReceipts(const google::protobuf::RepeatedPtrField<v1::ConsentReceipt>& receipts) {
  if (receipts.size() > kMaxReceiptsPerCall) return Bad(StrCat("consent_receipts: at most ", kMaxReceiptsPerCall));
  size_t bytes = 0;
  std::set<std::string_view> ids;
  for (int i = 0; i < receipts.size(); ++i) {
    RETURN_IF_ERROR(Annotate(StrCat("consent_receipts[", i, "]"), CheckIssuedReceipt(receipts[i])));
    if (!ids.insert(receipts[i].receipt_id()).second) return Bad(StrCat("consent_receipts[", i, "]: attached twice"));
    bytes += receipts[i].ByteSizeLong();
  }
  if (bytes > kMaxAttachedReceiptBytes) {
    return Bad(StrCat("consent_receipts: at most ", kMaxAttachedReceiptBytes, " bytes in all"));
  }
  return absl::OkStatus();
}

// A text sealed under a case key: the nonce and at most `max_plain` bytes.
absl::Status CheckSealed(const v1::SealedText& text, size_t max_plain, std::string_view field) {
  if (text.nonce().size() != 24 || text.ciphertext().size() <= kSealOverhead ||
      text.ciphertext().size() > max_plain + kSealOverhead) {
    return Bad(StrCat(field, ": a 24-byte nonce and a sealed text of at most ", max_plain, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckHashes(const google::protobuf::RepeatedPtrField<std::string>& hashes, std::string_view field) {
  if (hashes.size() > 64) return Bad(StrCat(field, ": at most 64 hashes"));
  for (const std::string& h : hashes) {
    if (h.size() != 32) return Bad(StrCat(field, ": hashes of 32 bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckAuditPurpose(std::string_view purpose) {
  if (!purpose.empty() && purpose != vocab::kVerantwoording && purpose != vocab::kInzage) {
    return Bad("purpose: verantwoording or inzage");
  }
  return absl::OkStatus();
}

absl::Status CheckActionStatus(v1::ActionStatus status, std::string_view field) {
  if (status != v1::ACTION_OPEN && status != v1::ACTION_DONE) return Bad(StrCat(field, ": open or done"));
  return absl::OkStatus();
}

absl::Status CheckDue(int64_t due_ms, bool required, std::string_view field) {
  if (due_ms < 0 || due_ms > kMaxDueMs) return Bad(StrCat(field, ": a date from 1970 to 9999"));
  if (required && due_ms == 0) return Bad(StrCat(field, ": required for a new agreement"));
  return absl::OkStatus();
}

}  // namespace

// ---- Local ----

absl::Status Check(const v1::DeclareGapRequest& r) { return CheckStaffId(r.declared_by(), "declared_by"); }

absl::Status Check(const v1::DerivePseudonymRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckBsn(r.bsn()));
  RETURN_IF_ERROR(CheckKnown(r.purpose(), "purpose", Term::kPurpose, known));
  return CheckOptionalKnown(r.legal_basis(), "legal_basis", Term::kLegalBasis, known);
}

absl::Status Check(const v1::RegisterSignalRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckBsn(r.bsn()));
  RETURN_IF_ERROR(CheckKnown(r.purpose(), "purpose", Term::kPurpose, known));
  RETURN_IF_ERROR(CheckKnown(r.category(), "category", Term::kCategory, known));
  const network::ManifestNode* self = known.manifest->FindOrg(known.self_org);
  const std::string_view role = network::RoleName(self != nullptr ? self->role : network::Role::ROLE_UNSPECIFIED);
  if (!known.policy->SignalCategoryAllowed(role, r.category())) {
    return Error(Reason::kSignalCategoryNotAllowed,
                 StrCat("category: not a category the signals of a ", role, " may name ([signals.categories])"));
  }
  RETURN_IF_ERROR(CheckText(r.contact(), "contact", 256, TextLines::kNone));
  return CheckOptionalKnown(r.legal_basis(), "legal_basis", Term::kLegalBasis, known);
}

absl::Status Check(const v1::CheckSignalRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckBsn(r.bsn()));
  RETURN_IF_ERROR(CheckKnown(r.purpose(), "purpose", Term::kPurpose, known));
  return CheckOptionalKnown(r.legal_basis(), "legal_basis", Term::kLegalBasis, known);
}

absl::Status Check(const v1::WithdrawSignalRequest& r) { return CheckId(r.signal_id(), "signal_id"); }

absl::Status Check(const v1::PingPeerRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckOrg(r.org(), "org", known));
  if (r.org() == known.self_org) return Bad("org: another node than this one");
  if (!r.subject().empty()) RETURN_IF_ERROR(CheckPseudonym(r.subject(), "subject"));
  return CheckReceipts(r.consent_receipts());
}

absl::Status Check(const v1::BackupRequest& r) {
  if (r.dir().empty() || r.dir().front() != '/') return Bad("dir: expected an absolute path");
  return CheckText(r.dir(), "dir", 4096, TextLines::kNone);
}

absl::Status Check(const v1::ConsentRecordRequest& r, const Known& known) {
  ASSIGN_OR_RETURN(consent::ConsentReceipt draft, consent::FromProto(r.receipt()));
  if (auto birth = consent::ParseBirthDate(r.birth_date()); !birth.ok()) return birth.status();
  // The syntax first, then the vocabulary.
  RETURN_IF_ERROR(consent::CheckRecordable(draft));
  // A receipt names only what the network knows; one no request could ever
  // use is refused when made.
  auto listed = [&](std::string_view field, const std::vector<std::string>& names, Term term) -> absl::Status {
    for (size_t i = 0; i < names.size(); ++i) {
      RETURN_IF_ERROR(CheckKnown(names[i], StrCat("consent receipt: ", field, "[", i, "]"), term, known));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(listed("purposes", draft.purposes, Term::kPurpose));
  RETURN_IF_ERROR(listed("categories", draft.categories, Term::kCategory));
  RETURN_IF_ERROR(listed("recipient_roles", draft.recipient_roles, Term::kRole));
  for (size_t i = 0; i < draft.recipient_orgs.size(); ++i) {
    RETURN_IF_ERROR(CheckOrg(draft.recipient_orgs[i], StrCat("consent receipt: recipient_orgs[", i, "]"), known));
  }
  // A receipt that has ended before it is made could never be used.
  if (draft.valid_until <= known.now) return Bad("consent receipt: valid_until_unix: expected a time in the future");
  return absl::OkStatus();
}

absl::Status Check(const v1::ConsentRevokeRequest& r) {
  RETURN_IF_ERROR(CheckId(r.receipt_id(), "receipt_id"));
  return CheckStaffId(r.revoked_by(), "revoked_by");
}

absl::Status Check(const v1::ConsentConfirmRequest& r) {
  RETURN_IF_ERROR(CheckId(r.receipt_id(), "receipt_id"));
  return CheckStaffId(r.confirmed_by(), "confirmed_by");
}

absl::Status Check(const v1::ConsentListRequest& r) { return CheckPseudonym(r.subject(), "subject"); }

absl::Status Check(const v1::ConsentShowRequest& r) { return CheckId(r.receipt_id(), "receipt_id"); }

absl::Status Check(const v1::ConsentVerifyRequest& r) { return CheckIssuedReceipt(r.receipt()); }

absl::Status Check(const v1::AuditVerifyRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckOrg(r.org(), "org", known));
  if (r.org() == known.self_org) return Bad("org: another node's log (an auditor verifies others)");
  RETURN_IF_ERROR(CheckAuditPurpose(r.purpose()));
  if (r.since_unix_ms() < 0 || r.until_unix_ms() < 0 ||
      (r.until_unix_ms() != 0 && r.until_unix_ms() <= r.since_unix_ms())) {
    return Bad("since_unix_ms, until_unix_ms: a time range with since before until");
  }
  return absl::OkStatus();
}

absl::Status Check(const v1::AuditReconcileRequest& r) {
  RETURN_IF_ERROR(CheckAuditPurpose(r.purpose()));
  if (r.settle_seconds() > 3600) return Bad("settle_seconds: at most 3600");
  return absl::OkStatus();
}

absl::Status Check(const v1::AuditInzageRequest& r) { return CheckBsn(r.bsn()); }

absl::Status Check(const v1::ConveneCaseRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckBsn(r.bsn()));
  RETURN_IF_ERROR(CheckKnown(r.purpose(), "purpose", Term::kPurpose, known));
  RETURN_IF_ERROR(CheckKnown(r.legal_basis(), "legal_basis", Term::kLegalBasis, known));
  RETURN_IF_ERROR(CheckText(r.title(), "title", kMaxCaseTitle, TextLines::kNone));
  RETURN_IF_ERROR(CheckStaffId(r.regisseur(), "regisseur"));
  if (r.invite().empty() || r.invite_size() > kMaxInvitees) {
    return Bad(StrCat("invite: 1 to ", kMaxInvitees, " organisations"));
  }
  std::set<std::string_view> seen;
  for (const std::string& org : r.invite()) {
    RETURN_IF_ERROR(CheckOrg(org, "invite", known));
    if (org == known.self_org) return Bad("invite: the convener takes part already");
    if (!seen.insert(org).second) return Bad("invite: an organisation listed twice");
    // The case key goes only to organisations whose role can ever take part.
    const std::string_view role = network::RoleName(known.manifest->FindOrg(org)->role);
    if (!known.policy->NetworkAllowsRole(role, vocab::kCaseJoin)) {
      return Bad(StrCat("invite: an organisation of role ", role,
                        " may not take part in a casusoverleg under the network policy"));
    }
  }
  return CheckReceipts(r.consent_receipts());
}

absl::Status Check(const v1::AnswerCaseRequest& r) { return CheckId(r.case_id(), "case_id"); }

absl::Status Check(const v1::ContributeCaseRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckId(r.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckKnown(r.category(), "category", Term::kCategory, known));
  RETURN_IF_ERROR(CheckOptionalKnown(r.legal_basis(), "legal_basis", Term::kLegalBasis, known));
  return CheckText(r.text(), "text", kMaxCaseText);
}

absl::Status Check(const v1::ShowCaseRequest& r) { return CheckId(r.case_id(), "case_id"); }

absl::Status Check(const v1::SetActionRequest& r, const Known& known) {
  RETURN_IF_ERROR(CheckId(r.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckActionStatus(r.status(), "status"));
  const bool adding = r.action_id().empty();
  RETURN_IF_ERROR(CheckDue(r.due_ms(), adding, "due_ms"));
  if (!adding) {
    // An update changes status and due date only.
    RETURN_IF_ERROR(CheckId(r.action_id(), "action_id"));
    if (!r.owner_org().empty() || !r.owner_staff().empty() || !r.description().empty()) {
      return Bad("owner_org, owner_staff, description: set when the agreement is made, not changed after");
    }
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(CheckOrg(r.owner_org(), "owner_org", known));
  RETURN_IF_ERROR(CheckStaffId(r.owner_staff(), "owner_staff"));
  return CheckText(r.description(), "description", kMaxActionText);
}

absl::Status Check(const v1::CloseCaseLocalRequest& r) { return CheckId(r.case_id(), "case_id"); }

// ---- Peer ----

absl::Status Check(const v1::PingRequest& r) {
  return r.subject().empty() ? absl::OkStatus() : CheckPseudonym(r.subject(), "subject");
}

absl::Status Check(const v1::ConsentStatusRequest& r) { return CheckId(r.receipt_id(), "receipt_id"); }

absl::Status Check(const v1::EvaluatePseudonymRequest& r) {
  if (r.blinded_element().size() != oprf::kElementBytes) return Bad("blinded_element: expected 32 bytes");
  // Before the gate: a request that could never be evaluated is not counted
  // against the caller's quota.
  oprf::Element element;
  std::copy(r.blinded_element().begin(), r.blinded_element().end(), element.begin());
  if (!oprf::IsValidElement(element)) {
    return Error(Reason::kOprfInvalidEncoding,
                 "blinded_element: not a canonical ristretto255 encoding of an element other than the identity");
  }
  RETURN_IF_ERROR(CheckName(r.purpose(), "purpose"));
  return CheckOptionalName(r.legal_basis(), "legal_basis");
}

absl::Status Check(const v1::LookupSignalRequest& r) {
  RETURN_IF_ERROR(CheckPseudonym(r.subject(), "subject"));
  RETURN_IF_ERROR(CheckName(r.purpose(), "purpose"));
  return CheckOptionalName(r.legal_basis(), "legal_basis");
}

absl::Status Check(const v1::NotifySignalRequest& r) {
  RETURN_IF_ERROR(CheckPseudonym(r.subject(), "subject"));
  RETURN_IF_ERROR(CheckName(r.purpose(), "purpose"));
  RETURN_IF_ERROR(CheckOptionalName(r.legal_basis(), "legal_basis"));
  RETURN_IF_ERROR(CheckId(r.notice_id(), "notice_id"));
  // The sender's org and role are taken from its certificate, not from here;
  // the rest is what the sender's staff registered (shown to staff here).
  RETURN_IF_ERROR(CheckText(r.from().contact(), "from.contact", 256, TextLines::kNone, /*optional=*/true));
  RETURN_IF_ERROR(CheckOptionalName(r.from().category(), "from.category"));
  if (r.from().since_ms() < 0) return Bad("from.since_ms: a time after 1970");
  return absl::OkStatus();
}

absl::Status Check(const v1::AuditCheckpointRequest& r) { return CheckName(r.purpose(), "purpose"); }

absl::Status Check(const v1::ReadAuditRequest& r) {
  RETURN_IF_ERROR(CheckName(r.purpose(), "purpose"));
  const bool inzage = !r.subject().empty();
  if (inzage && (r.subject().size() != 32 || r.purpose() != vocab::kInzage)) {
    return Bad("subject: a 32-byte pseudonym, with purpose inzage");
  }
  const uint32_t max_count = inzage ? kMaxInzageScan : kMaxAuditPage;
  if (r.count() > max_count) return Bad(StrCat("count: at most ", max_count));
  // No entries is a request for a consistency proof alone.
  if (r.count() == 0 && (inzage || !r.consistency())) return Bad("count: at least 1, unless only consistency is asked");
  if (r.from_seq() > r.tree_size() || r.count() > r.tree_size() - r.from_seq()) {
    return Bad("from_seq, count: entries beyond tree_size");
  }
  if (r.consistency() && r.consistency_from() > r.tree_size()) return Bad("consistency_from: beyond tree_size");
  return absl::OkStatus();
}

absl::Status Check(const v1::CosignRequest& r) {
  if (r.note().empty() || r.note().size() > tlog::kMaxNoteBytes) {
    return Bad(StrCat("note: required, at most ", tlog::kMaxNoteBytes, " bytes"));
  }
  RETURN_IF_ERROR(CheckHashes(r.consistency_proof(), "consistency_proof"));
  if (r.gap_leaf().size() > 64 * 1024) return Bad("gap_leaf: at most 65536 bytes");
  return CheckHashes(r.gap_inclusion_proof(), "gap_inclusion_proof");
}

absl::Status Check(const v1::ReportAlarmRequest& r) {
  if (!r.has_alarm()) return Bad("alarm: required");
  const v1::QuotaAlarm& a = r.alarm();
  RETURN_IF_ERROR(CheckId(a.alarm_id(), "alarm.alarm_id"));
  if (!ValidOrgId(a.requester_org())) {
    return Bad(StrCat("alarm.requester_org: expected an organisation id (", kOrgIdSyntax, ")"));
  }
  RETURN_IF_ERROR(CheckName(a.action(), "alarm.action"));
  if (a.kind() != v1::QuotaAlarm::THRESHOLD_REACHED && a.kind() != v1::QuotaAlarm::EXHAUSTED) {
    return Bad("alarm.kind: expected THRESHOLD_REACHED or EXHAUSTED");
  }
  // used may exceed per_day: a reload can lower a quota below the day's count.
  if (a.per_day() == 0 || a.per_day() > 1000000000) return Bad("alarm.per_day: expected 1 to 1000000000");
  if (a.used() > 1000000000) return Bad("alarm.used: expected at most 1000000000");
  if (a.day() < 0 || a.day() > 1000000) return Bad("alarm.day: expected a UTC day from 0 to 1000000");
  return absl::OkStatus();
}

absl::Status Check(const v1::InviteToCaseRequest& r) {
  RETURN_IF_ERROR(CheckId(r.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckPseudonym(r.subject(), "subject"));
  RETURN_IF_ERROR(CheckName(r.purpose(), "purpose"));
  if (r.sealed_invitation().empty() || r.sealed_invitation().size() > kMaxSealedInvitation) {
    return Bad(StrCat("sealed_invitation: required, at most ", kMaxSealedInvitation, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status Check(const v1::AnswerCaseInvitationRequest& r) { return CheckId(r.case_id(), "case_id"); }

absl::Status Check(const v1::ContributeToCaseRequest& r) {
  RETURN_IF_ERROR(CheckId(r.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckId(r.contribution_id(), "contribution_id"));
  RETURN_IF_ERROR(CheckName(r.category(), "category"));
  RETURN_IF_ERROR(CheckName(r.legal_basis(), "legal_basis"));
  return CheckSealed(r.text(), kMaxCaseText, "text");
}

absl::Status Check(const v1::ReadCaseRequest& r) {
  RETURN_IF_ERROR(CheckId(r.case_id(), "case_id"));
  if (!r.after().empty() && !r.after_action().empty()) {
    return Bad("after_action: not together with after (agreements follow the last contribution)");
  }
  if (!r.after_action().empty()) return CheckId(r.after_action(), "after_action");
  return r.after().empty() ? absl::OkStatus() : CheckId(r.after(), "after");
}

absl::Status Check(const v1::SetCaseActionRequest& r) {
  RETURN_IF_ERROR(CheckId(r.case_id(), "case_id"));
  const v1::CaseAction& a = r.action();
  RETURN_IF_ERROR(CheckId(a.action_id(), "action.action_id"));
  RETURN_IF_ERROR(CheckActionStatus(a.status(), "action.status"));
  RETURN_IF_ERROR(CheckDue(a.due_ms(), /*required=*/false, "action.due_ms"));
  // Owner and description come with a new agreement only (the case host
  // requires them then): when present, they are well formed.
  if (!a.owner_org().empty() && !ValidOrgId(a.owner_org())) {
    return Bad(StrCat("action.owner_org: expected an organisation id (", kOrgIdSyntax, ")"));
  }
  if (!a.owner_staff().empty()) RETURN_IF_ERROR(CheckStaffId(a.owner_staff(), "action.owner_staff"));
  if (a.has_description()) RETURN_IF_ERROR(CheckSealed(a.description(), kMaxActionText, "action.description"));
  return absl::OkStatus();
}

absl::Status Check(const v1::CloseCaseRequest& r) { return CheckId(r.case_id(), "case_id"); }

absl::Status Check(const v1::DestroyCaseRequest& r) { return CheckId(r.case_id(), "case_id"); }

}  // namespace casenode::node::edge
