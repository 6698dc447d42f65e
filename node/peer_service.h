// The Peer gRPC service: node-to-node calls. Every method checks its request
// at the edge (node/edge/requests.h), then hands its work to PeerGate::Admit;
// handlers hold no access logic.
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "keys/identity.h"
#include "keys/oprf/threshold.h"
#include "node/audit/audit_log.h"
#include "node/audit/witness.h"
#include "node/cases/case_host.h"
#include "node/consent/consent_book.h"
#include "node/gate/gate.h"
#include "node/network/network.h"
#include "node/signals/signal_book.h"

namespace casenode::node {

class PeerService final : public v1::Peer::Service {
 public:
  // `share`: this node's share of the pseudonym key, or null if it holds none.
  PeerService(const Network& network, PeerGate& gate, const consent::ConsentBook& consents, const oprf::KeyShare* share,
              SignalBook& signals, AuditLog& audit, keys::KeyStore& keys, Witness& witness,
              CheckpointPublisher& publisher, CaseHost& cases, Clock clock)
      : network_(network),
        gate_(gate),
        consents_(consents),
        share_(share),
        signals_(signals),
        audit_(audit),
        keys_(keys),
        witness_(witness),
        publisher_(publisher),
        cases_(cases),
        clock_(clock) {}

  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request, v1::PingResponse* response) override;
  grpc::Status ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest* request,
                             v1::ConsentStatusResponse* response) override;
  grpc::Status EvaluatePseudonym(grpc::ServerContext* context, const v1::EvaluatePseudonymRequest* request,
                                 v1::EvaluatePseudonymResponse* response) override;
  grpc::Status LookupSignal(grpc::ServerContext* context, const v1::LookupSignalRequest* request,
                            v1::LookupSignalResponse* response) override;
  grpc::Status NotifySignal(grpc::ServerContext* context, const v1::NotifySignalRequest* request,
                            v1::NotifySignalResponse* response) override;
  grpc::Status AuditCheckpoint(grpc::ServerContext* context, const v1::AuditCheckpointRequest* request,
                               v1::AuditCheckpointResponse* response) override;
  grpc::Status ReadAudit(grpc::ServerContext* context, const v1::ReadAuditRequest* request,
                         v1::ReadAuditResponse* response) override;
  grpc::Status Cosign(grpc::ServerContext* context, const v1::CosignRequest* request,
                      v1::CosignResponse* response) override;
  // Cases: CaseHost answers.
  grpc::Status InviteToCase(grpc::ServerContext* context, const v1::InviteToCaseRequest* request,
                            v1::InviteToCaseResponse* response) override;
  grpc::Status AnswerCaseInvitation(grpc::ServerContext* context, const v1::AnswerCaseInvitationRequest* request,
                                    v1::AnswerCaseInvitationResponse*) override;
  grpc::Status ContributeToCase(grpc::ServerContext* context, const v1::ContributeToCaseRequest* request,
                                v1::ContributeToCaseResponse* response) override;
  grpc::Status ReadCase(grpc::ServerContext* context, const v1::ReadCaseRequest* request,
                        v1::ReadCaseResponse* response) override;
  grpc::Status SetCaseAction(grpc::ServerContext* context, const v1::SetCaseActionRequest* request,
                             v1::SetCaseActionResponse* response) override;
  grpc::Status CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest* request,
                         v1::CloseCaseResponse* response) override;
  grpc::Status DestroyCase(grpc::ServerContext* context, const v1::DestroyCaseRequest* request,
                           v1::DestroyCaseResponse*) override;

 private:
  // Records the entries a ReadAudit answer discloses (gate.h, Disclose).
  [[nodiscard]] absl::Status DiscloseEntries(const PeerCall& call, const PeerCallFacts& facts,
                                             const v1::ReadAuditResponse& response);
  // An inzage page: the entries of request.from_seq .. + count about `subject`.
  [[nodiscard]] absl::Status ReadAboutChild(const v1::ReadAuditRequest& request, const std::array<uint8_t, 32>& subject,
                                            v1::ReadAuditResponse& response) const;

  const Network& network_;
  PeerGate& gate_;
  const consent::ConsentBook& consents_;
  const oprf::KeyShare* const share_;
  SignalBook& signals_;
  AuditLog& audit_;
  keys::KeyStore& keys_;
  Witness& witness_;
  CheckpointPublisher& publisher_;
  CaseHost& cases_;
  const Clock clock_;
};

}  // namespace casenode::node
