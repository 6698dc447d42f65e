#include "node/consent_service.h"

#include "base/log.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

grpc::Status ConsentService::Record(grpc::ServerContext*, const v1::ConsentRecordRequest* request,
                                         v1::ConsentEntry* response) {
  auto draft = consent::FromProto(request->receipt());
  if (!draft.ok()) return ToGrpcStatus(draft.status());
  auto birth_date = consent::ParseBirthDate(request->birth_date());
  if (!birth_date.ok()) return ToGrpcStatus(birth_date.status());
  auto entry = consents_.Record(*std::move(draft), *birth_date);
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  Log(LogLevel::kInfo, "consent.recorded", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ConsentService::Revoke(grpc::ServerContext*, const v1::ConsentRevokeRequest* request,
                                         v1::ConsentEntry* response) {
  auto entry = consents_.Revoke(request->receipt_id(), request->revoked_by());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  Log(LogLevel::kInfo, "consent.revoked", {{"receipt_id", entry->receipt().receipt_id()}});
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
