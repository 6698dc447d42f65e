// Process-wide settings a casenode process makes once, before its first gRPC
// channel or server and before it starts threads.
#pragma once

#include "absl/status/status.h"

namespace casenode::node {

// TLS 1.3 only (see RequireTls13), and no Abseil mutex deadlock detection:
// Debian's Abseil is built without NDEBUG, so every absl::Mutex that gRPC
// takes would otherwise be tracked in one global lock graph, a debugging aid
// that serialises unrelated calls (measured in bench peer_ping).
[[nodiscard]] absl::Status PrepareRpcRuntime();

}  // namespace casenode::node
