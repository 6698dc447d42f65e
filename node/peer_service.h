// The Peer gRPC service: node-to-node calls. Every method is one line that
// hands its work to PeerGate::Admit; handlers hold no access logic.
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "node/consent/consent_book.h"
#include "node/network/network.h"
#include "keys/oprf/threshold.h"
#include "node/gate/gate.h"

namespace casenode::node {

class PeerService final : public v1::Peer::Service {
 public:
  // `share`: this node's share of the pseudonym key, or null if it holds none.
  PeerService(const Network& network, PeerGate& gate, const consent::ConsentBook& consents,
              const oprf::KeyShare* share)
      : network_(network), gate_(gate), consents_(consents), share_(share) {}

  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                    v1::PingResponse* response) override;
  grpc::Status ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest* request,
                             v1::ConsentStatusResponse* response) override;
  grpc::Status EvaluatePseudonym(grpc::ServerContext* context, const v1::EvaluatePseudonymRequest* request,
                                 v1::EvaluatePseudonymResponse* response) override;

 private:
  const Network& network_;
  PeerGate& gate_;
  const consent::ConsentBook& consents_;
  const oprf::KeyShare* const share_;
};

}  // namespace casenode::node
