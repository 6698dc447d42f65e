// Loopback ports for networks of real nodes in tests and benchmarks: `n`
// consecutive free ports below the ephemeral range, reserved against every
// other test or benchmark process by lock files (one per block of 8 ports
// under /tmp/casenode-test-ports), held until destruction. A probe alone
// would race another process's bind.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace casenode::testing {

class PortBlock {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PortBlock>> Reserve(int n);
  ~PortBlock();
  PortBlock(const PortBlock&) = delete;
  PortBlock& operator=(const PortBlock&) = delete;
  int base() const { return base_; }

 private:
  PortBlock() = default;
  std::vector<int> lock_fds_;
  int base_ = 0;
};

}  // namespace casenode::testing
