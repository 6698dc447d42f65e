// Node: one running casenode. Owns the verified network view, the key
// material, the Peer listener (mTLS) and the Local listener (Unix socket).
//
// Lifecycle: Create() (reads and checks everything, binds nothing) ->
// Start() (binds both listeners; the node is ready when it returns) ->
// Shutdown() (health NOT_SERVING, refuse new calls, finish in-flight ones).
// Reload() may run at any time from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "node/config.h"
#include "node/local_service.h"
#include "node/network.h"
#include "node/peer_client.h"
#include "node/peer_gate.h"
#include "node/peer_service.h"

namespace casenode::node {

class Node {
 public:
  // Unseals the node identity with the master key, verifies the manifest and
  // that it lists this node with this certificate and these keys. Every error
  // names the config key or file at fault, never key bytes.
  static absl::StatusOr<std::unique_ptr<Node>> Create(const NodeConfig& config, Clock clock = SystemNow);
  ~Node();

  absl::Status Start();
  void Shutdown(std::chrono::milliseconds grace);
  // Reloads the manifest; keeps the old one on error. Logs either way.
  absl::StatusOr<uint64_t> Reload();

  const Network& network() const { return *network_; }

 private:
  Node(NodeConfig config, std::unique_ptr<Network> network, TlsMaterial tls);

  const NodeConfig config_;
  std::unique_ptr<Network> network_;
  TlsMaterial tls_;
  PeerGate gate_;
  PeerClient peers_;
  PeerService peer_service_;
  LocalService local_service_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<grpc::Server> local_server_;
};

}  // namespace casenode::node
