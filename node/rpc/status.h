// The one mapping between absl::Status (inside the node) and grpc::Status (on
// the wire). Canonical codes map 1:1; the reason code travels as an ErrorInfo
// in a google.rpc.Status-compatible details blob.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "base/reason.h"

namespace casenode::node {

grpc::Status ToGrpcStatus(const absl::Status& status);
[[nodiscard]] absl::Status FromGrpcStatus(const grpc::Status& status);
// The reason code in a gRPC status's details, or kNone.
Reason GrpcReason(const grpc::Status& status);
// True for a refusal that is a decision about the request (policy, consent,
// rate limit): the peer answered. Anything else leaves its answer open.
bool AnsweredByPolicy(const absl::Status& status);
// "PERMISSION_DENIED", "UNAVAILABLE", ...
std::string GrpcCodeName(grpc::StatusCode code);

}  // namespace casenode::node
