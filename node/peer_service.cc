#include "node/peer_service.h"

namespace casenode::node {
namespace {

PeerCallFacts PingFacts() {
  PeerCallFacts facts;
  facts.action = "node.ping";
  facts.purpose = "netwerkbeheer";
  return facts;
}
const PeerCallFacts kPingFacts = PingFacts();

}  // namespace

grpc::Status PeerService::Ping(grpc::ServerContext* context, const v1::PingRequest* /*request*/,
                               v1::PingResponse* response) {
  return gate_.Admit(context, "Peer.Ping", kPingFacts, [&](const PeerCall& call) {
    const auto manifest = network_.manifest();
    response->set_org(network_.self_org());
    response->set_role(network_.self().role);
    response->set_manifest_version(manifest->version);
    response->set_caller_org(call.caller.org);
    return absl::OkStatus();
  });
}

}  // namespace casenode::node
