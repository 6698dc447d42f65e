// Node: one running casenode. Owns the verified network view, the key
// material, the stores, every part, the Peer listener (mTLS) and the Local
// listener (Unix socket), and wires the parts to the services: node.cc is
// that wiring and nothing else (what a node checks before it opens its
// stores is node/prepare.h).
//
// Lifecycle: Create() (reads and checks everything, binds nothing) ->
// Start() (binds both listeners; the node is ready when it returns) ->
// Shutdown() (health NOT_SERVING, refuse new calls, finish in-flight ones).
// Reload() may run at any time from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "node/config/config.h"

namespace casenode::network {
class Network;
}  // namespace casenode::network

namespace casenode::node {

class Node {
 public:
  // Unseals the node identity with the master key, verifies the manifest and
  // that it lists this node with this certificate and these keys, and opens
  // the key store (data_dir/keys) and record store (data_dir/records). Every
  // error names the config key or file at fault, never key bytes.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Node>> Create(const NodeConfig& config, Clock clock = SystemNow);
  // The checks of Create — configuration, manifest, policy, identity, master
  // key, store format, manifest floor — without writing anything, for
  // `casenode --check-config`. Returns the manifest version in force.
  [[nodiscard]] static absl::StatusOr<uint64_t> Check(const NodeConfig& config, Clock clock = SystemNow);
  ~Node();

  [[nodiscard]] absl::Status Start();
  void Shutdown(std::chrono::milliseconds grace);
  // Reloads the manifest and the policy; keeps the old ones on any error. Logs either way.
  [[nodiscard]] absl::StatusOr<uint64_t> Reload();
  // Serving and able to log (its store reads): what the systemd watchdog is fed on.
  [[nodiscard]] absl::Status Healthy() const;

  const network::Network& network() const;
  // The Prometheus text the metrics listener serves.
  std::string ScrapeMetrics();

 private:
  struct Parts;
  explicit Node(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace casenode::node
