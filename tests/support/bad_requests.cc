#include "tests/support/bad_requests.h"

#include <functional>

#include "casenode/v1/local.pb.h"
#include "casenode/v1/peer.pb.h"

namespace casenode::testing {
namespace {

// A real blinded element (RFC 9497 A.1.2, vector 1): a canonical ristretto255 point.
const std::string kBlindedElement = [] {
  const std::string hex = "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945";
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}();

}  // namespace

namespace {

using Message = google::protobuf::Message;

const std::string kBsn = "507529170";
const std::string kId = "0123456789abcdef0123456789abcdef";
const std::string kSubject(32, 'p');
const std::string kHash(32, 'h');
const std::string kLong100k(100 * 1024, 'a');
const std::string kName101(101, 'a');

v1::ConsentReceipt Draft() {
  v1::ConsentReceipt r;
  r.set_subject(kSubject);
  r.add_consenters("child");
  r.add_purposes("vroegsignalering");
  r.add_categories("signaal");
  r.add_recipient_roles("school");
  r.add_recipient_orgs("jeugdhulp");
  r.set_valid_from_unix(1'790'000'000);   // 2026
  r.set_valid_until_unix(2'000'000'000);  // 2033
  r.set_recorded_by("staff-1");
  r.set_evidence_ref("DMS-1");
  return r;
}

// The `i`th receipt as its issuer signed it (the signature is not checked at the edge).
v1::ConsentReceipt Issued(int i) {
  v1::ConsentReceipt r = Draft();
  r.set_receipt_id(kId.substr(0, 30) + static_cast<char>('a' + i / 16) + "0123456789abcdef"[i % 16]);
  r.set_issuer_org("gemeente");
  r.set_signature(std::string(64, 's'));
  return r;
}

v1::SealedText Sealed(size_t plain_bytes) {
  v1::SealedText t;
  t.set_nonce(std::string(24, 'n'));
  t.set_ciphertext(std::string(plain_bytes + 16, 'c'));
  return t;
}

// Rows for one message type: its base, and bad values for its fields.
template <class Req>
class Rows {
 public:
  Rows(std::vector<BadRequest>& out, std::vector<std::shared_ptr<const Message>>& good, Req base)
      : out_(out), base_(std::move(base)) {
    good.push_back(std::make_shared<Req>(base_));
  }
  Rows& Bad(std::string field, std::string why, const std::function<void(Req&)>& change,
            Reason reason = Reason::kMalformedRequest) {
    auto r = std::make_shared<Req>(base_);
    change(*r);
    out_.push_back({Req::descriptor()->name() + "." + field + ": " + why, std::move(field), reason, std::move(r), ""});
    return *this;
  }
  // The last row's message must contain `text`.
  Rows& Says(std::string text) {
    out_.back().says = std::move(text);
    return *this;
  }
  Rows& RefusedByProtobuf() {
    out_.back().refused_by_protobuf = true;
    return *this;
  }

 private:
  std::vector<BadRequest>& out_;
  const Req base_;
};

struct Table {
  std::vector<BadRequest> bad;
  std::vector<std::shared_ptr<const Message>> good;

  template <class Req>
  Rows<Req> For(Req base) {
    return Rows<Req>(bad, good, std::move(base));
  }
};

// The bad values every field of a kind can take.
template <class Req>
void BadBsn(Rows<Req>& rows, const std::function<std::string*(Req&)>& bsn) {
  constexpr Reason kInvalid = Reason::kInvalidBsn;
  rows.Bad(
          "bsn", "empty", [=](Req& r) { bsn(r)->clear(); }, kInvalid)
      .Bad(
          "bsn", "fails the 11-test", [=](Req& r) { *bsn(r) = kCanaryBsn; }, kInvalid)
      .Bad(
          "bsn", "8 digits", [=](Req& r) { *bsn(r) = "50752917"; }, kInvalid)
      .Bad(
          "bsn", "letters", [=](Req& r) { *bsn(r) = "50752917x"; }, kInvalid);
}

// `unknown`: the reason for a well-formed name the vocabulary lacks, if the
// edge checks it against the vocabulary (Local requests), else kNone.
template <class Req>
void BadName(Rows<Req>& rows, const std::string& field, const std::function<std::string*(Req&)>& name, Reason unknown,
             bool optional) {
  if (!optional) rows.Bad(field, "empty", [=](Req& r) { name(r)->clear(); });
  rows.Bad(field, "upper case", [=](Req& r) { *name(r) = "Vroegsignalering"; })
      .Bad(field, "a newline", [=](Req& r) { *name(r) = "a\nb"; })
      .Bad(field, "a NUL byte", [=](Req& r) { *name(r) = std::string("a\0b", 3); })
      .Bad(field, "101 characters", [=](Req& r) { *name(r) = kName101; });
  if (unknown != Reason::kNone)
    rows.Bad(
        field, "not in the vocabulary", [=](Req& r) { *name(r) = "marketing"; }, unknown);
}

template <class Req>
void BadId(Rows<Req>& rows, const std::string& field, const std::function<std::string*(Req&)>& id, bool optional) {
  if (!optional) rows.Bad(field, "empty", [=](Req& r) { id(r)->clear(); });
  rows.Bad(field, "upper case hex", [=](Req& r) { *id(r) = "0123456789ABCDEF0123456789ABCDEF"; })
      .Bad(field, "31 digits", [=](Req& r) { *id(r) = kId.substr(1); })
      .Bad(field, "a path", [=](Req& r) { *id(r) = "../../../../etc/passwd0123456789"; });
}

template <class Req>
void BadSubject(Rows<Req>& rows, const std::function<std::string*(Req&)>& subject, bool optional) {
  if (!optional) rows.Bad("subject", "empty", [=](Req& r) { subject(r)->clear(); });
  rows.Bad("subject", "31 bytes", [=](Req& r) { *subject(r) = std::string(31, 'p'); })
      .Bad("subject", "33 bytes", [=](Req& r) { *subject(r) = std::string(33, 'p'); });
}

template <class Req>
void BadStaff(Rows<Req>& rows, const std::string& field, const std::function<std::string*(Req&)>& staff) {
  rows.Bad(field, "empty", [=](Req& r) { staff(r)->clear(); })
      .Bad(field, "a name with a space", [=](Req& r) { *staff(r) = kCanaryText; })
      .Bad(field, "1 MB", [=](Req& r) { *staff(r) = std::string(1 << 20, 'a'); })
      .Bad(field, "a control character", [=](Req& r) { *staff(r) = "ops\x1b[2J"; });
}

template <class Req>
void BadText(Rows<Req>& rows, const std::string& field, const std::function<std::string*(Req&)>& text, size_t max,
             bool one_line, bool optional = false) {
  if (!optional) rows.Bad(field, "empty", [=](Req& r) { text(r)->clear(); });
  rows.Bad(field, "too long", [=](Req& r) { *text(r) = std::string(max + 1, 'a'); })
      .Bad(field, "a NUL byte", [=](Req& r) { *text(r) = std::string(kCanaryText) + std::string(1, '\0'); })
      .Bad(field, "an escape sequence", [=](Req& r) { *text(r) = std::string(kCanaryText) + "\x1b[2J"; })
      .Bad(field, "a bidi override", [=](Req& r) { *text(r) = std::string(kCanaryText) + "\xE2\x80\xAE"; })
      .Bad(field, "invalid UTF-8", [=](Req& r) { *text(r) = std::string(kCanaryText) + "\xC3"; })
      .RefusedByProtobuf();
  if (one_line) rows.Bad(field, "a newline", [=](Req& r) { *text(r) = std::string(kCanaryText) + "\nline 2"; });
}

template <class Req>
void BadSealed(Rows<Req>& rows, const std::string& field, const std::function<v1::SealedText*(Req&)>& sealed,
               size_t max_plain) {
  rows.Bad(field, "no nonce", [=](Req& r) { sealed(r)->clear_nonce(); })
      .Bad(field, "a 12-byte nonce", [=](Req& r) { sealed(r)->set_nonce(std::string(12, 'n')); })
      .Bad(field, "only a tag", [=](Req& r) { sealed(r)->set_ciphertext(std::string(16, 'c')); })
      .Bad(field, "too long", [=](Req& r) { *sealed(r) = Sealed(max_plain + 1); });
}

Table Build() {
  Table t;

  // ---- Local ----
  {
    v1::DeclareGapRequest b;
    b.set_declared_by("ops-7");
    auto rows = t.For(b);
    BadStaff<v1::DeclareGapRequest>(rows, "declared_by", [](auto& r) { return r.mutable_declared_by(); });
  }
  {
    v1::DerivePseudonymRequest b;
    b.set_bsn(kBsn);
    b.set_purpose("vroegsignalering");
    b.set_legal_basis("public_task");
    auto rows = t.For(b);
    BadBsn<v1::DerivePseudonymRequest>(rows, [](auto& r) { return r.mutable_bsn(); });
    BadName<v1::DerivePseudonymRequest>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kUnknownPurpose, false);
    rows.Bad(
        "purpose", "a BSN in the wrong field", [](auto& r) { r.set_purpose(kCanaryBsn); }, Reason::kUnknownPurpose);
    BadName<v1::DerivePseudonymRequest>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kUnknownLegalBasis, true);
  }
  {
    v1::RegisterSignalRequest b;
    b.set_bsn(kBsn);
    b.set_purpose("vroegsignalering");
    b.set_category("onderwijs");
    b.set_contact("Mentor, 06-12345678");
    b.set_legal_basis("public_task");
    auto rows = t.For(b);
    using R = v1::RegisterSignalRequest;
    BadBsn<R>(rows, [](auto& r) { return r.mutable_bsn(); });
    BadName<R>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kUnknownPurpose, false);
    BadName<R>(
        rows, "category", [](auto& r) { return r.mutable_category(); }, Reason::kUnknownCategory, false);
    // A category of the vocabulary, but not one a gemeente's signals may name.
    rows.Bad("category", "justitieel", [](R& r) { r.set_category("justitieel"); }, Reason::kSignalCategoryNotAllowed)
        .Bad("category", "contact", [](R& r) { r.set_category("contact"); }, Reason::kSignalCategoryNotAllowed);
    BadName<R>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kUnknownLegalBasis, true);
    BadText<R>(
        rows, "contact", [](auto& r) { return r.mutable_contact(); }, 256, true);
  }
  {
    v1::CheckSignalRequest b;
    b.set_bsn(kBsn);
    b.set_purpose("vroegsignalering");
    b.set_legal_basis("public_task");
    auto rows = t.For(b);
    using R = v1::CheckSignalRequest;
    BadBsn<R>(rows, [](auto& r) { return r.mutable_bsn(); });
    BadName<R>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kUnknownPurpose, false);
    BadName<R>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kUnknownLegalBasis, true);
  }
  {
    v1::WithdrawSignalRequest b;
    b.set_signal_id(kId);
    auto rows = t.For(b);
    BadId<v1::WithdrawSignalRequest>(
        rows, "signal_id", [](auto& r) { return r.mutable_signal_id(); }, false);
  }
  {
    v1::PingPeerRequest b;
    b.set_org("jeugdhulp");
    auto rows = t.For(b);
    using R = v1::PingPeerRequest;
    rows.Bad("org", "empty", [](R& r) { r.clear_org(); })
        .Bad("org", "not an org id", [](R& r) { r.set_org("Jeugd Hulp"); })
        .Bad(
            "org", "not in the manifest", [](R& r) { r.set_org("bakker"); }, Reason::kUnknownOrg)
        .Bad(
            "org", "a BSN in the wrong field", [](R& r) { r.set_org(kCanaryBsn); }, Reason::kUnknownOrg)
        .Bad("org", "itself", [](R& r) { r.set_org("gemeente"); });
    BadSubject<R>(
        rows, [](auto& r) { return r.mutable_subject(); }, true);
    rows.Bad("consent_receipts", "17 receipts",
             [](R& r) {
               for (int i = 0; i < 17; ++i) *r.add_consent_receipts() = Issued(i);
             })
        .Says("at most 16")
        .Bad("consent_receipts", "16 receipts with long evidence references",
             [](R& r) {
               for (int i = 0; i < 16; ++i) {
                 *r.add_consent_receipts() = Issued(i);
                 r.mutable_consent_receipts(i)->set_evidence_ref(std::string(250, 'e'));
               }
             })
        .Says("4096 bytes")
        .Bad("consent_receipts[1]", "attached twice",
             [](R& r) {
               *r.add_consent_receipts() = Issued(0);
               *r.add_consent_receipts() = Issued(0);
             })
        .Bad(
            "consent_receipts[0]", "a 31-byte subject",
            [](R& r) {
              *r.add_consent_receipts() = Issued(0);
              r.mutable_consent_receipts(0)->set_subject(std::string(31, 'p'));
            },
            Reason::kMalformedConsentReceipt)
        .Bad(
            "consent_receipts[0]", "no receipt id",
            [](R& r) {
              *r.add_consent_receipts() = Issued(0);
              r.mutable_consent_receipts(0)->clear_receipt_id();
            },
            Reason::kMalformedConsentReceipt)
        .Bad(
            "consent_receipts[0]", "10,000 purposes",
            [](R& r) {
              *r.add_consent_receipts() = Issued(0);
              for (int i = 0; i < 10000; ++i) r.mutable_consent_receipts(0)->add_purposes("p" + std::to_string(i));
            },
            Reason::kMalformedConsentReceipt)
        .Says("4096 bytes");
  }
  {
    v1::BackupRequest b;
    b.set_dir("/tmp/casenode-edge-backup");
    auto rows = t.For(b);
    using R = v1::BackupRequest;
    rows.Bad("dir", "empty", [](R& r) { r.clear_dir(); })
        .Bad("dir", "relative", [](R& r) { r.set_dir("backup"); })
        .Bad("dir", "a newline", [](R& r) { r.set_dir("/tmp/a\nb"); })
        .Bad("dir", "too long", [](R& r) { r.set_dir("/" + std::string(5000, 'a')); });
  }
  {
    v1::ConsentRecordRequest b;
    *b.mutable_receipt() = Draft();
    b.set_birth_date("2010-05-01");
    auto rows = t.For(b);
    using R = v1::ConsentRecordRequest;
    const std::string f = "consent receipt: ";
    rows.Bad(
            f + "subject", "31 bytes", [](R& r) { r.mutable_receipt()->set_subject(std::string(31, 'p')); },
            Reason::kMalformedConsentReceipt)
        .Bad("birth_date", "empty", [](R& r) { r.clear_birth_date(); })
        .Bad("birth_date", "not a date", [](R& r) { r.set_birth_date("2010-13-45"); })
        .Bad(
            f + "purposes[1]", "not in the vocabulary", [](R& r) { r.mutable_receipt()->add_purposes("marketing"); },
            Reason::kUnknownPurpose)
        .Bad(
            f + "purposes[1]", "a BSN in the wrong field", [](R& r) { r.mutable_receipt()->add_purposes(kCanaryBsn); },
            Reason::kUnknownPurpose)
        .Bad(f + "valid_until_unix", "already past",
             [](R& r) { r.mutable_receipt()->set_valid_until_unix(1'600'000'000); })
        .Bad(f + "purposes", "repeated", [](R& r) { r.mutable_receipt()->add_purposes("vroegsignalering"); })
        .Bad(f + "purposes", "10,000 of them",
             [](R& r) {
               for (int i = 0; i < 10000; ++i) r.mutable_receipt()->add_purposes("vroegsignalering");
             })
        .Bad(
            f + "categories[1]", "not in the vocabulary", [](R& r) { r.mutable_receipt()->add_categories("hobby"); },
            Reason::kUnknownCategory)
        .Bad(
            f + "recipient_roles[1]", "not in the vocabulary",
            [](R& r) { r.mutable_receipt()->add_recipient_roles("bakker"); }, Reason::kUnknownRole)
        .Bad(f + "recipient_orgs", "not an org id", [](R& r) { r.mutable_receipt()->add_recipient_orgs("Bakker BV"); })
        .Bad(
            f + "recipient_orgs[1]", "not in the manifest",
            [](R& r) { r.mutable_receipt()->add_recipient_orgs("bakker"); }, Reason::kUnknownOrg)
        .Bad(f + "recorded_by", "1 MB", [](R& r) { r.mutable_receipt()->set_recorded_by(std::string(1 << 20, 'a')); })
        .Bad(f + "evidence_ref", "a newline and a NUL",
             [](R& r) { r.mutable_receipt()->set_evidence_ref(std::string("DMS\n1\0", 6)); });
  }
  {
    v1::ConsentRevokeRequest b;
    b.set_receipt_id(kId);
    b.set_revoked_by("staff-1");
    auto rows = t.For(b);
    BadId<v1::ConsentRevokeRequest>(
        rows, "receipt_id", [](auto& r) { return r.mutable_receipt_id(); }, false);
    BadStaff<v1::ConsentRevokeRequest>(rows, "revoked_by", [](auto& r) { return r.mutable_revoked_by(); });
  }
  {
    v1::ConsentConfirmRequest b;
    b.set_receipt_id(kId);
    b.set_confirmed_by("staff-1");
    auto rows = t.For(b);
    BadId<v1::ConsentConfirmRequest>(
        rows, "receipt_id", [](auto& r) { return r.mutable_receipt_id(); }, false);
    BadStaff<v1::ConsentConfirmRequest>(rows, "confirmed_by", [](auto& r) { return r.mutable_confirmed_by(); });
  }
  {
    v1::ConsentListRequest b;
    b.set_subject(kSubject);
    auto rows = t.For(b);
    BadSubject<v1::ConsentListRequest>(
        rows, [](auto& r) { return r.mutable_subject(); }, false);
  }
  {
    v1::ConsentShowRequest b;
    b.set_receipt_id(kId);
    auto rows = t.For(b);
    BadId<v1::ConsentShowRequest>(
        rows, "receipt_id", [](auto& r) { return r.mutable_receipt_id(); }, false);
  }
  {
    v1::ConsentVerifyRequest b;
    *b.mutable_receipt() = Issued(0);
    auto rows = t.For(b);
    using R = v1::ConsentVerifyRequest;
    rows.Bad(
            "consent receipt: subject", "31 bytes",
            [](R& r) { r.mutable_receipt()->set_subject(std::string(31, 'p')); }, Reason::kMalformedConsentReceipt)
        .Bad(
            "consent receipt: signature", "63 bytes",
            [](R& r) { r.mutable_receipt()->set_signature(std::string(63, 's')); }, Reason::kMalformedConsentReceipt)
        .Bad(
            "consent receipt: receipt_id", "a path", [](R& r) { r.mutable_receipt()->set_receipt_id("../x"); },
            Reason::kMalformedConsentReceipt)
        .Bad(
            "consent receipt: issuer_org", "not an org id",
            [](R& r) { r.mutable_receipt()->set_issuer_org("Gemeente X"); }, Reason::kMalformedConsentReceipt)
        .Bad(
            "consent receipt", "a 1 MB evidence reference",
            [](R& r) { r.mutable_receipt()->set_evidence_ref(std::string(1 << 20, 'e')); },
            Reason::kMalformedConsentReceipt)
        .Says("4096 bytes");
  }
  {
    v1::AuditVerifyRequest b;
    b.set_org("politie");
    b.set_purpose("verantwoording");
    auto rows = t.For(b);
    using R = v1::AuditVerifyRequest;
    rows.Bad("org", "empty", [](R& r) { r.clear_org(); })
        .Bad(
            "org", "not in the manifest", [](R& r) { r.set_org("bakker"); }, Reason::kUnknownOrg)
        .Bad("org", "itself", [](R& r) { r.set_org("gemeente"); })
        .Bad("purpose", "another purpose", [](R& r) { r.set_purpose("vroegsignalering"); })
        .Bad("since_unix_ms, until_unix_ms", "negative", [](R& r) { r.set_since_unix_ms(-1); })
        .Bad("since_unix_ms, until_unix_ms", "until before since", [](R& r) {
          r.set_since_unix_ms(2000);
          r.set_until_unix_ms(1000);
        });
  }
  {
    v1::AuditReconcileRequest b;
    b.set_purpose("verantwoording");
    auto rows = t.For(b);
    using R = v1::AuditReconcileRequest;
    rows.Bad("purpose", "another purpose", [](R& r) { r.set_purpose("marketing"); })
        .Bad("settle_seconds", "a day", [](R& r) { r.set_settle_seconds(86400); });
  }
  {
    v1::AuditInzageRequest b;
    b.set_bsn(kBsn);
    auto rows = t.For(b);
    BadBsn<v1::AuditInzageRequest>(rows, [](auto& r) { return r.mutable_bsn(); });
  }
  {
    v1::ConveneCaseRequest b;
    b.set_bsn(kBsn);
    b.set_purpose("casusoverleg");
    b.set_legal_basis("public_task");
    b.add_invite("jeugdhulp");
    b.set_title("Overleg gezin");
    b.set_regisseur("regie-1");
    auto rows = t.For(b);
    using R = v1::ConveneCaseRequest;
    BadBsn<R>(rows, [](auto& r) { return r.mutable_bsn(); });
    BadName<R>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kUnknownPurpose, false);
    BadName<R>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kUnknownLegalBasis, false);
    BadText<R>(
        rows, "title", [](auto& r) { return r.mutable_title(); }, 200, true);
    BadStaff<R>(rows, "regisseur", [](auto& r) { return r.mutable_regisseur(); });
    rows.Bad("invite", "none", [](R& r) { r.clear_invite(); })
        .Bad("invite", "17 organisations",
             [](R& r) {
               for (int i = 0; i < 16; ++i) r.add_invite("school");
             })
        .Says("1 to 16")
        .Bad(
            "invite", "not in the manifest", [](R& r) { r.add_invite("bakker"); }, Reason::kUnknownOrg)
        .Bad(
            "invite", "a BSN in the wrong field", [](R& r) { r.add_invite(kCanaryBsn); }, Reason::kUnknownOrg)
        .Bad("invite", "twice", [](R& r) { r.add_invite("jeugdhulp"); })
        .Bad("invite", "the convener", [](R& r) { r.add_invite("gemeente"); })
        .Bad("invite", "a role that never joins", [](R& r) { r.add_invite("auditor"); })
        .Bad("consent_receipts", "17 receipts",
             [](R& r) {
               for (int i = 0; i < 17; ++i) *r.add_consent_receipts() = Issued(i);
             })
        .Bad(
            "consent_receipts[0]", "not issued", [](R& r) { *r.add_consent_receipts() = Draft(); },
            Reason::kMalformedConsentReceipt);
  }
  {
    v1::AnswerCaseRequest b;
    b.set_case_id(kId);
    b.set_accept(true);
    auto rows = t.For(b);
    BadId<v1::AnswerCaseRequest>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
  }
  {
    v1::ContributeCaseRequest b;
    b.set_case_id(kId);
    b.set_category("zorg");
    b.set_text("Gesprek gevoerd.");
    auto rows = t.For(b);
    using R = v1::ContributeCaseRequest;
    BadId<R>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
    BadName<R>(
        rows, "category", [](auto& r) { return r.mutable_category(); }, Reason::kUnknownCategory, false);
    BadName<R>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kUnknownLegalBasis, true);
    BadText<R>(
        rows, "text", [](auto& r) { return r.mutable_text(); }, 16 * 1024, false);
  }
  {
    v1::ShowCaseRequest b;
    b.set_case_id(kId);
    auto rows = t.For(b);
    BadId<v1::ShowCaseRequest>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
  }
  {
    v1::SetActionRequest b;
    b.set_case_id(kId);
    b.set_owner_org("jeugdhulp");
    b.set_owner_staff("hulp-3");
    b.set_due_ms(1'800'000'000'000);
    b.set_status(v1::ACTION_OPEN);
    b.set_description("Huisbezoek plannen");
    auto rows = t.For(b);
    using R = v1::SetActionRequest;
    BadId<R>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
    rows.Bad("status", "unspecified", [](R& r) { r.set_status(v1::ACTION_STATUS_UNSPECIFIED); })
        .Bad("due_ms", "none for a new agreement", [](R& r) { r.clear_due_ms(); })
        .Bad("due_ms", "negative", [](R& r) { r.set_due_ms(-1); })
        .Bad("due_ms", "after 9999", [](R& r) { r.set_due_ms(253402300800000); })
        .Bad(
            "owner_org", "not in the manifest", [](R& r) { r.set_owner_org("bakker"); }, Reason::kUnknownOrg)
        .Bad("owner_org", "empty", [](R& r) { r.clear_owner_org(); })
        .Bad("action_id", "not an id", [](R& r) { r.set_action_id("1"); })
        .Bad("owner_org, owner_staff, description", "sent with an update", [](R& r) { r.set_action_id(kId); });
    BadStaff<R>(rows, "owner_staff", [](auto& r) { return r.mutable_owner_staff(); });
    BadText<R>(
        rows, "description", [](auto& r) { return r.mutable_description(); }, 1024, false);
  }
  {
    v1::CloseCaseLocalRequest b;
    b.set_case_id(kId);
    auto rows = t.For(b);
    BadId<v1::CloseCaseLocalRequest>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
  }

  // ---- Peer ----
  {
    v1::PingRequest b;
    auto rows = t.For(b);
    BadSubject<v1::PingRequest>(
        rows, [](auto& r) { return r.mutable_subject(); }, true);
  }
  {
    v1::ConsentStatusRequest b;
    b.set_receipt_id(kId);
    auto rows = t.For(b);
    BadId<v1::ConsentStatusRequest>(
        rows, "receipt_id", [](auto& r) { return r.mutable_receipt_id(); }, false);
  }
  {
    v1::EvaluatePseudonymRequest b;
    b.set_blinded_element(kBlindedElement);
    b.set_purpose("vroegsignalering");
    b.set_legal_basis("public_task");
    auto rows = t.For(b);
    using R = v1::EvaluatePseudonymRequest;
    rows.Bad("blinded_element", "empty", [](R& r) { r.clear_blinded_element(); })
        .Bad("blinded_element", "33 bytes", [](R& r) { r.set_blinded_element(std::string(33, 'b')); })
        .Bad("blinded_element", "the identity", [](R& r) { r.set_blinded_element(std::string(32, '\0')); },
             Reason::kOprfInvalidEncoding)
        .Bad("blinded_element", "32 bytes that are no point", [](R& r) { r.set_blinded_element(std::string(32, 'b')); },
             Reason::kOprfInvalidEncoding)
        // A real point's second encoding: libsodium 1.0.18 takes it, RFC 9496 does not.
        .Bad("blinded_element", "a real point with the top bit set",
             [](R& r) { (*r.mutable_blinded_element())[31] = static_cast<char>(0x80 | 0x45); },
             Reason::kOprfInvalidEncoding);
    BadName<R>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kNone, false);
    BadName<R>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kNone, true);
  }
  {
    v1::LookupSignalRequest b;
    b.set_subject(kSubject);
    b.set_purpose("vroegsignalering");
    auto rows = t.For(b);
    using R = v1::LookupSignalRequest;
    BadSubject<R>(
        rows, [](auto& r) { return r.mutable_subject(); }, false);
    BadName<R>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kNone, false);
    BadName<R>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kNone, true);
  }
  {
    v1::NotifySignalRequest b;
    b.set_subject(kSubject);
    b.set_purpose("vroegsignalering");
    b.set_notice_id(kId);
    b.mutable_from()->set_contact("Mentor, 06-12345678");
    b.mutable_from()->set_category("onderwijs");
    auto rows = t.For(b);
    using R = v1::NotifySignalRequest;
    BadSubject<R>(
        rows, [](auto& r) { return r.mutable_subject(); }, false);
    BadName<R>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kNone, false);
    BadId<R>(
        rows, "notice_id", [](auto& r) { return r.mutable_notice_id(); }, false);
    // As another node's staff registered it (one line), or absent.
    BadText<R>(
        rows, "from.contact", [](auto& r) { return r.mutable_from()->mutable_contact(); }, 256, true, true);
    BadName<R>(
        rows, "from.category", [](auto& r) { return r.mutable_from()->mutable_category(); }, Reason::kNone, true);
    rows.Bad("from.since_ms", "negative", [](R& r) { r.mutable_from()->set_since_ms(-1); });
  }
  {
    v1::AuditCheckpointRequest b;
    b.set_purpose("verantwoording");
    auto rows = t.For(b);
    BadName<v1::AuditCheckpointRequest>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kNone, false);
  }
  {
    v1::ReadAuditRequest b;
    b.set_purpose("verantwoording");
    b.set_tree_size(1);
    b.set_count(1);
    auto rows = t.For(b);
    using R = v1::ReadAuditRequest;
    rows.Bad("purpose", "empty", [](R& r) { r.clear_purpose(); })
        .Bad("subject", "31 bytes",
             [](R& r) {
               r.set_purpose("inzage");
               r.set_subject(std::string(31, 'p'));
             })
        .Bad("subject", "without purpose inzage", [](R& r) { r.set_subject(kSubject); })
        .Bad("count", "1001",
             [](R& r) {
               r.set_tree_size(5000);
               r.set_count(1001);
             })
        .Bad("count", "0, without consistency", [](R& r) { r.set_count(0); })
        .Bad("count", "0, for inzage",
             [](R& r) {
               r.set_purpose("inzage");
               r.set_subject(kSubject);
               r.set_consistency(true);
               r.set_count(0);
             })
        .Bad("from_seq, count", "beyond tree_size", [](R& r) { r.set_from_seq(1); })
        .Bad("from_seq, count", "past the end",
             [](R& r) {
               r.set_tree_size(10);
               r.set_from_seq(5);
               r.set_count(6);
             })
        .Bad("consistency_from", "beyond tree_size", [](R& r) {
          r.set_consistency(true);
          r.set_consistency_from(2);
        });
  }
  {
    v1::CosignRequest b;
    b.set_note("casenode/gemeente\n1\nroot\n\n— gemeente sig\n");
    auto rows = t.For(b);
    using R = v1::CosignRequest;
    rows.Bad("note", "empty", [](R& r) { r.clear_note(); })
        .Bad("note", "100 KiB", [](R& r) { r.set_note(kLong100k); })
        .Bad("consistency_proof", "65 hashes",
             [](R& r) {
               for (int i = 0; i < 65; ++i) r.add_consistency_proof(kHash);
             })
        .Bad("consistency_proof", "a 31-byte hash", [](R& r) { r.add_consistency_proof(std::string(31, 'h')); })
        .Bad("gap_leaf", "100 KiB", [](R& r) { r.set_gap_leaf(kLong100k); })
        .Bad("gap_inclusion_proof", "a 33-byte hash", [](R& r) { r.add_gap_inclusion_proof(std::string(33, 'h')); });
  }
  {
    v1::ReportAlarmRequest b;
    v1::QuotaAlarm& a = *b.mutable_alarm();
    a.set_alarm_id(kId);
    a.set_requester_org("school");
    a.set_action("pseudonym.evaluate");
    a.set_kind(v1::QuotaAlarm::THRESHOLD_REACHED);
    a.set_used(160);
    a.set_per_day(200);
    auto rows = t.For(b);
    using R = v1::ReportAlarmRequest;
    rows.Bad("alarm", "missing", [](R& r) { r.clear_alarm(); })
        .Bad("alarm.alarm_id", "31 digits", [](R& r) { r.mutable_alarm()->set_alarm_id(std::string(31, 'a')); })
        .Bad("alarm.requester_org", "upper case", [](R& r) { r.mutable_alarm()->set_requester_org("School"); })
        .Bad("alarm.action", "empty", [](R& r) { r.mutable_alarm()->clear_action(); })
        .Bad("alarm.kind", "unspecified", [](R& r) { r.mutable_alarm()->clear_kind(); })
        .Bad("alarm.per_day", "zero", [](R& r) { r.mutable_alarm()->set_per_day(0); })
        .Bad("alarm.day", "beyond year 4700", [](R& r) { r.mutable_alarm()->set_day(int64_t{1} << 40); });
  }
  {
    v1::InviteToCaseRequest b;
    b.set_case_id(kId);
    b.set_subject(kSubject);
    b.set_purpose("casusoverleg");
    b.set_sealed_invitation(std::string(200, 's'));
    auto rows = t.For(b);
    using R = v1::InviteToCaseRequest;
    BadId<R>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
    BadSubject<R>(
        rows, [](auto& r) { return r.mutable_subject(); }, false);
    BadName<R>(
        rows, "purpose", [](auto& r) { return r.mutable_purpose(); }, Reason::kNone, false);
    rows.Bad("sealed_invitation", "empty", [](R& r) { r.clear_sealed_invitation(); })
        .Bad("sealed_invitation", "100 KiB", [](R& r) { r.set_sealed_invitation(kLong100k); });
  }
  {
    v1::AnswerCaseInvitationRequest b;
    b.set_case_id(kId);
    auto rows = t.For(b);
    BadId<v1::AnswerCaseInvitationRequest>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
  }
  {
    v1::ContributeToCaseRequest b;
    b.set_case_id(kId);
    b.set_contribution_id(kId);
    b.set_category("onderwijs");
    b.set_legal_basis("public_task");
    *b.mutable_text() = Sealed(100);
    auto rows = t.For(b);
    using R = v1::ContributeToCaseRequest;
    BadId<R>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
    BadId<R>(
        rows, "contribution_id", [](auto& r) { return r.mutable_contribution_id(); }, false);
    BadName<R>(
        rows, "category", [](auto& r) { return r.mutable_category(); }, Reason::kNone, false);
    BadName<R>(
        rows, "legal_basis", [](auto& r) { return r.mutable_legal_basis(); }, Reason::kNone, false);
    BadSealed<R>(
        rows, "text", [](auto& r) { return r.mutable_text(); }, 16 * 1024);
  }
  {
    v1::ReadCaseRequest b;
    b.set_case_id(kId);
    auto rows = t.For(b);
    BadId<v1::ReadCaseRequest>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
    BadId<v1::ReadCaseRequest>(
        rows, "after", [](auto& r) { return r.mutable_after(); }, true);
    BadId<v1::ReadCaseRequest>(
        rows, "after_action", [](auto& r) { return r.mutable_after_action(); }, true);
    rows.Bad("after_action", "with after", [](auto& r) {
      r.set_after(kId);
      r.set_after_action(kId);
    });
  }
  {
    v1::SetCaseActionRequest b;
    b.set_case_id(kId);
    v1::CaseAction& a = *b.mutable_action();
    a.set_action_id(kId);
    a.set_owner_org("school");
    a.set_owner_staff("mentor-2");
    a.set_due_ms(1'800'000'000'000);
    a.set_status(v1::ACTION_OPEN);
    *a.mutable_description() = Sealed(100);
    auto rows = t.For(b);
    using R = v1::SetCaseActionRequest;
    BadId<R>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
    BadId<R>(
        rows, "action.action_id", [](auto& r) { return r.mutable_action()->mutable_action_id(); }, false);
    rows.Bad("action.status", "unspecified",
             [](R& r) { r.mutable_action()->set_status(v1::ACTION_STATUS_UNSPECIFIED); })
        .Bad("action.due_ms", "negative", [](R& r) { r.mutable_action()->set_due_ms(-1); })
        .Bad("action.due_ms", "after 9999", [](R& r) { r.mutable_action()->set_due_ms(253402300800000); })
        .Bad("action.owner_org", "not an org id", [](R& r) { r.mutable_action()->set_owner_org("School BV"); })
        .Bad("action.owner_staff", "a control character",
             [](R& r) { r.mutable_action()->set_owner_staff("ops\x1b[2J"); });
    BadSealed<R>(
        rows, "action.description", [](auto& r) { return r.mutable_action()->mutable_description(); }, 1024);
  }
  {
    v1::CloseCaseRequest b;
    b.set_case_id(kId);
    auto rows = t.For(b);
    BadId<v1::CloseCaseRequest>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
  }
  {
    v1::DestroyCaseRequest b;
    b.set_case_id(kId);
    auto rows = t.For(b);
    BadId<v1::DestroyCaseRequest>(
        rows, "case_id", [](auto& r) { return r.mutable_case_id(); }, false);
  }
  return t;
}

}  // namespace

std::vector<std::shared_ptr<const google::protobuf::Message>> GoodRequests() { return Build().good; }
std::vector<BadRequest> BadRequests() { return Build().bad; }

}  // namespace casenode::testing
