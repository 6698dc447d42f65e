// A client of this node's Local service over its Unix socket.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "casenode/v1/local.grpc.pb.h"
#include "cli/output.h"

namespace casenode::cli {

inline std::unique_ptr<v1::Local::Stub> LocalStub(const Globals& g) {
  return v1::Local::NewStub(grpc::CreateChannel("unix:" + g.socket, grpc::InsecureChannelCredentials()));
}

inline void SetDeadline(grpc::ClientContext& ctx, const Globals& g) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(g.timeout_ms));
}

}  // namespace casenode::cli
