#include "node/services/consent_service.h"

#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/audit/subject_seal.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {
namespace {

std::array<uint8_t, 32> SubjectOf(const v1::ConsentEntry& entry) {
  std::array<uint8_t, 32> subject{};
  std::copy(entry.receipt().subject().begin(), entry.receipt().subject().end(), subject.begin());
  return subject;
}

// The log entry for what staff did to a receipt: its child sealed, never in the clear.
consent::ConsentBook::Journal LogConsent(AuditLog& audit, store::KeyStore& keys, grpc::ServerContext& context,
                                         v1::ConsentEvent::Kind kind, const std::string& staff_id) {
  return [&audit, &keys, &context, kind, staff_id](const v1::ConsentEntry& entry) -> absl::Status {
    v1::AuditEntry e;
    e.set_trace_id(TraceIdOf(context));
    v1::ConsentEvent& c = *e.mutable_consent();
    const v1::ConsentReceipt& r = entry.receipt();
    c.set_kind(kind);
    c.set_receipt_id(r.receipt_id());
    c.set_issuer_org(r.issuer_org());
    c.set_staff_id(staff_id);
    if (kind == v1::ConsentEvent::RECORDED || kind == v1::ConsentEvent::CONFIRMED) {
      c.set_hold_generation(entry.hold_generation());
    }
    if (kind == v1::ConsentEvent::RECORDED) {
      *c.mutable_purposes() = r.purposes();
      *c.mutable_categories() = r.categories();
      c.set_valid_from_unix(r.valid_from_unix());
      c.set_valid_until_unix(r.valid_until_unix());
    }
    if (absl::Status s = AppendAbout(audit, keys, SubjectOf(entry), std::move(e)); !s.ok()) {
      return Error(Reason::kDecisionNotRecorded,
                   StrCat("receipt ", r.receipt_id(), " was stored, but its audit entry could not be written: ",
                          std::string(s.message())));
    }
    return absl::OkStatus();
  };
}

}  // namespace

grpc::Status ConsentService::Record(grpc::ServerContext* context, const v1::ConsentRecordRequest* request,
                                         v1::ConsentEntry* response) {
  if (auto bad = edge::Check(*request, known_()); !bad.ok()) return ToGrpcStatus(bad);
  auto draft = consent::FromProto(request->receipt());
  if (!draft.ok()) return ToGrpcStatus(draft.status());
  auto birth_date = consent::ParseBirthDate(request->birth_date());
  if (!birth_date.ok()) return ToGrpcStatus(birth_date.status());
  const std::string recorded_by = draft->recorded_by;
  auto entry = consents_.Record(*std::move(draft), *birth_date,
                                LogConsent(audit_, keys_, *context, v1::ConsentEvent::RECORDED, recorded_by));
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  Log(LogLevel::kInfo, "consent.recorded", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Revoke(grpc::ServerContext* context, const v1::ConsentRevokeRequest* request,
                                         v1::ConsentEntry* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  // Revoking again logs again: staff are told of any failure and may retry.
  auto entry = consents_.Revoke(request->receipt_id(), request->revoked_by(),
                                LogConsent(audit_, keys_, *context, v1::ConsentEvent::REVOKED, request->revoked_by()));
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  Log(LogLevel::kInfo, "consent.revoked", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Confirm(grpc::ServerContext* context, const v1::ConsentConfirmRequest* request,
                                     v1::ConsentEntry* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  auto entry =
      consents_.Confirm(request->receipt_id(), request->confirmed_by(),
                        LogConsent(audit_, keys_, *context, v1::ConsentEvent::CONFIRMED, request->confirmed_by()));
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  Log(LogLevel::kInfo, "consent.confirmed", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::List(grpc::ServerContext*, const v1::ConsentListRequest* request,
                                       v1::ConsentListResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  std::array<uint8_t, 32> subject{};
  std::copy(request->subject().begin(), request->subject().end(), subject.begin());
  auto entries = consents_.List(subject);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  for (auto& e : *entries) *response->add_entries() = std::move(e);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Show(grpc::ServerContext*, const v1::ConsentShowRequest* request,
                                       v1::ConsentEntry* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  auto entry = consents_.Show(request->receipt_id());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Verify(grpc::ServerContext* context, const v1::ConsentVerifyRequest* request,
                                         v1::ConsentVerifyResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  auto receipt = consent::FromProto(request->receipt());
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  const policy::ConsentStatus status =
      verifier_.Verify(*receipt, *network_.manifest(), gate_.policy()->consent_settings(), NestedDeadline(*context))
          .status;
  response->set_status(std::string(policy::ConsentStatusName(status)));
  return grpc::Status::OK;
}

}  // namespace casenode::node
