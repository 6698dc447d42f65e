#include "node/rpc/context.h"

#include <sodium.h>

#include <algorithm>

#include "base/encoding.h"
#include "keys/nonce.h"

namespace casenode::node {
namespace {

// Trace and span ids are public: served from the per-thread nonce buffer,
// not one getrandom() call each (every Peer call without a traceparent takes one).
std::string RandomHex(size_t bytes) {
  uint8_t buf[16];
  keys::FillRandomNonce(buf, bytes);
  return HexEncode({buf, bytes});
}

}  // namespace

std::string NewTraceparent(std::string_view trace_id) {
  const std::string id = IsLowerHex(trace_id, 32) ? std::string(trace_id) : RandomHex(16);
  return "00-" + id + "-" + RandomHex(8) + "-01";
}

std::string TraceIdOf(std::string_view tp) {
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
  const std::string_view id = tp.substr(3, 32);
  if (!IsLowerHex(id, 32) || id == std::string_view("00000000000000000000000000000000")) return {};
  return std::string(id);
}

std::string TraceIdOf(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  std::string id;
  if (auto it = md.find(kTraceparentHeader); it != md.end()) {
    id = TraceIdOf(std::string_view(it->second.data(), it->second.size()));
  }
  return id.empty() ? RandomHex(16) : id;
}

std::string SpanIdOf(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find(kTraceparentHeader);
  if (it == md.end()) return {};
  return SpanIdOf(std::string_view(it->second.data(), it->second.size()));
}

std::string SpanIdOf(std::string_view tp) {
  if (TraceIdOf(tp).empty()) return {};
  const std::string_view span = tp.substr(36, 16);
  if (!IsLowerHex(span, 16) || span == std::string_view("0000000000000000")) return {};
  return std::string(span);
}

std::chrono::system_clock::time_point NestedDeadline(const grpc::ServerContext& context) {
  const auto now = std::chrono::system_clock::now();
  const auto left = context.deadline() - now;
  const auto cap = std::chrono::seconds(30);  // no deadline from the caller: still bounded
  return now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   std::min<std::chrono::system_clock::duration>(left, cap) / 2);
}

}  // namespace casenode::node
