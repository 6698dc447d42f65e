#include "node/consent/consent_book.h"

#include <algorithm>

#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::consent {

namespace {

std::string ReceiptKey(const std::string& id) { return "r/" + id; }
constexpr std::string_view kRevocationsKey = "n";
constexpr std::string_view kRevocationsCounter = "consent.revocations";
constexpr std::string_view kHoldCounter = "consent.hold_generation";

store::Record RevocationsRecord(uint64_t count) {
  std::string value;
  AppendU64(value, count);
  return {store::Family::kConsents, std::string(kRevocationsKey), keys::DataKeyRef{keys::DataKeyKind::kNode, {}},
          std::move(value), std::nullopt};
}

std::string IndexPrefix(const keys::DataKeyRef& ref) {
  return "s/" + std::string(reinterpret_cast<const char*>(ref.id.data()), ref.id.size()) + "/";
}

absl::Status UnknownReceipt() {
  return Error(Reason::kUnknownReceipt, "no consent receipt with that id was issued here");
}

bool ValidId(const std::string& id) {
  return id.size() == 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

v1::ConsentReceipt ToProto(const ConsentReceipt& r) {
  v1::ConsentReceipt p;
  p.set_receipt_id(r.receipt_id);
  p.set_issuer_org(r.issuer_org);
  p.set_subject(std::string(reinterpret_cast<const char*>(r.subject.data()), r.subject.size()));
  for (const auto& c : r.consenters) p.add_consenters(c);
  p.set_child_age_years(r.child_age_years);
  for (const auto& x : r.purposes) p.add_purposes(x);
  for (const auto& x : r.categories) p.add_categories(x);
  for (const auto& x : r.recipient_roles) p.add_recipient_roles(x);
  for (const auto& x : r.recipient_orgs) p.add_recipient_orgs(x);
  p.set_valid_from_unix(r.valid_from.time_since_epoch().count());
  p.set_valid_until_unix(r.valid_until.time_since_epoch().count());
  p.set_recorded_by(r.recorded_by);
  p.set_evidence_ref(r.evidence_ref);
  p.set_signature(std::string(reinterpret_cast<const char*>(r.signature.data()), r.signature.size()));
  p.set_age_rule_until_unix(r.age_rule_until.time_since_epoch().count());
  return p;
}

absl::StatusOr<ConsentReceipt> FromProto(const v1::ConsentReceipt& p) {
  ConsentReceipt r;
  if (p.subject().size() != 32) return Error(Reason::kMalformedConsentReceipt, "consent receipt: subject: expected a 32-byte pseudonym");
  if (!p.signature().empty() && p.signature().size() != 64) {
    return Error(Reason::kMalformedConsentReceipt, "consent receipt: signature: expected 64 bytes");
  }
  r.receipt_id = p.receipt_id();
  r.issuer_org = p.issuer_org();
  std::copy(p.subject().begin(), p.subject().end(), r.subject.begin());
  r.consenters.assign(p.consenters().begin(), p.consenters().end());
  r.child_age_years = p.child_age_years();
  r.purposes.assign(p.purposes().begin(), p.purposes().end());
  r.categories.assign(p.categories().begin(), p.categories().end());
  r.recipient_roles.assign(p.recipient_roles().begin(), p.recipient_roles().end());
  r.recipient_orgs.assign(p.recipient_orgs().begin(), p.recipient_orgs().end());
  r.valid_from = SystemTime(std::chrono::seconds(p.valid_from_unix()));
  r.valid_until = SystemTime(std::chrono::seconds(p.valid_until_unix()));
  r.recorded_by = p.recorded_by();
  r.evidence_ref = p.evidence_ref();
  std::copy(p.signature().begin(), p.signature().end(), r.signature.begin());
  r.age_rule_until = SystemTime(std::chrono::seconds(p.age_rule_until_unix()));
  return r;
}

keys::DataKeyRef ConsentBook::SubjectKey(const std::array<uint8_t, 32>& subject) const {
  return keys::DataKeyRef{keys::DataKeyKind::kSubject, keys_.SubjectHandle(subject)};
}

absl::StatusOr<v1::ConsentEntry> ConsentBook::Record(ConsentReceipt draft, std::chrono::year_month_day birth_date,
                                                     const Journal& log) {
  draft.receipt_id = NewReceiptId();
  draft.issuer_org = self_org_;
  // Consent is given as of valid_from: the child's age then decides who must
  // consent, and the receipt stands no longer than that rule does.
  const SystemTime born(std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::sys_days(birth_date).time_since_epoch()));
  if (draft.valid_from < born) return Error(Reason::kMalformedRequest, "valid_from: before the child's date of birth");
  const AgeFacts age = AgeAt(birth_date, draft.valid_from);
  draft.child_age_years = age.age_years;
  draft.age_rule_until = age.rule_until;
  RETURN_IF_ERROR(Validate(draft));
  RETURN_IF_ERROR(CheckRecordable(draft));
  if (!AgeRuleSatisfied(draft.child_age_years, draft.consenters)) {
    return Error(Reason::kMalformedRequest, StrCat(
        "consenters: at age ", draft.child_age_years,
        " the consent rule needs ", draft.child_age_years < 12 ? "a parent or guardian"
                                    : draft.child_age_years < 16 ? "the child and a parent or guardian"
                                                                 : "the child"));
  }
  if (draft.age_rule_until.time_since_epoch().count() != 0 && clock_() >= draft.age_rule_until) {
    return Error(Reason::kMalformedRequest, 
        "valid_from: the child has since reached an age at which others must consent; record the consent given now");
  }
  Sign(draft, signer_);
  std::unique_lock<WriterPreferringLock> lock(order_mu_);
  v1::ConsentEntry entry;
  *entry.mutable_receipt() = ToProto(draft);
  entry.set_hold_generation(hold().generation());  // recorded knowing of every restore so far
  const keys::DataKeyRef key = SubjectKey(draft.subject);
  const std::vector<store::Record> records = {
      {store::Family::kConsents, ReceiptKey(draft.receipt_id), key, entry.SerializeAsString(), std::nullopt},
      {store::Family::kConsents, IndexPrefix(key) + draft.receipt_id, key, draft.receipt_id, std::nullopt}};
  RETURN_IF_ERROR(store_.Write(records));
  if (absl::Status logged = log(entry); !logged.ok()) {
    // Unlogged, it was never issued: staff get no receipt and record it again.
    for (const store::Record& r : records) (void)store_.Delete(r.family, r.key);
    return logged;
  }
  return entry;
}

absl::StatusOr<v1::ConsentEntry> ConsentBook::Show(const std::string& receipt_id) const {
  if (!ValidId(receipt_id)) return Error(Reason::kMalformedRequest, "receipt_id: expected 32 lowercase hex digits");
  auto bytes = store_.Get(store::Family::kConsents, ReceiptKey(receipt_id));
  if (!bytes.ok()) {
    if (bytes.status().code() == absl::StatusCode::kNotFound) return UnknownReceipt();  // absent or shredded
    return bytes.status();
  }
  v1::ConsentEntry entry;
  if (!entry.ParseFromString(*bytes)) return Error(Reason::kRecordCorrupt, "consents record does not parse");
  return entry;
}

absl::StatusOr<v1::ConsentEntry> ConsentBook::Revoke(const std::string& receipt_id, const std::string& revoked_by,
                                                     const Journal& log) {
  if (revoked_by.empty()) return Error(Reason::kMalformedRequest, "revoked_by: expected the pseudonymous id of the staff member");
  std::unique_lock<WriterPreferringLock> lock(order_mu_);
  ASSIGN_OR_RETURN(v1::ConsentEntry entry, Show(receipt_id));
  if (entry.revoked()) {
    RETURN_IF_ERROR(log(entry));  // revoking again logs again: the first entry may have failed
    return entry;
  }
  entry.set_revoked(true);
  entry.set_revoked_at_unix(clock_().time_since_epoch().count());
  entry.set_revoked_by(revoked_by);
  std::array<uint8_t, 32> subject{};
  std::copy(entry.receipt().subject().begin(), entry.receipt().subject().end(), subject.begin());
  // The key store learns of the revocation first (see LoadHold), so no
  // records copy taken before it can come back without a hold.
  ASSIGN_OR_RETURN(std::optional<uint64_t> count, keys_.GetCounter(kRevocationsCounter));
  const uint64_t next = count.value_or(0) + 1;
  RETURN_IF_ERROR(keys_.RaiseCounter(kRevocationsCounter, next));
  const std::vector<store::Record> records = {
      {store::Family::kConsents, ReceiptKey(receipt_id), SubjectKey(subject), entry.SerializeAsString(), std::nullopt},
      RevocationsRecord(next)};
  RETURN_IF_ERROR(store_.Write(records));
  RETURN_IF_ERROR(log(entry));
  return entry;
}

absl::StatusOr<v1::ConsentState> ConsentBook::Answer(const std::string& receipt_id,
                                                                     const AnswerJournal& log) const {
  std::shared_lock<WriterPreferringLock> lock(order_mu_);
  absl::StatusOr<v1::ConsentEntry> entry = Show(receipt_id);
  if (!entry.ok() && entry.status().code() != absl::StatusCode::kNotFound) return entry.status();
  const v1::ConsentState state = entry.ok() ? StateOf(*entry) : v1::CONSENT_UNKNOWN;
  RETURN_IF_ERROR(log(state, entry.ok() ? &*entry : nullptr));
  return state;
}

absl::StatusOr<v1::ConsentState> ConsentBook::State(const std::string& receipt_id) const {
  absl::StatusOr<v1::ConsentEntry> entry = Show(receipt_id);
  if (entry.ok()) return StateOf(*entry);
  if (entry.status().code() == absl::StatusCode::kNotFound) return v1::CONSENT_UNKNOWN;
  return entry.status();
}

v1::ConsentState ConsentBook::StateOf(const v1::ConsentEntry& entry) const {
  if (entry.revoked()) return v1::CONSENT_REVOKED;
  if (entry.hold_generation() < hold().generation()) return v1::CONSENT_UNCONFIRMED;
  return v1::CONSENT_ACTIVE;
}

absl::StatusOr<v1::ConsentEntry> ConsentBook::Confirm(const std::string& receipt_id, const std::string& confirmed_by,
                                                      const Journal& log) {
  if (confirmed_by.empty()) {
    return Error(Reason::kMalformedRequest, "confirmed_by: expected the pseudonymous id of the staff member");
  }
  std::unique_lock<WriterPreferringLock> lock(order_mu_);
  ASSIGN_OR_RETURN(v1::ConsentEntry entry, Show(receipt_id));
  if (entry.revoked()) return Error(Reason::kConsentRevoked, "receipt_id: this receipt was revoked");
  if (entry.hold_generation() >= hold().generation()) {
    // Confirmed under this hold already: log it again (its entry may have
    // failed, and staff are told to repeat it).
    if (entry.confirmed_at_unix() != 0) {
      RETURN_IF_ERROR(log(entry));
      return entry;
    }
    return absl::FailedPreconditionError("receipt_id: this receipt is not held; there is nothing to confirm");
  }
  entry.set_hold_generation(hold().generation());
  entry.set_confirmed_at_unix(clock_().time_since_epoch().count());
  entry.set_confirmed_by(confirmed_by);
  std::array<uint8_t, 32> subject{};
  std::copy(entry.receipt().subject().begin(), entry.receipt().subject().end(), subject.begin());
  RETURN_IF_ERROR(store_.Put(
      {store::Family::kConsents, ReceiptKey(receipt_id), SubjectKey(subject), entry.SerializeAsString(), std::nullopt}));
  RETURN_IF_ERROR(log(entry));
  return entry;
}

absl::Status ConsentBook::LoadHold(const std::function<absl::Status(const v1::ConsentHold&)>& log) {
  std::unique_lock<WriterPreferringLock> lock(order_mu_);
  ASSIGN_OR_RETURN(std::optional<uint64_t> generation, keys_.GetCounter(kHoldCounter));
  ASSIGN_OR_RETURN(std::optional<uint64_t> revoked, keys_.GetCounter(kRevocationsCounter));
  uint64_t recorded = 0;
  absl::StatusOr<std::string> bytes = store_.Get(store::Family::kConsents, kRevocationsKey);
  if (bytes.ok()) {
    if (bytes->size() != 8) return Error(Reason::kRecordCorrupt, "consent revocation count is not 8 bytes");
    recorded = ReadU64(AsBytes(*bytes));
  } else if (bytes.status().code() != absl::StatusCode::kNotFound) {
    return bytes.status();
  }
  v1::ConsentHold hold;
  hold.set_generation(generation.value_or(0));
  if (recorded < revoked.value_or(0)) {
    // Restored from a copy older than a revocation: hold every receipt from before.
    hold.set_generation(hold.generation() + 1);
    hold.set_lost_revocations(*revoked - recorded);
    hold.set_since_unix(clock_().time_since_epoch().count());
    RETURN_IF_ERROR(log(hold));
    RETURN_IF_ERROR(keys_.RaiseCounter(kHoldCounter, hold.generation()));
    RETURN_IF_ERROR(store_.Put(RevocationsRecord(*revoked)));  // this restore is held once
  } else if (hold.generation() > 0) {
    // Logged at every start under a hold, so a log restored from a copy
    // older than the hold's entry still says which generation answers.
    RETURN_IF_ERROR(log(hold));
  }
  std::lock_guard<std::mutex> hold_lock(hold_mu_);
  hold_ = hold;
  return absl::OkStatus();
}

v1::ConsentHold ConsentBook::hold() const {
  std::lock_guard<std::mutex> lock(hold_mu_);
  return hold_;
}

absl::StatusOr<std::vector<v1::ConsentEntry>> ConsentBook::List(const std::array<uint8_t, 32>& subject) const {
  std::vector<std::string> ids;
  absl::Status scan_error;
  RETURN_IF_ERROR(store_.Scan(store::Family::kConsents, IndexPrefix(SubjectKey(subject)),
                              [&](std::string_view, const absl::StatusOr<std::string>& id) {
                                if (id.ok()) ids.push_back(*id);
                              }));
  std::vector<v1::ConsentEntry> out;
  for (const auto& id : ids) {
    auto entry = Show(id);
    if (entry.ok()) out.push_back(*std::move(entry));
  }
  return out;
}

}  // namespace casenode::consent
