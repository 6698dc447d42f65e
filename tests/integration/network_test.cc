// Integration: real casenode processes with real certificates on loopback.
#include <grpcpp/grpcpp.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "base/encoding.h"
#include "base/file.h"
#include "casenode/v1/peer.grpc.pb.h"
#include "keys/identity.h"
#include "keys/master_key.h"
#include "network/operator.h"
#include "keys/x509.h"
#include "node/rpc/status.h"
#include "tests/support/canary.h"
#include "tests/support/local_network.h"
#include "tests/support/node_files.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::Process;
using casenode::testing::RunResult;
using casenode::testing::UnsealTlsKey;

namespace {

// Calls Peer.Ping on `org` presenting (cert_pem, key) — or no certificate if cert_pem is empty.
grpc::Status PingAs(const LocalNetwork& net, const std::string& org, const std::string& cert_pem,
                    const keys::SecretBytes* key, v1::PingResponse* response = nullptr) {
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = *ReadFile(net.dir() + "/network/ca.pem");
  if (!cert_pem.empty()) {
    opts.pem_cert_chain = cert_pem;
    opts.pem_private_key = std::string(key->InsecureView());
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(org);
  auto stub = v1::Peer::NewStub(grpc::CreateCustomChannel(net.Endpoint(org), grpc::SslCredentials(opts), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::PingResponse ignored;
  return stub->Ping(&ctx, v1::PingRequest(), response != nullptr ? response : &ignored);
}

}  // namespace

TEST_CASE("five nodes start and each reaches and authenticates the four others", "[integration]") {
  LocalNetwork net;
  net.StartAll();
  for (const std::string& org : LocalNetwork::AllOrgs()) {
    int exit_code = -1;
    const auto status = net.CasectlJson(org, {"node", "status"}, &exit_code);
    INFO(org << ": " << status.dump());
    REQUIRE(exit_code == 0);
    REQUIRE(status["org"] == org);
    REQUIRE(status["role"] == org);
    REQUIRE(status["manifest_version"] == 1);
    REQUIRE(status["peers"].size() == 4);
    for (const auto& peer : status["peers"]) {
      REQUIRE(peer["reachable"] == true);
      REQUIRE(peer["org"] != org);
      REQUIRE(peer["rtt_ms"].get<double>() > 0);
    }
  }
}

TEST_CASE("a node answers a peer with its own certificate and names the caller from it", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("gemeente");
  const keys::SecretBytes key = UnsealTlsKey(net, "school");
  v1::PingResponse response;
  grpc::Status s = PingAs(net, "gemeente", *ReadFile(net.NodeDir("school") + "/cert.pem"), &key, &response);
  REQUIRE(s.ok());
  REQUIRE(response.org() == "gemeente");
  REQUIRE(response.caller_org() == "school");
}

TEST_CASE("the Peer listener refuses a client without a certificate", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("gemeente");
  grpc::Status s = PingAs(net, "gemeente", "", nullptr);
  REQUIRE(s.error_code() == grpc::StatusCode::UNAVAILABLE);  // TLS handshake fails: no handler runs
  REQUIRE(net.Log("gemeente").find("\"event\":\"peer.call\"") == std::string::npos);
}

TEST_CASE("the Peer listener refuses a certificate from another CA", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("gemeente");
  TempDir other;
  const SystemTime now = SystemNow();
  auto rogue = network::NetworkOperator::Create(other.path("rogue"), "regio-flevoland", "", now);
  REQUIRE(rogue.ok());
  auto key = keys::NewTlsKeyPem();
  // Same org and role as a real node: only the issuing CA differs.
  auto cert = rogue->IssueCertificate(*key, "school", "school", now - std::chrono::hours(1), now + std::chrono::days(1));
  REQUIRE(cert.ok());
  REQUIRE(PingAs(net, "gemeente", *cert, &*key).error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("the Peer listener refuses an expired certificate from the network CA", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("gemeente");
  auto op = network::NetworkOperator::Open(net.dir() + "/network");
  REQUIRE(op.ok());
  const SystemTime now = SystemNow();
  auto key = keys::NewTlsKeyPem();
  auto expired = op->IssueCertificate(*key, "school", "school", now - std::chrono::days(10), now - std::chrono::days(1));
  REQUIRE(expired.ok());
  REQUIRE(PingAs(net, "gemeente", *expired, &*key).error_code() == grpc::StatusCode::UNAVAILABLE);
  // Control: the same CA's valid certificate passes TLS (and is then refused by the manifest check).
  auto valid = op->IssueCertificate(*key, "school", "school", now - std::chrono::days(1), now + std::chrono::days(1));
  grpc::Status s = PingAs(net, "gemeente", *valid, &*key);
  REQUIRE(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("a valid network certificate that the manifest does not list is refused by the gate", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("gemeente");
  auto op = network::NetworkOperator::Open(net.dir() + "/network");
  const SystemTime now = SystemNow();
  auto key = keys::NewTlsKeyPem();
  auto cert = op->IssueCertificate(*key, "school", "school", now - std::chrono::hours(1), now + std::chrono::days(1));
  grpc::Status s = PingAs(net, "gemeente", *cert, &*key);
  REQUIRE(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(node::GrpcReason(s) == Reason::kPeerNotInManifest);
  REQUIRE(net.Log("gemeente").find("\"reason\":\"PEER_NOT_IN_MANIFEST\"") != std::string::npos);
}

TEST_CASE("a node stops answering peers once its manifest expires, a peer it already identified too", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("gemeente");
  const keys::SecretBytes key = UnsealTlsKey(net, "school");
  const std::string cert = *ReadFile(net.NodeDir("school") + "/cert.pem");
  auto op = network::NetworkOperator::Open(net.dir() + "/network");
  REQUIRE(op.ok());
  auto manifest = network::ParseManifest(*ReadFile(op->manifest_path()));
  REQUIRE(manifest.ok());
  manifest->version += 1;
  manifest->expires_at = SystemNow() + std::chrono::seconds(4);
  REQUIRE(op->Publish(*manifest).ok());
  REQUIRE(net.CasectlJson("gemeente", {"node", "reload"})["manifest_version"] == 2);
  // Identified under the short-lived manifest: the node remembers the answer.
  REQUIRE(PingAs(net, "gemeente", cert, &key).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  grpc::Status s;
  do {
    s = PingAs(net, "gemeente", cert, &key);
    if (s.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));  // poll until the expiry passes
  } while (s.ok() && std::chrono::steady_clock::now() < deadline);
  REQUIRE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(node::GrpcReason(s) == Reason::kManifestExpired);
}

TEST_CASE("a node removed from a newer manifest is refused by the nodes that loaded it", "[integration]") {
  LocalNetwork net({"school", "jeugdhulp", "politie", "gemeente"});  // 2 pseudonym key holders stay
  net.StartAll();
  REQUIRE(net.CasectlJson("politie", {"node", "ping", "school"})["reachable"] == true);

  RunResult removed = net.Casectl("", {"network", "remove", net.dir(), "politie"});
  REQUIRE(removed.exit_code == 0);
  // Until school reloads, it still trusts the old manifest.
  REQUIRE(net.CasectlJson("politie", {"node", "ping", "school"})["reachable"] == true);

  const auto reload = net.CasectlJson("school", {"node", "reload"});
  REQUIRE(reload["manifest_version"] == 2);
  net.process("gemeente").Signal(SIGHUP);  // the other way to reload

  const auto refused = net.CasectlJson("politie", {"node", "ping", "school"});
  REQUIRE(refused["reachable"] == false);
  REQUIRE(refused["error"] == "UNAUTHENTICATED: PEER_NOT_IN_MANIFEST");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  nlohmann::json by_gemeente;
  do {
    by_gemeente = net.CasectlJson("politie", {"node", "ping", "gemeente"});
  } while (by_gemeente["reachable"] == true && std::chrono::steady_clock::now() < deadline);
  REQUIRE(by_gemeente["error"] == "UNAUTHENTICATED: PEER_NOT_IN_MANIFEST");
  // The remaining nodes still reach each other.
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente"})["reachable"] == true);
}

TEST_CASE("a reload that finds an older manifest keeps the current one", "[integration]") {
  LocalNetwork net({"school", "gemeente", "auditor"});
  net.Start("school");
  const std::string manifest = *ReadFile(net.dir() + "/network/manifest.json");
  const std::string sig = *ReadFile(net.dir() + "/network/manifest.json.sig");
  REQUIRE(net.Casectl("", {"network", "remove", net.dir(), "auditor"}).exit_code == 0);
  REQUIRE(net.CasectlJson("school", {"node", "reload"})["manifest_version"] == 2);
  // Roll the files back to version 1 (validly signed, but older).
  REQUIRE(WriteFileAtomic(net.dir() + "/network/manifest.json.sig", sig, 0644).ok());
  REQUIRE(WriteFileAtomic(net.dir() + "/network/manifest.json", manifest, 0644).ok());
  RunResult r = net.Casectl("school", {"node", "reload"});
  REQUIRE(r.exit_code == 1);
  REQUIRE(r.err.find("older than the one in force") != std::string::npos);
  REQUIRE(net.CasectlJson("school", {"node", "status"})["manifest_version"] == 2);
}

TEST_CASE("a manifest rolled back on disk is refused at restart, so a removed node stays removed", "[integration]") {
  LocalNetwork net({"school", "jeugdhulp", "politie", "gemeente"});  // 2 pseudonym key holders stay
  net.Start("school");
  const std::string manifest = *ReadFile(net.dir() + "/network/manifest.json");
  const std::string sig = *ReadFile(net.dir() + "/network/manifest.json.sig");
  REQUIRE(net.Casectl("", {"network", "remove", net.dir(), "politie"}).exit_code == 0);
  REQUIRE(net.CasectlJson("school", {"node", "reload"})["manifest_version"] == 2);
  net.process("school").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(15)) == 0);

  // Version 1, validly signed and not expired, which still lists politie.
  REQUIRE(WriteFileAtomic(net.dir() + "/network/manifest.json.sig", sig, 0644).ok());
  REQUIRE(WriteFileAtomic(net.dir() + "/network/manifest.json", manifest, 0644).ok());
  const RunResult r = testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--check-config"},
                                   net.NodeDir("school"));
  REQUIRE(r.exit_code == 1);
  REQUIRE(r.err.find("MANIFEST_ROLLBACK") != std::string::npos);
  REQUIRE(r.err.find("older than version 2") != std::string::npos);
}

TEST_CASE("SIGTERM during a call lets the call finish before the node exits", "[integration]") {
  LocalNetwork net({"school", "jeugdhulp"});
  std::string config = *ReadFile(net.NodeDir("school") + "/casenode.toml");
  config.replace(config.find("level = 'info'"), 14, "level = 'debug'");
  REQUIRE(WriteFileAtomic(net.NodeDir("school") + "/casenode.toml", config, 0644).ok());
  net.StartAll();
  // A stopped peer makes school's ping wait for its 2 s deadline: a call in flight.
  net.process("jeugdhulp").Signal(SIGSTOP);
  auto count_calls = [&] {
    const std::string log = net.Log("school");
    size_t n = 0;
    for (size_t at = log.find("\"peer_org\":\"jeugdhulp\""); at != std::string::npos;
         at = log.find("\"peer_org\":\"jeugdhulp\"", at + 1)) {
      ++n;
    }
    return n;
  };
  const size_t before = count_calls();
  TempDir tmp;
  Process ping({testing::CasectlBin(), "--socket", net.Socket("school"), "-o", "json", "node", "ping", "jeugdhulp"},
               "", tmp.path("out"), tmp.path("err"));
  // Once school logs the outgoing call, the Local call is in flight: then ask school to stop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (count_calls() == before) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE(ping.Running());
  net.process("school").Signal(SIGTERM);
  REQUIRE(ping.Wait(std::chrono::seconds(10)) == 1);  // answered: peer unreachable, not a broken call
  const auto answer = nlohmann::json::parse(*ReadFile(tmp.path("out")));
  REQUIRE(answer["org"] == "jeugdhulp");
  REQUIRE(answer["reachable"] == false);
  REQUIRE(answer["error"] == "DEADLINE_EXCEEDED");
  REQUIRE(net.process("school").Wait(std::chrono::seconds(15)) == 0);
  REQUIRE(net.Log("school").find("\"event\":\"node.stopped\"") != std::string::npos);
  net.process("jeugdhulp").Signal(SIGCONT);
}

TEST_CASE("no key material appears in logs, data directories or sealed files", "[integration][canary]") {
  LocalNetwork net({"school", "gemeente"});
  net.StartAll();
  REQUIRE(net.CasectlJson("school", {"keys", "rotate"})["kek_id"] == 2);
  REQUIRE(net.CasectlJson("school", {"node", "backup", net.dir() + "/backup"})["dir"] == net.dir() + "/backup");
  net.process("school").Signal(SIGTERM);
  net.process("gemeente").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(15)) == 0);
  REQUIRE(net.process("gemeente").Wait(std::chrono::seconds(15)) == 0);

  std::vector<std::string> canaries;
  for (const std::string org : {"school", "gemeente"}) {
    std::string master = *ReadFile(net.NodeDir(org) + "/master.key");
    master.pop_back();  // newline
    canaries.push_back(master);
    const Bytes raw = *Base64Decode(master, "master.key");  // and the key itself, as raw bytes
    canaries.emplace_back(raw.begin(), raw.end());
    const std::string pem(UnsealTlsKey(net, org).InsecureView());
    const size_t line = pem.find('\n') + 1;
    canaries.push_back(pem.substr(line, 40));  // a piece of the key's base64 body
  }
  std::string op_master = *ReadFile(net.dir() + "/network/operator.master.key");
  op_master.pop_back();
  canaries.push_back(op_master);
  const Bytes op_raw = *Base64Decode(op_master, "operator.master.key");
  canaries.emplace_back(op_raw.begin(), op_raw.end());

  std::vector<std::string> hits;
  for (const std::string org : {"school", "gemeente"}) {
    for (const std::string path : {"/data", "/casenode.log", "/stdout.log", "/identity.sealed", "/casenode.toml"}) {
      const std::string target = net.NodeDir(org) + path;
      if (std::filesystem::is_directory(target)) {
        for (auto& h : testing::FindCanaries(target, canaries)) hits.push_back(h);
      } else {
        const std::string bytes = *ReadFile(target);
        for (const auto& c : canaries) {
          if (bytes.find(c) != std::string::npos) hits.push_back(target);
        }
      }
    }
  }
  for (auto& h : testing::FindCanaries(net.dir() + "/backup", canaries)) hits.push_back(h);
  for (const std::string f : {"ca.key.sealed", "operator.key.sealed", "manifest.json"}) {
    const std::string bytes = *ReadFile(net.dir() + "/network/" + f);
    for (const auto& c : canaries) {
      if (bytes.find(c) != std::string::npos) hits.push_back(f);
    }
  }
  INFO((hits.empty() ? "" : hits.front()));
  REQUIRE(hits.empty());
}

namespace {

// A server that claims to be an organisation: it answers Ping with that name.
class Impostor final : public v1::Peer::Service {
 public:
  explicit Impostor(std::string org) : org_(std::move(org)) {}
  grpc::Status Ping(grpc::ServerContext*, const v1::PingRequest*, v1::PingResponse* response) override {
    response->set_org(org_);
    response->set_role(v1::ROLE_GEMEENTE);
    return grpc::Status::OK;
  }

 private:
  std::string org_;
};

}  // namespace

TEST_CASE("a node does not talk to a server whose certificate is not the manifest's, even from the network CA",
          "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("school");
  // The CA issues a second, valid certificate for gemeente (as before a
  // re-key); whoever holds it listens where gemeente should be.
  auto op = network::NetworkOperator::Open(net.dir() + "/network");
  REQUIRE(op.ok());
  const SystemTime now = SystemNow();
  auto key = keys::NewTlsKeyPem();
  auto cert = op->IssueCertificate(*key, "gemeente", "gemeente", now - std::chrono::hours(1), now + std::chrono::days(1));
  REQUIRE(cert.ok());
  Impostor impostor("gemeente");
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  opts.pem_key_cert_pairs.push_back({std::string(key->InsecureView()), *cert});
  grpc::ServerBuilder builder;
  builder.AddListeningPort(net.Endpoint("gemeente"), grpc::SslServerCredentials(opts));
  builder.RegisterService(&impostor);
  auto server = builder.BuildAndStart();
  REQUIRE(server != nullptr);

  const auto answer = net.CasectlJson("school", {"node", "ping", "gemeente"});
  INFO(answer.dump());
  REQUIRE(answer["reachable"] == false);  // the handshake fails: the impostor never sees a call
  server->Shutdown();
  server.reset();

  // The real gemeente, with the manifest's certificate, is reached at once.
  net.Start("gemeente");
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente"})["reachable"] == true);
}

namespace {

// The TLS version a node's Peer listener agrees to when a client offers at
// most `max_version`, or 0 if the handshake fails.
int NegotiatedVersion(const LocalNetwork& net, const std::string& org, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // only the version matters here
  BIO* bio = BIO_new_ssl_connect(ctx);
  BIO_set_conn_hostname(bio, net.Endpoint(org).c_str());
  SSL* ssl = nullptr;
  BIO_get_ssl(bio, &ssl);
  const int version = BIO_do_connect(bio) == 1 && BIO_do_handshake(bio) == 1 ? SSL_version(ssl) : 0;
  BIO_free_all(bio);
  SSL_CTX_free(ctx);
  return version;
}

}  // namespace

TEST_CASE("the Peer listener speaks TLS 1.3 only", "[integration]") {
  LocalNetwork net({"school"});
  net.Start("school");
  REQUIRE(NegotiatedVersion(net, "school", TLS1_3_VERSION) == TLS1_3_VERSION);
  REQUIRE(NegotiatedVersion(net, "school", TLS1_2_VERSION) == 0);
}
