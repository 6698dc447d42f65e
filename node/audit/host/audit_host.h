// AuditHost: the Peer side of the audit log (DESIGN.md, "The audit log").
// Serves the auditor (entries with inclusion and consistency proofs, an
// inzage page about one child, the newest cosigned checkpoint), cosigns
// other nodes' checkpoints as their witness, and at an auditor node takes
// the quota alarms other nodes raise. Every call passes PeerGate; what
// a read discloses is recorded before the answer leaves.
//
// It sits in a room of its own above node/gate, because the gate itself
// writes into the audit log below it.
// Thread-safe.
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "store/key_store.h"
#include "node/audit/alarms.h"
#include "node/audit/audit_log.h"
#include "node/audit/witness.h"
#include "node/consent/consent_book.h"
#include "node/gate/gate.h"
#include "network/network.h"

namespace casenode::node {

class AuditHost {
 public:
  AuditHost(const network::Network& network, PeerGate& gate, AuditLog& audit, store::KeyStore& keys, Witness& witness,
            CheckpointPublisher& publisher, Alarms& alarms)
      : network_(network),
        gate_(gate),
        audit_(audit),
        keys_(keys),
        witness_(witness),
        publisher_(publisher),
        alarms_(alarms) {}

  // REQUIRES for each: `request` passed the edge (edge::Check).
  grpc::Status AuditCheckpoint(grpc::ServerContext* context, const v1::AuditCheckpointRequest& request,
                               v1::AuditCheckpointResponse& response);
  // A page of entries from request.from_seq, or with request.subject an
  // inzage page: only the entries about that child, each with its proof.
  grpc::Status ReadAudit(grpc::ServerContext* context, const v1::ReadAuditRequest& request,
                         v1::ReadAuditResponse& response);
  grpc::Status Cosign(grpc::ServerContext* context, const v1::CosignRequest& request, v1::CosignResponse& response);
  // At an auditor node: keeps a quota alarm another node raised (alarms.h).
  grpc::Status ReportAlarm(grpc::ServerContext* context, const v1::ReportAlarmRequest& request,
                           v1::ReportAlarmResponse& response);

 private:
  // Records the entries a ReadAudit answer discloses (gate.h, Disclose).
  [[nodiscard]] absl::Status DiscloseEntries(const PeerCall& call, const PeerCallFacts& facts,
                                             const v1::ReadAuditResponse& response);
  // The entries of request.from_seq .. + count, proofs and sizes as asked.
  [[nodiscard]] absl::Status ReadPage(const v1::ReadAuditRequest& request, v1::ReadAuditResponse& response) const;
  // An inzage page: the entries of request.from_seq .. + count about `subject`.
  [[nodiscard]] absl::Status ReadAboutChild(const v1::ReadAuditRequest& request, const std::array<uint8_t, 32>& subject,
                                            v1::ReadAuditResponse& response) const;

  const network::Network& network_;
  PeerGate& gate_;
  AuditLog& audit_;
  store::KeyStore& keys_;
  Witness& witness_;
  CheckpointPublisher& publisher_;
  Alarms& alarms_;
};

// The node's audit status for its staff (casectl node status): the log and
// its witnesses, the witnesses this node refused, and the consent hold.
v1::AuditStatus LocalAuditStatus(const CheckpointPublisher& publisher, const Witness& witness,
                                 const consent::ConsentBook& consents);

}  // namespace casenode::node
