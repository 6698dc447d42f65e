// A client of this node's Local service over its Unix socket.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "casenode/v1/local.grpc.pb.h"
#include "cli/output.h"

namespace casenode::cli {

inline constexpr int kMaxLocalAnswerBytes = 64 << 20;

// Calls one Local method with the global deadline:
//   CallLocal(g, &v1::LocalNode::Stub::Sweep, v1::SweepRequest(), &response)
template <typename Stub, typename Request, typename Response>
grpc::Status CallLocal(const Globals& g,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                       const Request& request, Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(g.timeout_ms));
  // A whole case (the members' shares: 16 × 3 MiB at most) is one answer.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxLocalAnswerBytes);
  Stub stub(grpc::CreateCustomChannel("unix:" + g.socket, grpc::InsecureChannelCredentials(), args));
  return (stub.*method)(&ctx, request, response);
}

}  // namespace casenode::cli
