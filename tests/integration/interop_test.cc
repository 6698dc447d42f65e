// Integration: a real node driven by another language's client
// (@grpc/grpc-js, tests/interop/peer_client.mjs), with certificates the test
// makes: none, another CA's, an expired one, a removed node's, and a valid
// one whose requests claim another organisation and role in every field and
// header that could carry it. All are refused or decided as the certificate's.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "network/operator.h"
#include "keys/x509.h"
#include "node/rpc/status.h"
#include "tests/support/local_network.h"
#include "tests/support/node_files.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::RunResult;
using Json = nlohmann::json;

namespace {

// The client and its npm packages, installed once per build tree and per
// version of its files. Tests run in parallel (ctest -j2): one installs under
// a lock while the others wait, and a stamp written last says it finished.
std::string Client() {
  const std::string dir = CASENODE_BINARY_DIR "/interop-client";
  std::filesystem::create_directories(dir);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  absl::StatusOr<FileLock> lock = FileLock::TryAcquire(dir + "/.install.lock");
  while (!lock.ok() && lock.status().code() == absl::StatusCode::kUnavailable &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    lock = FileLock::TryAcquire(dir + "/.install.lock");
  }
  INFO(lock.status());
  REQUIRE(lock.ok());
  std::string sources;
  for (const char* f : {"package.json", "package-lock.json", "peer_client.mjs"}) {
    sources += *ReadFile(std::string(CASENODE_SOURCE_DIR "/tests/interop/") + f);
  }
  const std::string stamp = dir + "/.installed";
  if (ReadFile(stamp).value_or("") != sources) {
    std::filesystem::remove(stamp);
    for (const char* f : {"package.json", "package-lock.json", "peer_client.mjs"}) {
      std::filesystem::copy_file(std::string(CASENODE_SOURCE_DIR "/tests/interop/") + f, dir + "/" + f,
                                 std::filesystem::copy_options::overwrite_existing);
    }
    const RunResult npm = testing::RunWithInput(
        {"/usr/bin/env", "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"}, std::nullopt, dir);
    INFO(npm.out << npm.err);
    REQUIRE(npm.exit_code == 0);
    REQUIRE(WriteFileAtomic(stamp, sources, 0644).ok());
  }
  return dir + "/peer_client.mjs";
}

struct Identity {
  std::string cert;
  std::string key;  // PEM; test material only
};

// Runs `calls` against `target` presenting `who` (no certificate if empty);
// one result per call.
std::vector<Json> Drive(const LocalNetwork& net, const std::string& target, const Identity& who, const Json& calls) {
  Json plan{{"proto_dir", CASENODE_SOURCE_DIR "/proto"},
            {"endpoint", net.Endpoint(target)},
            {"target", target},
            {"ca", *ReadFile(net.dir() + "/network/ca.pem")},
            {"cert", who.cert},
            {"key", who.key},
            {"calls", calls}};
  const RunResult r = testing::RunWithInput({"/usr/bin/env", "node", Client()}, plan.dump());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<Json> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) out.push_back(Json::parse(line));
  REQUIRE(out.size() == calls.size());
  return out;
}

Reason ReasonOf(const Json& result) {
  std::string details;
  if (!result["status_details"].get<std::string>().empty()) {
    auto bytes = Base64Decode(result["status_details"].get<std::string>(), "status details");
    REQUIRE(bytes.ok());
    details.assign(bytes->begin(), bytes->end());
  }
  return node::GrpcReason(grpc::Status(static_cast<grpc::StatusCode>(result["code"].get<int>()),
                                       result["details"].get<std::string>(), details));
}

Identity Real(const LocalNetwork& net, const std::string& org) {
  const keys::SecretBytes key = testing::UnsealTlsKey(net, org);
  return {*ReadFile(net.NodeDir(org) + "/cert.pem"), std::string(key.InsecureView())};
}

// Every header a proxy or a confused client might use to say who calls.
Json ClaimingHeaders(const std::string& org) {
  return {{"x-casenode-org", org},
          {"x-casenode-role", org},
          {"casenode-caller", org},
          {"x-forwarded-client-cert", "By=spiffe://" + org + ";Subject=\"CN=" + org + ",OU=" + org + "\""},
          {"x-ssl-client-s-dn", "CN=" + org + ",OU=" + org},
          {"x-client-cert-cn", org}};
}

const std::string kPseudonym = std::string(43, 'A') + "=";  // 32 bytes, base64

}  // namespace

TEST_CASE("grpc-js: no certificate, another CA's, an expired one and a removed node's are all refused",
          "[integration][interop]") {
  LocalNetwork net({"school", "jeugdhulp", "politie", "gemeente"});
  net.Start("gemeente");
  const Json ping = Json::array({{{"method", "Ping"}, {"request", Json::object()}}});

  // No certificate: the handshake fails, no handler runs. (grpc-js reports a
  // failed TLS 1.3 client authentication as UNAVAILABLE or INTERNAL,
  // depending on when the server's alert arrives: any error will do, as long
  // as no call reached the gate, checked below.)
  REQUIRE(Drive(net, "gemeente", {}, ping)[0]["code"] != 0);

  const SystemTime now = SystemNow();
  TempDir other;
  auto rogue = network::NetworkOperator::Create(other.path("rogue"), "regio-flevoland", "", now);
  REQUIRE(rogue.ok());
  auto key = keys::NewTlsKeyPem();
  const std::string key_pem(key->InsecureView());
  // Same organisation and role as a real node; only the CA differs.
  auto foreign = rogue->IssueCertificate(*key, "school", "school", now - std::chrono::hours(1), now + std::chrono::days(1));
  REQUIRE(Drive(net, "gemeente", {*foreign, key_pem}, ping)[0]["code"] != 0);

  // The network's CA, but expired.
  auto op = network::NetworkOperator::Open(net.dir() + "/network");
  REQUIRE(op.ok());
  auto expired = op->IssueCertificate(*key, "school", "school", now - std::chrono::days(10), now - std::chrono::days(1));
  REQUIRE(Drive(net, "gemeente", {*expired, key_pem}, ping)[0]["code"] != 0);
  // None of the three got past the handshake: the gate logged nothing.
  REQUIRE(net.Log("gemeente").find("\"method\":\"Peer.Ping\"") == std::string::npos);

  // A node removed from the manifest, with its own, otherwise valid
  // certificate (how a node is revoked: by the manifest's fingerprints).
  const Identity politie = Real(net, "politie");
  REQUIRE(Drive(net, "gemeente", politie, ping)[0]["code"] == 0);  // control: before the removal
  REQUIRE(net.Casectl("", {"network", "remove", net.dir(), "politie"}).exit_code == 0);
  REQUIRE(net.CasectlJson("gemeente", {"node", "reload"})["manifest_version"] == 2);
  const Json removed = Drive(net, "gemeente", politie, ping)[0];
  REQUIRE(removed["code"] == static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  REQUIRE(ReasonOf(removed) == Reason::kPeerNotInManifest);
}

TEST_CASE("grpc-js: a node's valid certificate is decided as its own organisation and role, whatever it claims",
          "[integration][interop]") {
  LocalNetwork net({"school", "jeugdhulp", "politie", "gemeente", "auditor"});
  net.Start("gemeente");
  const Json claims = ClaimingHeaders("auditor");
  const Json calls = Json::array({
      // Ping names the organisation the node authenticated.
      {{"method", "Ping"}, {"request", Json::object()}, {"metadata", claims}},
      // The auditor's read of the log: refused to a school that says it is the auditor.
      {{"method", "ReadAudit"},
       {"request", {{"tree_size", "1"}, {"count", 1}, {"purpose", "verantwoording"}}},
       {"metadata", claims}},
      {{"method", "AuditCheckpoint"}, {"request", {{"purpose", "verantwoording"}}}, {"metadata", claims}},
      // A match notice whose body says it comes from the gemeente itself.
      {{"method", "NotifySignal"},
       {"request",
        {{"subject", kPseudonym},
         {"purpose", "vroegsignalering"},
         {"legal_basis", "legal_duty"},
         {"notice_id", std::string(32, 'a')},
         {"from", {{"org", "gemeente"}, {"role", "ROLE_GEMEENTE"}, {"contact", "x"}, {"category", "signaal"}}}}},
       {"metadata", ClaimingHeaders("gemeente")}},
  });
  const std::vector<Json> as_school = Drive(net, "gemeente", Real(net, "school"), calls);
  INFO(Json(as_school).dump());
  REQUIRE(as_school[0]["code"] == 0);
  REQUIRE(as_school[0]["response"]["caller_org"] == "school");
  for (size_t i : {1u, 2u}) {
    REQUIRE(as_school[i]["code"] == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
    REQUIRE(ReasonOf(as_school[i]) == Reason::kNoMatchingRule);  // no rule lets a school read logs
  }
  // The notice is decided for the school (whatever its body says): the
  // gemeente holds no signal on the child, so nothing is stored.
  REQUIRE((as_school[3]["code"] != 0 || as_school[3]["response"].value("stored", false) == false));

  // politie may not send match notices: one whose body says it comes from
  // the gemeente is still politie's, and refused by politie's rule.
  const Json notify = Json::array({calls[3]});
  const Json as_politie = Drive(net, "gemeente", Real(net, "politie"), notify)[0];
  INFO(as_politie.dump());
  REQUIRE(as_politie["code"] == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  REQUIRE(ReasonOf(as_politie) == Reason::kDeniedByRule);
  REQUIRE(as_politie["details"].get<std::string>().find("politie-geen-vroegsignalering") != std::string::npos);

  // The same calls with the auditor's own certificate: the log reads are its to make.
  const std::vector<Json> as_auditor = Drive(net, "gemeente", Real(net, "auditor"), calls);
  INFO(Json(as_auditor).dump());
  REQUIRE(as_auditor[0]["response"]["caller_org"] == "auditor");
  REQUIRE(as_auditor[1]["code"] == 0);
  REQUIRE(as_auditor[2]["code"] == 0);

  // Every refusal the gemeente logged names the certificate's organisation
  // and role (allowed calls are logged at debug level only), and a policy
  // denial the rule that denied it.
  std::set<std::string> refused_school;
  std::string politie_denied_by;
  std::istringstream lines(net.Log("gemeente"));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"event\":\"peer.call\"") == std::string::npos) continue;
    const Json e = Json::parse(line);
    INFO(line);
    REQUIRE((e["caller_org"] == "school" || e["caller_org"] == "auditor" || e["caller_org"] == "politie"));
    REQUIRE(e["caller_role"] == e["caller_org"]);  // each org's role is its name here: never a claimed one
    if (e["caller_org"] == "school") refused_school.insert(e["method"].get<std::string>());
    if (e["reason"] == "DENIED_BY_RULE") REQUIRE_FALSE(e["rule"].get<std::string>().empty());
    if (e["caller_org"] == "politie") politie_denied_by = e["rule"].get<std::string>();
  }
  REQUIRE(refused_school == std::set<std::string>{"Peer.ReadAudit", "Peer.AuditCheckpoint"});
  REQUIRE(politie_denied_by == "politie-geen-vroegsignalering");
}
