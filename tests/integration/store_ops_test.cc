// Integration: backup, restore and key rotation through casectl and casenode.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/local_network.h"
#include "tests/support/node_files.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::RunResult;

TEST_CASE("a backup is written by the node, refused over an existing directory, and restores", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("school");
  const std::string backup = net.dir() + "/school-backup";
  const auto made = net.CasectlJson("school", {"node", "backup", backup});
  REQUIRE(made["dir"] == backup);
  REQUIRE(std::filesystem::exists(backup + "/CURRENT"));
  RunResult again = net.Casectl("school", {"node", "backup", backup});
  REQUIRE(again.exit_code == 1);
  REQUIRE(again.err.find("already exists") != std::string::npos);

  net.process("school").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(15)) == 0);
  const auto restore = [&] {
    return testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--restore", backup},
                        net.NodeDir("school"));
  };
  RunResult refused = restore();
  REQUIRE(refused.exit_code == 2);
  REQUIRE(refused.err.find("exists; stop the node and move it aside") != std::string::npos);

  std::filesystem::rename(net.NodeDir("school") + "/data/records", net.NodeDir("school") + "/data/records.old");
  RunResult restored = restore();
  INFO(restored.err);
  REQUIRE(restored.exit_code == 0);
  REQUIRE(restored.out.find("records restored") != std::string::npos);
  net.Start("school");
  REQUIRE(net.CasectlJson("school", {"node", "sweep"})["expired"] == 0);
}

TEST_CASE("keys rotate makes a new KEK that the node opens after a restart", "[integration]") {
  LocalNetwork net({"school", "gemeente"});
  net.Start("school");
  REQUIRE(net.CasectlJson("school", {"keys", "rotate"})["kek_id"] == 2);
  REQUIRE(net.CasectlJson("school", {"keys", "rotate"})["kek_id"] == 3);
  net.process("school").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(15)) == 0);
  RunResult check = testing::Run({testing::CasenodeBin(), "--config", "casenode.toml", "--check-config"},
                                 net.NodeDir("school"));
  INFO(check.err);
  REQUIRE(check.exit_code == 0);
  // Each rotation is in the audit log, with the new KEK's number and nothing of any key.
  std::vector<uint32_t> rotated;
  for (const v1::AuditEntry& e : testing::StoredEntries(net, "school")) {
    if (e.has_key() && e.key().kind() == v1::KeyEvent::KEK_ROTATED) rotated.push_back(e.key().kek_id());
  }
  REQUIRE(rotated == std::vector<uint32_t>{2, 3});
}
