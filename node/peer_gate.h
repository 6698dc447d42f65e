// PeerGate: the one place every Peer call passes before its handler runs.
//
// It maps the caller's verified client certificate to a manifest entry (the
// caller's organisation and role come from there, never from the request),
// reads the W3C trace context, runs the handler with the authenticated
// caller, logs the outcome and maps the status for the wire. Issue 4's policy
// enforcement belongs here too, not in handlers. Thread-safe.
#pragma once

#include <grpcpp/server_context.h>

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "node/log.h"
#include "node/network.h"
#include "node/rpc_status.h"

namespace casenode::node {

struct PeerCall {
  Caller caller;
  std::string trace_id;  // 32 hex digits, shared by caller and callee
};

class PeerGate {
 public:
  explicit PeerGate(const Network& network) : network_(network) {}

  // Authenticates the call, then runs `handler(const PeerCall&) -> absl::Status`.
  template <typename Handler>
  grpc::Status Admit(grpc::ServerContext* context, std::string_view method, Handler&& handler) const {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<PeerCall> call = Authenticate(*context);
    absl::Status status = call.ok() ? handler(*call) : call.status();
    Record(method, call.ok() ? &*call : nullptr, status, std::chrono::steady_clock::now() - start);
    return ToGrpcStatus(status);
  }

  absl::StatusOr<PeerCall> Authenticate(const grpc::ServerContext& context) const;

 private:
  void Record(std::string_view method, const PeerCall* call, const absl::Status& status,
              std::chrono::steady_clock::duration elapsed) const;
  const Network& network_;
};

// W3C trace context: "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>".
inline constexpr char kTraceparentHeader[] = "traceparent";
std::string NewTraceparent(std::string_view trace_id = {});
// The trace id of a traceparent value, or "" if malformed.
std::string TraceIdOf(std::string_view traceparent);

}  // namespace casenode::node
