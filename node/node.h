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
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "keys/key_store.h"
#include "keys/oprf/threshold.h"
#include "node/config/config.h"
#include "node/consent/consent_book.h"
#include "node/consent/verifier.h"
#include "node/audit/audit_log.h"
#include "node/audit/witness.h"
#include "node/services/audit_service.h"
#include "node/services/consent_service.h"
#include "node/services/keys_service.h"
#include "node/services/node_service.h"
#include "node/services/policy_service.h"
#include "node/pseudonym/deriver.h"
#include "node/services/pseudonym_service.h"
#include "node/services/signal_service.h"
#include "node/services/case_service.h"
#include "node/cases/case_book.h"
#include "node/cases/case_host.h"
#include "node/cases/desk.h"
#include "node/cases/keeper.h"
#include "node/signals/desk.h"
#include "node/signals/notifier.h"
#include "node/signals/signal_book.h"
#include "node/metrics/metrics.h"
#include "node/network/network.h"
#include "node/rpc/peer_client.h"
#include "node/gate/gate.h"
#include "node/services/peer_service.h"
#include "node/store/store.h"
#include "policy/policy.h"

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

  const Network& network() const { return *network_; }
  // The Prometheus text the metrics listener serves.
  std::string ScrapeMetrics();
  store::Store& store() { return *store_; }

 private:
  struct Prepared;
  static absl::StatusOr<Prepared> Prepare(const NodeConfig& config, Clock clock);
  // The certificate to present under `manifest`: the certificate file if the
  // manifest lists it for this node, else the one in use if still listed.
  [[nodiscard]] absl::StatusOr<std::string> CertificateToPresent(const keys::Manifest& manifest) const;
  // What a Local request may name at `now`: the policy and manifest in force.
  edge::Known KnownNow(SystemTime now) const;
  Node(NodeConfig config, std::unique_ptr<Network> network, std::unique_ptr<TlsIdentity> tls, keys::SigningKey signing_key,
       CaseIdentity case_identity, std::optional<oprf::KeyShare> oprf_share, std::unique_ptr<keys::KeyStore> key_store,
       std::unique_ptr<store::Store> store, std::unique_ptr<AuditLog> audit,
       std::shared_ptr<const policy::Policy> policy, Clock clock);

  const NodeConfig config_;
  Metrics metrics_;  // first: outlives every server and part that counts into it
  std::unique_ptr<Network> network_;
  std::unique_ptr<TlsIdentity> tls_;
  const keys::SigningKey signing_key_;
  const CaseIdentity case_identity_;
  const std::optional<oprf::KeyShare> oprf_share_;  // this node's share of the pseudonym key, if a holder
  std::unique_ptr<keys::KeyStore> key_store_;
  std::unique_ptr<store::Store> store_;  // declared after key_store_: closed before it
  std::unique_ptr<AuditLog> audit_;  // declared after store_: flushed before it closes
  consent::ConsentBook consents_;
  PeerClient peers_;
  consent::ConsentVerifier consent_verifier_;
  PeerGate gate_;
  Witness witness_;
  CheckpointPublisher publisher_;  // after peers_: stopped before it
  PseudonymDeriver deriver_;
  SignalBook signals_;
  Notifier notifier_;  // after signals_ and peers_: stopped before them
  SignalDesk signal_desk_;
  CaseBook cases_;
  CaseKeeper case_keeper_;  // after cases_ and peers_: stopped before them
  CaseHost case_host_;
  CaseDesk case_desk_;
  ConsentHost consent_host_;
  PseudonymHost pseudonym_host_;
  SignalHost signal_host_;
  AuditHost audit_host_;
  PeerService peer_service_;
  NodeService node_service_;
  KeysService keys_service_;
  PolicyService policy_service_;
  ConsentService consent_service_;
  PseudonymService pseudonym_service_;
  SignalService signal_service_;
  CaseService case_service_;
  AuditService audit_service_;
  std::mutex reload_mu_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<grpc::Server> local_server_;
  std::unique_ptr<MetricsServer> metrics_server_;  // if config.metrics_listen
};

// The gRPC server options every casenode listener uses.
void ApplyServerOptions(grpc::ServerBuilder& builder);

// Loads the network policy (whose hash must equal the manifest's policy_hash)
// and the local rule files of `config`.
// If `record` is given, it gets the sources and hashes for the audit log.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const policy::Policy>> LoadPolicy(const NodeConfig& config,
                                                                 const std::string& manifest_policy_hash,
                                                                 v1::PolicyLoad* record = nullptr);

// Copies a backup made by Store::Checkpoint into config.data_dir/records.
// FailedPrecondition if that directory exists; InvalidArgument if `backup_dir`
// is not a record store backup. The node must not be running.
[[nodiscard]] absl::Status RestoreRecords(const NodeConfig& config, const std::string& backup_dir);

}  // namespace casenode::node
