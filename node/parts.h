// Node::Parts: every part of a running node, for the node's own files only
// (node.cc wires them, run.cc starts and stops them, reload.cc reloads).
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/x509.h"
#include "network/network.h"
#include "node/audit/alarms.h"
#include "node/audit/audit_log.h"
#include "node/audit/host/audit_host.h"
#include "node/audit/witness.h"
#include "node/cases/case_book.h"
#include "node/cases/case_host.h"
#include "node/cases/desk.h"
#include "node/cases/keeper.h"
#include "node/consent/consent_book.h"
#include "node/consent/host/consent_host.h"
#include "node/consent/status_answer.h"
#include "node/consent/verifier.h"
#include "node/gate/gate.h"
#include "node/metrics/metrics.h"
#include "node/prepare.h"
#include "node/pseudonym/deriver.h"
#include "node/pseudonym/pseudonym_host.h"
#include "node/rpc/context.h"
#include "node/rpc/peer_client.h"
#include "node/rpc/server.h"
#include "node/rpc/tls.h"
#include "node/services/audit_service.h"
#include "node/services/case_service.h"
#include "node/services/consent_service.h"
#include "node/services/keys_service.h"
#include "node/services/node_service.h"
#include "node/services/peer_service.h"
#include "node/services/policy_service.h"
#include "node/services/pseudonym_service.h"
#include "node/services/signal_service.h"
#include "node/signals/desk.h"
#include "node/signals/notifier.h"
#include "node/signals/signal_book.h"
#include "node/signals/signal_host.h"
#include "store/store.h"

#include "node/node.h"

namespace casenode::node {

// Every part of a running node, declared in the order they are built; C++
// destroys them in reverse, so each part outlives those that use it.
struct Node::Parts {
  // The wiring: every part gets the parts it uses (node.cc).
  Parts(NodeConfig config_in, Prepared p, std::unique_ptr<TlsIdentity> tls_in,
        std::unique_ptr<store::KeyStore> key_store_in, std::unique_ptr<store::Store> store_in,
        std::unique_ptr<AuditLog> audit_in, Clock clock);
  Parts(const Parts&) = delete;
  Parts& operator=(const Parts&) = delete;

  // Node::Reload (reload.cc).
  absl::StatusOr<uint64_t> Reload();
  absl::StatusOr<uint64_t> ReloadLocked();  // REQUIRES: reload_mu held

  const NodeConfig config;
  Metrics metrics;  // first: outlives every server and part that counts into it
  std::unique_ptr<network::Network> network;
  std::unique_ptr<TlsIdentity> tls;
  const keys::SigningKey signing_key;
  const CaseIdentity case_identity;
  const std::optional<oprf::KeyShare> oprf_share;  // this node's share of the pseudonym key, if a holder
  std::unique_ptr<store::KeyStore> key_store;
  std::unique_ptr<store::Store> store;  // after key_store: closed before it
  std::unique_ptr<AuditLog> audit;  // after store: flushed before it closes
  const edge::KnownFn known;  // what a Local request may name now: the policy and manifest in force
  consent::ConsentBook consents;
  PeerClient peers;
  Alarms alarms;  // after peers and store: stopped before them
  QuotaCounter quotas;
  consent::ConsentVerifier consent_verifier;
  PeerGate gate;
  Witness witness;
  CheckpointPublisher publisher;  // after peers: stopped before it
  PseudonymDeriver deriver;
  SignalBook signals;
  Notifier notifier;  // after signals and peers: stopped before them
  SignalDesk signal_desk;
  CaseBook cases;
  CaseKeeper case_keeper;  // after cases and peers: stopped before them
  CaseHost case_host;
  CaseDesk case_desk;
  ConsentHost consent_host;
  PseudonymHost pseudonym_host;
  SignalHost signal_host;
  AuditHost audit_host;
  PeerService peer_service;
  NodeService node_service;
  KeysService keys_service;
  PolicyService policy_service;
  ConsentService consent_service;
  PseudonymService pseudonym_service;
  SignalService signal_service;
  CaseService case_service;
  AuditService audit_service;
  std::mutex reload_mu;
  std::unique_ptr<grpc::Server> peer_server;
  std::unique_ptr<grpc::Server> local_server;
  std::unique_ptr<MetricsServer> metrics_server;  // if config.metrics_listen
};

}  // namespace casenode::node
