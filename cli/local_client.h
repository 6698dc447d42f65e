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

// Calls one Local method with the global deadline:
//   CallLocal(g, &v1::Local::Stub::Sweep, v1::SweepRequest(), &response)
template <typename Method, typename Request, typename Response>
grpc::Status CallLocal(const Globals& g, Method method, const Request& request, Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(g.timeout_ms));
  auto stub = LocalStub(g);
  return ((*stub).*method)(&ctx, request, response);
}

}  // namespace casenode::cli
