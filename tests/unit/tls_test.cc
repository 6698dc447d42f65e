// The Peer TLS credentials (node/rpc/tls.h) on a real listener: the client's
// pin to the manifest's certificates, and a certificate swapped on a running
// server.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <thread>

#include "casenode/v1/peer.grpc.pb.h"
#include "network/operator.h"
#include "keys/x509.h"
#include "node/rpc/tls.h"
#include "tests/support/temp_dir.h"

using namespace casenode;

namespace {

struct Pki {
  TempDir dir;
  SystemTime now = SystemNow();
  network::NetworkOperator op = *network::NetworkOperator::Create(dir.path("network"), "flevoland", "", now);

  std::string Issue(const keys::SecretBytes& key, const std::string& org) const {
    return *op.IssueCertificate(key, org, org, now - std::chrono::hours(1), now + std::chrono::days(1));
  }
  std::unique_ptr<node::TlsIdentity> Identity(const keys::SecretBytes& key, const std::string& cert) const {
    auto id = node::TlsIdentity::Create(
        node::TlsMaterial{op.ca_cert_pem(), cert, keys::SecretBytes::CopyFrom(key.span())});
    REQUIRE(id.ok());
    return *std::move(id);
  }
};

network::ManifestNode Pinned(const std::string& endpoint, const std::string& cert, const std::string& also = "") {
  network::ManifestNode n;
  n.org = "gemeente";
  n.endpoint = endpoint;
  n.tls_cert_sha256 = *keys::CertificateFingerprint(cert);
  if (!also.empty()) n.tls_cert_sha256_also = *keys::CertificateFingerprint(also);
  return n;
}

// A Peer listener on a free loopback port with `id`'s credentials; no
// methods (the handshake is what is tested).
struct Listener {
  explicit Listener(const node::TlsIdentity& id) {
    grpc::ServerBuilder builder;
    builder.RegisterService(&unimplemented);
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", node::PeerServerCredentials(id), &port);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    endpoint = "127.0.0.1:" + std::to_string(port);
  }
  ~Listener() { server->Shutdown(); }
  v1::Peer::Service unimplemented;
  std::unique_ptr<grpc::Server> server;
  std::string endpoint;
};

// True if a new channel with `client`'s identity, pinned to `peer`, completes
// its handshake with the server.
bool Connects(const node::TlsIdentity& client, const network::ManifestNode& peer) {
  auto channel = node::PeerChannel(peer, node::PeerChannelCredentials(client, peer), 1 << 20);
  return channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(3));
}

}  // namespace

TEST_CASE("a channel pinned to a node's certificates accepts either listed one and no other", "[tls]") {
  Pki pki;
  const keys::SecretBytes server_key = *keys::NewTlsKeyPem();
  const std::string current = pki.Issue(server_key, "gemeente");
  const std::string renewed = *pki.op.RenewCertificate(current, pki.now, pki.now + std::chrono::days(2));
  const std::string other = pki.Issue(server_key, "gemeente");  // valid from the same CA, not listed
  auto server_id = pki.Identity(server_key, current);
  Listener server(*server_id);
  const std::string endpoint = server.endpoint;

  const keys::SecretBytes client_key = *keys::NewTlsKeyPem();
  auto client = pki.Identity(client_key, pki.Issue(client_key, "school"));
  REQUIRE(Connects(*client, Pinned(endpoint, current)));
  REQUIRE(Connects(*client, Pinned(endpoint, renewed, current)));  // after a renewal's second step
  REQUIRE(Connects(*client, Pinned(endpoint, other, current)));
  REQUIRE_FALSE(Connects(*client, Pinned(endpoint, renewed)));
  REQUIRE_FALSE(Connects(*client, Pinned(endpoint, renewed, other)));
}

TEST_CASE("a server swaps its certificate without a restart, and open connections keep going", "[tls]") {
  Pki pki;
  const keys::SecretBytes server_key = *keys::NewTlsKeyPem();
  const std::string current = pki.Issue(server_key, "gemeente");
  const std::string renewed = *pki.op.RenewCertificate(current, pki.now, pki.now + std::chrono::days(2));
  auto server_id = pki.Identity(server_key, current);
  Listener server(*server_id);
  const std::string endpoint = server.endpoint;
  const keys::SecretBytes client_key = *keys::NewTlsKeyPem();
  auto client = pki.Identity(client_key, pki.Issue(client_key, "school"));

  const network::ManifestNode old_pin = Pinned(endpoint, current);
  auto open = node::PeerChannel(old_pin, node::PeerChannelCredentials(*client, old_pin), 1 << 20);
  REQUIRE(open->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(3)));

  // A certificate for another key is refused, and nothing changes.
  const keys::SecretBytes other_key = *keys::NewTlsKeyPem();
  REQUIRE(server_id->SetCertificate(pki.Issue(other_key, "gemeente")).code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(server_id->cert_pem() == current);

  REQUIRE(server_id->SetCertificate(renewed).ok());
  REQUIRE(server_id->cert_pem() == renewed);
  // New handshakes meet the renewed certificate within the provider's second.
  const network::ManifestNode new_pin = Pinned(endpoint, renewed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool renewed_seen = false;
  while (!renewed_seen && std::chrono::steady_clock::now() < deadline) renewed_seen = Connects(*client, new_pin);
  REQUIRE(renewed_seen);
  REQUIRE_FALSE(Connects(*client, old_pin));
  // The connection made before the swap is still up, and carries calls (the
  // listener has no methods: UNIMPLEMENTED is an answer from the far side).
  REQUIRE(open->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::PingResponse pong;
  REQUIRE(v1::Peer::NewStub(open)->Ping(&ctx, v1::PingRequest(), &pong).error_code() ==
          grpc::StatusCode::UNIMPLEMENTED);
}
