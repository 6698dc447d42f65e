// casectl consent record | revoke | confirm | list | show | verify: consent receipts at
// this node. JSON output is protobuf's JSON mapping of casenode.v1.ConsentEntry
// (field names as in proto/casenode/v1/types.proto; bytes in base64).
#include <google/protobuf/util/json_util.h>

#include "base/encoding.h"
#include "base/file.h"
#include "base/time.h"
#include "cli/commands.h"
#include "cli/local_client.h"

namespace casenode::cli {
namespace {

struct RecordArgs {
  std::string subject_hex;
  std::vector<std::string> consenters;
  std::string birth_date;
  std::vector<std::string> purposes, categories, roles, orgs;
  std::string valid_from, valid_until;
  int valid_days = 365;
  std::string recorded_by, evidence;
};

void PrintEntry(const Globals& g, const v1::ConsentEntry& e) {
  if (g.json()) {
    PrintJson(ProtoJson(e, true));
    return;
  }
  const auto& r = e.receipt();
  std::cout << "consent receipt " << r.receipt_id() << " issued by " << r.issuer_org() << ": "
            << (e.revoked() ? "REVOKED at " + FormatRfc3339(SystemTime(std::chrono::seconds(e.revoked_at_unix())))
                            : std::string("not revoked"))
            << (e.confirmed_at_unix() != 0
                    ? " (confirmed after a restore at " +
                          FormatRfc3339(SystemTime(std::chrono::seconds(e.confirmed_at_unix()))) + " by " +
                          e.confirmed_by() + ")"
                    : std::string())
            << "\n  valid " << FormatRfc3339(SystemTime(std::chrono::seconds(r.valid_from_unix()))) << " .. "
            << FormatRfc3339(SystemTime(std::chrono::seconds(r.valid_until_unix()))) << "\n  purposes";
  for (const auto& p : r.purposes()) std::cout << " " << p;
  std::cout << "; categories";
  for (const auto& c : r.categories()) std::cout << " " << c;
  std::cout << "; recipients";
  for (const auto& x : r.recipient_roles()) std::cout << " " << x;
  for (const auto& x : r.recipient_orgs()) std::cout << " " << x;
  std::cout << "\n";
}

int Record(const Globals& g, const RecordArgs& a) {
  auto subject = SubjectBytes(a.subject_hex);
  if (!subject.ok()) return Fail(subject.status());
  SystemTime from = SystemNow();
  if (!a.valid_from.empty()) {
    auto t = ParseRfc3339(a.valid_from, "--valid-from");
    if (!t.ok()) return Fail(t.status());
    from = *t;
  }
  SystemTime until = from + std::chrono::days(a.valid_days);
  if (!a.valid_until.empty()) {
    auto t = ParseRfc3339(a.valid_until, "--valid-until");
    if (!t.ok()) return Fail(t.status());
    until = *t;
  }
  v1::ConsentRecordRequest req;
  v1::ConsentReceipt* r = req.mutable_receipt();
  r->set_subject(*subject);
  for (const auto& c : a.consenters) r->add_consenters(c);
  for (const auto& x : a.purposes) r->add_purposes(x);
  for (const auto& x : a.categories) r->add_categories(x);
  for (const auto& x : a.roles) r->add_recipient_roles(x);
  for (const auto& x : a.orgs) r->add_recipient_orgs(x);
  r->set_valid_from_unix(from.time_since_epoch().count());
  r->set_valid_until_unix(until.time_since_epoch().count());
  r->set_recorded_by(a.recorded_by);
  r->set_evidence_ref(a.evidence);
  req.set_birth_date(a.birth_date);
  v1::ConsentEntry e;
  grpc::Status s = CallLocal(g, &v1::LocalConsent::Stub::Record, req, &e);
  if (!s.ok()) return Fail(s);
  PrintEntry(g, e);
  return kOk;
}

}  // namespace

absl::StatusOr<std::string> SubjectBytes(const std::string& hex) {
  auto b = HexDecode(hex, "--subject");
  if (!b.ok() || b->size() != 32) {
    return absl::InvalidArgumentError("--subject: expected the child's network pseudonym as 64 hex digits");
  }
  return std::string(b->begin(), b->end());
}

absl::StatusOr<v1::ConsentReceipt> ReadReceiptFile(const std::string& file) {
  auto text = ReadFile(file);
  if (!text.ok()) return text.status();
  // Accepts what `consent show -o json` prints, or a bare receipt.
  v1::ConsentEntry entry;
  if (google::protobuf::util::JsonStringToMessage(*text, &entry).ok() && entry.has_receipt()) return entry.receipt();
  v1::ConsentReceipt receipt;
  if (google::protobuf::util::JsonStringToMessage(*text, &receipt).ok()) return receipt;
  return absl::InvalidArgumentError(file + ": expected a consent receipt or entry as JSON");
}

namespace {

int VerifyReceipt(const Globals& g, const std::string& file) {
  auto receipt = ReadReceiptFile(file);
  if (!receipt.ok()) return Fail(receipt.status());
  v1::ConsentVerifyRequest req;
  *req.mutable_receipt() = *receipt;
  v1::ConsentVerifyResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalConsent::Stub::Verify, req, &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson({{"receipt_id", req.receipt().receipt_id()}, {"status", r.status()}});
  } else {
    std::cout << "consent receipt " << req.receipt().receipt_id() << ": " << r.status() << "\n";
  }
  return r.status() == "valid" ? kOk : kRefused;
}

}  // namespace

void AddConsentCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* consent = app.add_subcommand("consent", "Consent receipts this node records, and verifying any receipt");
  consent->require_subcommand(1);

  static RecordArgs rec;
  CLI::App* record = consent->add_subcommand(
      "record", "Record and sign a consent receipt\n"
                "Example: casectl consent record --subject <64 hex> --consenter parent --consenter child --birth-date 2013-05-01 \\\n"
                "           --purpose casusoverleg --category zorg --recipient-role gemeente --recorded-by staff-7f3a");
  record->add_option("--subject", rec.subject_hex, "The child's network pseudonym (64 hex digits)")->required();
  record->add_option("--consenter", rec.consenters, "child, parent or guardian (repeatable)")
      ->required()
      ->check(CLI::IsMember({"child", "parent", "guardian"}));
  record->add_option("--birth-date", rec.birth_date,
                     "The child's date of birth, YYYY-MM-DD: decides who must consent and until when the receipt\n"
                     "stands (the next age boundary, 12 or 16, is signed into it); the date itself is not kept")
      ->required();
  record->add_option("--purpose", rec.purposes, "Purpose consented to (repeatable)")->required();
  record->add_option("--category", rec.categories, "Data category (repeatable)")->required();
  record->add_option("--recipient-role", rec.roles, "Role that may receive the data (repeatable)");
  record->add_option("--recipient-org", rec.orgs, "Organisation that may receive the data (repeatable)");
  record->add_option("--valid-from", rec.valid_from, "RFC 3339 UTC time (default: now)");
  record->add_option("--valid-until", rec.valid_until, "RFC 3339 UTC time (default: valid-from + --valid-days)");
  record->add_option("--valid-days", rec.valid_days, "Validity in days")->check(CLI::Range(1, 3650))->capture_default_str();
  record->add_option("--recorded-by", rec.recorded_by, "Your pseudonymous staff id")->required()->envname("CASENODE_STAFF_ID");
  record->add_option("--evidence", rec.evidence, "Where the signed consent form is kept");
  record->callback([&g, exit_code] { *exit_code = Record(g, rec); });

  static std::string revoke_id, revoked_by;
  CLI::App* revoke = consent->add_subcommand("revoke", "Revoke a receipt this node issued; peers learn it on their next check");
  revoke->add_option("ID", revoke_id, "Receipt id")->required();
  revoke->add_option("--revoked-by", revoked_by, "Your pseudonymous staff id")->required()->envname("CASENODE_STAFF_ID");
  revoke->callback([&g, exit_code] {
    v1::ConsentRevokeRequest req;
    req.set_receipt_id(revoke_id);
    req.set_revoked_by(revoked_by);
    v1::ConsentEntry e;
    grpc::Status s = CallLocal(g, &v1::LocalConsent::Stub::Revoke, req, &e);
    *exit_code = s.ok() ? (PrintEntry(g, e), kOk) : Fail(s);
  });

  static std::string confirm_id, confirmed_by;
  CLI::App* confirm = consent->add_subcommand(
      "confirm", "After a restore (node status: consent hold), confirm that a receipt issued here was not revoked");
  confirm->add_option("ID", confirm_id, "Receipt id")->required();
  confirm->add_option("--confirmed-by", confirmed_by, "Your pseudonymous staff id")
      ->required()
      ->envname("CASENODE_STAFF_ID");
  confirm->callback([&g, exit_code] {
    v1::ConsentConfirmRequest req;
    req.set_receipt_id(confirm_id);
    req.set_confirmed_by(confirmed_by);
    v1::ConsentEntry e;
    grpc::Status s = CallLocal(g, &v1::LocalConsent::Stub::Confirm, req, &e);
    *exit_code = s.ok() ? (PrintEntry(g, e), kOk) : Fail(s);
  });

  static std::string show_id;
  CLI::App* show = consent->add_subcommand("show", "Show a receipt this node issued, with its revocation");
  show->add_option("ID", show_id, "Receipt id")->required();
  show->callback([&g, exit_code] {
    v1::ConsentShowRequest req;
    req.set_receipt_id(show_id);
    v1::ConsentEntry e;
    grpc::Status s = CallLocal(g, &v1::LocalConsent::Stub::Show, req, &e);
    *exit_code = s.ok() ? (PrintEntry(g, e), kOk) : Fail(s);
  });

  static std::string list_subject;
  CLI::App* list = consent->add_subcommand("list", "List the receipts this node issued for one child");
  list->add_option("--subject", list_subject, "The child's network pseudonym (64 hex digits)")->required();
  list->callback([&g, exit_code] {
    auto subject = SubjectBytes(list_subject);
    if (!subject.ok()) {
      *exit_code = Fail(subject.status());
      return;
    }
    v1::ConsentListRequest req;
    req.set_subject(*subject);
    v1::ConsentListResponse r;
    grpc::Status s = CallLocal(g, &v1::LocalConsent::Stub::List, req, &r);
    if (!s.ok()) {
      *exit_code = Fail(s);
      return;
    }
    if (g.json()) {
      PrintJson(ProtoJson(r, true));
    } else {
      for (const auto& e : r.entries()) PrintEntry(g, e);
      std::cout << r.entries_size() << " receipts\n";
    }
    *exit_code = kOk;
  });

  static std::string verify_file;
  CLI::App* verify = consent->add_subcommand(
      "verify", "Verify a receipt as a responder would: signature, validity, age rule, revocation at its issuer\n"
                "Exit 0 if valid, 3 if not.");
  verify->add_option("FILE", verify_file, "JSON from `consent show -o json`, or a bare receipt")->required();
  verify->callback([&g, exit_code] { *exit_code = VerifyReceipt(g, verify_file); });
}

}  // namespace casenode::cli
