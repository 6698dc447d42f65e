#include "node/peer_service.h"

#include <algorithm>

#include "base/reason.h"
#include "base/status.h"

namespace casenode::node {
namespace {

// Calls whose action and purpose are fixed by the method and carry no personal data.
PeerCallFacts FixedFacts(std::string action, std::string purpose) {
  PeerCallFacts facts;
  facts.action = std::move(action);
  facts.purpose = std::move(purpose);
  return facts;
}
const PeerCallFacts kConsentStatusFacts = FixedFacts("consent.status", "netwerkbeheer");

}  // namespace

grpc::Status PeerService::Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                               v1::PingResponse* response) {
  static const PeerCallFacts kAboutNoOne = [] {
    PeerCallFacts facts = FixedFacts("node.ping", "netwerkbeheer");
    facts.decision_durability = store::Durability::kBuffered;  // concerns no one: may wait for company
    return facts;
  }();
  PeerCallFacts about_child;
  if (!request->subject().empty()) {
    if (request->subject().size() != 32) {
      return ToGrpcStatus(Error(Reason::kMalformedRequest, "subject: expected a 32-byte pseudonym"));
    }
    about_child = FixedFacts("node.ping", "netwerkbeheer");
    about_child.subject.emplace();
    std::copy(request->subject().begin(), request->subject().end(), about_child.subject->begin());
  }
  const PeerCallFacts& facts = request->subject().empty() ? kAboutNoOne : about_child;
  return gate_.Admit(context, "Peer.Ping", facts, [&](const PeerCall& call) {
    const auto manifest = network_.manifest();
    const keys::ManifestNode* self = manifest->FindOrg(network_.self_org());
    response->set_org(network_.self_org());
    response->set_role(self != nullptr ? self->role : v1::ROLE_UNSPECIFIED);
    response->set_manifest_version(manifest->version);
    response->set_caller_org(call.caller.org);
    return absl::OkStatus();
  });
}

grpc::Status PeerService::ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest* request,
                                       v1::ConsentStatusResponse* response) {
  return gate_.Admit(context, "Peer.ConsentStatus", kConsentStatusFacts, [&](const PeerCall&) -> absl::Status {
    auto entry = consents_.Show(request->receipt_id());
    if (entry.ok()) {
      response->set_state(entry->revoked() ? v1::ConsentStatusResponse::STATE_REVOKED
                                           : v1::ConsentStatusResponse::STATE_ACTIVE);
      response->set_revoked_at_unix(entry->revoked_at_unix());
      return absl::OkStatus();
    }
    if (entry.status().code() == absl::StatusCode::kNotFound) {
      response->set_state(v1::ConsentStatusResponse::STATE_UNKNOWN);
      return absl::OkStatus();
    }
    return entry.status();
  });
}

grpc::Status PeerService::EvaluatePseudonym(grpc::ServerContext* context,
                                           const v1::EvaluatePseudonymRequest* request,
                                           v1::EvaluatePseudonymResponse* response) {
  if (request->blinded_element().size() != oprf::kElementBytes) {
    return ToGrpcStatus(Error(Reason::kMalformedRequest, "blinded_element: expected 32 bytes"));
  }
  if (request->purpose().empty()) {
    return ToGrpcStatus(Error(Reason::kMalformedRequest, "purpose: required"));
  }
  PeerCallFacts facts = FixedFacts("pseudonym.evaluate", request->purpose());
  facts.legal_basis = request->legal_basis();
  return gate_.Admit(context, "Peer.EvaluatePseudonym", facts, [&](const PeerCall&) -> absl::Status {
    if (share_ == nullptr) {
      return Error(Reason::kNotAKeyHolder, "this node holds no share of the pseudonym key");
    }
    oprf::Element blinded;
    std::copy(request->blinded_element().begin(), request->blinded_element().end(), blinded.begin());
    ASSIGN_OR_RETURN(oprf::ShareEvaluation share, oprf::EvaluateShare(*share_, blinded));
    response->set_holder_index(share.holder);
    response->set_evaluated_element(std::string(share.element.begin(), share.element.end()));
    response->set_proof(std::string(share.proof.begin(), share.proof.end()));
    return absl::OkStatus();
  });
}

}  // namespace casenode::node
