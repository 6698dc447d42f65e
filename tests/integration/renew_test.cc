// Integration: a node's TLS certificate renewed while the network runs
// (casectl network renew, provision/network_setup.h), with real processes
// calling each other the whole time.
#include <grpcpp/grpcpp.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/file.h"
#include "casenode/v1/local.grpc.pb.h"
#include "casenode/v1/peer.grpc.pb.h"
#include "network/manifest.h"
#include "keys/x509.h"
#include "tests/support/local_network.h"
#include "tests/support/node_files.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::RunResult;

namespace {

// The fingerprint of the certificate `org`'s Peer listener presents to a new
// handshake now ("" if the handshake does not get that far). The client has
// no certificate: in TLS 1.3 the server's comes before it asks for one.
std::string PresentedFingerprint(const LocalNetwork& net, const std::string& org) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  BIO* bio = BIO_new_ssl_connect(ctx);
  BIO_set_conn_hostname(bio, net.Endpoint(org).c_str());
  SSL* ssl = nullptr;
  BIO_get_ssl(bio, &ssl);
  std::string fp;
  if (BIO_do_connect(bio) == 1 && BIO_do_handshake(bio) == 1) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    BIO* pem = BIO_new(BIO_s_mem());
    if (cert != nullptr && PEM_write_bio_X509(pem, cert) == 1) {
      char* data = nullptr;
      const long len = BIO_get_mem_data(pem, &data);
      fp = keys::CertificateFingerprint(std::string(data, static_cast<size_t>(len))).value_or("");
    }
    BIO_free(pem);
    X509_free(cert);
  }
  BIO_free_all(bio);
  SSL_CTX_free(ctx);
  return fp;
}

// Waits (at most 30 s) until `org`'s listener presents the certificate `fp`.
void WaitUntilPresented(const LocalNetwork& net, const std::string& org, const std::string& fp) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (PresentedFingerprint(net, org) != fp && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(PresentedFingerprint(net, org) == fp);
}

std::string FingerprintOf(const std::string& path) {
  auto pem = ReadFile(path);
  REQUIRE(pem.ok());
  auto fp = keys::CertificateFingerprint(*pem);
  REQUIRE(fp.ok());
  return *fp;
}

network::ManifestNode EntryIn(const LocalNetwork& net, const std::string& org) {
  auto text = ReadFile(net.dir() + "/network/manifest.json");
  REQUIRE(text.ok());
  auto manifest = network::ParseManifest(*text);
  REQUIRE(manifest.ok());
  const network::ManifestNode* entry = manifest->FindOrg(org);
  REQUIRE(entry != nullptr);
  return *entry;
}

// `from` pings `to` through its Local API, again and again, until stopped;
// counts the calls and keeps every failure.
class PingLoop {
 public:
  PingLoop(const LocalNetwork& net, const std::string& from, std::string to)
      : stub_(v1::LocalNode::NewStub(grpc::CreateChannel("unix:" + net.Socket(from), grpc::InsecureChannelCredentials()))),
        to_(std::move(to)),
        thread_([this] { Run(); }) {}
  ~PingLoop() { Stop(); }

  int calls() const { return calls_.load(); }
  // Waits until `n` more calls have ended (at most 60 s).
  void WaitForMore(int n) const {
    const int target = calls() + n;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (calls() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(calls() >= target);
  }
  std::vector<std::string> Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

 private:
  void Run() {
    while (!stop_) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      v1::PingPeerRequest req;
      req.set_org(to_);
      v1::PeerReachability answer;
      const grpc::Status s = stub_->PingPeer(&ctx, req, &answer);
      if (!s.ok() || !answer.reachable()) {
        std::lock_guard<std::mutex> lock(mu_);
        failures_.push_back(s.ok() ? answer.error() : s.error_message());
      }
      ++calls_;
    }
  }

  std::unique_ptr<v1::LocalNode::Stub> stub_;
  const std::string to_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::vector<std::string> failures_;
  std::thread thread_;
};

uint64_t Reload(const LocalNetwork& net, const std::string& org) {
  const auto answer = net.CasectlJson(org, {"node", "reload"});
  INFO(answer.dump());
  REQUIRE(answer.contains("manifest_version"));
  return answer["manifest_version"].get<uint64_t>();
}

}  // namespace

TEST_CASE("a certificate renewed while two nodes call each other in loops: no call fails, and no restart",
          "[integration][renew]") {
  LocalNetwork net({"school", "gemeente"});
  net.StartAll();
  const std::string cert_path = net.NodeDir("gemeente") + "/cert.pem";
  const std::string next_path = net.NodeDir("gemeente") + "/cert.next.pem";
  const std::string old_fp = FingerprintOf(cert_path);
  REQUIRE(PresentedFingerprint(net, "gemeente") == old_fp);
  const int gemeente_pid = net.process("gemeente").pid();

  PingLoop school_to_gemeente(net, "school", "gemeente");  // school pins gemeente's server certificate
  PingLoop gemeente_to_school(net, "gemeente", "school");  // school identifies gemeente by its client certificate
  school_to_gemeente.WaitForMore(5);
  gemeente_to_school.WaitForMore(5);

  // Step 1: a new certificate for the same key, which peers also accept.
  RunResult started = net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--days", "30"});
  INFO(started.out << started.err);
  REQUIRE(started.exit_code == 0);
  const std::string new_fp = FingerprintOf(next_path);
  REQUIRE(new_fp != old_fp);
  REQUIRE(EntryIn(net, "gemeente").tls_cert_sha256 == old_fp);
  REQUIRE(EntryIn(net, "gemeente").tls_cert_sha256_also == new_fp);
  // The renewed node reloads first: it must go on presenting the old one,
  // which school (still on version 1) is pinned to.
  REQUIRE(Reload(net, "gemeente") == 2);
  REQUIRE(Reload(net, "school") == 2);
  school_to_gemeente.WaitForMore(5);
  gemeente_to_school.WaitForMore(5);
  REQUIRE(PresentedFingerprint(net, "gemeente") == old_fp);

  // Step 2: the new one is presented; the old one is still accepted.
  RunResult finished = net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--finish"});
  INFO(finished.out << finished.err);
  REQUIRE(finished.exit_code == 0);
  REQUIRE(FingerprintOf(cert_path) == new_fp);
  REQUIRE_FALSE(std::filesystem::exists(next_path));
  REQUIRE(EntryIn(net, "gemeente").tls_cert_sha256 == new_fp);
  REQUIRE(EntryIn(net, "gemeente").tls_cert_sha256_also == old_fp);
  // Again the renewed node first: school, still on version 2, accepts the new one as the renewal's.
  REQUIRE(Reload(net, "gemeente") == 3);
  WaitUntilPresented(net, "gemeente", new_fp);
  school_to_gemeente.WaitForMore(5);
  gemeente_to_school.WaitForMore(5);
  // school's reload re-pins its channel to gemeente: its next calls need a
  // new handshake, which meets the new certificate.
  REQUIRE(Reload(net, "school") == 3);
  school_to_gemeente.WaitForMore(10);
  gemeente_to_school.WaitForMore(10);

  // A second renewal drops the first certificate from the manifest: by then
  // gemeente's own calls must present the renewed one too (its connections
  // were made anew when it switched), or school stops knowing it.
  REQUIRE(net.Casectl("", {"network", "renew", net.dir(), "gemeente"}).exit_code == 0);
  const std::string third_fp = FingerprintOf(next_path);
  REQUIRE_FALSE(EntryIn(net, "gemeente").HasCertificate(old_fp));
  REQUIRE(Reload(net, "school") == 4);  // the peer first, this time
  REQUIRE(Reload(net, "gemeente") == 4);
  school_to_gemeente.WaitForMore(10);
  gemeente_to_school.WaitForMore(10);
  REQUIRE(net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--finish"}).exit_code == 0);
  REQUIRE(Reload(net, "school") == 5);
  REQUIRE(Reload(net, "gemeente") == 5);
  WaitUntilPresented(net, "gemeente", third_fp);
  school_to_gemeente.WaitForMore(10);
  gemeente_to_school.WaitForMore(10);

  const std::vector<std::string> school_failures = school_to_gemeente.Stop();
  const std::vector<std::string> gemeente_failures = gemeente_to_school.Stop();
  INFO("school -> gemeente: " << school_to_gemeente.calls() << " calls; gemeente -> school: "
                              << gemeente_to_school.calls() << " calls");
  std::string failures;
  for (const std::string& f : school_failures) failures += "school -> gemeente: " + f + "\n";
  for (const std::string& f : gemeente_failures) failures += "gemeente -> school: " + f + "\n";
  INFO(failures);
  CHECK(school_failures.empty());
  CHECK(gemeente_failures.empty());
  REQUIRE(net.process("gemeente").pid() == gemeente_pid);  // no restart
  REQUIRE(net.Log("gemeente").find("\"event\":\"tls.certificate_changed\"") != std::string::npos);

  // school identifies gemeente by the certificate it presents now, from a
  // new connection with gemeente's key.
  const keys::SecretBytes key = casenode::testing::UnsealTlsKey(net, "gemeente");
  for (const std::string& pem : {*ReadFile(cert_path)}) {
    grpc::SslCredentialsOptions opts;
    opts.pem_root_certs = *ReadFile(net.dir() + "/network/ca.pem");
    opts.pem_cert_chain = pem;
    opts.pem_private_key = std::string(key.InsecureView());
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("school");
    auto peer = v1::Peer::NewStub(grpc::CreateCustomChannel(net.Endpoint("school"), grpc::SslCredentials(opts), args));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::PingResponse pong;
    REQUIRE(peer->Ping(&ctx, v1::PingRequest(), &pong).ok());
    REQUIRE(pong.caller_org() == "gemeente");
  }

  // A restart presents the new certificate from cert.pem at once.
  net.process("gemeente").Signal(SIGTERM);
  REQUIRE(net.process("gemeente").Wait(std::chrono::seconds(30)) == 0);
  net.Start("gemeente");
  REQUIRE(PresentedFingerprint(net, "gemeente") == third_fp);
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente"})["reachable"] == true);
}

TEST_CASE("a node does not present a certificate its manifest only also accepts, even if its file is that one",
          "[integration][renew]") {
  LocalNetwork net({"school", "gemeente"});
  net.StartAll();
  const std::string cert_path = net.NodeDir("gemeente") + "/cert.pem";
  const std::string old_fp = FingerprintOf(cert_path);
  REQUIRE(net.Casectl("", {"network", "renew", net.dir(), "gemeente"}).exit_code == 0);
  // The new certificate put in place early, before --finish: peers still on
  // the previous manifest would refuse it, so the node keeps the old one.
  std::filesystem::copy_file(net.NodeDir("gemeente") + "/cert.next.pem", cert_path,
                             std::filesystem::copy_options::overwrite_existing);
  REQUIRE(Reload(net, "gemeente") == 2);
  REQUIRE(net.Log("gemeente").find("\"event\":\"tls.certificate_file_not_used\"") != std::string::npos);
  // The provider re-reads every second: give a wrongful switch time to show.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  while (std::chrono::steady_clock::now() < until) REQUIRE(PresentedFingerprint(net, "gemeente") == old_fp);
  // An unreadable file changes nothing either.
  std::filesystem::remove(cert_path);
  REQUIRE(net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--finish"}).exit_code == 0);
  std::filesystem::remove(cert_path);  // --finish moved the new one in; gone again
  REQUIRE(Reload(net, "gemeente") == 3);
  REQUIRE(PresentedFingerprint(net, "gemeente") == old_fp);  // listed as also: kept
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente"})["reachable"] == true);
}

TEST_CASE("network renew refuses what would break the rollover, and changes nothing then", "[integration][renew]") {
  LocalNetwork net({"school", "gemeente"});
  const std::string manifest = net.dir() + "/network/manifest.json";
  const std::string before = *ReadFile(manifest);

  RunResult unknown = net.Casectl("", {"network", "renew", net.dir(), "politie"});
  REQUIRE(unknown.exit_code != 0);
  REQUIRE(unknown.err.find("\"politie\" is not in manifest version 1") != std::string::npos);
  RunResult early = net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--finish"});
  REQUIRE(early.exit_code != 0);
  REQUIRE(early.err.find("no renewal of \"gemeente\" is under way") != std::string::npos);
  RunResult days = net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--days", "0"});
  REQUIRE(days.exit_code != 0);
  REQUIRE(days.err.find("validity") != std::string::npos);
  REQUIRE(*ReadFile(manifest) == before);

  // Starting again before --finish replaces the renewal under way (no node
  // presents it yet); the file and the manifest agree.
  REQUIRE(net.Casectl("", {"network", "renew", net.dir(), "gemeente"}).exit_code == 0);
  REQUIRE(net.Casectl("", {"network", "renew", net.dir(), "gemeente"}).exit_code == 0);
  REQUIRE(EntryIn(net, "gemeente").tls_cert_sha256_also == FingerprintOf(net.NodeDir("gemeente") + "/cert.next.pem"));
  REQUIRE(net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--finish"}).exit_code == 0);
  // Finishing twice finds nothing under way.
  RunResult again = net.Casectl("", {"network", "renew", net.dir(), "gemeente", "--finish"});
  REQUIRE(again.exit_code != 0);
  REQUIRE(again.err.find("no renewal of \"gemeente\" is under way") != std::string::npos);
  // The renewed network starts: each node presents what the manifest lists.
  net.StartAll();
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente"})["reachable"] == true);
  REQUIRE(PresentedFingerprint(net, "gemeente") == EntryIn(net, "gemeente").tls_cert_sha256);
}
