// LocalAudit: the auditor's staff verify another node's audit log. The
// checking is node/audit/verifier.h; this service reaches the node over Peer
// calls and remembers, per node, the last checkpoint it verified clean, so
// the next verification also proves the log only grew since.
#pragma once

#include "base/time.h"
#include "casenode/v1/local.grpc.pb.h"
#include "node/edge/requests.h"
#include "node/audit/alarms.h"
#include "node/audit/audit_log.h"
#include "network/network.h"
#include "node/pseudonym/deriver.h"
#include "node/rpc/peer_client.h"
#include "store/store.h"
#include "policy/policy.h"

namespace casenode::node {

class AuditService final : public v1::LocalAudit::Service {
 public:
  using PolicyFn = std::function<std::shared_ptr<const policy::Policy>()>;
  // `policy`: the policy in force, for the number of witnesses it requires.
  AuditService(const network::Network& network, PeerClient& peers, PseudonymDeriver& deriver, store::KeyStore& keys,
               store::Store& store, const AuditLog& own_log, const node::Alarms& alarms, PolicyFn policy, Clock clock,
               edge::KnownFn known)
      : network_(network),
        peers_(peers),
        deriver_(deriver),
        keys_(keys),
        store_(store),
        own_log_(own_log),
        alarms_(alarms),
        policy_(std::move(policy)),
        clock_(std::move(clock)),
        known_(std::move(known)) {}

  grpc::Status Verify(grpc::ServerContext* context, const v1::AuditVerifyRequest* request,
                      v1::AuditVerifyReport* response) override;
  grpc::Status Reconcile(grpc::ServerContext* context, const v1::AuditReconcileRequest* request,
                         v1::AuditReconcileReport* response) override;
  grpc::Status Inzage(grpc::ServerContext* context, const v1::AuditInzageRequest* request,
                      v1::AuditInzageReport* response) override;
  grpc::Status Alarms(grpc::ServerContext* context, const v1::AuditAlarmsRequest* request,
                      v1::AuditAlarmsResponse* response) override;

 private:
  const network::Network& network_;
  PeerClient& peers_;
  PseudonymDeriver& deriver_;
  store::KeyStore& keys_;
  store::Store& store_;
  const AuditLog& own_log_;
  const node::Alarms& alarms_;
  const PolicyFn policy_;
  const Clock clock_;
  const edge::KnownFn known_;
};

}  // namespace casenode::node
