#include "node/services/peer_service.h"

#include <algorithm>

#include "node/edge/requests.h"
#include "node/rpc/status.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {

grpc::Status PeerService::Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                               v1::PingResponse* response) {
  static const PeerCallFacts kAboutNoOne = [] {
    PeerCallFacts facts;
    facts.action = vocab::kNodePing;
    facts.purpose = vocab::kNetwerkbeheer;
    facts.decision_durability = store::Durability::kBuffered;  // concerns no one: may wait for company
    return facts;
  }();
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  PeerCallFacts about_child;
  if (!request->subject().empty()) {
    about_child.action = kAboutNoOne.action;
    about_child.purpose = kAboutNoOne.purpose;
    about_child.subject.emplace();
    std::copy(request->subject().begin(), request->subject().end(), about_child.subject->begin());
  }
  const PeerCallFacts& facts = request->subject().empty() ? kAboutNoOne : about_child;
  return gate_.Admit(context, "Peer.Ping", facts, [&](const PeerCall& call) {
    const auto manifest = network_.manifest();
    const network::ManifestNode* self = manifest->FindOrg(network_.self_org());
    response->set_org(network_.self_org());
    response->set_role(self != nullptr ? self->role : v1::ROLE_UNSPECIFIED);
    response->set_manifest_version(manifest->version);
    response->set_caller_org(call.caller.org);
    return absl::OkStatus();
  });
}

grpc::Status PeerService::ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest* request,
                                        v1::ConsentStatusResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return consent_.ConsentStatus(context, *request, *response);
}

grpc::Status PeerService::EvaluatePseudonym(grpc::ServerContext* context, const v1::EvaluatePseudonymRequest* request,
                                            v1::EvaluatePseudonymResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return pseudonyms_.EvaluatePseudonym(context, *request, *response);
}

grpc::Status PeerService::LookupSignal(grpc::ServerContext* context, const v1::LookupSignalRequest* request,
                                       v1::LookupSignalResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return signals_.LookupSignal(context, *request, *response);
}

grpc::Status PeerService::NotifySignal(grpc::ServerContext* context, const v1::NotifySignalRequest* request,
                                       v1::NotifySignalResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return signals_.NotifySignal(context, *request, *response);
}

grpc::Status PeerService::AuditCheckpoint(grpc::ServerContext* context, const v1::AuditCheckpointRequest* request,
                                          v1::AuditCheckpointResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return audit_.AuditCheckpoint(context, *request, *response);
}

grpc::Status PeerService::ReadAudit(grpc::ServerContext* context, const v1::ReadAuditRequest* request,
                                    v1::ReadAuditResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return audit_.ReadAudit(context, *request, *response);
}

grpc::Status PeerService::ReportAlarm(grpc::ServerContext* context, const v1::ReportAlarmRequest* request,
                                      v1::ReportAlarmResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return audit_.ReportAlarm(context, *request, *response);
}

grpc::Status PeerService::Cosign(grpc::ServerContext* context, const v1::CosignRequest* request,
                                 v1::CosignResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return audit_.Cosign(context, *request, *response);
}

grpc::Status PeerService::InviteToCase(grpc::ServerContext* context, const v1::InviteToCaseRequest* request,
                                       v1::InviteToCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.InviteToCase(context, *request, *response);
}

grpc::Status PeerService::AnswerCaseInvitation(grpc::ServerContext* context, const v1::AnswerCaseInvitationRequest* request,
                                               v1::AnswerCaseInvitationResponse* ) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.AnswerCaseInvitation(context, *request);
}

grpc::Status PeerService::ContributeToCase(grpc::ServerContext* context, const v1::ContributeToCaseRequest* request,
                                           v1::ContributeToCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.ContributeToCase(context, *request, *response);
}

grpc::Status PeerService::ReadCase(grpc::ServerContext* context, const v1::ReadCaseRequest* request,
                                   v1::ReadCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.ReadCase(context, *request, *response);
}

grpc::Status PeerService::SetCaseAction(grpc::ServerContext* context, const v1::SetCaseActionRequest* request,
                                        v1::SetCaseActionResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.SetCaseAction(context, *request, *response);
}

grpc::Status PeerService::CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest* request,
                                    v1::CloseCaseResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.CloseCase(context, *request, *response);
}

grpc::Status PeerService::DestroyCase(grpc::ServerContext* context, const v1::DestroyCaseRequest* request,
                                      v1::DestroyCaseResponse* ) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return cases_.DestroyCase(context, *request);
}

}  // namespace casenode::node
