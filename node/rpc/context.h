// What travels with a Peer call besides its message: the W3C trace context
// shared by caller and callee, the consent receipts attached as binary
// metadata, and the deadline of calls made while answering another.
#pragma once

#include <grpcpp/server_context.h>

#include <chrono>
#include <string>
#include <string_view>

namespace casenode::node {

// W3C trace context: "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>".
inline constexpr char kTraceparentHeader[] = "traceparent";
// Serialized casenode.v1.ConsentReceiptList.
inline constexpr char kConsentHeader[] = "casenode-consent-bin";
inline constexpr int kMaxReceiptsPerCall = 16;

// A traceparent for an outgoing call: in trace `trace_id` (32 hex digits) if
// given, else a new trace; always a new span.
std::string NewTraceparent(std::string_view trace_id = {});
// The trace id of a traceparent value, or "" if malformed.
std::string TraceIdOf(std::string_view traceparent);
// The trace id of an incoming call, or a new one if it carries none (or a malformed one).
std::string TraceIdOf(const grpc::ServerContext& context);
// The caller's span id (16 hex digits) of an incoming call: the span both
// sides log for the call. "" if it carries no valid traceparent.
std::string SpanIdOf(const grpc::ServerContext& context);
// The span id of a traceparent value, or "" if malformed.
std::string SpanIdOf(std::string_view traceparent);

// The deadline for a call made while answering `context`: half of what the
// caller has left (at most 15 s), so the answer still reaches it in time.
std::chrono::system_clock::time_point NestedDeadline(const grpc::ServerContext& context);

}  // namespace casenode::node
