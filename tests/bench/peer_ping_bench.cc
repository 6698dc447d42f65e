// bench peer_ping: Peer.Ping through PeerGate (certificate -> manifest entry,
// policy decision, decision record in the encrypted store) vs a bare gRPC echo
// over the same mTLS credentials, 8 concurrent callers, client and server in
// one process on the same 2 cores, with the server options a node uses.
// `bench_peer_ping MS ours|baseline` runs one side only, for a profiler
// (perf record --call-graph dwarf).
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <cstdio>

#include "base/file.h"
#include "echo.grpc.pb.h"
#include "keys/identity.h"
#include "store/key_store.h"
#include "node/audit/audit_log.h"
#include "node/node.h"
#include "node/rpc/server.h"
#include "store/store.h"
#include "policy/policy.h"
#include "network/operator.h"
#include "base/log.h"
#include "network/network.h"
#include "node/rpc/peer_client.h"
#include "node/rpc/runtime.h"
#include "node/gate/gate.h"
#include "node/services/peer_service.h"
#include "tests/bench/harness.h"
#include "tests/support/temp_dir.h"

using namespace casenode;

namespace {

class EchoService final : public bench::Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const v1::PingRequest* request, v1::PingResponse* response) override {
    response->set_org("gemeente");
    response->set_role(v1::ROLE_GEMEENTE);
    response->set_manifest_version(request->manifest_version());
    response->set_caller_org("school");
    return grpc::Status::OK;
  }
};

struct Member {
  std::unique_ptr<node::TlsIdentity> tls;
  network::ManifestNode entry;
};

Member MakeMember(const network::NetworkOperator& op, const std::string& org, network::Role role, int port) {
  const SystemTime now = SystemNow();
  keys::SecretBytes key = *keys::NewTlsKeyPem();
  const std::string cert = *op.IssueCertificate(key, org, std::string(network::RoleName(role)),
                                                now - std::chrono::hours(1), now + std::chrono::days(1));
  const keys::NodeIdentity id = keys::NodeIdentity::Generate(keys::SecretBytes::CopyFrom(key.span()));
  network::ManifestNode entry{org, org, role, "127.0.0.1:" + std::to_string(port), *keys::CertificateFingerprint(cert),
                           id.signing.public_key(), id.encryption_public};
  return Member{*node::TlsIdentity::Create(node::TlsMaterial{op.ca_cert_pem(), cert, std::move(key)}), entry};
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (!node::PrepareRpcRuntime().ok()) return 1;  // as casenode does: TLS 1.3 only, for both services
  SetLogLevel("warn");
  const int threads = 8;
  const auto duration = std::chrono::milliseconds(argc > 1 ? std::atoi(argv[1]) : 1500);

  TempDir dir;
  const SystemTime now = SystemNow();
  auto op = network::NetworkOperator::Create(dir.path("network"), "bench", "", now);
  if (!op.ok()) return 1;
  Member server = MakeMember(*op, "gemeente", network::Role::ROLE_GEMEENTE, 0);
  Member client = MakeMember(*op, "school", network::Role::ROLE_SCHOOL, 0);
  network::Manifest m;
  m.network = "bench";
  m.version = 1;
  m.issued_at = now - std::chrono::hours(1);
  m.expires_at = now + std::chrono::days(1);
  m.nodes = {server.entry, client.entry};
  if (!op->Publish(m).ok()) return 1;
  auto network = network::Network::Load(op->manifest_path(), op->public_key(), "gemeente", SystemNow);
  if (!network.ok()) return 1;

  // The full gate: certificate -> manifest entry, policy decision, decision record.
  if (!keys::MasterKey::CreateKeyFile(dir.path("m.key")).ok()) return 1;
  auto key_store = store::KeyStore::Open(dir.path("keys"), *keys::MasterKey::FromKeyFile(dir.path("m.key")));
  auto store = store::Store::Open(dir.path("records"), **key_store, SystemNow);
  auto policy = policy::Policy::Load(CASENODE_SOURCE_DIR "/policy/network");
  if (!key_store.ok() || !store.ok() || !policy.ok()) return 1;
  auto audit = node::AuditLog::Open(**store);
  if (!audit.ok()) return 1;
  node::AuditLog& decisions = **audit;
  const keys::SigningKey signer = keys::SigningKey::Generate();
  consent::ConsentBook consents(**store, **key_store, signer, "gemeente", SystemNow);
  consent::ConsentVerifier verifier(
      consents, "gemeente",
      [](const network::ManifestNode&, const std::string&, consent::Deadline) -> absl::StatusOr<v1::ConsentCheck> {
        return absl::UnavailableError("no receipts in this benchmark");
      },
      [](const std::string&, const std::string&, const std::string&) -> absl::StatusOr<v1::ConsentCheck> {
        return absl::UnavailableError("no receipts in this benchmark");
      },
      SystemNow);
  node::QuotaCounter quotas(**store, SystemNow);
  node::PeerGate gate(**network, decisions, **key_store, verifier, quotas, *policy);
  node::SignalBook signals(**store, **key_store, SystemNow);
  node::Witness witness(**store, signer, "gemeente", SystemNow);
  node::CheckpointPublisher publisher(
      decisions, **store, signer, "gemeente", [] { return std::vector<network::ManifestNode>{}; },
      [](const network::ManifestNode&, const v1::CosignRequest&, node::CheckpointPublisher::Deadline)
          -> absl::StatusOr<v1::CosignResponse> { return absl::UnavailableError("no witnesses in this benchmark"); },
      SystemNow);
  node::CaseBook cases(**store, SystemNow);
  const node::CaseIdentity case_identity{keys::SecretBytes(32), {}};
  node::CaseHost case_host(**network, gate, cases, decisions, **key_store, case_identity, SystemNow, [] {});
  node::ConsentHost consent_host(**network, gate, consents, decisions, **key_store);
  node::PseudonymHost pseudonym_host(gate, nullptr);
  node::SignalHost signal_host(**network, gate, signals, SystemNow);
  node::AuditHost audit_host(**network, gate, decisions, **key_store, witness, publisher);
  node::PeerService peer_service(**network, gate,
                                 {consent_host, pseudonym_host, signal_host, audit_host, case_host});
  EchoService echo_service;
  grpc::ServerBuilder builder;
  int peer_port = 0, echo_port = 0;
  builder.AddListeningPort("127.0.0.1:0", node::PeerServerCredentials(*server.tls), &peer_port);
  builder.AddListeningPort("127.0.0.1:0", node::PeerServerCredentials(*server.tls), &echo_port);
  node::ApplyServerOptions(builder);
  builder.RegisterService(&peer_service);
  builder.RegisterService(&echo_service);
  auto server_handle = builder.BuildAndStart();

  auto creds = node::PeerChannelCredentials(*client.tls, server.entry);
  network::ManifestNode peer_target = server.entry, echo_target = server.entry;
  peer_target.endpoint = "127.0.0.1:" + std::to_string(peer_port);
  echo_target.endpoint = "127.0.0.1:" + std::to_string(echo_port);
  // One channel per caller thread would measure connection spread; one shared
  // channel per service is what a node does.
  auto peer_stub = v1::Peer::NewStub(node::PeerChannel(peer_target, creds, 1 << 20));
  auto echo_stub = bench::Echo::NewStub(node::PeerChannel(echo_target, creds, 1 << 20));

  auto ping = [&] {
    grpc::ClientContext ctx;
    v1::PingRequest req;
    req.set_manifest_version(1);
    v1::PingResponse resp;
    return peer_stub->Ping(&ctx, req, &resp).ok() && resp.caller_org() == "school";
  };
  auto echo = [&] {
    grpc::ClientContext ctx;
    v1::PingRequest req;
    req.set_manifest_version(1);
    v1::PingResponse resp;
    return echo_stub->Echo(&ctx, req, &resp).ok();
  };
  for (int i = 0; i < 200; ++i) {  // warm up: connections, caches
    if (!ping() || !echo()) {
      std::fprintf(stderr, "bench peer_ping: warm-up call failed\n");
      return 1;
    }
  }
  // `bench_peer_ping MS ours|baseline`: one side only, for a profiler.
  const std::string only = argc > 2 ? argv[2] : "";
  if (only == "ours" || only == "baseline") {
    const bench::Result r = bench::RunConcurrent(threads, duration, only == "ours" ? std::function<bool()>(ping)
                                                                                   : std::function<bool()>(echo));
    std::printf("bench peer_ping %s=%.0f cpu_us=%.1f\n", only.c_str(), r.ops_per_s, r.cpu_us);
    server_handle->Shutdown();
    return 0;
  }
  const bench::Comparison ping_vs_echo = bench::Compare(
      5, [&] { return bench::RunConcurrent(threads, duration, ping); },
      [&] { return bench::RunConcurrent(threads, duration, echo); });
  bench::Report("peer_ping", ping_vs_echo, "callers=8");
  server_handle->Shutdown();
  return 0;
}
