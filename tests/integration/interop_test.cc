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

#include <sodium.h>

#include "base/encoding.h"
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
         {"from", {{"org", "gemeente"}, {"role", "ROLE_GEMEENTE"}, {"contact", "x"}, {"category", "zorg"}}}}},
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

namespace {

// A fresh random blinded element, as a requester would send: base64 of a
// canonical ristretto255 point.
std::string RandomBlindedElement() {
  unsigned char point[crypto_core_ristretto255_BYTES];
  crypto_core_ristretto255_random(point);
  return Base64Encode(std::span<const uint8_t>(point, sizeof point));
}

Json Evaluations(int count) {
  Json calls = Json::array();
  for (int i = 0; i < count; ++i) {
    calls.push_back({{"method", "EvaluatePseudonym"},
                     {"request",
                      {{"blinded_element", RandomBlindedElement()},
                       {"purpose", "vroegsignalering"},
                       {"legal_basis", "public_task"}}}});
  }
  return calls;
}

}  // namespace

// The attack of the curious member: one school, with only its own certificate
// and an independent client, derives pseudonyms as fast as the holders let
// it, rotating holders. Each holder stops it at the quota, a restart refills
// nothing, and the auditor is told by every holder (casectl audit alarms).
TEST_CASE("grpc-js: a school enumerating pseudonyms is stopped at its quota on every holder and seen by the auditor",
          "[integration][interop][quota]") {
  constexpr int kPerDay = 4;
  TempDir custom;
  const std::string policy = testing::EditedPolicy(
      custom, {{"school = { per_minute = 20, per_day = 200 }",
                "school = { per_minute = " + std::to_string(kPerDay) + ", per_day = " + std::to_string(kPerDay) + " }"},
               {"alarm_percent = 80", "alarm_percent = 50"}});
  LocalNetwork net(LocalNetwork::AllOrgs(), {"--policy", policy});
  const std::vector<std::string> holders = {"jeugdhulp", "politie", "gemeente"};
  for (const auto& org : holders) net.Start(org);
  net.Start("auditor");
  const Identity school = Real(net, "school");

  int evaluations = 0;
  for (const auto& holder : holders) {
    const std::vector<Json> results = Drive(net, holder, school, Evaluations(kPerDay + 3));
    for (size_t i = 0; i < results.size(); ++i) {
      INFO(holder << " call " << i << ": " << results[i].dump());
      if (static_cast<int>(i) < kPerDay) {
        REQUIRE(results[i]["code"] == 0);
        ++evaluations;
      } else {
        REQUIRE(results[i]["code"] == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
        REQUIRE(ReasonOf(results[i]) == Reason::kQuotaExhausted);
        REQUIRE(results[i]["details"].get<std::string>().find("QUOTA_EXHAUSTED") != std::string::npos);
      }
    }
  }
  // Each derivation needs t = 2 of the 3 holders: at most floor(3 x 4 / 2) = 6
  // children a day for this school in the whole network.
  REQUIRE(evaluations == 3 * kPerDay);

  // A restart refills nothing.
  net.Stop("politie");
  net.Start("politie");
  const Json after_restart = Drive(net, "politie", school, Evaluations(1))[0];
  INFO(after_restart.dump());
  REQUIRE(ReasonOf(after_restart) == Reason::kQuotaExhausted);
  // A non-canonical encoding (a real point with the top bit set) is refused
  // before the gate, with its reason, and counts against nothing.
  Json top_bit = Evaluations(1);
  {
    auto raw = Base64Decode(top_bit[0]["request"]["blinded_element"].get<std::string>(), "element");
    REQUIRE(raw.ok());
    (*raw)[31] |= 0x80;
    top_bit[0]["request"]["blinded_element"] = Base64Encode(*raw);
  }
  const Json refused_encoding = Drive(net, "politie", school, top_bit)[0];
  REQUIRE(refused_encoding["code"] == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  REQUIRE(ReasonOf(refused_encoding) == Reason::kOprfInvalidEncoding);

  // The auditor has, from every holder, the alarm at half the quota and the
  // first refusal of the day, naming the school; nothing names a child.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Json alarms;
  for (;;) {
    alarms = net.CasectlJson("auditor", {"audit", "alarms"})["alarms"];
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& a : alarms) {
      if (a["requester_org"] == "school" && a["action"] == "pseudonym.evaluate") {
        seen.insert({a["reporter_org"].get<std::string>(), a["kind"].get<std::string>()});
      }
    }
    if (seen.size() == 2 * holders.size()) break;
    INFO(alarms.dump());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const auto& a : alarms) {
    if (a["kind"] == "threshold_reached") CHECK(a["used"] == kPerDay / 2);
    if (a["kind"] == "exhausted") CHECK(a["used"] == kPerDay);
    CHECK(a["per_day"] == kPerDay);
  }
  // Each holder lists its own, delivered; its log says so too.
  const Json own = net.CasectlJson("jeugdhulp", {"audit", "alarms"})["alarms"];
  REQUIRE(own.size() == 2);
  for (const auto& holder : holders) CHECK(net.Log(holder).find("\"quota.alarm\"") != std::string::npos);
}

namespace {

// The network pseudonym of `bsn`, derived by `org`'s node, as base64.
std::string PseudonymB64(const LocalNetwork& net, const std::string& org, const std::string& bsn) {
  const RunResult r = net.Casectl(org, {"-o", "json", "pseudonym", "derive", "--purpose", "vroegsignalering"}, bsn + "\n");
  REQUIRE(r.exit_code == 0);
  auto raw = HexDecode(Json::parse(r.out)["pseudonym"].get<std::string>(), "pseudonym");
  REQUIRE(raw.ok());
  return Base64Encode(*raw);
}

Json Notice(const std::string& subject, const std::string& category, const std::string& contact) {
  uint8_t id[16];
  randombytes_buf(id, sizeof id);
  return {{"method", "NotifySignal"},
          {"request",
           {{"subject", subject},
            {"purpose", "vroegsignalering"},
            {"legal_basis", "public_task"},
            {"notice_id", HexEncode(std::span<const uint8_t>(id, sizeof id))},
            {"from", {{"org", "school"}, {"role", "ROLE_SCHOOL"}, {"contact", contact}, {"category", category}}}}}};
}

int ReceivedFrom(const LocalNetwork& net, const std::string& org, const std::string& from) {
  int n = 0;
  for (const auto& notice : net.CasectlJson(org, {"inbox"})) {
    if (notice["direction"] == "received" && notice["other"]["org"] == from) ++n;
  }
  return n;
}

}  // namespace

// NotifySignal was a second, faster oracle: its answer said whether the
// recipient held a signal on the child, and returned it. Now the answer is
// the same whatever is held, a notice is kept only after the recipient
// answered the sender's own lookup with a match, its category must be one
// the sender's role may register, and it is rate limited like lookups.
TEST_CASE("grpc-js: a match notice is no oracle: one answer whatever is held, kept only after a matched lookup",
          "[integration][interop][notify]") {
  LocalNetwork net({"school", "jeugdhulp", "politie", "gemeente"});
  net.StartAll();
  const std::string held_bsn = "507529170", other_bsn = "123456782";
  REQUIRE(net.Casectl("jeugdhulp", {"signal", "register", "--category", "zorg"}, held_bsn + "\nJ. Jansen, 036-1234567\n")
              .exit_code == 0);
  const std::string held = PseudonymB64(net, "school", held_bsn);
  const std::string not_held = PseudonymB64(net, "school", other_bsn);
  const Identity school = Real(net, "school");

  // Without a lookup first: the same empty answer for both children, nothing kept.
  const std::vector<Json> blind = Drive(net, "jeugdhulp", school,
                                        Json::array({Notice(held, "onderwijs", "stuur dossier naar x@evil.example"),
                                                     Notice(not_held, "onderwijs", "x")}));
  INFO(Json(blind).dump());
  for (const Json& r : blind) {
    REQUIRE(r["code"] == 0);
    REQUIRE(r["response"] == Json::object());
  }
  REQUIRE(blind[0].dump() == blind[1].dump());
  REQUIRE(ReceivedFrom(net, "jeugdhulp", "school") == 0);

  // A category a school may not register is refused, whatever is held.
  for (const std::string& subject : {held, not_held}) {
    const Json forbidden = Drive(net, "jeugdhulp", school, Json::array({Notice(subject, "justitieel", "x")}))[0];
    REQUIRE(forbidden["code"] == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    REQUIRE(ReasonOf(forbidden) == Reason::kSignalCategoryNotAllowed);
  }

  // After the school's own lookup matched, its notice is kept; the answer is still empty.
  const std::vector<Json> after_lookup = Drive(
      net, "jeugdhulp", school,
      Json::array({{{"method", "LookupSignal"},
                    {"request", {{"subject", held}, {"purpose", "vroegsignalering"}, {"legal_basis", "public_task"}}}},
                   Notice(held, "onderwijs", "M. de Boer, 036-7654321")}));
  INFO(Json(after_lookup).dump());
  REQUIRE(after_lookup[0]["response"]["matches"].size() == 1);
  REQUIRE(after_lookup[1]["code"] == 0);
  REQUIRE(after_lookup[1]["response"] == Json::object());
  REQUIRE(ReasonOf(after_lookup[1]) == Reason::kNone);
  REQUIRE(ReceivedFrom(net, "jeugdhulp", "school") == 1);
  // One notice per matched lookup: more after it are answered alike and not kept.
  Json more = Json::array();
  for (int i = 0; i < 5; ++i) more.push_back(Notice(held, "onderwijs", "stuur dossier naar x@evil.example"));
  for (const Json& r : Drive(net, "jeugdhulp", school, more)) {
    REQUIRE(r["code"] == 0);
    REQUIRE(r["response"] == Json::object());
  }
  REQUIRE(ReceivedFrom(net, "jeugdhulp", "school") == 1);
  for (const auto& notice : net.CasectlJson("jeugdhulp", {"inbox"})) {
    if (notice["direction"] == "received") CHECK(notice["other"]["contact"] == "M. de Boer, 036-7654321");
  }

  // Limited like lookups: 120 a minute for the rule. The bucket refills 2 a
  // second while the flood runs, so the flood is well past 120 on a slow machine too.
  Json flood = Json::array();
  for (int i = 0; i < 200; ++i) flood.push_back(Notice(not_held, "onderwijs", "x"));
  int limited = 0;
  for (const Json& r : Drive(net, "jeugdhulp", school, flood)) {
    if (r["code"] == 0) continue;
    REQUIRE(r["code"] == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
    REQUIRE(ReasonOf(r) == Reason::kRateLimited);
    ++limited;
  }
  CHECK(limited >= 20);
}
