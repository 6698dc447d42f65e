#include "node/local_service.h"

#include "base/reason.h"
#include "base/strings.h"
#include "node/log.h"
#include "node/peer_gate.h"
#include "node/rpc_status.h"

namespace casenode::node {
namespace {

std::string TraceIdFrom(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find(kTraceparentHeader);
  std::string id;
  if (it != md.end()) id = TraceIdOf(std::string_view(it->second.data(), it->second.size()));
  return id.empty() ? TraceIdOf(NewTraceparent()) : id;
}

}  // namespace

grpc::Status LocalService::Status(grpc::ServerContext* context, const v1::StatusRequest*,
                                  v1::StatusResponse* response) {
  const auto manifest = network_.manifest();
  response->set_org(network_.self_org());
  response->set_role(network_.self().role);
  response->set_manifest_version(manifest->version);
  response->set_network(manifest->network);
  for (auto& r : peers_.PingAll(TraceIdFrom(*context))) *response->add_peers() = std::move(r);
  return grpc::Status::OK;
}

grpc::Status LocalService::PingPeer(grpc::ServerContext* context, const v1::PingPeerRequest* request,
                                    v1::PeerReachability* response) {
  const auto manifest = network_.manifest();
  const keys::ManifestNode* peer = manifest->FindOrg(request->org());
  if (peer == nullptr || peer->org == network_.self_org()) {
    return ToGrpcStatus(WithReason(
        absl::InvalidArgumentError(StrCat("org: \"", request->org(), "\" is not a peer in manifest version ",
                                          manifest->version)),
        "UNKNOWN_ORG"));
  }
  *response = peers_.Ping(*peer, TraceIdFrom(*context));
  return grpc::Status::OK;
}

grpc::Status LocalService::Reload(grpc::ServerContext*, const v1::ReloadRequest*, v1::ReloadResponse* response) {
  auto version = reload_();
  if (!version.ok()) return ToGrpcStatus(version.status());
  response->set_manifest_version(*version);
  return grpc::Status::OK;
}

}  // namespace casenode::node
