// LocalConsent: consent receipts this node records, revokes and shows for its
// staff, and verification of any receipt as a responder would do it.
#pragma once

#include "casenode/v1/local.grpc.pb.h"
#include "node/consent/consent_book.h"
#include "node/consent/verifier.h"
#include "node/edge/requests.h"
#include "node/gate/gate.h"
#include "network/network.h"

namespace casenode::node {

class ConsentService final : public v1::LocalConsent::Service {
 public:
  // Every receipt recorded, revoked or confirmed is an entry of `audit`,
  // its child sealed with a data key from `keys`.
  ConsentService(const network::Network& network, const PeerGate& gate, consent::ConsentBook& consents,
                 const consent::ConsentVerifier& verifier, AuditLog& audit, store::KeyStore& keys, edge::KnownFn known)
      : network_(network),
        gate_(gate),
        consents_(consents),
        verifier_(verifier),
        audit_(audit),
        keys_(keys),
        known_(std::move(known)) {}

  grpc::Status Record(grpc::ServerContext*, const v1::ConsentRecordRequest*, v1::ConsentEntry*) override;
  grpc::Status Revoke(grpc::ServerContext*, const v1::ConsentRevokeRequest*, v1::ConsentEntry*) override;
  grpc::Status Confirm(grpc::ServerContext*, const v1::ConsentConfirmRequest*, v1::ConsentEntry*) override;
  grpc::Status List(grpc::ServerContext*, const v1::ConsentListRequest*, v1::ConsentListResponse*) override;
  grpc::Status Show(grpc::ServerContext*, const v1::ConsentShowRequest*, v1::ConsentEntry*) override;
  grpc::Status Verify(grpc::ServerContext*, const v1::ConsentVerifyRequest*, v1::ConsentVerifyResponse*) override;

 private:

  const network::Network& network_;
  const PeerGate& gate_;
  consent::ConsentBook& consents_;
  const consent::ConsentVerifier& verifier_;
  AuditLog& audit_;
  store::KeyStore& keys_;
  const edge::KnownFn known_;
};

}  // namespace casenode::node
