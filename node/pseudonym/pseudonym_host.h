// PseudonymHost: the Peer side of pseudonyms at a key holder (DESIGN.md,
// "Pseudonyms"). Evaluates this node's share of the pseudonym key on a
// blinded element, with its DLEQ proof, for a requester the gate admits.
// The holder sees only a random-looking point, never a BSN.
// Thread-safe.
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "keys/oprf/threshold.h"
#include "node/gate/gate.h"

namespace casenode::node {

class PseudonymHost {
 public:
  // `share`: this node's share of the pseudonym key, or null if it holds none.
  PseudonymHost(PeerGate& gate, const oprf::KeyShare* share) : gate_(gate), share_(share) {}

  // NOT_A_KEY_HOLDER (no decision recorded) if this node holds no share.
  // REQUIRES: `request` passed the edge (edge::Check).
  grpc::Status EvaluatePseudonym(grpc::ServerContext* context, const v1::EvaluatePseudonymRequest& request,
                                 v1::EvaluatePseudonymResponse& response);

 private:
  PeerGate& gate_;
  const oprf::KeyShare* const share_;
};

}  // namespace casenode::node
