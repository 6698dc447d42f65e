// Integration: real nodes decide every Peer call with their policy.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "base/file.h"
#include "casenode/v1/types.pb.h"
#include "store/key_store.h"
#include "store/store.h"
#include "tests/support/local_network.h"
#include "tests/support/node_files.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::RunResult;
using casenode::testing::StoredDecisions;

namespace {

const std::string kNoPingFromSchool = R"(
# Lokale regel: deze node antwoordt de school niet op pings.
[[rule]]
id = "lokaal-geen-ping-van-school"
effect = "deny"
orgs = ["school"]
actions = ["node.ping"]
purposes = ["netwerkbeheer"]
)";

const std::string kWidening = R"(
[[rule]]
id = "lokaal-meer"
effect = "allow"
roles = ["school"]
actions = ["case.read"]
purposes = ["casusoverleg"]
)";

void UseLocalRules(const LocalNetwork& net, const std::string& org, const std::string& rules) {
  REQUIRE(WriteFileAtomic(net.NodeDir(org) + "/local-policy.toml", rules, 0644).ok());
  std::string config = *ReadFile(net.NodeDir(org) + "/casenode.toml");
  const std::string from = "local = []";
  REQUIRE(config.find(from) != std::string::npos);
  config.replace(config.find(from), from.size(), "local = ['local-policy.toml']");
  REQUIRE(WriteFileAtomic(net.NodeDir(org) + "/casenode.toml", config, 0644).ok());
}


}  // namespace

TEST_CASE("a node denies a Peer call its local rule excludes, before the handler, and records it", "[integration][policy]") {
  LocalNetwork net({"school", "jeugdhulp", "gemeente"});
  UseLocalRules(net, "gemeente", kNoPingFromSchool);
  net.Start("gemeente");
  net.Start("school");
  net.Start("jeugdhulp");

  const auto denied = net.CasectlJson("school", {"node", "ping", "gemeente"});
  REQUIRE(denied["reachable"] == false);
  REQUIRE(denied["error"] == "PERMISSION_DENIED: DENIED_BY_RULE");
  REQUIRE(net.CasectlJson("jeugdhulp", {"node", "ping", "gemeente"})["reachable"] == true);
  REQUIRE(net.CasectlJson("gemeente", {"node", "ping", "school"})["reachable"] == true);

  const auto shown = net.CasectlJson("gemeente", {"policy", "show"});
  REQUIRE(shown["local_files"].size() == 1);
  REQUIRE(shown["policy_hash"] != shown["network_policy_hash"]);

  net.process("gemeente").Signal(SIGTERM);
  REQUIRE(net.process("gemeente").Wait(std::chrono::seconds(15)) == 0);
  const auto decisions = StoredDecisions(net, "gemeente");
  bool saw_denial = false, saw_allow = false;
  for (const auto& d : decisions) {
    if (d.requester_org() == "school" && !d.allowed()) {
      saw_denial = true;
      REQUIRE(d.rule_id() == "lokaal-geen-ping-van-school");
      REQUIRE(d.reason() == "DENIED_BY_RULE");
      REQUIRE(d.action() == "node.ping");
      REQUIRE(d.policy_hash() == shown["policy_hash"]);
      REQUIRE(d.request_digest().size() == 64);
      REQUIRE(d.trace_id().size() == 32);
    }
    if (d.requester_org() == "jeugdhulp" && d.allowed()) saw_allow = d.rule_id() == "netwerk-ping";
  }
  REQUIRE(saw_denial);
  REQUIRE(saw_allow);
}

TEST_CASE("a node refuses to start with a policy that lacks a purpose the code uses, naming it",
          "[integration][policy]") {
  // A network policy without the "netwerkbeheer" purpose: every ping would
  // name an unknown purpose, so neither the operator nor a node accepts it.
  std::string vocab = *ReadFile(CASENODE_SOURCE_DIR "/policy/network/00-vocabulary.toml");
  vocab.replace(vocab.find("\"netwerkbeheer\","), 16, "");
  SECTION("network init refuses it before writing anything") {
    TempDir custom;
    const std::string dir = custom.path("policy");
    std::filesystem::create_directories(dir);
    REQUIRE(WriteFileAtomic(dir + "/00-vocabulary.toml", vocab, 0644).ok());
    RunResult init = testing::Run({testing::CasectlBin(), "network", "init", custom.path("net"), "--org=school:school",
                                   "--org=gemeente:gemeente", "--policy", dir});
    INFO(init.err);
    CHECK(init.exit_code != 0);
    CHECK(init.err.find("network policy: the policy's vocabulary lacks the purpose \"netwerkbeheer\"") !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(custom.path("net")));
  }
  SECTION("a node whose network policy files lose it refuses to start, before comparing hashes") {
    LocalNetwork net({"school", "gemeente"});
    // Only the vocabulary: the rules that name the purpose go with it.
    for (const auto& f : std::filesystem::directory_iterator(net.dir() + "/network/policy")) {
      if (f.path().extension() == ".toml") std::filesystem::remove(f.path());
    }
    REQUIRE(WriteFileAtomic(net.dir() + "/network/policy/00-vocabulary.toml", vocab, 0644).ok());
    RunResult check = testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--check-config"},
                                   net.NodeDir("gemeente"));
    INFO(check.err);
    REQUIRE(check.exit_code == 2);
    REQUIRE(check.err.find("policy.network: the policy's vocabulary lacks the purpose \"netwerkbeheer\"") !=
            std::string::npos);
    REQUIRE(check.err.find("POLICY_LACKS_VOCABULARY") != std::string::npos);
  }
}

TEST_CASE("a node refuses to start with a local rule that would widen access", "[integration][policy]") {
  LocalNetwork net({"school", "gemeente"});
  UseLocalRules(net, "gemeente", kWidening);
  RunResult check = testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--check-config"},
                                 net.NodeDir("gemeente"));
  REQUIRE(check.exit_code == 2);
  REQUIRE(check.err.find("policy.local: ") != std::string::npos);
  REQUIRE(check.err.find("local-policy.toml:4: rule \"lokaal-meer\": a local rule may only deny") != std::string::npos);
}

TEST_CASE("a running node keeps its policy when a reload finds a broken local rule file", "[integration][policy]") {
  LocalNetwork net({"school", "gemeente"});
  UseLocalRules(net, "gemeente", kNoPingFromSchool);
  net.Start("gemeente");
  const std::string before = net.CasectlJson("gemeente", {"policy", "show"})["policy_hash"];
  REQUIRE(WriteFileAtomic(net.NodeDir("gemeente") + "/local-policy.toml", kWidening, 0644).ok());
  RunResult reload = net.Casectl("gemeente", {"policy", "reload"});
  REQUIRE(reload.exit_code == 1);
  REQUIRE(reload.err.find("a local rule may only deny") != std::string::npos);
  REQUIRE(net.CasectlJson("gemeente", {"policy", "show"})["policy_hash"] == before);
  net.Start("school");
  REQUIRE(net.CasectlJson("school", {"node", "ping", "gemeente"})["error"] == "PERMISSION_DENIED: DENIED_BY_RULE");
}

TEST_CASE("a node refuses to start with a network policy that is not the manifest's", "[integration][policy]") {
  LocalNetwork net({"school", "gemeente"});
  const std::string file = net.dir() + "/network/policy/20-signalen.toml";
  std::string text = *ReadFile(file);
  text.replace(text.find("rate_limit_per_minute = 120"), 27, "rate_limit_per_minute = 9999");
  REQUIRE(WriteFileAtomic(file, text, 0644).ok());
  RunResult r = testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--check-config"},
                             net.NodeDir("school"));
  REQUIRE(r.exit_code == 2);
  REQUIRE(r.err.find("is not the one the manifest lists") != std::string::npos);
}
