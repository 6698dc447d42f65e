#include "node/node_service.h"

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
  const auto manifest = network_.manifest();
  const keys::ManifestNode* peer = manifest->FindOrg(request->org());
  if (peer == nullptr || peer->org == network_.self_org()) {
    return ToGrpcStatus(Error(
        Reason::kUnknownOrg, StrCat("org: \"", request->org(), "\" is not a peer in manifest version ", manifest->version)));
  }
  const std::vector<v1::ConsentReceipt> receipts(request->consent_receipts().begin(),
                                                 request->consent_receipts().end());
  if (!request->subject().empty() && request->subject().size() != 32) {
    return ToGrpcStatus(absl::InvalidArgumentError("subject: expected a 32-byte pseudonym"));
  }
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
  if (request->dir().empty() || request->dir().front() != '/') {
    return ToGrpcStatus(absl::InvalidArgumentError("dir: expected an absolute path"));
  }
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
  const std::string& by = request->declared_by();
  if (by.empty() || by.size() > 64 ||
      !std::all_of(by.begin(), by.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return ToGrpcStatus(Error(Reason::kMalformedRequest, "declared_by: the operator's id, 1 to 64 printable characters"));
  }
  absl::StatusOr<uint64_t> seq = declare_gap_(by);
  if (!seq.ok()) return ToGrpcStatus(seq.status());
  response->set_gap_seq(*seq);
  response->set_cosignatures(audit_status_().cosignatures());
  return grpc::Status::OK;
}

}  // namespace casenode::node
