// ConsentHost: the Peer side of consent (DESIGN.md, "Consent and policy").
// Answers another node's question about a receipt this node issued (active,
// revoked, unknown), logged before it is given (status_answer.h).
//
// It sits in a room of its own above node/gate, because the gate itself
// verifies receipts with the consent part below it.
// Thread-safe.
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "store/key_store.h"
#include "node/audit/audit_log.h"
#include "node/consent/consent_book.h"
#include "node/gate/gate.h"
#include "network/network.h"

namespace casenode::node {

class ConsentHost {
 public:
  ConsentHost(const network::Network& network, PeerGate& gate, const consent::ConsentBook& consents, AuditLog& audit,
              store::KeyStore& keys)
      : network_(network), gate_(gate), consents_(consents), audit_(audit), keys_(keys) {}

  // REQUIRES: `request` passed the edge (edge::Check).
  grpc::Status ConsentStatus(grpc::ServerContext* context, const v1::ConsentStatusRequest& request,
                             v1::ConsentStatusResponse& response);

 private:
  const network::Network& network_;
  PeerGate& gate_;
  const consent::ConsentBook& consents_;
  AuditLog& audit_;
  store::KeyStore& keys_;
};

}  // namespace casenode::node
