// The Local gRPC service: this node's own staff, operators and auditors, via
// casectl on a Unix socket (mode 0600). It never acts for another organisation.
#pragma once

#include <functional>

#include "casenode/v1/local.grpc.pb.h"
#include "keys/key_store.h"
#include "node/consent/consent_book.h"
#include "node/consent/verifier.h"
#include "node/network/network.h"
#include "node/rpc/peer_client.h"
#include "node/gate/gate.h"
#include "node/store/store.h"

namespace casenode::node {

class LocalService final : public v1::Local::Service {
 public:
  using ReloadFn = std::function<absl::StatusOr<uint64_t>()>;
  LocalService(const Network& network, PeerClient& peers, keys::KeyStore& keys, store::Store& store,
               const PeerGate& gate, consent::ConsentBook& consents, const consent::ConsentVerifier& verifier,
               std::vector<std::string> local_policy_files, ReloadFn reload)
      : network_(network), peers_(peers), keys_(keys), store_(store), gate_(gate), consents_(consents),
        verifier_(verifier), local_policy_files_(std::move(local_policy_files)), reload_(std::move(reload)) {}

  grpc::Status Status(grpc::ServerContext* context, const v1::StatusRequest* request,
                      v1::StatusResponse* response) override;
  grpc::Status PingPeer(grpc::ServerContext* context, const v1::PingPeerRequest* request,
                        v1::PeerReachability* response) override;
  grpc::Status Reload(grpc::ServerContext* context, const v1::ReloadRequest* request,
                      v1::ReloadResponse* response) override;
  grpc::Status PolicyShow(grpc::ServerContext* context, const v1::PolicyShowRequest* request,
                          v1::PolicyShowResponse* response) override;
  grpc::Status ConsentRecord(grpc::ServerContext* context, const v1::ConsentRecordRequest* request,
                             v1::ConsentEntry* response) override;
  grpc::Status ConsentRevoke(grpc::ServerContext* context, const v1::ConsentRevokeRequest* request,
                             v1::ConsentEntry* response) override;
  grpc::Status ConsentList(grpc::ServerContext* context, const v1::ConsentListRequest* request,
                           v1::ConsentListResponse* response) override;
  grpc::Status ConsentShow(grpc::ServerContext* context, const v1::ConsentShowRequest* request,
                           v1::ConsentEntry* response) override;
  grpc::Status ConsentVerify(grpc::ServerContext* context, const v1::ConsentVerifyRequest* request,
                             v1::ConsentVerifyResponse* response) override;
  grpc::Status Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                      v1::BackupResponse* response) override;
  grpc::Status RotateKeys(grpc::ServerContext* context, const v1::RotateKeysRequest* request,
                          v1::RotateKeysResponse* response) override;
  grpc::Status Sweep(grpc::ServerContext* context, const v1::SweepRequest* request,
                     v1::SweepResponse* response) override;

 private:
  const Network& network_;
  PeerClient& peers_;
  keys::KeyStore& keys_;
  store::Store& store_;
  const PeerGate& gate_;
  consent::ConsentBook& consents_;
  const consent::ConsentVerifier& verifier_;
  const std::vector<std::string> local_policy_files_;
  ReloadFn reload_;
};

}  // namespace casenode::node
