// Network setup (provision): the operator's ceremony, without a process.
#include "provision/network_setup.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "base/file.h"
#include "base/reason.h"
#include "keys/identity.h"
#include "keys/master_key.h"
#include "network/operator.h"
#include "keys/oprf/threshold.h"
#include "keys/oprf_share.h"
#include "keys/x509.h"
#include "node/config/config.h"
#include "policy/policy.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
namespace fs = std::filesystem;

namespace {

provision::NetworkPlan Plan(const std::string& dir, std::vector<std::string> specs) {
  provision::NetworkPlan plan;
  plan.dir = dir;
  plan.network = "test-net";
  plan.base_port = 7300;
  plan.policy_dir = CASENODE_SOURCE_DIR "/policy/network";
  for (const auto& s : specs) plan.orgs.push_back(*provision::ParseOrgSpec(s));
  return plan;
}

const std::vector<std::string> kThree = {"school:school:OBS De Regenboog", "jeugdhulp:jeugdhulp", "gemeente:gemeente"};

}  // namespace

TEST_CASE("org specs: ORG:ROLE[:DISPLAY NAME], with the role and org id checked") {
  auto full = provision::ParseOrgSpec("school:school:OBS De Regenboog");
  REQUIRE(full.ok());
  CHECK(full->org == "school");
  CHECK(full->role == network::Role::ROLE_SCHOOL);
  CHECK(full->name == "OBS De Regenboog");
  auto bare = provision::ParseOrgSpec("wijkteam-2:gemeente");
  REQUIRE(bare.ok());
  CHECK(bare->name == "wijkteam-2");

  CHECK(provision::ParseOrgSpec("school").status().message().find("expected ORG:ROLE") != std::string::npos);
  CHECK(provision::ParseOrgSpec("school:teacher").status().message().find("role \"teacher\"") != std::string::npos);
  CHECK(provision::ParseOrgSpec("School A:school").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(provision::ParseOrgSpec(":school").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a created network: signed manifest, one working directory per node, the policy's hash") {
  TempDir tmp;
  const std::string dir = tmp.path("net");
  const SystemTime now = SystemNow();
  auto created = provision::CreateNetwork(Plan(dir, kThree), now);
  REQUIRE(created.ok());
  CHECK(created->dir == dir);
  REQUIRE(created->nodes.size() == 3);
  CHECK(created->nodes[1].endpoint == "127.0.0.1:7301");

  // The manifest verifies with the operator key the nodes are given.
  auto op_key = network::ReadPublicKeyFile(dir + "/network/operator.pub");
  REQUIRE(op_key.ok());
  auto manifest = network::VerifyManifest(*ReadFile(dir + "/network/manifest.json"),
                                       *ReadFile(dir + "/network/manifest.json.sig"), *op_key, now, "school");
  REQUIRE(manifest.ok());
  CHECK(manifest->version == 1);
  CHECK(manifest->nodes.size() == 3);
  REQUIRE(manifest->oprf_holders.size() == 2);
  CHECK(manifest->oprf_holders[0].org == "jeugdhulp");
  CHECK(manifest->oprf_holders[0].index == 1);
  CHECK(manifest->oprf_holders[1].org == "gemeente");
  CHECK(manifest->oprf_holders[1].index == 2);
  CHECK(manifest->oprf_threshold == 2);
  // Its policy hash is the hash of the policy shipped beside it.
  auto shipped = policy::Policy::Load(dir + "/network/policy");
  REQUIRE(shipped.ok());
  CHECK(manifest->policy_hash == (*shipped)->hash());
  CHECK(created->policy_hash == (*shipped)->hash());

  for (const provision::CreatedNode& n : created->nodes) {
    INFO(n.org);
    auto config = node::NodeConfig::Load(n.config_path);
    REQUIRE(config.ok());
    CHECK(config->org == n.org);
    CHECK(config->peer_listen == n.endpoint);
    // The node's key file is its own, and unseals its identity, whose keys the manifest lists.
    struct stat st {};
    REQUIRE(::stat((dir + "/" + n.org + "/master.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto master = keys::MasterKey::FromKeyFile(dir + "/" + n.org + "/master.key");
    REQUIRE(master.ok());
    auto sealed = ReadFile(dir + "/" + n.org + "/identity.sealed");
    REQUIRE(sealed.ok());
    auto opened = master->Open(keys::kNodeIdentityPurpose, AsBytes(*sealed));
    REQUIRE(opened.ok());
    auto identity = keys::NodeIdentity::Parse(opened->span());
    REQUIRE(identity.ok());
    const network::ManifestNode* entry = manifest->FindOrg(n.org);
    REQUIRE(entry != nullptr);
    CHECK(entry->signing_key == identity->signing.public_key());
    CHECK(entry->encryption_key == identity->encryption_public);
    CHECK(entry->tls_cert_sha256 == *keys::CertificateFingerprint(*ReadFile(dir + "/" + n.org + "/cert.pem")));

    // A key holder's share opens with its own identity only, and matches its commitment.
    const std::string share_file = dir + "/" + n.org + "/oprf-share.sealed";
    if (manifest->FindOprfHolder(n.org) == nullptr) {
      CHECK_FALSE(fs::exists(share_file));
      CHECK(config->oprf_share.empty());
      continue;
    }
    CHECK(config->oprf_share == share_file);
    auto sealed_share = ReadFile(share_file);
    REQUIRE(sealed_share.ok());
    const auto claim = [&](const std::string& org) {
      const network::OprfHolder* holder = manifest->FindOprfHolder(org);
      REQUIRE(holder != nullptr);
      return keys::OprfHolderClaim{manifest->network, holder->index, holder->commitment};
    };
    auto share = keys::OpenOprfShare(AsBytes(*sealed_share), *identity, claim(n.org));
    REQUIRE(share.ok());
    CHECK(share->index == manifest->FindOprfHolder(n.org)->index);
    const std::string other = n.org == "jeugdhulp" ? "gemeente" : "jeugdhulp";
    CHECK(ReasonOf(keys::OpenOprfShare(AsBytes(*sealed_share), *identity, claim(other)).status()) ==
          Reason::kOprfShareInvalid);
  }

  // The shares are a t-of-n sharing of the key behind the manifest's public key.
  std::vector<oprf::HolderIndex> both = {1, 2};
  oprf::PublicShares published{manifest->oprf_threshold, manifest->oprf_public_key, {}};
  for (const auto& h : manifest->oprf_holders) published.commitments.push_back(h.commitment);
  CHECK(oprf::HolderSet::New(published, both).ok());
}

TEST_CASE("a bad plan is refused before anything is written") {
  TempDir tmp;
  const std::string dir = tmp.path("net");
  auto expect_refused = [&](const provision::NetworkPlan& plan, std::string_view words) {
    auto created = provision::CreateNetwork(plan, SystemNow());
    REQUIRE_FALSE(created.ok());
    CHECK(std::string(created.status().message()).find(words) != std::string::npos);
    CHECK_FALSE(fs::exists(dir));
  };
  expect_refused(Plan(dir, {"school:school", "school:gemeente"}), "listed twice");
  expect_refused(Plan(dir, {}), "at least one organisation");
  provision::NetworkPlan ports = Plan(dir, kThree);
  ports.base_port = 65534;
  expect_refused(ports, "ports within");
  provision::NetworkPlan same = Plan(dir, kThree);
  same.node_passphrase = keys::SecretBytes::CopyFrom(AsBytes("one secret for all"));
  same.node_passphrase_env = "NODE_PASS";
  same.operator_passphrase = keys::SecretBytes::CopyFrom(AsBytes("one secret for all"));
  expect_refused(same, "must differ");
  provision::NetworkPlan alone = Plan(dir, kThree);
  alone.oprf_threshold = 1;  // one organisation could derive pseudonyms alone
  expect_refused(alone, "at least 2");
  provision::NetworkPlan too_high = Plan(dir, kThree);
  too_high.oprf_threshold = 3;  // two holders can never reach it
  expect_refused(too_high, "only 2 key holders");
  provision::NetworkPlan bad_policy = Plan(dir, kThree);
  bad_policy.policy_dir = tmp.path("no-such-policy");
  expect_refused(bad_policy, "network policy");
  // A policy every node would refuse (it lacks an action the code uses).
  TempDir lacking;
  for (const auto& f : fs::directory_iterator(CASENODE_SOURCE_DIR "/policy/network")) {
    if (f.path().extension() != ".toml") continue;
    auto text = ReadFile(f.path().string());
    REQUIRE(text.ok());
    const std::string rule = "\"case.read\"";
    for (size_t at; (at = text->find(rule)) != std::string::npos;) text->replace(at, rule.size(), "\"case.lezen\"");
    REQUIRE(WriteFileAtomic(lacking.path(f.path().filename().string()), *text, 0600).ok());
  }
  provision::NetworkPlan old_words = Plan(dir, kThree);
  old_words.policy_dir = lacking.root();
  expect_refused(old_words, "action \"case.read\"");

  // A directory in use is never written into.
  TempDir used;
  REQUIRE(WriteFileAtomic(used.path("keep.txt"), "x", 0600).ok());
  auto refused = provision::CreateNetwork(Plan(used.root(), kThree), SystemNow());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(fs::exists(used.path("network")));
}

TEST_CASE("nodes' keys sealed with a passphrase: no key file, the config names the variable") {
  TempDir tmp;
  provision::NetworkPlan plan = Plan(tmp.path("net"), {"school:school"});
  plan.node_passphrase = keys::SecretBytes::CopyFrom(AsBytes("node passphrase"));
  plan.node_passphrase_env = "NODE_PASS";
  plan.operator_passphrase = keys::SecretBytes::CopyFrom(AsBytes("operator passphrase"));
  plan.argon2_opslimit = 1;
  plan.argon2_memlimit_kib = 8 * 1024;
  auto created = provision::CreateNetwork(plan, SystemNow());
  REQUIRE(created.ok());
  CHECK_FALSE(fs::exists(tmp.path("net/school/master.key")));
  CHECK(created->oprf_holders == 0);  // a network without 2 holders has no pseudonym key
  CHECK_FALSE(fs::exists(tmp.path("net/school/oprf-share.sealed")));
  CHECK_FALSE(fs::exists(tmp.path("net/network/operator.master.key")));
  auto config = node::NodeConfig::Load(created->nodes[0].config_path);
  REQUIRE(config.ok());
  CHECK(config->master_key == "passphrase-env:NODE_PASS");
  auto unlocked = keys::MasterKey::FromPassphrase(
      plan.node_passphrase, *keys::ReadSealedHeader(AsBytes(*ReadFile(tmp.path("net/school/identity.sealed")))));
  REQUIRE(unlocked.ok());
  CHECK(unlocked->Open(keys::kNodeIdentityPurpose, AsBytes(*ReadFile(tmp.path("net/school/identity.sealed")))).ok());
}

TEST_CASE("removing an org publishes the next version without it, as a node and as a key holder") {
  TempDir tmp;
  const std::string dir = tmp.path("net");
  provision::NetworkPlan plan = Plan(dir, {"school:school", "jeugdhulp:jeugdhulp", "politie:politie", "gemeente:gemeente"});
  REQUIRE(provision::CreateNetwork(plan, SystemNow()).ok());
  auto version = provision::RemoveOrg(dir, "jeugdhulp", "", SystemNow());
  REQUIRE(version.ok());
  CHECK(*version == 2);
  auto op = network::NetworkOperator::Open(dir + "/network");
  REQUIRE(op.ok());
  auto m = op->Current();
  REQUIRE(m.ok());
  CHECK(m->version == 2);
  CHECK(m->FindOrg("jeugdhulp") == nullptr);
  // The others keep their indices, and the threshold (the sharing's degree) stays.
  REQUIRE(m->oprf_holders.size() == 2);
  CHECK(m->FindOprfHolder("politie")->index == 2);
  CHECK(m->FindOprfHolder("gemeente")->index == 3);
  CHECK(m->oprf_threshold == 2);

  auto unknown = provision::RemoveOrg(dir, "jeugdhulp", "", SystemNow());
  CHECK(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  // Below t holders no pseudonym could be derived again: refused.
  auto too_few = provision::RemoveOrg(dir, "politie", "", SystemNow());
  CHECK(too_few.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(too_few.status().message().find("fewer than the threshold") != std::string::npos);
  CHECK(op->Current()->version == 2);                            // nothing published
  CHECK(provision::RemoveOrg(dir, "school", "", SystemNow()).ok());  // not a holder: fine
}

TEST_CASE("a renewal's second step interrupted after publishing is finished by running it again") {
  TempDir dir;
  const SystemTime now = SystemNow();
  const std::string net = dir.path("net");
  REQUIRE(provision::CreateNetwork(Plan(net, kThree), now).ok());
  const std::string org = "gemeente";
  const std::string cert = net + "/" + org + "/cert.pem", next = net + "/" + org + "/cert.next.pem";
  const std::string old_pem = *ReadFile(cert);
  REQUIRE(*provision::RenewCertificate(net, org, "", now, 30) == 2);
  const std::string new_pem = *ReadFile(next);
  REQUIRE(*provision::FinishRenewal(net, org, "", now) == 3);
  // As if the process had died between publishing version 3 and the move.
  fs::rename(cert, next);
  REQUIRE(WriteFileAtomic(cert, old_pem, 0644).ok());
  auto again = provision::FinishRenewal(net, org, "", now);
  REQUIRE(again.ok());
  REQUIRE(*again == 3);  // nothing published twice
  REQUIRE(*ReadFile(cert) == new_pem);
  REQUIRE_FALSE(fs::exists(next));
  auto m = network::ParseManifest(*ReadFile(net + "/network/manifest.json"));
  REQUIRE(m->FindOrg(org)->tls_cert_sha256 == *keys::CertificateFingerprint(new_pem));
  REQUIRE(m->FindOrg(org)->tls_cert_sha256_also == *keys::CertificateFingerprint(old_pem));
}

TEST_CASE("two operator commands on one network do not run at once") {
  TempDir dir;
  const SystemTime now = SystemNow();
  const std::string net = dir.path("net");
  REQUIRE(provision::CreateNetwork(Plan(net, kThree), now).ok());
  const std::string manifest = *ReadFile(net + "/network/manifest.json");
  {
    auto held = FileLock::TryAcquire(net + "/network/operator.lock");  // as another casectl would
    REQUIRE(held.ok());
    for (auto result : {provision::RenewCertificate(net, "gemeente", "", now, 30), provision::FinishRenewal(net, "gemeente", "", now),
                        provision::RemoveOrg(net, "school", "", now)}) {
      REQUIRE(result.status().code() == absl::StatusCode::kUnavailable);
      REQUIRE(result.status().message().find("held by another process") != std::string::npos);
    }
    REQUIRE(*ReadFile(net + "/network/manifest.json") == manifest);
    REQUIRE_FALSE(fs::exists(net + "/gemeente/cert.next.pem"));
  }
  REQUIRE(provision::RenewCertificate(net, "gemeente", "", now, 30).ok());  // released with its holder
}
