#include "node/services/node_service.h"

#include <algorithm>

#include "base/log.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

grpc::Status NodeService::Status(grpc::ServerContext* context, const v1::StatusRequest*,
                                  v1::StatusResponse* response) {
  const auto manifest = network_.manifest();
  response->set_org(network_.self_org());
  response->set_role(network_.self().role);
  response->set_manifest_version(manifest->version);
  response->set_network(manifest->network);
  for (auto& r : peers_.PingAll(TraceIdOf(*context))) *response->add_peers() = std::move(r);
  *response->mutable_audit() = audit_status_();
  return grpc::Status::OK;
}

grpc::Status NodeService::PingPeer(grpc::ServerContext* context, const v1::PingPeerRequest* request,
                                    v1::PeerReachability* response) {
  const edge::Known known = known_();
  if (auto bad = edge::Check(*request, known); !bad.ok()) return ToGrpcStatus(bad);
  const network::ManifestNode* peer = known.manifest->FindOrg(request->org());
  const std::vector<v1::ConsentReceipt> receipts(request->consent_receipts().begin(),
                                                 request->consent_receipts().end());
  *response = peers_.Ping(*peer, TraceIdOf(*context), receipts, request->subject());
  return grpc::Status::OK;
}

grpc::Status NodeService::Reload(grpc::ServerContext*, const v1::ReloadRequest*, v1::ReloadResponse* response) {
  auto version = reload_();
  if (!version.ok()) return ToGrpcStatus(version.status());
  response->set_manifest_version(*version);
  response->set_policy_hash(gate_.policy()->hash());
  return grpc::Status::OK;
}

grpc::Status NodeService::Backup(grpc::ServerContext*, const v1::BackupRequest* request,
                                  v1::BackupResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  absl::Status s = store_.Checkpoint(request->dir());
  Log(s.ok() ? LogLevel::kInfo : LogLevel::kError, "store.backup", {{"status", absl::StatusCodeToString(s.code())}});
  if (!s.ok()) return ToGrpcStatus(s);
  response->set_dir(request->dir());
  return grpc::Status::OK;
}

grpc::Status NodeService::Sweep(grpc::ServerContext*, const v1::SweepRequest*, v1::SweepResponse* response) {
  auto stats = store_.Sweep();
  if (!stats.ok()) return ToGrpcStatus(stats.status());
  Log(LogLevel::kInfo, "store.swept",
      {{"expired", static_cast<int64_t>(stats->expired)}, {"shredded", static_cast<int64_t>(stats->shredded)}});
  response->set_expired(stats->expired);
  response->set_shredded(stats->shredded);
  return grpc::Status::OK;
}

grpc::Status NodeService::DeclareGap(grpc::ServerContext*, const v1::DeclareGapRequest* request,
                                     v1::DeclareGapResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  absl::StatusOr<uint64_t> seq = declare_gap_(request->declared_by());
  if (!seq.ok()) return ToGrpcStatus(seq.status());
  response->set_gap_seq(*seq);
  response->set_cosignatures(audit_status_().cosignatures());
  return grpc::Status::OK;
}

}  // namespace casenode::node
