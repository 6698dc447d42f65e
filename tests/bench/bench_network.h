// What the network benchmarks (pseudonym_derive, signal_check) share: a real
// network made with provision::CreateNetwork in a temporary directory whose nodes
// all run in this process, the TLS material of its nodes (for baselines over
// the same mTLS), and bare gRPC echo servers and fan-outs for the baselines.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "echo.grpc.pb.h"
#include "network/manifest.h"
#include "node/config/config.h"
#include "node/node.h"
#include "node/rpc/server.h"
#include "node/rpc/tls.h"
#include "provision/network_setup.h"
#include "tests/support/ports.h"
#include "tests/support/temp_dir.h"

namespace casenode::bench {

// The value, or the benchmark ends saying what failed (for setup steps).
template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "bench: %s: %s\n", what, v.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(v);
}

// Copies the network policy (*.toml of `from`) to `to`, with every
// rate_limit_per_minute raised to the most the policy accepts (1,000,000).
// The shipped policy limits pseudonym.evaluate to 600 and signal.lookup to
// 120 calls a minute per requesting organisation; a benchmark makes that many
// in well under a second, and would measure the refusals instead.
[[nodiscard]] absl::Status CopyPolicyWithoutRateLimits(const std::string& from, const std::string& to);

// A network made by provision::CreateNetwork, every node started in this process
// from its own casenode.toml (NodeConfig::Load, Node::Create, Start), as the
// casenode binary does. REQUIRES: node::PrepareRpcRuntime() called before.
class InProcessNetwork {
 public:
  // `org_specs` as for `casectl network init` ("ORG:ROLE"); the network
  // policy is policy/network of the source tree with its rate limits lifted.
  static absl::StatusOr<std::unique_ptr<InProcessNetwork>> Start(const std::vector<std::string>& org_specs);
  ~InProcessNetwork();  // stops every node; the directory goes with it
  InProcessNetwork(const InProcessNetwork&) = delete;
  InProcessNetwork& operator=(const InProcessNetwork&) = delete;

  const std::string& dir() const { return created_.dir; }
  const provision::CreatedNode& created(std::string_view org) const;
  node::Node& node(std::string_view org);
  // The node's configuration as it loaded it.
  const node::NodeConfig& config(std::string_view org) const;
  // The manifest entry of `org`.
  network::ManifestNode Entry(std::string_view org) const;
  // How long creating the network and starting its nodes took.
  std::chrono::milliseconds setup_time() const { return setup_time_; }

 private:
  InProcessNetwork() = default;
  size_t IndexOf(std::string_view org) const;

  TempDir temp_;
  std::unique_ptr<testing::PortBlock> ports_;
  provision::CreatedNetwork created_;
  std::vector<node::NodeConfig> configs_;
  std::vector<std::unique_ptr<node::Node>> nodes_;
  std::chrono::milliseconds setup_time_{0};
};

// A node's TLS certificate and key, unsealed from its identity file with its
// master key as Node::Create does, and the network CA: what it presents on
// the Peer listener and to the peers it calls.
[[nodiscard]] absl::StatusOr<std::unique_ptr<node::TlsIdentity>> LoadTls(const node::NodeConfig& config);

// A bare echo service with the Peer messages (echo.proto): the baselines.
class EchoService final : public bench::Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const v1::PingRequest* request, v1::PingResponse* response) override;
};

// One gRPC server with only the echo service, with the options a node's
// listeners use (node::ApplyServerOptions). `listen` as for AddListeningPort
// ("127.0.0.1:0", "unix:/path"); the port it got is in `port`.
struct EchoServer {
  EchoService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};
[[nodiscard]] absl::StatusOr<std::unique_ptr<EchoServer>> StartEchoServer(
    const std::string& listen, const std::shared_ptr<grpc::ServerCredentials>& creds);

// An echo server with `peer`'s TLS material (PeerServerCredentials), and a
// stub to it from a node with `caller`'s material, pinned to the peer's
// certificate (PeerChannelCredentials, PeerChannel): the same mTLS a Peer call
// from that node to that peer has, with nothing of casenode behind it.
struct EchoPeer {
  std::unique_ptr<EchoServer> server;
  std::unique_ptr<bench::Echo::Stub> stub;
};
[[nodiscard]] absl::StatusOr<EchoPeer> StartEchoPeer(const network::ManifestNode& peer, const node::TlsIdentity& peer_tls,
                                                     const node::TlsIdentity& caller_tls);

// One echo call on `stub`; true if it succeeded.
bool EchoOnce(bench::Echo::Stub& stub);
// One echo call to each of `peers` at once, with the async callback API,
// waiting for all (as node::PeerClient's fan-out does); true if all succeeded.
bool EchoFanOut(const std::vector<EchoPeer*>& peers);

// A stub of a Local service on a node's Unix socket, as casectl makes it.
template <typename Service>
std::unique_ptr<typename Service::Stub> LocalStub(const std::string& socket_path) {
  return Service::NewStub(grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials()));
}

}  // namespace casenode::bench
