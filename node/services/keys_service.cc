#include "node/services/keys_service.h"

#include "base/log.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

grpc::Status KeysService::Rotate(grpc::ServerContext* context, const v1::RotateKeysRequest*,
                                      v1::RotateKeysResponse* response) {
  auto id = keys_.RotateKek();
  if (!id.ok()) {
    Log(LogLevel::kError, "keys.rotate_failed", {{"status", absl::StatusCodeToString(id.status().code())}});
    return ToGrpcStatus(id.status());
  }
  Log(LogLevel::kInfo, "keys.rotated", {{"kek_id", static_cast<int64_t>(*id)}});
  v1::AuditEntry e;
  e.set_trace_id(TraceIdOf(*context));
  e.mutable_key()->set_kind(v1::KeyEvent::KEK_ROTATED);
  e.mutable_key()->set_kek_id(*id);
  if (absl::Status s = audit_.Append(std::move(e), store::Durability::kSynced); !s.ok()) {
    // The rotation stands (every data key is re-wrapped); the operator is told it is not logged.
    // Not UNAVAILABLE: a client retrying would rotate again.
    return ToGrpcStatus(absl::DataLossError(
        StrCat("keys rotated to KEK ", *id, ", but its audit entry could not be written; do not rotate again")));
  }
  response->set_kek_id(*id);
  return grpc::Status::OK;
}

}  // namespace casenode::node
