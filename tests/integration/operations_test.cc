// Integration: running casenode as operators do. The systemd unit as
// systemd-analyze judges it, the notify protocol (READY, WATCHDOG,
// RELOADING, STOPPING) read from a NOTIFY_SOCKET this test listens on, and
// the health probe.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include "base/file.h"
#include "node/config/config.h"
#include <httplib.h>

#include "tests/support/local_network.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using casenode::testing::LocalNetwork;
using casenode::testing::Process;
using casenode::testing::Run;
using casenode::testing::RunResult;

namespace {

// The units as shipped, but starting the binaries under test (systemd-analyze
// verify checks that ExecStart= names an executable), in one directory.
std::string UnitsUnderTest(const TempDir& tmp) {
  const std::string dir = tmp.path("units");
  std::filesystem::create_directories(dir);
  for (const std::string name : {"casenode.service", "casenode-backup.service", "casenode-backup.timer"}) {
    std::string unit = *ReadFile(CASENODE_SOURCE_DIR "/deploy/systemd/" + name);
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"/usr/bin/casenode ", testing::CasenodeBin() + " "},
                                   {"/usr/bin/casectl ", testing::CasectlBin() + " "}}) {
      if (unit.find(from) != std::string::npos) unit.replace(unit.find(from), from.size(), to);
    }
    REQUIRE(WriteFileAtomic(dir + "/" + name, unit, 0644).ok());
  }
  return dir;
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // Reads messages until one contains `line` (each message is lines of
  // KEY=VALUE); fails after `timeout`. Returns what it read.
  std::string WaitFor(const std::string& line, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) FAIL("no " << line << " on the notify socket; read: " << seen);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      const std::string msg(buf, static_cast<size_t>(n));
      seen += msg + "|";
      if (("\n" + msg + "\n").find("\n" + line + "\n") != std::string::npos) return seen;
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("the systemd units verify without a warning and are hardened to an exposure of 2.0 or better",
          "[integration][systemd]") {
  TempDir tmp;
  const std::string dir = UnitsUnderTest(tmp);
  const RunResult verify = Run({"/usr/bin/systemd-analyze", "verify", "--man=no", dir + "/casenode-backup.timer",
                                dir + "/casenode-backup.service", dir + "/casenode.service"});
  INFO(verify.out << verify.err);
  REQUIRE(verify.exit_code == 0);
  REQUIRE(verify.err.empty());  // a misspelt key only warns
  for (const std::string unit : {"casenode.service", "casenode-backup.service"}) {
    const RunResult security =
        Run({"/usr/bin/systemd-analyze", "security", "--offline=true", "--threshold=20", dir + "/" + unit});
    INFO(security.out << security.err);
    REQUIRE(security.exit_code == 0);
    REQUIRE(security.out.find("Overall exposure level for " + unit) != std::string::npos);
  }
}

TEST_CASE("the daemon speaks the notify protocol: ready, a watchdog fed while healthy, reloading, stopping",
          "[integration][systemd]") {
  LocalNetwork net({"school"});
  TempDir tmp;
  NotifySocket notify(tmp.path("notify.sock"));
  Process node({testing::CasenodeBin(), "--config", "casenode.toml"}, net.NodeDir("school"),
               net.NodeDir("school") + "/stdout.log", net.NodeDir("school") + "/casenode.log",
               {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=400000"});
  notify.WaitFor("READY=1");
  // Fed every 0.2 s: three in well under the 20 s allowed.
  for (int i = 0; i < 3; ++i) notify.WaitFor("WATCHDOG=1");
  node.Signal(SIGHUP);
  notify.WaitFor("RELOADING=1");
  notify.WaitFor("READY=1");
  notify.WaitFor("WATCHDOG=1");
  node.Signal(SIGTERM);
  notify.WaitFor("STOPPING=1");
  REQUIRE(node.Wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("casectl node health says SERVING with exit 0 while the node runs, and fails once it is gone",
          "[integration][ops]") {
  LocalNetwork net({"school"});
  net.Start("school");
  const RunResult up = net.Casectl("school", {"node", "health"});
  INFO(up.out << up.err);
  REQUIRE(up.exit_code == 0);
  REQUIRE(up.out == "SERVING\n");
  REQUIRE(net.CasectlJson("school", {"node", "health"})["status"] == "SERVING");
  net.process("school").Signal(SIGTERM);
  REQUIRE(net.process("school").Wait(std::chrono::seconds(20)) == 0);
  const RunResult down = net.Casectl("school", {"--timeout-ms", "1000", "node", "health"});
  INFO(down.out << down.err);
  REQUIRE(down.exit_code != 0);
  REQUIRE(down.out.empty());
  REQUIRE(down.err.find("the node does not answer on its Local socket") != std::string::npos);
}

TEST_CASE("scheduled backups keep the newest N, and a restore drill brings back every acknowledged record",
          "[integration][ops]") {
  LocalNetwork net({"jeugdhulp"});
  net.Start("jeugdhulp");
  const std::string parent = net.NodeDir("jeugdhulp") + "/data/backups";
  std::filesystem::create_directories(parent + "/notes");  // not a backup: never touched
  auto record = [&] {
    const auto entry = net.CasectlJson(
        "jeugdhulp", {"consent", "record", "--subject", std::string(64, 'c'), "--consenter", "parent",
                      "--birth-date", "2016-03-01", "--purpose", "casusoverleg", "--category", "zorg",
                      "--recipient-role", "gemeente", "--recorded-by", "staff-7f3a"});
    const std::string id = entry["receipt"]["receipt_id"];
    REQUIRE(id.size() == 32);
    return id;
  };
  std::vector<std::string> acknowledged;
  std::vector<std::string> made;
  for (int i = 0; i < 3; ++i) {
    acknowledged.push_back(record());
    const auto backup = net.CasectlJson("jeugdhulp", {"node", "backup", "--into", parent, "--keep", "2"});
    made.push_back(backup["dir"]);
  }
  std::vector<std::string> kept;
  for (const auto& e : std::filesystem::directory_iterator(parent)) kept.push_back(e.path().string());
  std::sort(kept.begin(), kept.end());
  REQUIRE(kept == std::vector<std::string>{made[1], made[2], parent + "/notes"});

  // After the clock went back, the backup just made sorts oldest: it is kept all the same.
  std::filesystem::create_directories(parent + "/casenode-29991231T235959.999Z");
  const RunResult skewed = net.Casectl("jeugdhulp", {"-o", "json", "node", "backup", "--into", parent, "--keep", "2"});
  INFO(skewed.err);
  REQUIRE(skewed.exit_code == 0);
  REQUIRE(skewed.err.find("has the clock gone back?") != std::string::npos);
  const std::string newest = nlohmann::json::parse(skewed.out)["dir"];
  REQUIRE(std::filesystem::exists(newest));
  REQUIRE(std::filesystem::exists(parent + "/casenode-29991231T235959.999Z"));
  REQUIRE_FALSE(std::filesystem::exists(made[1]));
  std::filesystem::remove_all(parent + "/casenode-29991231T235959.999Z");
  made.push_back(newest);

  // Usage errors name what is wrong and write nothing.
  const RunResult both = net.Casectl("jeugdhulp", {"node", "backup", parent + "/x", "--into", parent});
  REQUIRE(both.exit_code == 2);
  const RunResult keep_alone = net.Casectl("jeugdhulp", {"node", "backup", parent + "/y", "--keep", "2"});
  REQUIRE(keep_alone.exit_code == 2);
  REQUIRE(keep_alone.err.find("--keep") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(parent + "/x"));
  REQUIRE_FALSE(std::filesystem::exists(parent + "/y"));

  // The drill: the store is lost; the newest backup brings back every
  // receipt acknowledged before it.
  net.process("jeugdhulp").Signal(SIGTERM);
  REQUIRE(net.process("jeugdhulp").Wait(std::chrono::seconds(15)) == 0);
  std::filesystem::rename(net.NodeDir("jeugdhulp") + "/data/records", net.NodeDir("jeugdhulp") + "/records.lost");
  const RunResult restored =
      Run({testing::CasenodeBin(), "--config", "casenode.toml", "--restore", made.back()}, net.NodeDir("jeugdhulp"));
  INFO(restored.err);
  REQUIRE(restored.exit_code == 0);
  net.Start("jeugdhulp");
  for (const std::string& id : acknowledged) {
    INFO(id);
    REQUIRE(net.CasectlJson("jeugdhulp", {"consent", "show", id})["receipt"]["receipt_id"] == id);
  }
}

TEST_CASE("the metrics listener serves Prometheus text that promtool accepts, counting calls and decisions and "
          "naming no one",
          "[integration][ops][metrics]") {
  LocalNetwork net({"school", "jeugdhulp"});
  auto port = testing::PortBlock::Reserve(1);
  REQUIRE(port.ok());
  const std::string listen = "127.0.0.1:" + std::to_string((*port)->base());
  const std::string config_path = net.NodeDir("jeugdhulp") + "/casenode.toml";
  REQUIRE(WriteFileAtomic(config_path, *ReadFile(config_path) + "\n[metrics]\nlisten = \"" + listen + "\"\n", 0600).ok());
  net.StartAll();

  // A Peer call (school pings jeugdhulp), Local calls, and a consent about a canary pseudonym.
  REQUIRE(net.CasectlJson("school", {"node", "ping", "jeugdhulp"})["reachable"] == true);
  REQUIRE(net.CasectlJson("jeugdhulp", {"node", "ping", "school"})["reachable"] == true);  // a call of its own
  const std::string canary(64, 'c');
  const auto entry = net.CasectlJson(
      "jeugdhulp", {"consent", "record", "--subject", canary, "--consenter", "parent", "--birth-date", "2016-03-01",
                    "--purpose", "casusoverleg", "--category", "zorg", "--recipient-role", "gemeente",
                    "--recorded-by", "staff-canary-7f3a"});
  const std::string receipt_id = entry["receipt"]["receipt_id"];

  httplib::Client client("127.0.0.1", (*port)->base());
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(5, 0);
  const auto res = client.Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  const std::string text = res->body;
  INFO(text);
  // The value of one series ("name{labels}"), or -1 if absent.
  auto sample = [&](const std::string& series) {
    const size_t at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size() + 2));
  };
  // Pings: the one above, and those of the start-up status checks.
  REQUIRE(sample(R"(casenode_grpc_calls_total{code="OK",method="Peer.Ping",server="peer"})") >= 1);
  REQUIRE(sample(R"(casenode_grpc_call_duration_seconds_count{method="Peer.Ping",server="peer"})") >= 1);
  REQUIRE(sample(R"(casenode_grpc_calls_total{code="OK",method="LocalConsent.Record",server="local"})") == 1);
  REQUIRE(sample(R"(casenode_policy_decisions_total{effect="allow",reason="ALLOWED",rule="netwerk-ping"})") >= 1);
  REQUIRE(sample(R"(casenode_state{what="manifest_version"})") == 1);
  REQUIRE(sample(R"(casenode_state{what="audit_log_entries"})") >= 1);
  REQUIRE(sample(R"(casenode_state{what="cases_open"})") == 0);
  REQUIRE(sample(R"(casenode_state{what="case_orders_pending"})") == 0);
  REQUIRE(sample(R"(casenode_store_size_bytes{store="records"})") > 0);
  REQUIRE(sample(R"(casenode_store_size_bytes{store="keys"})") > 0);
  // The peer it has called: connected, with the call's round-trip time.
  REQUIRE(sample(R"(casenode_peer_reachable{peer="school"})") == 1);
  REQUIRE(sample(R"(casenode_peer_call_duration_seconds_count{code="OK",peer="school"})") >= 1);
  for (const std::string& secret : {canary, receipt_id, std::string("staff-canary")}) {
    REQUIRE(text.find(secret) == std::string::npos);
  }
  const RunResult lint = testing::RunWithInput({"/usr/bin/promtool", "check", "metrics"}, text);
  INFO(lint.out << lint.err);
  REQUIRE(lint.exit_code == 0);

  // Only a loopback address: the listener has no TLS.
  std::string config = *ReadFile(config_path);
  config.replace(config.find(listen), listen.size(), "0.0.0.0:9464");
  REQUIRE(WriteFileAtomic(config_path, config, 0600).ok());
  const RunResult refused = Run({testing::CasenodeBin(), "--config", "casenode.toml", "--check-config"},
                                net.NodeDir("jeugdhulp"));
  REQUIRE(refused.exit_code == 2);
  REQUIRE(refused.err.find("metrics.listen: \"0.0.0.0\" is not a loopback address") != std::string::npos);
}

TEST_CASE("the shipped configuration matches the unit: state, socket and credential where systemd provides them",
          "[integration][systemd]") {
  auto config = node::NodeConfig::Load(CASENODE_SOURCE_DIR "/deploy/systemd/casenode.toml");
  INFO(config.status());
  REQUIRE(config.ok());
  const std::string unit = *ReadFile(CASENODE_SOURCE_DIR "/deploy/systemd/casenode.service");
  const std::string backup = *ReadFile(CASENODE_SOURCE_DIR "/deploy/systemd/casenode-backup.service");
  // The only places ProtectSystem=strict leaves writable: StateDirectory and RuntimeDirectory.
  REQUIRE(unit.find("\nStateDirectory=casenode\n") != std::string::npos);
  REQUIRE(unit.find("\nRuntimeDirectory=casenode\n") != std::string::npos);
  REQUIRE(config->data_dir.starts_with("/var/lib/casenode/"));
  REQUIRE(config->local_socket == "/run/casenode/local.sock");
  REQUIRE(config->master_key == "passphrase-credential:master-passphrase");
  REQUIRE(unit.find("\nLoadCredential=master-passphrase:") != std::string::npos);
  REQUIRE(backup.find("--socket " + config->local_socket + " ") != std::string::npos);
  REQUIRE(backup.find("--into /var/lib/casenode/backups ") != std::string::npos);  // the node writes it
  REQUIRE(unit.find("\nLimitCORE=0\n") != std::string::npos);
}
