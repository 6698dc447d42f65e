// Fuzzing every Peer method through the real gate: a gemeente node runs in
// this process (its own store, keys, policy and mTLS listener, as casenode
// runs it), and each input is one call to it from another organisation of
// the network, over mTLS with that organisation's certificate.
//
// Input: byte 0 picks the caller (low 2 bits) and whether the rest is also
// attached as the consent-receipt header (bit 7); byte 1 picks the method;
// the rest is the request message in protobuf wire format (inputs that do
// not parse as that message are skipped).
//
// Properties: the node answers every call (no deadline, no UNKNOWN or
// INTERNAL), every refusal carries a reason code, and it still answers a ping.
#include <grpcpp/grpcpp.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/file.h"
#include "base/log.h"
#include "base/reason.h"
#include "base/time.h"
#include "casenode/v1/peer.grpc.pb.h"
#include "keys/identity.h"
#include "keys/master_key.h"
#include "node/config/config.h"
#include "network/network.h"
#include "node/node.h"
#include "node/rpc/runtime.h"
#include "node/rpc/status.h"
#include "node/rpc/tls.h"
#include "provision/network_setup.h"
#include "tests/support/ports.h"

using namespace casenode;

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "peer_call_fuzz: %s\n", what.c_str());
  std::abort();
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(std::string(what) + ": " + std::string(v.status().message()));
  return *std::move(v);
}

std::string temp_root;
void RemoveTemp() {
  std::error_code ec;
  std::filesystem::remove_all(temp_root, ec);
}

struct World {
  std::unique_ptr<testing::PortBlock> ports;
  std::unique_ptr<node::Node> gemeente;
  std::vector<std::unique_ptr<node::TlsIdentity>> identities;
  std::vector<std::unique_ptr<v1::Peer::Stub>> callers;  // school, jeugdhulp, politie, auditor
};

World* world = nullptr;

// The TLS identity a node keeps sealed in its directory.
std::unique_ptr<node::TlsIdentity> LoadTls(const node::NodeConfig& config) {
  const std::string sealed = Must(ReadFile(config.identity), "identity");
  keys::MasterKey master = Must(keys::MasterKey::Unlock(config.master_key, AsBytes(sealed)), "master key");
  keys::SecretBytes plain = Must(master.Open(keys::kNodeIdentityPurpose, AsBytes(sealed)), "identity");
  keys::NodeIdentity identity = Must(keys::NodeIdentity::Parse(plain.span()), "identity");
  return Must(node::TlsIdentity::Create(node::TlsMaterial{Must(ReadFile(config.ca_cert), "ca"),
                                                          Must(ReadFile(config.tls_cert), "cert"),
                                                          std::move(identity.tls_key_pem)}),
              "TLS");
}

constexpr int kMethods = 15;  // every method of service Peer

grpc::Status Call(v1::Peer::Stub& stub, int method, const uint8_t* data, size_t size, const std::string* consent,
                  bool* parsed) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (consent != nullptr) ctx.AddMetadata("casenode-consent-bin", *consent);
  const auto call = [&](auto rpc, auto request, auto response) {
    *parsed = request.ParseFromArray(data, static_cast<int>(size));
    if (!*parsed) return grpc::Status::OK;
    return (stub.*rpc)(&ctx, request, &response);
  };
  switch (method % kMethods) {
    case 0: return call(&v1::Peer::Stub::Ping, v1::PingRequest(), v1::PingResponse());
    case 1: return call(&v1::Peer::Stub::ConsentStatus, v1::ConsentStatusRequest(), v1::ConsentStatusResponse());
    case 2:
      return call(&v1::Peer::Stub::EvaluatePseudonym, v1::EvaluatePseudonymRequest(), v1::EvaluatePseudonymResponse());
    case 3: return call(&v1::Peer::Stub::LookupSignal, v1::LookupSignalRequest(), v1::LookupSignalResponse());
    case 4: return call(&v1::Peer::Stub::NotifySignal, v1::NotifySignalRequest(), v1::NotifySignalResponse());
    case 5:
      return call(&v1::Peer::Stub::AuditCheckpoint, v1::AuditCheckpointRequest(), v1::AuditCheckpointResponse());
    case 6: return call(&v1::Peer::Stub::ReadAudit, v1::ReadAuditRequest(), v1::ReadAuditResponse());
    case 7: return call(&v1::Peer::Stub::Cosign, v1::CosignRequest(), v1::CosignResponse());
    case 8: return call(&v1::Peer::Stub::InviteToCase, v1::InviteToCaseRequest(), v1::InviteToCaseResponse());
    case 9:
      return call(&v1::Peer::Stub::AnswerCaseInvitation, v1::AnswerCaseInvitationRequest(),
                  v1::AnswerCaseInvitationResponse());
    case 10:
      return call(&v1::Peer::Stub::ContributeToCase, v1::ContributeToCaseRequest(), v1::ContributeToCaseResponse());
    case 11: return call(&v1::Peer::Stub::ReadCase, v1::ReadCaseRequest(), v1::ReadCaseResponse());
    case 12: return call(&v1::Peer::Stub::SetCaseAction, v1::SetCaseActionRequest(), v1::SetCaseActionResponse());
    case 13: return call(&v1::Peer::Stub::CloseCase, v1::CloseCaseRequest(), v1::CloseCaseResponse());
    default: return call(&v1::Peer::Stub::DestroyCase, v1::DestroyCaseRequest(), v1::DestroyCaseResponse());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) Die("libsodium");
  if (!node::PrepareRpcRuntime().ok()) Die("gRPC runtime");
  SetLogLevel("error");
  char tmpl[] = "/tmp/casenode-fuzz-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) Die("temporary directory");
  temp_root = tmpl;
  std::atexit(RemoveTemp);

  world = new World();  // lives until exit: its threads serve every input
  world->ports = Must(testing::PortBlock::Reserve(5), "ports");
  provision::NetworkPlan plan;
  plan.dir = temp_root + "/net";
  plan.base_port = world->ports->base();
  plan.policy_dir = CASENODE_SOURCE_DIR "/policy/network";
  for (const char* spec : {"gemeente:gemeente", "school:school", "jeugdhulp:jeugdhulp", "politie:politie",
                           "auditor:auditor"}) {
    plan.orgs.push_back(Must(provision::ParseOrgSpec(spec), "org"));
  }
  const provision::CreatedNetwork created = Must(provision::CreateNetwork(plan, SystemNow()), "network");
  const node::NodeConfig gemeente_config = Must(node::NodeConfig::Load(created.nodes[0].config_path), "config");
  world->gemeente = Must(node::Node::Create(gemeente_config), "node");
  if (!world->gemeente->Start().ok()) Die("node start");
  const network::ManifestNode target = *world->gemeente->network().manifest()->FindOrg("gemeente");
  for (size_t i = 1; i < created.nodes.size(); ++i) {
    const node::NodeConfig config = Must(node::NodeConfig::Load(created.nodes[i].config_path), "config");
    world->identities.push_back(LoadTls(config));
    world->callers.push_back(v1::Peer::NewStub(node::PeerChannel(
        target, node::PeerChannelCredentials(*world->identities.back(), target), 4 * 1024 * 1024)));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  v1::Peer::Stub& stub = *world->callers[data[0] & 3];
  const std::string payload(reinterpret_cast<const char*>(data + 2), size - 2);
  const bool attach = (data[0] & 0x80) != 0;
  bool parsed = false;
  const grpc::Status s = Call(stub, data[1], data + 2, size - 2, attach ? &payload : nullptr, &parsed);
  if (!parsed) return -1;  // not a message of that type: not kept in the corpus
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED || s.error_code() == grpc::StatusCode::UNKNOWN ||
      s.error_code() == grpc::StatusCode::INTERNAL) {
    Die("method " + std::to_string(data[1] % kMethods) + " answered " + std::to_string(s.error_code()) + ": " +
        s.error_message());
  }
  if (!s.ok() && node::GrpcReason(s) == Reason::kNone) {
    Die("method " + std::to_string(data[1] % kMethods) + " refused without a reason code: " + s.error_message());
  }
  // Still serving.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::PingResponse pong;
  if (!stub.Ping(&ctx, v1::PingRequest(), &pong).ok()) Die("the node stopped answering");
  return 0;
}
