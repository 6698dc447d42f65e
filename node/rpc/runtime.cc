#include "node/rpc/runtime.h"

#include "absl/synchronization/mutex.h"
#include "node/rpc/tls.h"

namespace casenode::node {

absl::Status PrepareRpcRuntime() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return RequireTls13();
}

}  // namespace casenode::node
