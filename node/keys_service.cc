#include "node/keys_service.h"

#include "base/log.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

grpc::Status KeysService::Rotate(grpc::ServerContext*, const v1::RotateKeysRequest*,
                                      v1::RotateKeysResponse* response) {
  auto id = keys_.RotateKek();
  if (!id.ok()) {
    Log(LogLevel::kError, "keys.rotate_failed", {{"status", absl::StatusCodeToString(id.status().code())}});
    return ToGrpcStatus(id.status());
  }
  Log(LogLevel::kInfo, "keys.rotated", {{"kek_id", static_cast<int64_t>(*id)}});
  response->set_kek_id(*id);
  return grpc::Status::OK;
}

}  // namespace casenode::node
