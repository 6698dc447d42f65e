// Integration: the daemon refuses to start on bad configuration or key
// material, with a specific message and exit code 2, and changes nothing.
#include <sys/stat.h>
#include <unistd.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include <filesystem>

#include "base/file.h"
#include "keys/master_key.h"
#include "network/operator.h"
#include "tests/support/local_network.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::RunResult;

namespace {

RunResult CheckConfig(const LocalNetwork& net, const std::string& org, const std::vector<std::string>& env = {}) {
  return testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--check-config"}, net.NodeDir(org), env);
}

void Edit(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = *ReadFile(path);
  REQUIRE(text.find(from) != std::string::npos);
  text.replace(text.find(from), from.size(), to);
  REQUIRE(WriteFileAtomic(path, text, 0644).ok());
}

}  // namespace

TEST_CASE("a well-formed node passes --check-config", "[startup]") {
  LocalNetwork net({"school", "gemeente"});
  RunResult r = CheckConfig(net, "school");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("configuration ok (org school, manifest version 1)") != std::string::npos);
}

namespace {

// Every file under `dir` with its size and modification time.
std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> Tree(const std::string& dir) {
  std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[e.path().string()] = {e.file_size(), e.last_write_time()};
  }
  return out;
}

}  // namespace

TEST_CASE("casenode --check-config writes nothing, on a new node or an existing one", "[startup]") {
  LocalNetwork net({"school", "gemeente"});
  const std::string data = net.NodeDir("school") + "/data";
  REQUIRE(CheckConfig(net, "school").exit_code == 0);
  REQUIRE_FALSE(std::filesystem::exists(data + "/keys"));  // the stores are made at the first start
  net.Start("school");
  net.process("school").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(15)) == 0);
  const auto before = Tree(data);
  REQUIRE_FALSE(before.empty());
  REQUIRE(CheckConfig(net, "school").exit_code == 0);
  REQUIRE(Tree(data) == before);
}

TEST_CASE("startup errors each give their specific message and exit code 2", "[startup]") {
  LocalNetwork net({"school", "gemeente"});
  const std::string config = net.NodeDir("school") + "/casenode.toml";

  SECTION("missing config file") {
    RunResult r = testing::Run({testing::CasenodeBin(), "--config", "/nonexistent.toml"});
    REQUIRE(r.exit_code == 2);
    REQUIRE(r.err.find("casenode: cannot open /nonexistent.toml") != std::string::npos);
  }
  SECTION("unknown key") {
    Edit(config, "[peer]\n", "[peer]\nbind = '0.0.0.0'\n");
    RunResult r = CheckConfig(net, "school");
    REQUIRE(r.exit_code == 2);
    REQUIRE(r.err.find("unknown key \"bind\" in [peer]") != std::string::npos);
  }
  SECTION("bad port") {
    Edit(config, "listen = '127.0.0.1:", "listen = '127.0.0.1:7x");
    RunResult r = CheckConfig(net, "school");
    REQUIRE(r.exit_code == 2);
    REQUIRE(r.err.find("peer.listen: port") != std::string::npos);
  }
  SECTION("unreadable key file") {
    ::chmod((net.NodeDir("school") + "/master.key").c_str(), 0644);
    RunResult r = CheckConfig(net, "school");
    REQUIRE(r.exit_code == 2);
    REQUIRE(r.err.find("keys.master_key:") != std::string::npos);
    REQUIRE(r.err.find("permissions too open") != std::string::npos);
  }
  SECTION("missing identity file") {
    Edit(config, "identity = 'identity.sealed'", "identity = 'nope.sealed'");
    RunResult r = CheckConfig(net, "school");
    REQUIRE(r.exit_code == 2);
    REQUIRE(r.err.find("keys.identity: cannot open") != std::string::npos);
  }
  SECTION("another node's certificate") {
    Edit(config, "tls_cert = 'cert.pem'", "tls_cert = '../gemeente/cert.pem'");
    RunResult r = CheckConfig(net, "school");
    REQUIRE(r.exit_code == 2);
    REQUIRE(r.err.find("not one the manifest lists") != std::string::npos);
  }
  SECTION("tampered manifest") {
    Edit(net.dir() + "/network/manifest.json", "\"version\": 1", "\"version\": 7");
    RunResult r = CheckConfig(net, "school");
    REQUIRE(r.exit_code == 2);
    REQUIRE(r.err.find("network.manifest: manifest: signature does not verify") != std::string::npos);
  }
}

TEST_CASE("a wrong passphrase is refused with a clear message and changes nothing", "[startup]") {
  ::setenv("CASENODE_TEST_PASS", "the right passphrase", 1);  // inherited by casectl network init
  LocalNetwork net({"school", "gemeente"}, {"--passphrase-env", "CASENODE_TEST_PASS"});
  REQUIRE(CheckConfig(net, "school").exit_code == 0);
  const std::string sealed_before = *ReadFile(net.NodeDir("school") + "/identity.sealed");
  RunResult wrong = CheckConfig(net, "school", {"CASENODE_TEST_PASS=canary-Wr0ng-passphrase"});
  // Not a configuration error: the node cannot run with the key it was given.
  REQUIRE(wrong.exit_code == 1);
  REQUIRE(wrong.err.find("wrong master key or passphrase") != std::string::npos);
  REQUIRE(wrong.err.find("(WRONG_MASTER_KEY)") != std::string::npos);
  REQUIRE(wrong.err.find("canary-Wr0ng") == std::string::npos);
  REQUIRE(*ReadFile(net.NodeDir("school") + "/identity.sealed") == sealed_before);
  RunResult missing = CheckConfig(net, "school", {"CASENODE_TEST_PASS="});
  REQUIRE(missing.exit_code == 2);
  REQUIRE(missing.err.find("CASENODE_TEST_PASS is not set") != std::string::npos);
}

TEST_CASE("network init seals the operator's keys with a passphrase of their own, never the nodes'",
          "[startup][passphrase]") {
  ::setenv("CASENODE_TEST_PASS", "the operator passphrase", 1);  // inherited by casectl
  ::setenv("CASENODE_TEST_NODE_PASS", "the nodes' passphrase", 1);
  // The nodes' passphrase is known to every organisation's IT: it may not also guard the CA.
  RunResult same = testing::Run({testing::CasectlBin(), "network", "init", TempDir().path("x"), "--passphrase-env",
                                 "CASENODE_TEST_NODE_PASS", "--operator-passphrase-env", "CASENODE_TEST_NODE_PASS"});
  REQUIRE(same.exit_code == 2);
  REQUIRE(same.err.find("--operator-passphrase-env") != std::string::npos);
  LocalNetwork net({"school", "gemeente"}, {"--passphrase-env", "CASENODE_TEST_NODE_PASS", "--operator-passphrase-env",
                                           "CASENODE_TEST_PASS"});
  const std::string op_dir = net.dir() + "/network";
  // No key file anywhere: an operator.master.key beside the sealed CA key would
  // protect nothing.
  REQUIRE_FALSE(std::filesystem::exists(op_dir + "/operator.master.key"));
  REQUIRE_FALSE(std::filesystem::exists(net.NodeDir("school") + "/master.key"));
  for (const std::string f : {"ca.key.sealed", "operator.key.sealed"}) {
    auto header = keys::ReadSealedHeader(AsBytes(*ReadFile(op_dir + "/" + f)));
    INFO(f);
    REQUIRE(header.ok());
    REQUIRE(header->kind == keys::KdfKind::kArgon2id);
  }

  // network remove needs the passphrase, and says how to give it.
  RunResult without = testing::Run({testing::CasectlBin(), "network", "remove", net.dir(), "school"});
  REQUIRE(without.exit_code == 2);
  REQUIRE(without.err.find("--operator-passphrase-env") != std::string::npos);
  // The nodes' passphrase does not open the operator's keys.
  RunResult nodes = testing::Run({testing::CasectlBin(), "network", "remove", net.dir(), "school",
                                  "--operator-passphrase-env", "CASENODE_TEST_NODE_PASS"});
  REQUIRE(nodes.exit_code != 0);
  REQUIRE(nodes.err.find("wrong master key or passphrase") != std::string::npos);
  RunResult wrong = testing::Run({testing::CasectlBin(), "network", "remove", net.dir(), "school",
                                  "--operator-passphrase-env", "CASENODE_TEST_PASS"},
                                 "", {"CASENODE_TEST_PASS=canary-Wr0ng-operator"});
  REQUIRE(wrong.exit_code != 0);
  REQUIRE(wrong.err.find("wrong master key or passphrase") != std::string::npos);
  RunResult right = testing::Run({testing::CasectlBin(), "network", "remove", net.dir(), "school",
                                  "--operator-passphrase-env", "CASENODE_TEST_PASS"});
  INFO(right.err);
  REQUIRE(right.exit_code == 0);

  auto op = network::NetworkOperator::Open(op_dir, "passphrase-env:CASENODE_TEST_PASS");
  REQUIRE(op.ok());
  REQUIRE(op->Current()->version == 2);
}

TEST_CASE("a node run as another user than the owner of its data refuses to start, naming both", "[startup]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("school");  // makes data_dir
  net.process("school").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(15)) == 0);
  const std::string data = net.NodeDir("school") + "/data";
  struct stat st {};
  REQUIRE(::stat(data.c_str(), &st) == 0);
  // Seen from the node, its data now belongs to someone else (as root restoring
  // a service user's node would find it, the other way round).
  REQUIRE(::chown(data.c_str(), st.st_uid + 4242, st.st_gid) == 0);
  const RunResult r = CheckConfig(net, "school");
  REQUIRE(::chown(data.c_str(), st.st_uid, st.st_gid) == 0);
  INFO(r.err);
  REQUIRE(r.exit_code == 2);
  REQUIRE(r.err.find("belongs to uid " + std::to_string(st.st_uid + 4242)) != std::string::npos);
  REQUIRE(r.err.find("systemd-run --uid=casenode") != std::string::npos);
  REQUIRE(CheckConfig(net, "school").exit_code == 0);
}
