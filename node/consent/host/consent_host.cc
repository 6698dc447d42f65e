#include "node/consent/host/consent_host.h"

#include "base/status.h"
#include "node/consent/status_answer.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {

grpc::Status ConsentHost::ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest& request,
                                        v1::ConsentStatusResponse& response) {
  static const PeerCallFacts kFacts = [] {
    PeerCallFacts facts;
    facts.action = vocab::kConsentStatus;
    facts.purpose = vocab::kNetwerkbeheer;
    return facts;
  }();
  return gate_.Admit(context, "Peer.ConsentStatus", kFacts, [&](const PeerCall& call) -> absl::Status {
    int64_t revoked_at = 0;
    ASSIGN_OR_RETURN(v1::ConsentCheck answer,
                     AnswerConsentStatus(consents_, audit_, keys_, network_.self_org(), call.caller.org,
                                         request.receipt_id(), call.trace_id, call.span_id, &revoked_at));
    response.set_state(answer.state());
    response.set_revoked_at_unix(revoked_at);
    return absl::OkStatus();
  });
}

}  // namespace casenode::node
