#include "node/pseudonym/pseudonym_host.h"

#include <algorithm>

#include "base/reason.h"
#include "base/status.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {

grpc::Status PseudonymHost::EvaluatePseudonym(grpc::ServerContext* context,
                                              const v1::EvaluatePseudonymRequest& request,
                                              v1::EvaluatePseudonymResponse& response) {
  // Public in the manifest anyway; no decision to record for a call that cannot be served.
  if (share_ == nullptr) {
    return ToGrpcStatus(Error(Reason::kNotAKeyHolder, "this node holds no share of the pseudonym key"));
  }
  PeerCallFacts facts;
  facts.action = vocab::kPseudonymEvaluate;
  facts.purpose = request.purpose();
  facts.legal_basis = request.legal_basis();
  return gate_.Admit(context, "Peer.EvaluatePseudonym", facts, [&](const PeerCall&) -> absl::Status {
    oprf::Element blinded;
    std::copy(request.blinded_element().begin(), request.blinded_element().end(), blinded.begin());
    ASSIGN_OR_RETURN(oprf::ShareEvaluation share, oprf::EvaluateShare(*share_, blinded));
    response.set_holder_index(share.holder);
    response.set_evaluated_element(std::string(share.element.begin(), share.element.end()));
    response.set_proof(std::string(share.proof.begin(), share.proof.end()));
    return absl::OkStatus();
  });
}

}  // namespace casenode::node
