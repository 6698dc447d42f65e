#include "node/peer_gate.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <sodium.h>

#include <algorithm>

#include "base/encoding.h"
#include "base/reason.h"

namespace casenode::node {
namespace {

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string RandomHex(size_t bytes) {
  uint8_t buf[16];
  randombytes_buf(buf, bytes);
  return HexEncode({buf, bytes});
}

}  // namespace

std::string NewTraceparent(std::string_view trace_id) {
  const std::string id = trace_id.size() == 32 ? std::string(trace_id) : RandomHex(16);
  return "00-" + id + "-" + RandomHex(8) + "-01";
}

std::string TraceIdOf(std::string_view tp) {
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
  const std::string_view id = tp.substr(3, 32);
  if (!IsLowerHex(id) || id == std::string(32, '0')) return {};
  return std::string(id);
}

absl::StatusOr<PeerCall> PeerGate::Authenticate(const grpc::ServerContext& context) const {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  const auto pems = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                         : std::vector<grpc::string_ref>{};
  if (pems.empty()) {
    return WithReason(absl::UnauthenticatedError("no client certificate"), "PEER_NO_CERTIFICATE");
  }
  PeerCall call;
  auto caller = network_.Identify(std::string(pems.front().data(), pems.front().size()));
  if (!caller.ok()) return caller.status();
  call.caller = *std::move(caller);
  const auto& md = context.client_metadata();
  auto it = md.find(kTraceparentHeader);
  if (it != md.end()) call.trace_id = TraceIdOf(std::string_view(it->second.data(), it->second.size()));
  if (call.trace_id.empty()) call.trace_id = RandomHex(16);
  return call;
}

void PeerGate::Record(std::string_view method, const PeerCall* call, const absl::Status& status,
                      std::chrono::steady_clock::duration elapsed) const {
  const LogLevel level = status.ok() ? LogLevel::kDebug : LogLevel::kWarn;
  if (!LogEnabled(level)) return;
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  const std::string code(absl::StatusCodeToString(status.code()));
  const std::string reason = ReasonOf(status);
  if (call != nullptr) {
    Log(level, "peer.call",
        {{"method", method}, {"caller_org", call->caller.org}, {"caller_role", keys::RoleName(call->caller.role)},
         {"trace_id", call->trace_id}, {"status", code}, {"reason", reason}, {"duration_us", us}});
  } else {
    Log(level, "peer.refused", {{"method", method}, {"status", code}, {"reason", reason}});
  }
}

}  // namespace casenode::node
