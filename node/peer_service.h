// The Peer gRPC service: node-to-node calls. Every method is one line that
// hands its work to PeerGate::Admit; handlers hold no access logic.
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "node/consent/consent_book.h"
#include "node/network/network.h"
#include "node/gate/gate.h"

namespace casenode::node {

class PeerService final : public v1::Peer::Service {
 public:
  PeerService(const Network& network, PeerGate& gate, const consent::ConsentBook& consents)
      : network_(network), gate_(gate), consents_(consents) {}

  grpc::Status Ping(grpc::ServerContext* context, const v1::PingRequest* request,
                    v1::PingResponse* response) override;
  grpc::Status ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest* request,
                             v1::ConsentStatusResponse* response) override;

 private:
  const Network& network_;
  PeerGate& gate_;
  const consent::ConsentBook& consents_;
};

}  // namespace casenode::node
