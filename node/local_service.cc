#include "node/local_service.h"

#include "base/reason.h"
#include "base/strings.h"
#include "base/log.h"
#include "node/gate/gate.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {
grpc::Status LocalService::Status(grpc::ServerContext* context, const v1::StatusRequest*,
                                  v1::StatusResponse* response) {
  const auto manifest = network_.manifest();
  response->set_org(network_.self_org());
  response->set_role(network_.self().role);
  response->set_manifest_version(manifest->version);
  response->set_network(manifest->network);
  for (auto& r : peers_.PingAll(TraceIdOf(*context))) *response->add_peers() = std::move(r);
  return grpc::Status::OK;
}

grpc::Status LocalService::PingPeer(grpc::ServerContext* context, const v1::PingPeerRequest* request,
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

grpc::Status LocalService::Reload(grpc::ServerContext*, const v1::ReloadRequest*, v1::ReloadResponse* response) {
  auto version = reload_();
  if (!version.ok()) return ToGrpcStatus(version.status());
  response->set_manifest_version(*version);
  response->set_policy_hash(gate_.policy()->hash());
  return grpc::Status::OK;
}

grpc::Status LocalService::PolicyShow(grpc::ServerContext*, const v1::PolicyShowRequest*,
                                      v1::PolicyShowResponse* response) {
  const auto policy = gate_.policy();
  response->set_name(policy->name());
  response->set_policy_hash(policy->hash());
  response->set_network_policy_hash(network_.manifest()->policy_hash);
  response->set_rule_count(static_cast<uint32_t>(policy->rule_count()));
  for (const auto& f : local_policy_files_) response->add_local_files(f);
  return grpc::Status::OK;
}

grpc::Status LocalService::ConsentRecord(grpc::ServerContext*, const v1::ConsentRecordRequest* request,
                                         v1::ConsentEntry* response) {
  auto draft = consent::FromProto(request->receipt());
  if (!draft.ok()) return ToGrpcStatus(draft.status());
  auto birth_date = consent::ParseBirthDate(request->birth_date());
  if (!birth_date.ok()) return ToGrpcStatus(birth_date.status());
  auto entry = consents_.Record(*std::move(draft), *birth_date);
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  Log(LogLevel::kInfo, "consent.recorded", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status LocalService::ConsentRevoke(grpc::ServerContext*, const v1::ConsentRevokeRequest* request,
                                         v1::ConsentEntry* response) {
  auto entry = consents_.Revoke(request->receipt_id(), request->revoked_by());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  Log(LogLevel::kInfo, "consent.revoked", {{"receipt_id", entry->receipt().receipt_id()}});
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status LocalService::ConsentList(grpc::ServerContext*, const v1::ConsentListRequest* request,
                                       v1::ConsentListResponse* response) {
  if (request->subject().size() != 32) {
    return ToGrpcStatus(absl::InvalidArgumentError("subject: expected a 32-byte pseudonym"));
  }
  std::array<uint8_t, 32> subject{};
  std::copy(request->subject().begin(), request->subject().end(), subject.begin());
  auto entries = consents_.List(subject);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  for (auto& e : *entries) *response->add_entries() = std::move(e);
  return grpc::Status::OK;
}

grpc::Status LocalService::ConsentShow(grpc::ServerContext*, const v1::ConsentShowRequest* request,
                                       v1::ConsentEntry* response) {
  auto entry = consents_.Show(request->receipt_id());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  *response = *std::move(entry);
  return grpc::Status::OK;
}

grpc::Status LocalService::ConsentVerify(grpc::ServerContext* context, const v1::ConsentVerifyRequest* request,
                                         v1::ConsentVerifyResponse* response) {
  auto receipt = consent::FromProto(request->receipt());
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  const policy::ConsentStatus status =
      verifier_.Verify(*receipt, *network_.manifest(), gate_.policy()->consent_settings(), NestedDeadline(*context));
  response->set_status(std::string(policy::ConsentStatusName(status)));
  return grpc::Status::OK;
}

grpc::Status LocalService::Backup(grpc::ServerContext*, const v1::BackupRequest* request,
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

grpc::Status LocalService::RotateKeys(grpc::ServerContext*, const v1::RotateKeysRequest*,
                                      v1::RotateKeysResponse* response) {
  auto id = keys_.RotateKek();
  if (!id.ok()) {
    Log(LogLevel::kError, "keys.rotate_failed", {{"status", absl::StatusCodeToString(id.status().code())}});
    return ToGrpcStatus(id.status());
  }
  Log(LogLevel::kInfo, "keys.rotated", {{"kek_id", static_cast<int64_t>(*id)}});
  response->set_kek_id(*id);
  return grpc::Status::OK;
}

grpc::Status LocalService::Sweep(grpc::ServerContext*, const v1::SweepRequest*, v1::SweepResponse* response) {
  auto stats = store_.Sweep();
  if (!stats.ok()) return ToGrpcStatus(stats.status());
  Log(LogLevel::kInfo, "store.swept",
      {{"expired", static_cast<int64_t>(stats->expired)}, {"shredded", static_cast<int64_t>(stats->shredded)}});
  response->set_expired(stats->expired);
  response->set_shredded(stats->shredded);
  return grpc::Status::OK;
}

}  // namespace casenode::node
