// The Peer gRPC service: node-to-node calls. Dispatch only: every method
// checks its request at the edge (node/edge/requests.h), then hands it to the
// Host of the part it concerns, which passes it through PeerGate. Ping, which
// concerns the node itself, is answered here.
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "node/audit/host/audit_host.h"
#include "node/cases/case_host.h"
#include "node/consent/host/consent_host.h"
#include "node/gate/gate.h"
#include "network/network.h"
#include "node/pseudonym/pseudonym_host.h"
#include "node/signals/signal_host.h"

namespace casenode::node {

// The Host of each part a Peer method concerns. Not owned.
struct PeerHosts {
  ConsentHost& consent;
  PseudonymHost& pseudonyms;
  SignalHost& signals;
  AuditHost& audit;
  CaseHost& cases;
};

class PeerService final : public v1::Peer::Service {
 public:
  PeerService(const network::Network& network, PeerGate& gate, PeerHosts hosts)
      : network_(network),
        gate_(gate),
        consent_(hosts.consent),
        pseudonyms_(hosts.pseudonyms),
        signals_(hosts.signals),
        audit_(hosts.audit),
        cases_(hosts.cases) {}

  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request, v1::PingResponse* response) override;
  grpc::Status ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest* request, v1::ConsentStatusResponse* response) override;
  grpc::Status EvaluatePseudonym(grpc::ServerContext* context, const v1::EvaluatePseudonymRequest* request, v1::EvaluatePseudonymResponse* response) override;
  grpc::Status LookupSignal(grpc::ServerContext* context, const v1::LookupSignalRequest* request, v1::LookupSignalResponse* response) override;
  grpc::Status NotifySignal(grpc::ServerContext* context, const v1::NotifySignalRequest* request, v1::NotifySignalResponse* response) override;
  grpc::Status AuditCheckpoint(grpc::ServerContext* context, const v1::AuditCheckpointRequest* request, v1::AuditCheckpointResponse* response) override;
  grpc::Status ReadAudit(grpc::ServerContext* context, const v1::ReadAuditRequest* request, v1::ReadAuditResponse* response) override;
  grpc::Status Cosign(grpc::ServerContext* context, const v1::CosignRequest* request, v1::CosignResponse* response) override;
  grpc::Status ReportAlarm(grpc::ServerContext* context, const v1::ReportAlarmRequest* request,
                           v1::ReportAlarmResponse* response) override;
  grpc::Status InviteToCase(grpc::ServerContext* context, const v1::InviteToCaseRequest* request, v1::InviteToCaseResponse* response) override;
  grpc::Status AnswerCaseInvitation(grpc::ServerContext* context, const v1::AnswerCaseInvitationRequest* request, v1::AnswerCaseInvitationResponse* response) override;
  grpc::Status ContributeToCase(grpc::ServerContext* context, const v1::ContributeToCaseRequest* request, v1::ContributeToCaseResponse* response) override;
  grpc::Status ReadCase(grpc::ServerContext* context, const v1::ReadCaseRequest* request, v1::ReadCaseResponse* response) override;
  grpc::Status SetCaseAction(grpc::ServerContext* context, const v1::SetCaseActionRequest* request, v1::SetCaseActionResponse* response) override;
  grpc::Status CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest* request, v1::CloseCaseResponse* response) override;
  grpc::Status DestroyCase(grpc::ServerContext* context, const v1::DestroyCaseRequest* request, v1::DestroyCaseResponse* response) override;

 private:
  const network::Network& network_;
  PeerGate& gate_;
  ConsentHost& consent_;
  PseudonymHost& pseudonyms_;
  SignalHost& signals_;
  AuditHost& audit_;
  CaseHost& cases_;
};

}  // namespace casenode::node
