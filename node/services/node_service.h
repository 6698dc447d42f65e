// LocalNode: this node for its operators — identity and peers, reload,
// backups and the sweep. A thin service over the network view, the peer
// client and the store.
#pragma once

#include <functional>

#include "casenode/v1/local.grpc.pb.h"
#include "node/edge/requests.h"
#include "node/gate/gate.h"
#include "network/network.h"
#include "node/rpc/peer_client.h"
#include "store/store.h"

namespace casenode::node {

class NodeService final : public v1::LocalNode::Service {
 public:
  using ReloadFn = std::function<absl::StatusOr<uint64_t>()>;
  using AuditStatusFn = std::function<v1::AuditStatus()>;
  // Declares a gap in the audit log after a restore; returns the entry's seq.
  using DeclareGapFn = std::function<absl::StatusOr<uint64_t>(const std::string& declared_by)>;
  NodeService(const network::Network& network, PeerClient& peers, store::Store& store, const PeerGate& gate, ReloadFn reload,
              AuditStatusFn audit_status, DeclareGapFn declare_gap, edge::KnownFn known)
      : network_(network),
        peers_(peers),
        store_(store),
        gate_(gate),
        reload_(std::move(reload)),
        audit_status_(std::move(audit_status)),
        declare_gap_(std::move(declare_gap)),
        known_(std::move(known)) {}

  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusResponse*) override;
  grpc::Status PingPeer(grpc::ServerContext*, const v1::PingPeerRequest*, v1::PeerReachability*) override;
  grpc::Status Reload(grpc::ServerContext*, const v1::ReloadRequest*, v1::ReloadResponse*) override;
  grpc::Status Backup(grpc::ServerContext*, const v1::BackupRequest*, v1::BackupResponse*) override;
  grpc::Status Sweep(grpc::ServerContext*, const v1::SweepRequest*, v1::SweepResponse*) override;
  grpc::Status DeclareGap(grpc::ServerContext*, const v1::DeclareGapRequest*, v1::DeclareGapResponse*) override;

 private:
  const network::Network& network_;
  PeerClient& peers_;
  store::Store& store_;
  const PeerGate& gate_;
  const ReloadFn reload_;
  const AuditStatusFn audit_status_;
  const DeclareGapFn declare_gap_;
  const edge::KnownFn known_;
};

}  // namespace casenode::node
