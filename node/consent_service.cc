#include "node/consent_service.h"

#include "base/log.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/audit/subject_seal.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {
namespace {

// The log entry for what staff did to a receipt: its child sealed, never in the clear.
absl::Status LogConsent(AuditLog& audit, keys::KeyStore& keys, grpc::ServerContext& context,
                        v1::ConsentEvent::Kind kind, const v1::ConsentEntry& entry, const std::string& staff_id) {
  v1::AuditEntry e;
  e.set_trace_id(TraceIdOf(context));
  v1::ConsentEvent& c = *e.mutable_consent();
  const v1::ConsentReceipt& r = entry.receipt();
  c.set_kind(kind);
  c.set_receipt_id(r.receipt_id());
  c.set_issuer_org(r.issuer_org());
  c.set_staff_id(staff_id);
  if (kind == v1::ConsentEvent::RECORDED) {
    *c.mutable_purposes() = r.purposes();
    *c.mutable_categories() = r.categories();
    c.set_valid_from_unix(r.valid_from_unix());
    c.set_valid_until_unix(r.valid_until_unix());
  }
  std::array<uint8_t, 32> subject{};
  std::copy(r.subject().begin(), r.subject().end(), subject.begin());
  if (absl::Status s = AppendAbout(audit, keys, subject, std::move(e)); !s.ok()) {
    return Error(Reason::kDecisionNotRecorded,
                 StrCat("receipt ", r.receipt_id(), " was stored, but its audit entry could not be written: ",
                        std::string(s.message())));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status ConsentService::Record(grpc::ServerContext* context, const v1::ConsentRecordRequest* request,
                                         v1::ConsentEntry* response) {
  auto draft = consent::FromProto(request->receipt());
  if (!draft.ok()) return ToGrpcStatus(draft.status());
  auto birth_date = consent::ParseBirthDate(request->birth_date());
  if (!birth_date.ok()) return ToGrpcStatus(birth_date.status());
  auto entry = consents_.Record(*std::move(draft), *birth_date);
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  if (absl::Status s = LogConsent(audit_, keys_, *context, v1::ConsentEvent::RECORDED, *entry,
                                  entry->receipt().recorded_by());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  Log(LogLevel::kInfo, "consent.recorded", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Revoke(grpc::ServerContext* context, const v1::ConsentRevokeRequest* request,
                                         v1::ConsentEntry* response) {
  auto entry = consents_.Revoke(request->receipt_id(), request->revoked_by());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  // Revoking again logs again: staff are told of any failure and may retry.
  if (absl::Status s = LogConsent(audit_, keys_, *context, v1::ConsentEvent::REVOKED, *entry, request->revoked_by());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  Log(LogLevel::kInfo, "consent.revoked", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Confirm(grpc::ServerContext* context, const v1::ConsentConfirmRequest* request,
                                     v1::ConsentEntry* response) {
  auto entry = consents_.Confirm(request->receipt_id(), request->confirmed_by());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  if (absl::Status s =
          LogConsent(audit_, keys_, *context, v1::ConsentEvent::CONFIRMED, *entry, request->confirmed_by());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  Log(LogLevel::kInfo, "consent.confirmed", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::List(grpc::ServerContext*, const v1::ConsentListRequest* request,
                                       v1::ConsentListResponse* response) {
  if (request->subject().size() != 32) {
    return ToGrpcStatus(absl::InvalidArgumentError("subject: expected a 32-byte pseudonym"));
  }
  std::array<uint8_t, 32> subject{};
  std::copy(request->subject().begin(), request->subject().end(), subject.begin());
  auto entries = consents_.List(subject);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  for (auto& e : *entries) *response->add_entries() = std::move(e);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Show(grpc::ServerContext*, const v1::ConsentShowRequest* request,
                                       v1::ConsentEntry* response) {
  auto entry = consents_.Show(request->receipt_id());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Verify(grpc::ServerContext* context, const v1::ConsentVerifyRequest* request,
                                         v1::ConsentVerifyResponse* response) {
  auto receipt = consent::FromProto(request->receipt());
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  const policy::ConsentStatus status =
      verifier_.Verify(*receipt, *network_.manifest(), gate_.policy()->consent_settings(), NestedDeadline(*context));
  response->set_status(std::string(policy::ConsentStatusName(status)));
  return grpc::Status::OK;
}

}  // namespace casenode::node
